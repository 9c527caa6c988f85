"""The Flask application factory: state, authentication, faults, journal and one error renderer.

`create_app(config)` builds a fresh, independent mock (no module-level state). Config keys:
- ORGS: the start orgs, `[{"name": "acme", "tokens": ["..."], "threshold": 10}]`
- ADMIN_TOKEN: the control plane's bearer token
- DB_PATH: SQLite file (None = in memory)
- STATE_DIR: the private folder of a server whose worker processes share DB_PATH (server.py):
  given, the control plane's faults and journal are shared by all of them (SharedFaults in
  DB_PATH, SharedJournal files in STATE_DIR); None, they live in this process's memory
- MAX_CONTENT_LENGTH (bytes, default 1 MiB), MAX_RESULTS (default 1000),
  JOURNAL_SIZE (default 10,000), FAULT_SEED (random seed for fractional faults)

Request limits (each answered with a SCIM Error, advertised in /_mock/openapi.json):
body size MAX_CONTENT_LENGTH → 413; JSON nesting deeper than MAX_JSON_DEPTH → 400 invalidSyntax;
strings with unpaired UTF-16 surrogates → 400 invalidSyntax; filter length/depth and PATCH operation
count in filters.py / patch.py; `count` capped at maxResults.
"""
from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .errors import (InternalError, InvalidSyntax, MethodNotAllowed, NotFound, PayloadTooLarge, ScimError,
                     Unauthorized, UnsupportedMediaType, status_error)
from .faults import Faults, SharedFaults
from .journal import Journal, SharedJournal, body_for_journal, redact_headers
from .store import Store, now_iso

SCIM_CONTENT_TYPE = "application/scim+json"
SCIM_PREFIX = "/scim/v2"
MOCK_PREFIX = "/_mock"
EXTENSION_KEY = "mock_clockwise"
# No SCIM document is deeper than ~6 levels (PatchOp → Operations → value → members → value);
# a cap well above that keeps parsing and every later walk of the body iterative-safe.
MAX_JSON_DEPTH = 64

log = logging.getLogger("mock_clockwise")

DEFAULTS: dict[str, Any] = {
    "ORGS": [{"name": "acme", "tokens": ["acme-token"], "threshold": 10}],
    "ADMIN_TOKEN": "admin-token",
    "DB_PATH": None,
    "STATE_DIR": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_RESULTS": 1000,
    "JOURNAL_SIZE": 10_000,
    "FAULT_SEED": None,
}


@dataclass
class MockState:
    """Everything one mock instance holds; lives in `app.extensions["mock_clockwise"]`."""

    store: Store
    faults: Faults | SharedFaults
    journal: Journal | SharedJournal
    admin_token: str
    start_orgs: list[dict[str, Any]] = field(default_factory=list)
    max_results: int = 1000
    max_content_length: int | None = None
    # (scheme, Host, root path) -> request.url_root: werkzeug's IRI conversion costs ~50 µs per
    # request; the Host header is the client's, so the cache is small and simply emptied when full.
    url_roots: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def url_root(self) -> str:
        """`request.url_root` (the base for meta.location and $ref URLs), computed once per host."""
        key = (request.scheme, request.host, request.root_path)
        root = self.url_roots.get(key)
        if root is None:
            if len(self.url_roots) >= 64:
                self.url_roots.clear()
            root = self.url_roots[key] = request.url_root
        return root

    def seed_start_orgs(self) -> None:
        for org in self.start_orgs:
            self.store.ensure_org(org["name"], org.get("tokens", []), int(org.get("threshold", 10)))

    def reset(self) -> None:
        """Back to the start state: the start orgs, empty; journal, events and faults cleared."""
        self.store.wipe()
        self.seed_start_orgs()
        self.journal.clear()
        self.faults.clear()

    def close(self) -> None:
        """Release every connection and file (before a fork, or at the end of a worker)."""
        self.store.close()
        self.faults.close()
        self.journal.close()


def state() -> MockState:
    from flask import current_app
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- responses
def scim_response(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Every body the mock sends is `application/scim+json` (RFC 7644 §3.1)."""
    data = "" if body is None else json.dumps(body, ensure_ascii=False)
    try:
        data.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate echoed from input (e.g. a filter literal "\ud800" in an error detail):
        # RFC 8259 §8.2 allows it only as an escape, so escape everything rather than fail.
        data = json.dumps(body, ensure_ascii=True)
    resp = Response(data, status=status, mimetype=SCIM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def scim_text_response(text: str, status: int = 200) -> Response:
    """A body already serialised as JSON text (the views' splice of stored resources)."""
    return Response(text, status=status, mimetype=SCIM_CONTENT_TYPE)


def read_json() -> Any:
    """The request body as JSON. RFC 7644 §3.8: `application/scim+json`; `application/json`
    is accepted too (Entra and many clients), as is a missing Content-Type."""
    ctype = (request.mimetype or "").lower()
    if ctype and ctype not in (SCIM_CONTENT_TYPE, "application/json"):
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype!r} is not supported; send application/scim+json or application/json")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidSyntax("the request body is empty; a JSON object is required")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidSyntax("the request body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidSyntax(f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}") from None
    except RecursionError:
        raise InvalidSyntax(f"the request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    # Only a body with enough brackets can be too deep, and only a \u escape can hold a lone
    # surrogate (raw UTF-8 cannot): most bodies need no walk at all.
    problem = json_problem(doc) if b"\\u" in raw or raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH else None
    if problem:
        raise InvalidSyntax(f"the request body {problem}")
    return doc


def json_problem(doc: Any) -> str | None:
    """Why a parsed JSON document is unacceptable (too deep, unpaired surrogates), or None.

    Iterative, so a hostile document cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((value, depth + 1))
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                # RFC 8259 §8.2: "\ud800" alone is not a Unicode character; storing it would fail later.
                return "contains an unpaired UTF-16 surrogate escape (such as \\ud800) in a string"
    return None


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


# ---------------------------------------------------------------------------- hooks
def _before_request() -> None:
    st = state()
    path = request.path
    g.org = None
    # Deny by default: the blueprint that will serve the request decides, whatever the path looks like.
    scim = request.blueprint == "scim" or path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/")
    control = request.blueprint == "control" or path == MOCK_PREFIX or path.startswith(MOCK_PREFIX + "/")
    if scim:
        token = _bearer(request.headers.get("Authorization"))
        if token is None:
            raise _unauthorized("Authentication required: send Authorization: Bearer <token>")
        org = st.store.org_for_token(token)
        if org is None:
            # The control plane's admin token lands here too: it is not a SCIM token.
            raise _unauthorized("The bearer token is not valid for this SCIM service")
        g.org = org
        fault = st.faults.pick(request.method, path[len(SCIM_PREFIX):] or "/", org)
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.status is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                raise status_error(fault.status, f"Fault injected by the mock's control plane (status {fault.status})",
                                   headers)
    elif control:
        token = _bearer(request.headers.get("Authorization"))
        if token is None or not hmac.compare_digest(token.encode(), st.admin_token.encode()):
            raise _unauthorized("The control plane needs Authorization: Bearer <admin token>")


def _after_request(response: Response) -> Response:
    path = request.path
    if path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/"):
        st = state()
        limit = st.max_content_length
        raw = None
        if request.content_length is None or limit is None or request.content_length <= limit:
            try:
                raw = request.get_data(cache=True)
            except Exception:  # a body we could not read is simply not journalled
                raw = None
        # The body is journalled as bytes and decoded only if someone reads the journal.
        st.journal.record(time=now_iso(), org=g.get("org"), method=request.method,
                          path=path[len(SCIM_PREFIX):] or "/", query=request.query_string.decode("latin-1"),
                          headers=redact_headers(request.headers.items()), raw=raw or None,
                          status=response.status_code)
    return response


def journal_body(raw: bytes) -> Any:
    """A journalled body: the JSON document when it is acceptable JSON, else (truncated) text."""
    parsed = None
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        parsed = None
    if parsed is not None and json_problem(parsed):
        parsed = None  # journalled as (replaced) text instead
    return body_for_journal(raw, parsed)


def render_error(exc: Exception) -> Response:
    """The one error handler: every error, the mock's own, routing's 404/405 and a bug's 500,
    leaves as a SCIM Error body (RFC 7644 §3.12)."""
    if isinstance(exc, ScimError):
        err = exc
    elif isinstance(exc, HTTPException):
        err = _http_error(exc)
    else:
        # A 500 is a bug in the mock: log it (request line only, never headers/tokens) but still
        # answer with a SCIM Error body.
        log.exception("unexpected error on %s %s", request.method, request.path)
        err = InternalError(f"Internal error in the mock ({type(exc).__name__}); see the server log")
    return scim_response(err.to_body(), err.status, err.headers)


def _http_error(exc: HTTPException) -> ScimError:
    """The SCIM error for what werkzeug raised (routing, the body-size limit)."""
    code = exc.code or 500
    if code == 404:
        return NotFound(f"No such endpoint: {request.method} {request.path}")
    if code == 405:
        allowed = getattr(exc, "valid_methods", None)
        return MethodNotAllowed(f"Method {request.method} is not allowed on {request.path}",
                                headers={"Allow": ", ".join(allowed)} if allowed else {})
    if code == 413:
        limit = state().max_content_length
        return PayloadTooLarge(f"The request body is too large (limit {limit} bytes)" if limit
                               else "The request body is too large")
    if code == 415:
        return UnsupportedMediaType("Unsupported Content-Type")
    return status_error(code, exc.description or exc.name)


# ---------------------------------------------------------------------------- factory
def create_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = {**DEFAULTS, **(config or {})}
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_CONTENT_LENGTH"]
    # No routing redirects (`//Users` → 308, found by the fuzz test: its Location echoed the raw query
    # and crashed on a CR/LF). A SCIM client gets the resource or a SCIM 404, never a redirect.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    store = Store(cfg["DB_PATH"])
    faults: Faults | SharedFaults
    journal: Journal | SharedJournal
    if cfg["STATE_DIR"]:
        if not cfg["DB_PATH"]:
            raise ValueError("STATE_DIR needs DB_PATH: the workers share their faults through that file")
        faults = SharedFaults(cfg["DB_PATH"], cfg["STATE_DIR"], cfg["FAULT_SEED"])
        journal = SharedJournal(cfg["STATE_DIR"], int(cfg["JOURNAL_SIZE"]), decode=journal_body)
    else:
        faults = Faults(cfg["FAULT_SEED"])
        journal = Journal(int(cfg["JOURNAL_SIZE"]), decode=journal_body)
    st = MockState(store=store, faults=faults, journal=journal, admin_token=str(cfg["ADMIN_TOKEN"]),
                   start_orgs=list(cfg["ORGS"]), max_results=int(cfg["MAX_RESULTS"]),
                   max_content_length=cfg["MAX_CONTENT_LENGTH"])
    st.seed_start_orgs()
    app.extensions[EXTENSION_KEY] = st

    from .control import bp as control_bp
    from .scim_views import bp as scim_bp
    app.register_blueprint(scim_bp)
    app.register_blueprint(control_bp)

    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(Exception, render_error)
    return app
