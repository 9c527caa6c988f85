"""Diagnoses printed before the details: a wrong token (401 on the first request), a base URL that is not
the SCIM root (404 on discovery), and certificate problems named from a real TLS handshake on loopback."""
from __future__ import annotations

import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import trustme

from harness.cli import main
from harness.diagnose import tls_problem
from harness.embedded import EmbeddedMock

SCENARIO = """\
name: diag-read
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1}
"""


@pytest.fixture(scope="module")
def mock() -> Iterator[EmbeddedMock]:
    with EmbeddedMock() as m:
        yield m


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, str, str, dict]:  # type: ignore[type-arg]
    code = main(["run", *argv, "--report-dir", str(tmp_path / "r"), "--format", "console,json,junit"])
    out, err = capsys.readouterr()
    report = tmp_path / "r" / "report.json"
    return code, out, err, json.loads(report.read_text()) if report.exists() else {}


def test_a_wrong_token_is_diagnosed_before_the_details(mock: EmbeddedMock, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    scen = tmp_path / "s.scim.yaml"
    scen.write_text(SCENARIO)
    code, out, err, report = run(capsys, tmp_path, "--target", mock.base_url or "", "--token", "not-the-token",
                                 "--suite", "rfc,okta")
    assert code == 1
    diagnosis = report["summary"]["diagnoses"]
    assert len(diagnosis) == 1 and diagnosis[0].startswith(
        "the first request (GET /ServiceProviderConfig) answered 401 Unauthorized: check the token")
    assert out.index("Diagnosis: the first request") < out.index("Verdict per identity provider")
    junit = (tmp_path / "r" / "junit.xml").read_text()
    assert '<property name="diagnosis" value="the first request (GET /ServiceProviderConfig) answered 401' in junit
    assert "not-the-token" not in out + err


def test_a_base_url_without_the_scim_root_is_diagnosed_with_the_fix(mock: EmbeddedMock, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = (mock.base_url or "").removesuffix("/scim/v2")
    code, out, err, report = run(capsys, tmp_path, "--target", root, "--token", mock.token, "--suite", "rfc")
    assert code == 1
    (diagnosis,) = report["summary"]["diagnoses"]
    assert diagnosis.startswith(f"GET {root}/ServiceProviderConfig answered 404 Not Found: is {root} the SCIM base URL?")
    assert diagnosis.endswith(f"; {root}/scim/v2/ServiceProviderConfig answers 200: use --target {root}/scim/v2")
    assert out.index("Diagnosis: GET") < out.index("Verdict per identity provider")


def test_no_token_diagnosis_from_requests_sent_without_the_token_on_purpose(mock: EmbeddedMock, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # The shipped scenario sends a missing and a wrong token first (raw requests, `auth: none|wrong`) and the
    # rfc auth area does the same: with the right token neither is a reason to doubt it.
    code, out, _, report = run(capsys, tmp_path, "--target", mock.base_url or "", "--token", mock.token,
                               "-k", "bad-and-missing-tokens and not entra")
    assert report["summary"]["scenarios"]["total"] == 1
    assert code == 0 and report["summary"]["diagnoses"] == [] and "Diagnosis" not in out


def test_no_diagnosis_on_a_good_run(mock: EmbeddedMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen = tmp_path / "s.scim.yaml"
    scen.write_text(SCENARIO)
    code, out, _, report = run(capsys, tmp_path, "--target", mock.base_url or "", "--token", mock.token,
                               "--scenarios", str(scen))
    assert code == 0 and report["summary"]["diagnoses"] == [] and "Diagnosis" not in out


# --- TLS, on a real TLS server on loopback ---------------------------------------------------------------
class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/scim+json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _serve(cert_pem: bytes, key_pem: bytes, tmp: Path) -> Iterator[str]:
    (tmp / "cert.pem").write_bytes(cert_pem)
    (tmp / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/scim/v2"
    finally:
        server.shutdown()
        server.server_close()


def _leaf(ca: trustme.CA, *names: str, expired: bool = False) -> tuple[bytes, bytes]:
    now = datetime.datetime.now(datetime.timezone.utc)
    kwargs = {"not_before": now - datetime.timedelta(days=30), "not_after": now - datetime.timedelta(days=1)} if expired else {}
    cert = ca.issue_cert(*names, **kwargs)
    return cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()


@pytest.fixture(params=["expired", "self-signed", "hostname", "ip-address", "untrusted-ca", "good"])
def tls_server(request: pytest.FixtureRequest, ca: trustme.CA, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    kind = request.param
    if kind == "self-signed":  # the CA's own certificate is self-signed: a server presenting it alone
        pems = (ca.cert_pem.bytes(), ca.private_key_pem.bytes())
    elif kind == "untrusted-ca":
        pems = _leaf(trustme.CA(), "127.0.0.1")
    else:
        pems = _leaf(ca, "other.example" if kind in ("hostname", "ip-address") else "127.0.0.1", "localhost",
                     expired=kind == "expired") if kind != "hostname" else _leaf(ca, "other.example")
    if kind in ("expired", "hostname", "ip-address", "good"):  # trust our CA, as a vendor with a private CA would
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    for url in _serve(*pems, tmp_path):
        yield kind, url.replace("127.0.0.1", "localhost") if kind == "hostname" else url


EXPECTED = {
    "expired": "TLS: the server's certificate has expired: renew it (OpenSSL: certificate has expired)",
    "self-signed": "TLS: the server's certificate is self-signed: no CA vouches for it (OpenSSL: self-signed "
                   "certificate); to trust a private CA, point SSL_CERT_FILE at its PEM file",
    "hostname": "TLS: the server's certificate is not valid for this host name (hostname mismatch) (OpenSSL: "
                "Hostname mismatch, certificate is not valid for 'localhost'.)",
    "ip-address": "TLS: the server's certificate is not valid for this IP address (IP address mismatch) (OpenSSL: "
                  "IP address mismatch, certificate is not valid for '127.0.0.1'.)",
    "untrusted-ca": "TLS: the server's certificate was issued by a CA that is not trusted here (a private CA?) "
                    "(OpenSSL: unable to get local issuer certificate); to trust a private CA, point SSL_CERT_FILE at its PEM file",
}


def test_certificate_problems_are_named(tls_server: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    kind, url = tls_server
    assert tls_problem(url) == EXPECTED.get(kind)
    if kind == "good":
        return
    code = main(["run", "--target", url, "--token", "t0ken", "--suite", "rfc", "--format", "json", "--report-dir", "unused"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    # The diagnosis first, then the transport error it explains.
    assert err.startswith(f"scim-harness run: error: {EXPECTED[kind]}; cannot reach target {url}")
    assert "t0ken" not in err and "Traceback" not in err


@pytest.mark.parametrize("tls_server", ["expired"], indirect=True)
def test_load_names_the_certificate_problem_too(tls_server: tuple[str, str], capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    _, url = tls_server
    code = main(["load", "--target", url, "--token", "t0ken", "--duration", "1s", "--report-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"scim-harness load: error: {EXPECTED['expired']}; cannot reach target {url}")
    assert err.count("\n") == 1 and "t0ken" not in err
