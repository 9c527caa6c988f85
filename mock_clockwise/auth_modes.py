"""The mock's auth modes on the wire: which org a SCIM request authenticates as (in that org's mode,
auth_store.py), and the OAuth 2 token endpoint `POST /oauth2/token` (client credentials and refresh
grants, RFC 6749 §4.4 and §6; errors as RFC 6749 §5.2 JSON, never a SCIM Error)."""
from __future__ import annotations

import base64
import binascii
import hmac

from flask import Blueprint, Response, jsonify, request

from .auth_store import basic_key
from .errors import Unauthorized
from .wire import state

TOKEN_PATH = "/oauth2/token"
bp = Blueprint("oauth", __name__)
# What a request in the wrong mode is told (RFC 7235 §4.1: the scheme the org expects).
CHALLENGE = {"bearer": 'Bearer realm="scim"', "oauth2-client-credentials": 'Bearer realm="scim"',
             "oauth2-refresh": 'Bearer realm="scim"', "basic": 'Basic realm="scim", charset="UTF-8"'}


def _unauthorized(detail: str, mode: str = "bearer") -> Unauthorized:
    # RFC 6750 §3 / RFC 7617 §2: a 401 carries WWW-Authenticate (the header mode has no scheme to name).
    challenge = CHALLENGE.get(mode)
    return Unauthorized(detail, headers={"WWW-Authenticate": challenge} if challenge else {})


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """RFC 7617 §2: `Basic base64(user-id ":" password)`, the scheme case-insensitive; None if not that."""
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def bearer(header: str | None) -> str | None:
    # RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive.
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _candidate() -> tuple[str | None, str | None, tuple[str, str | None] | None]:
    """(org, the mode its credential is for, the org's (mode, secret header) when already read) of the
    credential the request carries, or (None, what it carried, None)."""
    store = state().store
    authorization = request.headers.get("Authorization")
    token = bearer(authorization)
    if token is not None:
        found = store.token_auth(token)  # the org and its mode in one statement (most requests)
        if found is not None:
            return found[0], "bearer", found[1:]
        org = store.org_for_credential("access", token)
        return (org, "oauth2", None) if org else (None, "bearer", None)
    pair = parse_basic(authorization)
    if pair is not None:
        return store.org_for_credential("basic", basic_key(*pair)), "basic", None
    for org, name in store.header_modes():
        value = request.headers.get(name)
        if value and store.org_for_credential("header", value) == org:
            return org, "header", None
    return None, None, None


def authenticate_scim() -> tuple[str, str | None]:
    """(the org a SCIM request authenticates as, in the org's own mode (Unauthorized otherwise), the name
    of the header that carries the org's secret in header mode, for the journal to redact)."""
    org, used, auth = _candidate()
    if org is None:
        if used is None:
            raise _unauthorized("Authentication required: send Authorization: Bearer <token>")
        # The control plane's admin token lands here too: it is not a SCIM token.
        raise _unauthorized("The bearer token is not valid for this SCIM service" if used == "bearer" else
                            f"The {used} credentials are not valid for this SCIM service")
    if auth is None:
        row = state().store.auth_of(org)
        auth = row["mode"], row["header"] if row["mode"] == "header" else None
    mode, header = auth
    if used != mode and not (used == "oauth2" and mode.startswith("oauth2-")):
        raise _unauthorized(f"This organization authenticates with {mode}, not {used}", mode)
    return org, header


# ---------------------------------------------------------------------------- the token endpoint
def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    # RFC 6749 §5.2: a JSON object with `error` (and `error_description`); invalid_client by Basic is 401.
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return response


def _client() -> tuple[str | None, str | None, bool]:
    """(client id, secret, given by Basic) from RFC 6749 §2.3.1: the Authorization header or the form."""
    pair = parse_basic(request.headers.get("Authorization"))
    if pair is not None:
        return pair[0], pair[1], True
    return request.form.get("client_id"), request.form.get("client_secret"), False


@bp.post(TOKEN_PATH)
def token() -> Response:
    store = state().store
    grant = request.form.get("grant_type")
    client_id, secret, by_basic = _client()
    if grant == "client_credentials":
        if not client_id or secret is None:
            return _oauth_error("invalid_client", "client authentication is required", 401 if by_basic else 400)
        org = store.org_for_credential("oauth2-client-credentials", f"client\0{client_id}\0{secret}")
        if org is None:
            return _oauth_error("invalid_client", "unknown client or wrong client secret", 401 if by_basic else 400)
        answer = store.issue_access_token(org, refresh=False)
    elif grant == "refresh_token":
        refresh = request.form.get("refresh_token")
        if not refresh:
            return _oauth_error("invalid_request", "refresh_token is required")
        org = store.org_for_credential("refresh", refresh)
        if org is None:
            return _oauth_error("invalid_grant", "the refresh token is invalid, expired or revoked")
        expected = store.auth_of(org)["client_id"]
        if expected and client_id is not None and not hmac.compare_digest(expected, client_id):
            return _oauth_error("invalid_client", "the refresh token was not issued to this client", 401)
        answer = store.issue_access_token(org, refresh=True)
    elif not grant:
        return _oauth_error("invalid_request", "grant_type is required")
    else:
        return _oauth_error("unsupported_grant_type", "this server supports client_credentials and refresh_token")
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    response.headers["Pragma"] = "no-cache"
    return response
