"""Per-org auth modes and the OAuth tokens the mock issues (no web imports; SQLite, so the worker
processes of one server share them).

An org authenticates its SCIM requests in one mode (the modes an IdP admin can choose, idp-wire.md):
- `bearer` (default): one of its tokens (org_store) as `Authorization: Bearer` (RFC 6750 §2.1);
- `basic`: a user name and password (RFC 7617);
- `header`: a secret value in a header the org names (Okta's "custom header");
- `oauth2-client-credentials`: access tokens from the token endpoint for a client id and secret
  (RFC 6749 §4.4), each expiring after the org's `lifetime` seconds;
- `oauth2-refresh`: access tokens from the token endpoint for a refresh token (RFC 6749 §6).
Only digests of the secrets are stored, as for the bearer tokens.
"""
from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

from .errors import InvalidValue
from .store_base import StoreBase, token_digest

MODES = ("bearer", "basic", "header", "oauth2-client-credentials", "oauth2-refresh")
DEFAULT_LIFETIME = 3600
AUTH_DDL = """
CREATE TABLE IF NOT EXISTS org_auth (
  org TEXT PRIMARY KEY, mode TEXT NOT NULL, header TEXT, client_id TEXT, lifetime INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
  digest TEXT PRIMARY KEY, org TEXT NOT NULL, kind TEXT NOT NULL, expires REAL);
CREATE INDEX IF NOT EXISTS credentials_org ON credentials(org);
"""
# What each mode needs in the control plane's `auth` object (the secret is `secret` in every mode).
NEEDS = {"bearer": (), "basic": ("username", "secret"), "header": ("header", "secret"),
         "oauth2-client-credentials": ("client_id", "secret"), "oauth2-refresh": ("secret",)}


def basic_key(username: str, password: str) -> str:
    return f"basic\0{username}\0{password}"


def validate_auth(auth: Any) -> dict[str, Any]:
    """The control plane's `auth` object, checked: {"mode", "secret", "username", "header", "client_id",
    "lifetime"} (InvalidValue, naming what is wrong)."""
    if not isinstance(auth, dict):
        raise InvalidValue("auth must be an object with a mode")
    mode = auth.get("mode", "bearer")
    if mode not in MODES:
        raise InvalidValue(f"auth.mode must be one of {', '.join(MODES)}")
    for name in NEEDS[mode]:
        if not isinstance(auth.get(name), str) or not auth[name].strip():
            raise InvalidValue(f"auth mode {mode} needs auth.{name} (a non-empty string)")
    lifetime = auth.get("lifetime", DEFAULT_LIFETIME)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 1 <= lifetime <= 86400:
        raise InvalidValue("auth.lifetime must be an integer of seconds, 1-86400")
    if mode == "basic" and ":" in auth["username"]:
        raise InvalidValue("auth.username must not contain ':' (RFC 7617 §2)")
    return {**{k: auth.get(k) for k in ("secret", "username", "header", "client_id")}, "mode": mode,
            "lifetime": lifetime}


class AuthStore(StoreBase):
    """The auth side of the org store."""

    def __init__(self, path: str | None = None, state_dir: str | None = None) -> None:
        super().__init__(path, state_dir)
        with self._tx() as c:
            for statement in AUTH_DDL.split(";"):
                if statement.strip():
                    c.execute(statement)

    def set_auth(self, org: str, auth: dict[str, Any]) -> None:
        """Put the org in `auth`'s mode (validate_auth's shape); its earlier credentials are dropped."""
        with self._tx() as c:
            self._org_row(c, org)
            self.clear_auth(c, org)
            c.execute("INSERT INTO org_auth (org, mode, header, client_id, lifetime) VALUES (?,?,?,?,?)",
                      (org, auth["mode"], auth.get("header"), auth.get("client_id"), auth["lifetime"]))
            key = {"basic": lambda: basic_key(auth["username"], auth["secret"]),
                   "header": lambda: auth["secret"],
                   "oauth2-client-credentials": lambda: f"client\0{auth['client_id']}\0{auth['secret']}",
                   "oauth2-refresh": lambda: auth["secret"]}.get(auth["mode"])
            if key is not None:
                kind = "refresh" if auth["mode"] == "oauth2-refresh" else auth["mode"]
                self._put_credential(c, org, kind, key(), None)
        self._auth_changed()

    def _auth_changed(self) -> None:
        """After a committed change of tokens or auth modes: every process drops what it kept
        (org_store.token_auth)."""
        self._auth_gen.bump()

    @staticmethod
    def clear_auth(c: sqlite3.Connection, org: str) -> None:
        c.execute("DELETE FROM org_auth WHERE org=?", (org,))
        c.execute("DELETE FROM credentials WHERE org=?", (org,))

    @staticmethod
    def _put_credential(c: sqlite3.Connection, org: str, kind: str, secret: str, expires: float | None) -> None:
        row = c.execute("SELECT org FROM credentials WHERE digest=?", (token_digest(secret),)).fetchone()
        if row and row["org"] != org:
            raise InvalidValue("that credential is already in use by another organization")
        c.execute("INSERT OR REPLACE INTO credentials (digest, org, kind, expires) VALUES (?,?,?,?)",
                  (token_digest(secret), org, kind, expires))

    def auth_of(self, org: str) -> dict[str, Any]:
        """{"mode", "header", "client_id", "lifetime"} of the org (bearer when never set)."""
        row = self._read_one("SELECT mode, header, client_id, lifetime FROM org_auth WHERE org=?", (org,))
        if row is None:
            return {"mode": "bearer", "header": None, "client_id": None, "lifetime": DEFAULT_LIFETIME}
        return dict(row)

    def header_modes(self) -> list[tuple[str, str]]:
        """(org, header name) of every org in header mode: the headers a request may authenticate with."""
        with self._read() as c:
            rows = c.execute("SELECT org, header FROM org_auth WHERE mode='header'").fetchall()
        return [(r["org"], r["header"]) for r in rows]

    def org_for_credential(self, kind: str, secret: str, now: float | None = None) -> str | None:
        """The org whose `kind` credential `secret` is, unless it has expired."""
        row = self._read_one("SELECT org, expires FROM credentials WHERE digest=? AND kind=?",
                             (token_digest(secret), kind))
        if row is None or (row["expires"] is not None and row["expires"] <= (now or time.time())):
            return None
        return str(row["org"])

    def issue_access_token(self, org: str, *, refresh: bool) -> dict[str, Any]:
        """A new access token of the org (RFC 6749 §5.1), and with `refresh` a new refresh token that
        replaces the one used (rotation, RFC 6749 §6 and OAuth 2.0 Security BCP §4.14)."""
        lifetime = int(self.auth_of(org)["lifetime"])
        token = "at-" + secrets.token_urlsafe(24)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}
        with self._tx() as c:
            c.execute("DELETE FROM credentials WHERE org=? AND kind='access' AND expires<=?", (org, time.time()))
            self._put_credential(c, org, "access", token, time.time() + lifetime)
            if refresh:
                c.execute("DELETE FROM credentials WHERE org=? AND kind='refresh'", (org,))
                answer["refresh_token"] = "rt-" + secrets.token_urlsafe(24)
                self._put_credential(c, org, "refresh", answer["refresh_token"], None)
        return answer

    def expire_access_tokens(self, org: str) -> int:
        """End every access token of the org now (the control plane's way to test expiry); how many."""
        with self._tx() as c:
            return c.execute("UPDATE credentials SET expires=? WHERE org=? AND kind='access'",
                             (time.time(), org)).rowcount
