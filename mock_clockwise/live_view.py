"""The live view `/_mock/ui`: a small server-rendered page a QA engineer keeps open while a provisioning
run goes, showing the orgs, their plan (paid / free / admins, trial vs synced), members, the WorkOS-style
events and the request journal, refreshed every second.

Access (the control plane's, never a SCIM token):
- `serve` prints a one-time link, `/_mock/ui/login?ticket=…` (link_line); `POST /_mock/ui/links` with the
  admin token issues another. Opening it sets a session cookie and redirects to `/_mock/ui`, so the ticket
  leaves the address bar and the history; a used ticket is refused.
- Ticket and cookie are HMACs keyed with the admin token over a random nonce: every worker process checks
  them without shared state, and neither holds the token. Which tickets were used is shared by the workers
  through a file per ticket in the server's private state folder (O_EXCL: one worker wins), else in memory.
- `/_mock/ui` and `/_mock/ui/state` also accept `Authorization: Bearer <admin token>` (scripts, tests).

The page holds no token: orgs are shown without theirs and the journal's headers are redacted already.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request

from .errors import NotFound, Unauthorized
from .wire import EXTENSION_KEY, MOCK_PREFIX, scim_response, state

BLUEPRINT = "ui"
UI_PREFIX = MOCK_PREFIX + "/ui"
COOKIE = "mock_clockwise_ui"
EXTENSION = "mock_clockwise_ui"
MAX_ORGS = 20  # newest first; the control plane lists every org
MAX_MEMBERS = 200
MAX_EVENTS = 15
MAX_JOURNAL = 40
POLL_MS = 1000
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)  # what secrets.token_urlsafe makes

bp = Blueprint(BLUEPRINT, __name__, url_prefix=UI_PREFIX, template_folder="templates")


# ---------------------------------------------------------------------------- tickets and sessions
class UsedTickets:
    """The nonces of the tickets already used: files in the shared state folder, or a set in memory."""

    def __init__(self, state_dir: str | None) -> None:
        # Files `ui-ticket.<nonce>` in the folder itself, made only when a ticket is used: nothing is created at
        # start, so a worker starting while the server stops cannot make the folder again after its removal.
        self.folder = state_dir
        self.used: set[str] = set()
        self.lock = threading.Lock()

    def claim(self, nonce: str) -> bool:
        """True for the first use of `nonce` (in any worker process), False after."""
        if self.folder:
            try:
                os.close(os.open(os.path.join(self.folder, f"ui-ticket.{nonce}"), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                 0o600))
            except OSError:  # used already (FileExistsError), or the server is stopping (its folder is gone)
                return False
            return True
        with self.lock:
            if nonce in self.used:
                return False
            self.used.add(nonce)
            return True


def _mac(admin_token: str, purpose: str, nonce: str) -> str:
    digest = hmac.new(admin_token.encode(), f"mock-ui-{purpose}\0{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _signed(admin_token: str, purpose: str, nonce: str | None = None) -> str:
    nonce = nonce or secrets.token_urlsafe(12)
    return f"{nonce}.{_mac(admin_token, purpose, nonce)}"


def _verified(admin_token: str, purpose: str, value: str | None) -> str | None:
    """The nonce of a well-signed `value`, else None (whatever the client sent: any length, any characters)."""
    nonce, _, mac = (value or "").partition(".")
    if not _NONCE.fullmatch(nonce) or not mac:
        return None
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, so a 500).
    good = hmac.compare_digest(mac.encode("utf-8", "replace"), _mac(admin_token, purpose, nonce).encode())
    return nonce if good else None


def login_path(admin_token: str) -> str:
    """A fresh one-time login path for the live view of the mock whose admin token is `admin_token`."""
    return f"{UI_PREFIX}/login?ticket={_signed(admin_token, 'link')}"


def link_line(app: Flask, base_url: str) -> str:
    """The line `serve` prints at start: the live view's one-time link."""
    return f"Live view (one-time link): {base_url}{login_path(app.extensions[EXTENSION_KEY].admin_token)}"


def authenticate() -> None:
    """The live view's access check, called by request_hooks for every request of this blueprint: the
    login route carries its own ticket; the others want the session cookie or the admin token."""
    if request.endpoint == f"{BLUEPRINT}.login":
        return
    admin = state().admin_token
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip() and hmac.compare_digest(token.strip().encode(), admin.encode()):
        return
    if request.endpoint != f"{BLUEPRINT}.new_link" and _verified(admin, "session", request.cookies.get(COOKIE)):
        return
    raise Unauthorized("The live view needs the one-time link printed by `serve` (or a new one from "
                       "POST /_mock/ui/links with the admin token), or Authorization: Bearer <admin token>",
                       headers={"WWW-Authenticate": 'Bearer realm="mock"'})


# ---------------------------------------------------------------------------- what the page shows
def _org_view(org: dict[str, Any]) -> dict[str, Any]:
    store = state().store
    name = org["name"]
    members = store.list_members(name)
    events = store.events(name, last=MAX_EVENTS)  # a load test's org may hold 100,000: read the newest only
    return {**org, "plan": store.plan_state(name), "members": members[:MAX_MEMBERS],
            "more_members": max(0, len(members) - MAX_MEMBERS), "scim_users": sum(1 for m in members if m["scim_user_id"]),
            "events": [{**e, "summary": _short(e["data"])} for e in events][::-1], "event_count": store.event_count(name)}


def _short(data: Any, limit: int = 100) -> str:
    """An event's data in one short line: what changed, without the SCIM envelope (schemas, meta, id)."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ("schemas", "meta", "id")}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def snapshot() -> dict[str, Any]:
    """Everything the page shows, newest first."""
    orgs = state().store.list_orgs()[::-1]
    journal = state().journal.entries(None, MAX_JOURNAL)[::-1]
    shown = []
    for org in orgs[:MAX_ORGS]:
        try:
            shown.append(_org_view(org))
        except NotFound:
            continue  # deleted meanwhile (the harness removes its throwaway orgs as it goes)
    return {"orgs": shown, "more_orgs": max(0, len(orgs) - MAX_ORGS),
            "journal": [{k: e.get(k) for k in ("time", "org", "method", "path", "query", "status")} for e in journal],
            "journal_size": len(state().journal)}


def _panels() -> str:
    return render_template("live_view_panels.html", view=snapshot())


def _private(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                               "script-src 'unsafe-inline'; connect-src 'self'")
    return resp


# ---------------------------------------------------------------------------- routes
@bp.get("/login")
def login() -> Response:
    admin = state().admin_token
    nonce = _verified(admin, "link", request.args.get("ticket"))
    if nonce is None or not current_app.extensions[EXTENSION].claim(nonce):
        raise Unauthorized("This live-view link is not valid or was used already; get a new one with "
                           "POST /_mock/ui/links and the admin token", headers={"WWW-Authenticate": 'Bearer realm="mock"'})
    # 303 to the page: the ticket leaves the address bar and the history; the cookie is the session.
    resp = redirect(UI_PREFIX, code=303)
    resp.set_cookie(COOKIE, _signed(admin, "session", nonce), httponly=True, samesite="Strict", path=UI_PREFIX)
    return _private(resp)


@bp.post("/links")
def new_link() -> Response:
    return scim_response({"path": login_path(state().admin_token)}, 201)


@bp.get("")
def page() -> Response:
    html = render_template("live_view.html", panels=_panels(), poll_ms=POLL_MS, state_url=f"{UI_PREFIX}/state")
    return _private(Response(html, mimetype="text/html"))


@bp.get("/state")
def live_state() -> Response:
    """The panels, server-rendered, and their digest: the page swaps them in when the digest moved."""
    html = _panels()
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    body = {"digest": digest} if request.args.get("since") == digest else {"digest": digest, "html": html}
    return _private(Response(json.dumps(body), mimetype="application/json"))


@bp.get("/state.json")
def live_data() -> Response:
    """What the page shows, as data."""
    return _private(Response(json.dumps(snapshot(), default=str), mimetype="application/json"))


def init_app(app: Flask, state_dir: str | None) -> None:
    """Register the live view on `app` (create_app); `state_dir` is the workers' shared folder, if any."""
    app.extensions[EXTENSION] = UsedTickets(state_dir)
    app.register_blueprint(bp)
