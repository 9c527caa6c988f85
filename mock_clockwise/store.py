"""The mock's state and operations on SQLite (moto's "backend": no web imports).

One implementation: `:memory:` by default, a WAL-mode file with `--db`. Waitress serves
from several threads, so the store keeps ONE connection and serialises every use of it
with an RLock; each write runs in its own `BEGIN IMMEDIATE` transaction, so a failing
operation (any ScimError) changes nothing. Resource JSON is stored as text next to the
indexed columns that filters and uniqueness need.

Resources come out WITHOUT `meta.location`, member `$ref`s or a user's `groups[].$ref`:
those are absolute URLs that depend on the request's host, so the views add them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from . import plan
from .errors import Forbidden, InvalidValue, NotFound, PreconditionFailed, ScimError, Uniqueness
from .filters import index_hint, matches
from .patch import apply_patch
from .projection import sort_key
from .schema import GROUP, USER, ResourceType, validate_resource

_DDL = """
CREATE TABLE IF NOT EXISTS orgs (
  name TEXT PRIMARY KEY, threshold INTEGER NOT NULL, mode TEXT NOT NULL,
  provisioned INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
  users_count INTEGER NOT NULL DEFAULT 0, groups_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, org TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_org ON tokens(org);
CREATE TABLE IF NOT EXISTS members (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, email TEXT NOT NULL,
  plan TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0, scim_user_id TEXT, source TEXT NOT NULL,
  UNIQUE (org, email));
CREATE INDEX IF NOT EXISTS members_user ON members(scim_user_id);
CREATE TABLE IF NOT EXISTS users (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org TEXT NOT NULL,
  user_name TEXT NOT NULL, user_name_lower TEXT NOT NULL, external_id TEXT,
  email_lower TEXT NOT NULL, active INTEGER NOT NULL, version INTEGER NOT NULL,
  created TEXT NOT NULL, last_modified TEXT NOT NULL, data TEXT NOT NULL,
  UNIQUE (org, user_name_lower));
CREATE INDEX IF NOT EXISTS users_org_seq ON users(org, seq);
CREATE INDEX IF NOT EXISTS users_org_ext ON users(org, external_id);
CREATE INDEX IF NOT EXISTS users_org_active ON users(org, active);
CREATE TABLE IF NOT EXISTS groups (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org TEXT NOT NULL,
  display_name TEXT NOT NULL, display_name_lower TEXT NOT NULL, external_id TEXT,
  version INTEGER NOT NULL, created TEXT NOT NULL, last_modified TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS groups_org_seq ON groups(org, seq);
CREATE INDEX IF NOT EXISTS groups_org_name ON groups(org, display_name_lower);
CREATE INDEX IF NOT EXISTS groups_org_ext ON groups(org, external_id);
CREATE TABLE IF NOT EXISTS group_members (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, user_id TEXT NOT NULL,
  display TEXT, UNIQUE (group_id, user_id));
CREATE INDEX IF NOT EXISTS group_members_user ON group_members(user_id);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, id TEXT NOT NULL,
  event TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_org ON events(org, seq);
"""

# The indexed column behind each `index_hint` attribute, per table.
_HINT_COLUMNS = {
    "users": {"username": ("user_name_lower", True), "externalid": ("external_id", False), "id": ("id", False)},
    "groups": {"displayname": ("display_name_lower", True), "externalid": ("external_id", False),
               "id": ("id", False)},
}


def now_iso() -> str:
    """ISO 8601 UTC with a `Z` (RFC 7643 §2.3.5 dateTime), millisecond precision."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def etag(version: int) -> str:
    # RFC 7644 §3.14: versions are (weak) entity tags; meta.version equals the ETag header.
    return f'W/"{version}"'


def token_digest(token: str) -> str:
    # Tokens are stored only as SHA-256 digests: a --db file never holds a usable secret.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_if_match(version: int, if_match: list[str] | None) -> None:
    # RFC 7644 §3.14 / RFC 7232 §3.1: If-Match with no current tag matching → 412. Our tags are
    # weak, so tags compare by their opaque part (the W/ prefix is ignored); "*" matches any.
    if if_match is None:
        return
    current = f'"{version}"'
    for tag in if_match:
        tag = tag.strip()
        if tag == "*" or (tag[2:] if tag.startswith("W/") else tag) == current:
            return
    raise PreconditionFailed(f"If-Match precondition failed: the resource's current version is {etag(version)}")


class Store:
    """All orgs, tokens, members, users, groups and events of one mock."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_DDL)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    # ------------------------------------------------------------------ orgs and tokens
    def create_org(self, name: str, tokens: Iterable[str] = (), threshold: int = plan.DEFAULT_THRESHOLD) -> dict[str, Any]:
        with self._tx() as c:
            if c.execute("SELECT 1 FROM orgs WHERE name=?", (name,)).fetchone():
                raise Uniqueness(f"organization {name!r} already exists")
            c.execute("INSERT INTO orgs (name, threshold, mode, created_at) VALUES (?,?,?,?)",
                      (name, threshold, plan.TRIAL, now_iso()))
            self._put_tokens(c, name, tokens)
        return self.get_org(name)

    def ensure_org(self, name: str, tokens: Iterable[str], threshold: int) -> dict[str, Any]:
        """Create the org if absent; otherwise set its tokens and threshold (server start with --db)."""
        with self._tx() as c:
            if c.execute("SELECT 1 FROM orgs WHERE name=?", (name,)).fetchone():
                c.execute("UPDATE orgs SET threshold=? WHERE name=?", (threshold, name))
                c.execute("DELETE FROM tokens WHERE org=?", (name,))
            else:
                c.execute("INSERT INTO orgs (name, threshold, mode, created_at) VALUES (?,?,?,?)",
                          (name, threshold, plan.TRIAL, now_iso()))
            self._put_tokens(c, name, tokens)
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
            for table in ("tokens", "members", "users", "groups", "events"):
                c.execute(f"DELETE FROM {table} WHERE org=?", (name,))
            c.execute("DELETE FROM orgs WHERE name=?", (name,))

    def wipe(self) -> None:
        """Remove everything (the control plane's reset re-creates the start orgs)."""
        with self._tx() as c:
            for table in ("group_members", "tokens", "members", "users", "groups", "events", "orgs"):
                c.execute(f"DELETE FROM {table}")

    def org_for_token(self, token: str) -> str | None:
        digest = token_digest(token)
        with self._read() as c:
            row = c.execute("SELECT digest, org FROM tokens WHERE digest=?", (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row["digest"], digest):
            return None
        return str(row["org"])

    def _org_row(self, c: sqlite3.Connection, org: str) -> sqlite3.Row:
        row = c.execute("SELECT * FROM orgs WHERE name=?", (org,)).fetchone()
        if row is None:
            raise NotFound(f"organization {org!r} not found")
        return row

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

    def _refresh_mode(self, c: sqlite3.Connection, org: str) -> None:
        org_row = self._org_row(c, org)
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
    def _event(self, c: sqlite3.Connection, org: str, name: str, data: dict[str, Any]) -> None:
        event_id = "event_" + secrets.token_hex(13).upper()
        c.execute("INSERT INTO events (org, id, event, data, created_at) VALUES (?,?,?,?,?)",
                  (org, event_id, name, json.dumps(data), now_iso()))

    def events(self, org: str) -> list[dict[str, Any]]:
        with self._read() as c:
            self._org_row(c, org)
            rows = c.execute("SELECT * FROM events WHERE org=? ORDER BY seq", (org,)).fetchall()
        return [{"id": r["id"], "event": r["event"], "data": json.loads(r["data"]), "created_at": r["created_at"]}
                for r in rows]

    # ------------------------------------------------------------------ resource rows → JSON
    def _user_out(self, row: sqlite3.Row) -> dict[str, Any]:
        data = json.loads(row["data"])
        data["meta"] = {"resourceType": "User", "created": row["created"], "lastModified": row["last_modified"],
                        "version": etag(row["version"])}
        return data

    def _group_out(self, c: sqlite3.Connection, row: sqlite3.Row,
                   members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        data = json.loads(row["data"])
        data["members"] = self._members_of(c, row["id"]) if members is None else members
        data["meta"] = {"resourceType": "Group", "created": row["created"], "lastModified": row["last_modified"],
                        "version": etag(row["version"])}
        return data

    @staticmethod
    def _members_of(c: sqlite3.Connection, group_id: str) -> list[dict[str, Any]]:
        rows = c.execute("SELECT gm.user_id, gm.display, u.user_name FROM group_members gm "
                         "JOIN users u ON u.id = gm.user_id WHERE gm.group_id=? ORDER BY gm.seq", (group_id,))
        return [{"value": r["user_id"], "display": r["display"] or r["user_name"], "type": "User"} for r in rows]

    def _user_groups(self, c: sqlite3.Connection, user_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        # RFC 7643 §4.1.2: `groups` is read-only and reflects direct memberships.
        out: dict[str, list[dict[str, Any]]] = {uid: [] for uid in user_ids}
        for chunk in range(0, len(user_ids), 500):
            ids = user_ids[chunk:chunk + 500]
            rows = c.execute(f"SELECT gm.user_id, g.id, g.display_name FROM group_members gm JOIN groups g "
                             f"ON g.id = gm.group_id WHERE gm.user_id IN ({','.join('?' * len(ids))}) "
                             f"ORDER BY g.seq", ids)
            for r in rows:
                out[r["user_id"]].append({"value": r["id"], "display": r["display_name"], "type": "direct"})
        return out

    def _with_groups(self, c: sqlite3.Connection, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
        groups = self._user_groups(c, [u["id"] for u in users])
        for user in users:
            if groups[user["id"]]:
                meta = user.pop("meta", None)
                user["groups"] = groups[user["id"]]
                if meta is not None:
                    user["meta"] = meta  # keep meta last
        return users

    def _row(self, c: sqlite3.Connection, table: str, org: str, rid: str) -> sqlite3.Row:
        row = c.execute(f"SELECT * FROM {table} WHERE org=? AND id=?", (org, rid)).fetchone()
        if row is None:
            # Multi-tenant: another org's id is indistinguishable from an unknown one.
            kind = "User" if table == "users" else "Group"
            raise NotFound(f"{kind} {rid!r} not found")
        return row

    # ------------------------------------------------------------------ reads
    def get_user(self, org: str, uid: str) -> dict[str, Any]:
        with self._read() as c:
            return self._with_groups(c, [self._user_out(self._row(c, "users", org, uid))])[0]

    def get_group(self, org: str, gid: str) -> dict[str, Any]:
        with self._read() as c:
            return self._group_out(c, self._row(c, "groups", org, gid))

    def list_resources(self, org: str, rtype: ResourceType, flt: Any = None, start_index: int = 1,
                       count: int = 100, sort_by: str | None = None,
                       descending: bool = False) -> tuple[int, list[dict[str, Any]]]:
        """RFC 7644 §3.4.2: (totalResults, the page). `start_index` is 1-based and ≥ 1."""
        table = "users" if rtype is USER else "groups"
        with self._read() as c:
            org_row = self._org_row(c, org)
            if flt is None and not sort_by:
                # No filter: the org's maintained count and one LIMIT/OFFSET page in creation order
                # (stable across pages). The OFFSET walks only the covering (org, seq) index.
                total = org_row[f"{table}_count"]
                rows = c.execute(f"SELECT * FROM {table} WHERE seq IN (SELECT seq FROM {table} WHERE org=? "
                                 f"ORDER BY seq LIMIT ? OFFSET ?) ORDER BY seq",
                                 (org, count, start_index - 1)).fetchall() if count > 0 else []
                page = [self._out(c, table, r) for r in rows]
            else:
                found = [r for r in (self._out(c, table, r) for r in self._candidates(c, table, org, rtype, flt))
                         if flt is None or matches(flt, r, rtype)]
                if sort_by:
                    # RFC 7644 §3.4.2.3; sorted() is stable, so ties keep creation order.
                    found.sort(key=lambda r: sort_key(r, rtype, sort_by), reverse=descending)
                total = len(found)
                page = found[start_index - 1:start_index - 1 + count] if count > 0 else []
            if table == "users":
                self._with_groups(c, page)
        return total, page

    def _out(self, c: sqlite3.Connection, table: str, row: sqlite3.Row) -> dict[str, Any]:
        return self._user_out(row) if table == "users" else self._group_out(c, row)

    def _candidates(self, c: sqlite3.Connection, table: str, org: str, rtype: ResourceType,
                    flt: Any) -> list[sqlite3.Row]:
        hint = index_hint(flt, rtype) if flt is not None else None
        if hint is not None:
            column = _HINT_COLUMNS[table].get(str(hint[0]).lower())
            if column is not None:
                # Indexed lookup of a superset; `matches` decides the exact result.
                name, fold = column
                value = str(hint[1]).lower() if fold else str(hint[1])
                return c.execute(f"SELECT * FROM {table} WHERE org=? AND {name}=? ORDER BY seq",
                                 (org, value)).fetchall()
        return c.execute(f"SELECT * FROM {table} WHERE org=? ORDER BY seq", (org,)).fetchall()

    # ------------------------------------------------------------------ users
    @staticmethod
    def _clean(resource: dict[str, Any], *drop: str) -> dict[str, Any]:
        # `password` is write-only (RFC 7643 §4.1.1, returned "never"): the mock keeps none.
        return {k: v for k, v in resource.items() if k not in ("id", "meta", "password", *drop)}

    def create_user(self, org: str, body: Any) -> dict[str, Any]:
        resource = self._clean(validate_resource(body, USER), "groups")
        uid = str(uuid.uuid4())
        with self._tx() as c:
            self._org_row(c, org)
            self._check_user_name(c, org, resource["userName"], None)
            email = plan.user_email(resource)
            member = c.execute("SELECT * FROM members WHERE org=? AND email=?", (org, email)).fetchone()
            if member is not None and member["scim_user_id"]:
                raise Uniqueness(f"member {email!r} is already linked to SCIM user {member['scim_user_id']!r}")
            data = self._compose(uid, resource)
            active = plan.is_active(data)
            now = now_iso()
            c.execute("INSERT INTO users (id, org, user_name, user_name_lower, external_id, email_lower, active, "
                      "version, created, last_modified, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (uid, org, data["userName"], data["userName"].lower(), data.get("externalId"), email,
                       int(active), 1, now, now, json.dumps(data)))
            # Clockwise: a SCIM user links to the org member with the same e-mail, else becomes one.
            if member is not None:
                c.execute("UPDATE members SET scim_user_id=?, plan=? WHERE seq=?",
                          (uid, plan.scim_member_plan(active), member["seq"]))
            else:
                c.execute("INSERT INTO members (org, email, plan, admin, scim_user_id, source) VALUES (?,?,?,?,?,?)",
                          (org, email, plan.scim_member_plan(active), 0, uid, "scim"))
            c.execute("UPDATE orgs SET provisioned=1, users_count=users_count+1 WHERE name=?", (org,))
            self._refresh_mode(c, org)
            out = self._user_out(self._row(c, "users", org, uid))
            self._event(c, org, "dsync.user.created", out)
        return out

    @staticmethod
    def _compose(rid: str, resource: dict[str, Any]) -> dict[str, Any]:
        # Key order for readable output: schemas, id, then the rest (meta is added on the way out).
        out: dict[str, Any] = {"schemas": resource.get("schemas", []), "id": rid}
        out.update((k, v) for k, v in resource.items() if k != "schemas")
        return out

    def _check_user_name(self, c: sqlite3.Connection, org: str, user_name: str, uid: str | None) -> None:
        # RFC 7643 §4.1.1: userName is unique (server) and caseExact false → compare lower-cased.
        row = c.execute("SELECT id FROM users WHERE org=? AND user_name_lower=?", (org, user_name.lower())).fetchone()
        if row is not None and row["id"] != uid:
            raise Uniqueness(f"userName {user_name!r} is already taken in this organization")

    def replace_user(self, org: str, uid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        # RFC 7644 §3.5.1: PUT replaces; readOnly attributes (id, meta, groups) in the body are ignored.
        resource = self._clean(validate_resource(body, USER), "groups")
        with self._tx() as c:
            row = self._row(c, "users", org, uid)
            _check_if_match(row["version"], if_match)
            return self._change_user(c, org, row, self._compose(uid, resource))

    def patch_user(self, org: str, uid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        with self._tx() as c:
            row = self._row(c, "users", org, uid)
            _check_if_match(row["version"], if_match)
            current = json.loads(row["data"])
            patched = apply_patch(current, body, USER)
            resource = self._clean(validate_resource(patched, USER), "groups")
            return self._change_user(c, org, row, self._compose(uid, resource))

    def _change_user(self, c: sqlite3.Connection, org: str, row: sqlite3.Row,
                     after: dict[str, Any]) -> dict[str, Any]:
        uid = row["id"]
        before = json.loads(row["data"])
        if after == before:
            return self._with_groups(c, [self._user_out(row)])[0]
        member = c.execute("SELECT * FROM members WHERE scim_user_id=?", (uid,)).fetchone()
        if member is not None and member["admin"]:
            changed = plan.admin_changes(before, after)
            if changed:
                raise Forbidden(plan.admin_refusal_detail(before.get("userName", uid), changed))
        self._check_user_name(c, org, after["userName"], uid)
        email = plan.user_email(after)
        active = plan.is_active(after)
        if member is not None:
            if email != member["email"]:
                if c.execute("SELECT 1 FROM members WHERE org=? AND email=?", (org, email)).fetchone():
                    raise Uniqueness(f"another member of this organization already has the e-mail {email!r}")
                c.execute("UPDATE members SET email=? WHERE seq=?", (email, member["seq"]))
            # Both modes: deactivation → free, reactivation → paid.
            c.execute("UPDATE members SET plan=? WHERE seq=?", (plan.scim_member_plan(active), member["seq"]))
        c.execute("UPDATE users SET user_name=?, user_name_lower=?, external_id=?, email_lower=?, active=?, "
                  "version=version+1, last_modified=?, data=? WHERE id=?",
                  (after["userName"], after["userName"].lower(), after.get("externalId"), email, int(active),
                   now_iso(), json.dumps(after), uid))
        self._refresh_mode(c, org)
        out = self._user_out(self._row(c, "users", org, uid))
        self._event(c, org, "dsync.user.updated", out)
        return self._with_groups(c, [out])[0]

    def delete_user(self, org: str, uid: str, if_match: list[str] | None = None) -> None:
        with self._tx() as c:
            row = self._row(c, "users", org, uid)
            _check_if_match(row["version"], if_match)
            user = self._user_out(row)
            for g in c.execute("SELECT g.* FROM group_members gm JOIN groups g ON g.id = gm.group_id "
                               "WHERE gm.user_id=? ORDER BY g.seq", (uid,)).fetchall():
                self._event(c, org, "dsync.group.user_removed", {"user": user, "group": self._group_brief(g)})
                c.execute("UPDATE groups SET version=version+1, last_modified=? WHERE id=?", (now_iso(), g["id"]))
            c.execute("DELETE FROM group_members WHERE user_id=?", (uid,))
            c.execute("DELETE FROM users WHERE id=?", (uid,))
            c.execute("UPDATE orgs SET users_count=users_count-1 WHERE name=?", (org,))
            # Clockwise (Entra deletes users): the member stays in the org, unlinked, on free.
            c.execute("UPDATE members SET scim_user_id=NULL, plan=? WHERE scim_user_id=?", (plan.FREE, uid))
            self._event(c, org, "dsync.user.deleted", user)

    def bulk_insert_users(self, org: str, resources: Iterable[dict[str, Any]]) -> int:
        """Fast path for benchmarks and fixtures: validated users, linked members, no events."""
        now = now_iso()
        user_rows, member_rows = [], []
        for body in resources:
            resource = self._clean(validate_resource(body, USER), "groups")
            uid = str(uuid.uuid4())
            data = self._compose(uid, resource)
            email, active = plan.user_email(data), plan.is_active(data)
            user_rows.append((uid, org, data["userName"], data["userName"].lower(), data.get("externalId"), email,
                              int(active), 1, now, now, json.dumps(data)))
            member_rows.append((org, email, plan.scim_member_plan(active), 0, uid, "scim"))
        with self._tx() as c:
            self._org_row(c, org)
            try:
                c.executemany("INSERT INTO users (id, org, user_name, user_name_lower, external_id, email_lower, "
                              "active, version, created, last_modified, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                              user_rows)
                c.executemany("INSERT INTO members (org, email, plan, admin, scim_user_id, source) "
                              "VALUES (?,?,?,?,?,?)", member_rows)
            except sqlite3.IntegrityError as exc:
                raise Uniqueness(f"bulk insert clashes with existing users or members: {exc}") from exc
            c.execute("UPDATE orgs SET provisioned=1, users_count=users_count+? WHERE name=?", (len(user_rows), org))
            self._refresh_mode(c, org)
        return len(user_rows)

    # ------------------------------------------------------------------ groups
    @staticmethod
    def _group_brief(row: sqlite3.Row) -> dict[str, Any]:
        data = json.loads(row["data"])
        data["meta"] = {"resourceType": "Group", "created": row["created"], "lastModified": row["last_modified"],
                        "version": etag(row["version"])}
        return data

    def _resolve_members(self, c: sqlite3.Connection, org: str, members: Any) -> dict[str, str | None]:
        """{user id: display} in request order; every member must be a user of this org."""
        if members is None:
            return {}
        if not isinstance(members, list):
            raise InvalidValue("members must be a list")
        out: dict[str, str | None] = {}
        for m in members:
            if not isinstance(m, dict) or not isinstance(m.get("value"), str) or not m["value"]:
                raise InvalidValue("each member needs a 'value' (the id of a User)")
            if str(m.get("type") or "User").lower() != "user":
                raise InvalidValue(f"member {m['value']!r}: only Users can be members (nested groups unsupported)")
            if not c.execute("SELECT 1 FROM users WHERE org=? AND id=?", (org, m["value"])).fetchone():
                raise InvalidValue(f"member {m['value']!r} is not a User of this organization")
            display = m.get("display")
            out[m["value"]] = display if isinstance(display, str) else None
        return out

    def create_group(self, org: str, body: Any) -> dict[str, Any]:
        resource = self._clean(validate_resource(body, GROUP))
        members = resource.pop("members", None)
        gid = str(uuid.uuid4())
        with self._tx() as c:
            self._org_row(c, org)
            wanted = self._resolve_members(c, org, members)
            data = self._compose(gid, resource)
            now = now_iso()
            c.execute("INSERT INTO groups (id, org, display_name, display_name_lower, external_id, version, created, "
                      "last_modified, data) VALUES (?,?,?,?,?,?,?,?,?)",
                      (gid, org, data["displayName"], data["displayName"].lower(), data.get("externalId"), 1, now,
                       now, json.dumps(data)))
            c.execute("UPDATE orgs SET provisioned=1, groups_count=groups_count+1 WHERE name=?", (org,))
            row = self._row(c, "groups", org, gid)
            self._event(c, org, "dsync.group.created", self._group_brief(row))
            self._apply_membership(c, org, row, {}, wanted)
            return self._group_out(c, row)

    def replace_group(self, org: str, gid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        resource = self._clean(validate_resource(body, GROUP))
        members = resource.pop("members", None)
        with self._tx() as c:
            row = self._row(c, "groups", org, gid)
            _check_if_match(row["version"], if_match)
            return self._change_group(c, org, row, self._compose(gid, resource), members)

    def patch_group(self, org: str, gid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        with self._tx() as c:
            row = self._row(c, "groups", org, gid)
            _check_if_match(row["version"], if_match)
            current = json.loads(row["data"])
            current["members"] = [{"value": r["user_id"], **({"display": r["display"]} if r["display"] else {})}
                                  for r in c.execute("SELECT user_id, display FROM group_members WHERE group_id=? "
                                                     "ORDER BY seq", (gid,))]
            patched = apply_patch(current, body, GROUP)
            resource = self._clean(validate_resource(patched, GROUP))
            members = resource.pop("members", None)
            return self._change_group(c, org, row, self._compose(gid, resource), members)

    def _change_group(self, c: sqlite3.Connection, org: str, row: sqlite3.Row, after: dict[str, Any],
                      members: Any) -> dict[str, Any]:
        gid = row["id"]
        wanted = self._resolve_members(c, org, members)
        current = {r["user_id"]: r["display"] for r in
                   c.execute("SELECT user_id, display FROM group_members WHERE group_id=? ORDER BY seq", (gid,))}
        attrs_changed = after != json.loads(row["data"])
        if attrs_changed:
            c.execute("UPDATE groups SET display_name=?, display_name_lower=?, external_id=?, data=? WHERE id=?",
                      (after["displayName"], after["displayName"].lower(), after.get("externalId"),
                       json.dumps(after), gid))
        members_changed = self._apply_membership(c, org, self._row(c, "groups", org, gid), current, wanted)
        if attrs_changed or members_changed:
            c.execute("UPDATE groups SET version=version+1, last_modified=? WHERE id=?", (now_iso(), gid))
        row = self._row(c, "groups", org, gid)
        if attrs_changed:
            self._event(c, org, "dsync.group.updated", self._group_brief(row))
        return self._group_out(c, row)

    def _apply_membership(self, c: sqlite3.Connection, org: str, group: sqlite3.Row,
                          current: dict[str, str | None], wanted: dict[str, str | None]) -> bool:
        """Bring the group's members from `current` to `wanted`, one WorkOS event per member
        added or removed. Group membership does not change plans (Clockwise)."""
        gid, brief = group["id"], self._group_brief(group)
        changed = False
        for uid in [u for u in current if u not in wanted]:
            c.execute("DELETE FROM group_members WHERE group_id=? AND user_id=?", (gid, uid))
            self._event(c, org, "dsync.group.user_removed",
                        {"user": self._user_out(self._row(c, "users", org, uid)), "group": brief})
            changed = True
        for uid, display in wanted.items():
            if uid not in current:
                c.execute("INSERT INTO group_members (group_id, user_id, display) VALUES (?,?,?)", (gid, uid, display))
                self._event(c, org, "dsync.group.user_added",
                            {"user": self._user_out(self._row(c, "users", org, uid)), "group": brief})
                changed = True
            elif display is not None and display != current[uid]:
                c.execute("UPDATE group_members SET display=? WHERE group_id=? AND user_id=?", (display, gid, uid))
                changed = True
        return changed

    def delete_group(self, org: str, gid: str, if_match: list[str] | None = None) -> None:
        with self._tx() as c:
            row = self._row(c, "groups", org, gid)
            _check_if_match(row["version"], if_match)
            brief = self._group_brief(row)
            c.execute("DELETE FROM group_members WHERE group_id=?", (gid,))
            c.execute("DELETE FROM groups WHERE id=?", (gid,))
            c.execute("UPDATE orgs SET groups_count=groups_count-1 WHERE name=?", (org,))
            self._event(c, org, "dsync.group.deleted", brief)


__all__ = ["Store", "ScimError", "now_iso", "etag", "token_digest"]
