"""The org side of the store (no web imports): orgs and their SCIM tokens, members and their
plans, the trial/synced mode (plan.py's rules, applied inside the transaction of the write that
triggers them) and the WorkOS-style events. store.py adds the SCIM resources on top of it."""
from __future__ import annotations

import hmac
import sqlite3
from typing import Any, Iterable

from . import plan
from .errors import Forbidden, NotFound, Uniqueness
from .auth_store import AuthStore
from .representation import from_json
from .store_base import now_iso, token_digest


TOKEN_CACHE_SIZE = 4096  # tokens whose org and mode a process keeps (token_auth); more are looked up each time


class OrgStore(AuthStore):
    """The orgs, tokens, members, plan mode and events of one mock."""

    def __init__(self, path: str | None = None, state_dir: str | None = None) -> None:
        super().__init__(path, state_dir)
        # (the auth generation it was filled at, token digest -> token_auth's answer)
        self._token_cache: tuple[int, dict[str, tuple[str, str, str | None]]] = (-1, {})

    # ------------------------------------------------------------------ orgs and tokens
    def create_org(self, name: str, tokens: Iterable[str] = (), threshold: int = plan.DEFAULT_THRESHOLD) -> dict[str, Any]:
        with self._tx() as c:
            if c.execute("SELECT 1 FROM orgs WHERE name=?", (name,)).fetchone():
                raise Uniqueness(f"organization {name!r} already exists")
            c.execute("INSERT INTO orgs (name, threshold, mode, created_at) VALUES (?,?,?,?)",
                      (name, threshold, plan.TRIAL, now_iso()))
            self._put_tokens(c, name, tokens)
        self._auth_changed()
        return self.get_org(name)

    def ensure_org(self, name: str, tokens: Iterable[str], threshold: int) -> dict[str, Any]:
        """Create the org if absent; otherwise set its tokens and threshold (server start with --db)."""
        with self._tx() as c:
            if c.execute("SELECT 1 FROM orgs WHERE name=?", (name,)).fetchone():
                c.execute("UPDATE orgs SET threshold=? WHERE name=?", (threshold, name))
                c.execute("DELETE FROM tokens WHERE org=?", (name,))
                self._refresh_mode(c, name)  # a lower threshold may already be reached
            else:
                c.execute("INSERT INTO orgs (name, threshold, mode, created_at) VALUES (?,?,?,?)",
                          (name, threshold, plan.TRIAL, now_iso()))
            self._put_tokens(c, name, tokens)
        self._auth_changed()
        return self.get_org(name)

    def _put_tokens(self, c: sqlite3.Connection, org: str, tokens: Iterable[str]) -> None:
        for token in tokens:
            row = c.execute("SELECT org FROM tokens WHERE digest=?", (token_digest(token),)).fetchone()
            if row and row["org"] != org:
                raise Uniqueness("that token is already in use by another organization")
            c.execute("INSERT OR IGNORE INTO tokens (digest, org) VALUES (?,?)", (token_digest(token), org))

    def get_org(self, name: str) -> dict[str, Any]:
        with self._read() as c:
            row = c.execute("SELECT name, threshold, mode FROM orgs WHERE name=?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"organization {name!r} not found")
        return {"name": row["name"], "threshold": row["threshold"], "mode": row["mode"]}

    def list_orgs(self) -> list[dict[str, Any]]:
        with self._read() as c:
            rows = c.execute("SELECT name, threshold, mode FROM orgs ORDER BY created_at, name").fetchall()
        return [{"name": r["name"], "threshold": r["threshold"], "mode": r["mode"]} for r in rows]

    def delete_org(self, name: str) -> None:
        with self._tx() as c:
            self._org_row(c, name)
            c.execute("DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE org=?)", (name,))
            for table in ("tokens", "members", "users", "groups", "events", "page_blocks"):
                c.execute(f"DELETE FROM {table} WHERE org=?", (name,))
            self.clear_auth(c, name)
            c.execute("DELETE FROM orgs WHERE name=?", (name,))
        self._auth_changed()

    def wipe(self) -> None:
        """Remove everything (the control plane's reset re-creates the start orgs)."""
        with self._tx() as c:
            for table in ("group_members", "tokens", "members", "users", "groups", "events", "orgs", "page_blocks",
                          "org_auth", "credentials"):
                c.execute(f"DELETE FROM {table}")
        self._auth_changed()

    def org_for_token(self, token: str) -> str | None:
        found = self.token_auth(token)
        return found[0] if found else None

    def token_auth(self, token: str) -> tuple[str, str, str | None] | None:
        """(org, its auth mode, its secret header or None) of an org's bearer token, or None.

        Every SCIM request asks, so the answers for valid tokens are kept in this process, keyed by the
        token's digest, and dropped whenever the auth generation (store_base.py) moves: every change of
        tokens or auth modes bumps it after its commit (`_auth_changed`), in any worker process. The
        generation is read before the statement, so an answer read across a change is dropped next time."""
        digest = token_digest(token)
        gen = self._auth_gen.value()
        seen, cache = self._token_cache
        if seen != gen:
            cache = {}
            self._token_cache = (gen, cache)  # one object: a thread never pairs one generation with another's rows
        found = cache.get(digest)
        if found is not None:
            return found
        # The token and the org's mode in ONE statement (its own snapshot).
        row = self._read_one("SELECT t.digest, t.org, a.mode, a.header FROM tokens t LEFT JOIN org_auth a "
                             "ON a.org = t.org WHERE t.digest=?", (digest,))
        if row is None or not hmac.compare_digest(row["digest"], digest):
            return None  # not kept: a token another worker adds must work at once (it bumps, too)
        mode = row["mode"] or "bearer"  # auth_store.auth_of: no row is the default mode
        found = str(row["org"]), mode, row["header"] if mode == "header" else None
        if len(cache) < TOKEN_CACHE_SIZE:
            cache[digest] = found
        return found

    # ------------------------------------------------------------------ members and plan
    def add_member(self, org: str, email: str, plan_name: str = plan.PAID, admin: bool = False,
                   source: str = "seed") -> dict[str, Any]:
        email = email.strip().lower()
        with self._tx() as c:
            org_row = self._org_row(c, org)
            if source == "admin-panel" and org_row["provisioned"]:
                raise Forbidden(plan.ADMIN_PANEL_DETAIL)
            if c.execute("SELECT 1 FROM members WHERE org=? AND email=?", (org, email)).fetchone():
                raise Uniqueness(f"organization {org!r} already has a member {email!r}")
            c.execute("INSERT INTO members (org, email, plan, admin, scim_user_id, source) VALUES (?,?,?,?,?,?)",
                      (org, email, plan.seeded_member_plan(org_row["mode"], plan_name), int(admin), None, source))
        return self.get_member(org, email)

    def get_member(self, org: str, email: str) -> dict[str, Any]:
        with self._read() as c:
            row = c.execute("SELECT * FROM members WHERE org=? AND email=?", (org, email.lower())).fetchone()
        if row is None:
            raise NotFound(f"organization {org!r} has no member {email!r}")
        return self._member_out(row)

    def list_members(self, org: str) -> list[dict[str, Any]]:
        with self._read() as c:
            self._org_row(c, org)
            rows = c.execute("SELECT * FROM members WHERE org=? ORDER BY seq", (org,)).fetchall()
        return [self._member_out(r) for r in rows]

    @staticmethod
    def _member_out(row: sqlite3.Row) -> dict[str, Any]:
        return {"email": row["email"], "plan": row["plan"], "admin": bool(row["admin"]),
                "scim_user_id": row["scim_user_id"], "source": row["source"]}

    def plan_state(self, org: str) -> dict[str, Any]:
        with self._read() as c:
            org_row = self._org_row(c, org)
            members = [self._member_out(r) for r in c.execute("SELECT * FROM members WHERE org=?", (org,))]
        return plan.plan_summary(org_row["mode"], org_row["threshold"], members)

    def _refresh_mode(self, c: sqlite3.Connection, org: str, org_row: sqlite3.Row | None = None) -> None:
        """Switch the org to synced mode when its active SCIM users reach the threshold. Called
        inside every write that can add an active user; `org_row` is the org as read earlier in
        the same transaction (the mode is written nowhere else)."""
        org_row = org_row if org_row is not None else self._org_row(c, org)
        if org_row["mode"] == plan.SYNCED:
            return  # synced latches; per-user plan changes are applied where they happen
        active = c.execute("SELECT COUNT(*) FROM users WHERE org=? AND active=1", (org,)).fetchone()[0]
        if plan.mode_after(org_row["mode"], org_row["threshold"], active) != plan.SYNCED:
            return
        c.execute("UPDATE orgs SET mode=? WHERE name=?", (plan.SYNCED, org))
        rows = c.execute("SELECT m.email, u.active FROM members m LEFT JOIN users u ON u.id = m.scim_user_id "
                         "WHERE m.org=?", (org,)).fetchall()
        plans = plan.synced_plans((r["email"], r["active"] == 1) for r in rows)
        c.executemany("UPDATE members SET plan=? WHERE org=? AND email=?",
                      [(p, org, email) for email, p in plans.items()])

    # ------------------------------------------------------------------ events
    def events(self, org: str, last: int | None = None) -> list[dict[str, Any]]:
        """The org's events, oldest first; with `last`, only the newest `last` of them (the live view)."""
        with self._read() as c:
            self._org_row(c, org)
            if last is None:
                rows = c.execute("SELECT * FROM events WHERE org=? ORDER BY seq", (org,)).fetchall()
            else:
                rows = c.execute("SELECT * FROM events WHERE org=? ORDER BY seq DESC LIMIT ?", (org, last)).fetchall()[::-1]
        return [{"id": r["id"], "event": r["event"], "data": from_json(r["data"]), "created_at": r["created_at"]}
                for r in rows]

    def event_count(self, org: str) -> int:
        return int(self._read_one("SELECT COUNT(*) AS n FROM events WHERE org=?", (org,))["n"])
