"""Diagnoses of the common mistakes, printed before the details: a wrong token, a base URL that is not
the SCIM root, a certificate the client refuses.

Each diagnosis is drawn from what the target answered (the run's exchanges) or from one extra TLS
handshake or request made only once the mistake is seen, and says what to check. Without one, a
wrong token gives 65-90 failures and no hint of the cause.
"""
from __future__ import annotations

import socket
import ssl
from typing import Any, Iterator

import httpx

from harness.actions import ACTIONS
from harness.auth import client_certificate_problem
from harness.results import RunResult
from harness.target import Target
from harness.transcript import Exchange

DISCOVERY = ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas")
RESOURCES = ("/Users", "/Groups")
DEFAULT_ROOT = "/scim/v2"
# OpenSSL's verify codes (X509_V_ERR_*), as ssl.SSLCertVerificationError.verify_code carries them.
CERT_PROBLEMS = {
    9: "the server's certificate is not valid yet (its notBefore is in the future: check the server's clock)",
    10: "the server's certificate has expired: renew it",
    18: "the server's certificate is self-signed: no CA vouches for it",
    19: "the server's certificate chain ends in a self-signed CA that is not trusted here",
    20: "the server's certificate was issued by a CA that is not trusted here (a private CA?)",
    21: "the server sent only its own certificate, not the intermediate CA certificates that link it to a trusted CA",
    62: "the server's certificate is not valid for this host name (hostname mismatch)",
    64: "the server's certificate is not valid for this IP address (IP address mismatch)",
}
TRUST_HINT = "to trust a private CA, point SSL_CERT_FILE at its PEM file"


def _target_exchanges(run: RunResult, base_url: str) -> Iterator[Exchange]:
    """Every exchange sent to the SCIM base with the run's own token, in the run's order: the IdP actions'
    and the rfc suite's, except its auth area. A raw request step (`auth: none|wrong`) and the auth area
    send a missing or wrong token on purpose, and their 401 is no sign of a wrong token."""
    base = httpx.URL(base_url.rstrip("/") + "/")
    for sc in run.scenarios:
        if sc.name == "rfc: auth":
            continue
        for st in sc.steps:
            if sc.dialect != "rfc" and st.action not in ACTIONS:
                continue
            for ex in st.exchanges:
                url = httpx.URL(ex.url)
                if ex.status is not None and url.host == base.host and url.path.startswith(base.path):
                    yield ex


def _endpoint(ex: Exchange, base_url: str) -> str:
    path = ex.path[len(httpx.URL(base_url).path.rstrip("/")):]
    return path or "/"


def token_problem(run: RunResult, base_url: str) -> str | None:
    """401 on the first request, or on the first /Users or /Groups request after an open discovery."""
    exchanges = list(_target_exchanges(run, base_url))
    if not exchanges:
        return None
    first = exchanges[0]
    if first.status == 401:
        what = f"the first request ({first.method} {_endpoint(first, base_url)}) answered 401 Unauthorized"
    else:
        resource = next((ex for ex in exchanges if _endpoint(ex, base_url).startswith(RESOURCES)), None)
        if resource is None or resource.status != 401:
            return None
        what = (f"the first request for users or groups ({resource.method} {_endpoint(resource, base_url)}) answered "
                f"401 Unauthorized (discovery answered {first.status} without needing the token)")
    return (f"{what}: check the token (--token or SCIM_HARNESS_TOKEN; it is sent as `Authorization: Bearer <token>`) "
            "and that it was issued for this SCIM base URL")


def base_url_problem(run: RunResult, target: Target, *, transport: httpx.BaseTransport | None = None) -> str | None:
    """404 on discovery: the base URL is not the SCIM root. Tries the usual root once to name the fix."""
    exchanges = list(_target_exchanges(run, target.base_url))
    found = next((ex for ex in exchanges if _endpoint(ex, target.base_url).startswith(DISCOVERY)), None)
    first = exchanges[0] if exchanges else None
    culprit = found if found is not None and found.status == 404 else (
        first if first is not None and first.status == 404 and found is None else None)
    if culprit is None:
        return None
    text = (f"{culprit.method} {culprit.url} answered 404 Not Found: is {target.base_url} the SCIM base URL? "
            f"It is the URL that /Users and /ServiceProviderConfig hang off (often …{DEFAULT_ROOT})")
    better = better_base_url(target, transport=transport)
    return text + (f"; {better}/ServiceProviderConfig answers 200: use --target {better}" if better else "")


def better_base_url(target: Target, *, transport: httpx.BaseTransport | None = None) -> str | None:
    """A base URL next to the given one whose /ServiceProviderConfig answers 200 (one request each)."""
    base = target.base_url.rstrip("/")
    candidates = [base + DEFAULT_ROOT] if not base.endswith(DEFAULT_ROOT) else []
    if base.endswith("/scim"):
        candidates.insert(0, base + "/v2")
    for candidate in candidates:
        try:
            with Target(base_url=candidate, token=target.token, timeout=min(target.timeout, 10.0)).scim_client(
                    transport=transport) as client:
                r = client.get("/ServiceProviderConfig")
            if r.status_code == 200 and isinstance(r.json(), dict):
                return candidate
        except (httpx.HTTPError, ValueError):
            continue
    return None


def run_diagnoses(run: RunResult, target: Target, *, transport: httpx.BaseTransport | None = None) -> list[str]:
    """The diagnoses of a finished run, most basic first (an empty list when none applies)."""
    if target.embedded:
        return []
    found = [base_url_problem(run, target, transport=transport), token_problem(run, target.base_url)]
    return [f for f in found if f]


def tls_problem(base_url: str, timeout: float = 10.0, verify: Any = True) -> str | None:
    """For an https URL that could not be reached: the certificate problem, named, from one handshake with
    the context httpx verifies with (certifi, or SSL_CERT_FILE / SSL_CERT_DIR). None when the handshake
    succeeds or fails for another reason."""
    url = httpx.URL(base_url)
    if url.scheme != "https" or not url.host:
        return None
    if verify is False:  # --insecure: no certificate is refused
        return None
    context = httpx.create_ssl_context(verify=verify)  # the run's --ca-bundle, when given
    try:
        with socket.create_connection((url.host, url.port or 443), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=url.host):
                return None
    except ssl.SSLCertVerificationError as exc:
        problem = CERT_PROBLEMS.get(exc.verify_code, f"the server's certificate was refused: {exc.verify_message}")
        hint = f"; {TRUST_HINT}" if exc.verify_code in (18, 19, 20) else ""
        return f"TLS: {problem} (OpenSSL: {exc.verify_message}){hint}"
    except ssl.SSLError as exc:
        return f"TLS: the handshake with {url.host} failed ({exc.reason or exc}): is it an https server on that port?"
    except OSError:
        return None


def unreachable(base_url: str, message: str, timeout: float = 10.0, verify: Any = True) -> str:
    """The one line for a target that could not be reached: the diagnosis (if any) first, then the error."""
    problem = tls_problem(base_url, timeout, verify) or client_certificate_problem(message)
    return f"{problem}; {message}" if problem else message
