"""The Flask application factory: the per-app state, the blueprints, the request hooks and the
one error handler.

`create_app(config)` builds a fresh, independent mock (no module-level state). Config keys:
- ORGS: the start orgs, `[{"name": "acme", "tokens": ["..."], "threshold": 10}]`
- ADMIN_TOKEN: the control plane's bearer token
- DB_PATH: SQLite file (None = in memory)
- STATE_DIR: the private folder of a server whose worker processes share DB_PATH (server.py):
  given, the control plane's faults and journal are shared by all of them (SharedFaults in
  DB_PATH, SharedJournal files in STATE_DIR); None, they live in this process's memory
- MAX_CONTENT_LENGTH (bytes, default 1 MiB), MAX_RESULTS (default 1000), MAX_PAGE_BYTES (stored JSON
  per list page, default 8 MiB: a page stops early there),
  JOURNAL_SIZE (default 10,000), FAULT_SEED (random seed for fractional faults)

The request limits are listed in wire.py.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .control import bp as control_bp
from .errors import (InternalError, MethodNotAllowed, NotFound, PayloadTooLarge, ScimError, UnsupportedMediaType,
                     status_error, storage_error)
from .faults import Faults, SharedFaults
from .journal import Journal, SharedJournal
from .live_view import init_app as init_live_view
from .auth_modes import bp as oauth_bp
from .request_hooks import after_request, before_request
from .scim_views import bp as scim_bp
from .store import Store
from .wire import EXTENSION_KEY, MockState, journal_body, scim_response, state

log = logging.getLogger("mock_clockwise")

DEFAULTS: dict[str, Any] = {
    "ORGS": [{"name": "acme", "tokens": ["acme-token"], "threshold": 10}],
    "ADMIN_TOKEN": "admin-token",
    "DB_PATH": None,
    "STATE_DIR": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_RESULTS": 1000,
    "MAX_PAGE_BYTES": 8 * 1024 * 1024,
    "JOURNAL_SIZE": 10_000,
    "FAULT_SEED": None,
}


# ---------------------------------------------------------------------------- errors
def render_error(exc: Exception) -> Response:
    """The one error handler: every error, the mock's own, routing's 404/405 and a bug's 500,
    leaves as a SCIM Error body (RFC 7644 §3.12)."""
    if isinstance(exc, ScimError):
        err = exc
    elif isinstance(exc, HTTPException):
        err = _http_error(exc)
    elif (full := storage_error(exc)) is not None:
        log.warning("storage full on %s %s: %s", request.method, request.path, exc)
        err = full
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
def _mock_state(cfg: dict[str, Any]) -> MockState:
    store = Store(cfg["DB_PATH"], cfg["STATE_DIR"] if cfg["DB_PATH"] else None)
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
    return MockState(store=store, faults=faults, journal=journal, admin_token=str(cfg["ADMIN_TOKEN"]),
                     start_orgs=list(cfg["ORGS"]), max_results=int(cfg["MAX_RESULTS"]),
                     max_page_bytes=int(cfg["MAX_PAGE_BYTES"]),
                     max_content_length=cfg["MAX_CONTENT_LENGTH"])


class MockFlask(Flask):
    """Flask, for an app whose views and hooks are all plain functions."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask's documented override point: its default asks inspect.iscoroutinefunction of every hook
        # and view on every request; nothing in the mock is a coroutine.
        return func


def create_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = {**DEFAULTS, **(config or {})}
    app = MockFlask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_CONTENT_LENGTH"]
    # No routing redirects (`//Users` → 308, found by the fuzz test: its Location echoed the raw query
    # and crashed on a CR/LF). A SCIM client gets the resource or a SCIM 404, never a redirect.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    st = _mock_state(cfg)
    st.seed_start_orgs()
    app.extensions[EXTENSION_KEY] = st

    app.register_blueprint(scim_bp)
    app.register_blueprint(control_bp)
    app.register_blueprint(oauth_bp)  # POST /oauth2/token
    init_live_view(app, cfg["STATE_DIR"])  # /_mock/ui
    app.before_request(before_request)
    app.after_request(after_request)
    app.register_error_handler(Exception, render_error)
    return app
