"""What runs around every request before and after its blueprint: authentication (the SCIM
credential names the org, in its auth mode (auth_modes.py), the control plane wants the admin token), the control plane's fault injection,
and the request journal. Registered on the app by the factory (app.py)."""
from __future__ import annotations

import hmac
import time

from flask import Response, g, request

from .auth_modes import authenticate_scim
from .errors import Unauthorized, status_error
from .journal import redact_headers, request_headers
from .live_view import BLUEPRINT as LIVE_VIEW, authenticate as authenticate_live_view
from .wire import MOCK_PREFIX, SCIM_PREFIX, state


def _bearer(header: str | None) -> str | None:
    # RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive.
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _unauthorized(detail: str) -> Unauthorized:
    # RFC 6750 §3: a 401 carries WWW-Authenticate.
    return Unauthorized(detail, headers={"WWW-Authenticate": 'Bearer realm="scim"'})


def before_request() -> None:
    # The proxies resolved once: each use of `request` or `g` looks up the context again.
    req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
    st = state()
    path = req.path
    ctx.org = ctx.secret_header = None
    # Deny by default: the blueprint that will serve the request decides, whatever the path looks like.
    scim = path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/")
    if scim or req.blueprint == "scim":
        # In the org's auth mode (auth_modes.py); its secret header, if any, is redacted from the journal.
        ctx.org, ctx.secret_header = org, _ = authenticate_scim()
        fault = st.faults.pick(req.method, path[len(SCIM_PREFIX):] or "/", org)
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.status is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                raise status_error(fault.status, f"Fault injected by the mock's control plane (status {fault.status})",
                                   headers)
        return
    blueprint = req.blueprint
    control = blueprint == "control" or path == MOCK_PREFIX or path.startswith(MOCK_PREFIX + "/")
    if control and blueprint == LIVE_VIEW:
        authenticate_live_view()  # its one-time link, its session cookie, or the admin token
    elif control:
        token = _bearer(req.headers.get("Authorization"))
        if token is None or not hmac.compare_digest(token.encode(), st.admin_token.encode()):
            raise _unauthorized("The control plane needs Authorization: Bearer <admin token>")


def after_request(response: Response) -> Response:
    req = request._get_current_object()  # type: ignore[attr-defined]
    path = req.path
    env = req.environ
    if req.method == "OPTIONS" and req.url_rule is not None and req.url_rule.methods:
        # RFC 9110 §9.3.7 / §10.2.1: Allow lists the methods of the resource asked about. werkzeug's
        # automatic answer unites every rule the path could match (`/Users/.search` is also
        # `/Users/{id}`); the rule that routing chose is the one that serves the path.
        response.headers["Allow"] = ", ".join(sorted(req.url_rule.methods))
    if path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/"):
        st = state()
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        limit = st.max_content_length
        raw = None
        # No Content-Length and no server-terminated stream: werkzeug reads no body (get_input_stream). Most
        # requests (GET) carry neither header: the environ says so without werkzeug's header parsing.
        framed = "CONTENT_LENGTH" in env or "HTTP_TRANSFER_ENCODING" in env or env.get("wsgi.input_terminated")
        length = req.content_length if framed else None
        has_body = framed and (length or (length is None and env.get("wsgi.input_terminated")))
        if has_body and (length is None or limit is None or length <= limit):
            try:
                raw = req.get_data(cache=True)
            except Exception:  # a body we could not read is simply not journalled
                raw = None
        # The body is journalled as bytes and decoded only if someone reads the journal; the journal
        # takes the entry's time itself.
        st.journal.record(org=ctx.get("org"), method=req.method, path=path[len(SCIM_PREFIX):] or "/",
                          query=req.query_string.decode("latin-1"),
                          headers=redact_headers(request_headers(env), ctx.get("secret_header")), raw=raw or None,
                          status=response.status_code)
    return response
