"""The store's foundation: SQLite schema, the connection and its transactions, and the
conversion of rows to SCIM JSON (no web imports). `store.py` builds the operations on it.

Threading: waitress serves from several threads, and SQLite connections are not to be
shared unguarded, so there is ONE connection and every use of it holds an RLock; writes run
in `BEGIN IMMEDIATE` transactions that roll back on any exception (a failed operation
changes nothing). With a file (--db) the journal mode is WAL.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from .errors import NotFound, PreconditionFailed

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

def now_iso() -> str:
    """ISO 8601 UTC with a `Z` (RFC 7643 §2.3.5 dateTime), millisecond precision."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def etag(version: int) -> str:
    # RFC 7644 §3.14: versions are (weak) entity tags; meta.version equals the ETag header.
    return f'W/"{version}"'


def token_digest(token: str) -> str:
    # Tokens are stored only as SHA-256 digests: a --db file never holds a usable secret.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_if_match(version: int, if_match: list[str] | None) -> None:
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


class StoreBase:
    """One SQLite connection behind an RLock, transactions, and row → JSON helpers."""

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

    def _org_row(self, c: sqlite3.Connection, org: str) -> sqlite3.Row:
        row = c.execute("SELECT * FROM orgs WHERE name=?", (org,)).fetchone()
        if row is None:
            raise NotFound(f"organization {org!r} not found")
        return row

    def _event(self, c: sqlite3.Connection, org: str, name: str, data: dict[str, Any]) -> None:
        event_id = "event_" + secrets.token_hex(13).upper()
        c.execute("INSERT INTO events (org, id, event, data, created_at) VALUES (?,?,?,?,?)",
                  (org, event_id, name, json.dumps(data), now_iso()))

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

    @staticmethod
    def _clean(resource: dict[str, Any], *drop: str) -> dict[str, Any]:
        # `password` is write-only (RFC 7643 §4.1.1, returned "never"): the mock keeps none.
        return {k: v for k, v in resource.items() if k not in ("id", "meta", "password", *drop)}

    @staticmethod
    def _compose(rid: str, resource: dict[str, Any]) -> dict[str, Any]:
        # Key order for readable output: schemas, id, then the rest (meta is added on the way out).
        out: dict[str, Any] = {"schemas": resource.get("schemas", []), "id": rid}
        out.update((k, v) for k, v in resource.items() if k != "schemas")
        return out

    @staticmethod
    def _group_brief(row: sqlite3.Row) -> dict[str, Any]:
        data = json.loads(row["data"])
        data["meta"] = {"resourceType": "Group", "created": row["created"], "lastModified": row["last_modified"],
                        "version": etag(row["version"])}
        return data
