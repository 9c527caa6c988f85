"""The store's foundation: SQLite schema, the connections and their transactions, and the reads
every operation shares (no web imports). The SCIM JSON of a row is built by representation.py;
org_store.py and store.py build the operations on this.

Threading and processes: in memory there is ONE connection and every use of it holds an
RLock. With a file (--db, or the temporary file several worker processes share) the journal
mode is WAL and each thread has its own connection: reads are snapshot transactions that
never wait, writes are `BEGIN IMMEDIATE` transactions, queued across processes by flock().
Every write rolls back on any exception (a failed operation changes nothing), and everything
that must hold across processes (uniqueness, the plan threshold, group membership) is read
and written inside one such transaction.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from .errors import NotFound, PreconditionFailed
from .generation import Generation, LocalGeneration
from .names import user_name_key
from .representation import attach_groups, etag, group_value, member_value, resource_from_row, to_json

# `seq` is the rowid: creation order, and what pages and member lists are ordered by. Not AUTOINCREMENT: a
# new row takes the largest seq + 1 (after the newest row is deleted, its seq again, still the newest),
# and no write pays for AUTOINCREMENT's sqlite_sequence row (~50,000 instructions per create). Files
# written before keep their AUTOINCREMENT tables; both orders are the same.
_DDL = """
CREATE TABLE IF NOT EXISTS orgs (
  name TEXT PRIMARY KEY, threshold INTEGER NOT NULL, mode TEXT NOT NULL,
  provisioned INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
  users_count INTEGER NOT NULL DEFAULT 0, groups_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, org TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_org ON tokens(org);
CREATE TABLE IF NOT EXISTS members (
  seq INTEGER PRIMARY KEY, org TEXT NOT NULL, email TEXT NOT NULL,
  plan TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0, scim_user_id TEXT, source TEXT NOT NULL,
  unlinked_data TEXT, UNIQUE (org, email));
CREATE INDEX IF NOT EXISTS members_user ON members(scim_user_id);
CREATE TABLE IF NOT EXISTS users (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org TEXT NOT NULL,
  user_name TEXT NOT NULL, user_name_key TEXT NOT NULL, external_id TEXT,
  email_lower TEXT NOT NULL, active INTEGER NOT NULL, version INTEGER NOT NULL,
  created TEXT NOT NULL, last_modified TEXT NOT NULL, data TEXT NOT NULL,
  UNIQUE (org, user_name_key));
CREATE INDEX IF NOT EXISTS users_org_seq ON users(org, seq);
CREATE INDEX IF NOT EXISTS users_org_ext ON users(org, external_id);
CREATE INDEX IF NOT EXISTS users_org_active ON users(org, active);
CREATE TABLE IF NOT EXISTS groups (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org TEXT NOT NULL,
  display_name TEXT NOT NULL, display_name_lower TEXT NOT NULL, external_id TEXT,
  version INTEGER NOT NULL, created TEXT NOT NULL, last_modified TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS groups_org_seq ON groups(org, seq);
CREATE INDEX IF NOT EXISTS groups_org_name ON groups(org, display_name_lower);
CREATE INDEX IF NOT EXISTS groups_org_ext ON groups(org, external_id);
CREATE TABLE IF NOT EXISTS group_members (
  seq INTEGER PRIMARY KEY, group_id TEXT NOT NULL, user_id TEXT NOT NULL,
  display TEXT, UNIQUE (group_id, user_id));
CREATE INDEX IF NOT EXISTS group_members_user ON group_members(user_id);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, org TEXT NOT NULL, id TEXT NOT NULL,
  event TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_org ON events(org, seq);
CREATE TABLE IF NOT EXISTS page_blocks (
  tbl TEXT NOT NULL, org TEXT NOT NULL, block INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (tbl, org, block)) WITHOUT ROWID;
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS {t}_block_add AFTER INSERT ON {t} BEGIN
  INSERT INTO page_blocks (tbl, org, block, n) VALUES ('{t}', NEW.org, NEW.seq >> {{bits}}, 1)
    ON CONFLICT (tbl, org, block) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS {t}_block_remove AFTER DELETE ON {t} BEGIN
  UPDATE page_blocks SET n = n - 1 WHERE tbl = '{t}' AND org = OLD.org AND block = OLD.seq >> {{bits}};
  DELETE FROM page_blocks WHERE tbl = '{t}' AND org = OLD.org AND block = OLD.seq >> {{bits}} AND n <= 0;
END;
""" for t in ("users", "groups"))

# Deep pages (RFC 7644 §3.4.2.4 startIndex) without walking the offset: `page_blocks` counts each
# org's users and groups per block of 2**BLOCK_BITS consecutive `seq` values, kept by the triggers
# above inside every INSERT and DELETE (so no write path can forget it, and it is exact in every
# transaction). A page at startIndex s sums the counts to find the block holding position s, then
# walks at most one block of the (org, seq) index instead of s - 1 entries.
BLOCK_BITS = 12
_DDL = _DDL.replace("{bits}", str(BLOCK_BITS))

# How long a write waits for another process's write transaction before SQLite reports
# "database is locked" (worker processes share one file).
BUSY_TIMEOUT_S = 30.0


def now_iso() -> str:
    """ISO 8601 UTC with a `Z` (RFC 7643 §2.3.5 dateTime), millisecond precision."""
    # isoformat is ~4x faster than strftime; "+00:00" becomes "Z".
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def token_digest(token: str) -> str:
    # Tokens are stored only as SHA-256 digests: a --db file never holds a usable secret.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def groups_by_user(rows: Iterable[Any], out: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rows of (user id, group id, group displayName), in the groups' creation order, added to each user's
    `groups` (representation.group_value) in `out`; returns `out`."""
    for uid, gid, name in rows:
        out.setdefault(uid, []).append(group_value(gid, name))
    return out


def missing(table: str, rid: str) -> NotFound:
    """The error for a user or group id the org does not have. Multi-tenant: another org's id is
    indistinguishable from an unknown one."""
    return NotFound(f"{'User' if table == 'users' else 'Group'} {rid!r} not found")


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


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a --db file written by an earlier version to this schema, once, in one transaction
    (the worker processes of a server may all try; the first one does it):
    - users.user_name_lower (lower()) became users.user_name_key (names.user_name_key), the same
      UNIQUE (org, ...) constraint now over the Unicode comparison key;
    - members.unlinked_data (the last SCIM attributes of an admin whose user was deleted);
    - page_blocks (deep pages), counted once from the rows a file already holds.
    Raises RuntimeError when the file holds two users that the new key says are one."""
    _count_blocks(conn)
    if "user_name_lower" not in _columns(conn, "users") and "unlinked_data" in _columns(conn, "members"):
        return
    conn.create_function("user_name_key", 1, user_name_key, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        if "user_name_lower" in _columns(conn, "users"):
            conn.execute("ALTER TABLE users RENAME COLUMN user_name_lower TO user_name_key")
            conn.execute("UPDATE users SET user_name_key = user_name_key(user_name)")
        if "unlinked_data" not in _columns(conn, "members"):
            conn.execute("ALTER TABLE members ADD COLUMN unlinked_data TEXT")
    except sqlite3.IntegrityError as exc:
        conn.execute("ROLLBACK")
        raise RuntimeError(f"the database holds userNames that are one user under the Unicode comparison "
                           f"(names.py); rename one of them first ({exc})") from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


_BLOCKS_AGREE = ("SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM groups) = "
                 "(SELECT COALESCE(SUM(n), 0) FROM page_blocks)")


def _count_blocks(conn: sqlite3.Connection) -> None:
    """Count page_blocks afresh when they do not add up to the rows (a file written before they
    existed); from then on the triggers keep them."""
    if conn.execute(_BLOCKS_AGREE).fetchone()[0]:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM page_blocks")
        for table in ("users", "groups"):
            conn.execute(f"INSERT INTO page_blocks (tbl, org, block, n) SELECT '{table}', org, seq >> {BLOCK_BITS}, "
                         f"COUNT(*) FROM {table} GROUP BY org, seq >> {BLOCK_BITS}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StoreBase:
    """SQLite connections, transactions, and the reads the operations share.

    In memory: ONE connection, every use of it under an RLock. With a file: one connection
    per thread, so reads run side by side (WAL readers never block) and writers queue.
    """

    def __init__(self, path: str | None = None, state_dir: str | None = None) -> None:
        self.path = path
        # Moved after every committed change of tokens or auth modes (org_store.py caches them); shared by the
        # worker processes of one server through their state folder.
        self._auth_gen: Generation | LocalGeneration = (Generation(os.path.join(state_dir, "auth.gen")) if state_dir
                                                        else LocalGeneration())
        # :memory: -> guards the one connection; file -> orders this process's writers, since
        # flock() below is held per open file, not per thread.
        self._lock = threading.RLock()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._queue_fd: int | None = None
        self._shared: sqlite3.Connection | None = None if path else self._connect(":memory:")
        conn = self._connection()
        if path:
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: the file stays in WAL mode
            # Held open until close(): closing any descriptor of the file would drop the
            # POSIX locks SQLite holds on it (fcntl semantics).
            self._queue_fd = os.open(path, os.O_RDONLY)
        with self._lock:
            conn.executescript(_DDL)
            _migrate(conn)

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        conn.row_factory = sqlite3.Row
        if target != ":memory:":
            # WAL + NORMAL: a commit is durable against a crash of the process (SIGKILL), and
            # the file is never corrupt after a power loss (it may lose the last commits).
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self.path is not None
            conn = self._connect(self.path)
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        with self._lock, self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
            if self._shared is not None:
                self._shared.close()
            if self._queue_fd is not None:
                os.close(self._queue_fd)
                self._queue_fd = None
                self._auth_gen.close()  # once, with the file it belongs with

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the database's write lock up front (across
        threads and processes), and any exception rolls everything back."""
        with self._lock:
            conn = self._connection()
            if self._queue_fd is not None:
                # Writers from several processes queue on flock() first: the kernel wakes the
                # next one the moment the lock is free, where SQLite's own busy handler sleeps
                # and polls (1, 2, 5, 10... ms). Correctness does not depend on it: the
                # transaction itself is BEGIN IMMEDIATE, the database's write lock.
                fcntl.flock(self._queue_fd, fcntl.LOCK_EX)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite may already have rolled back itself (SQLITE_FULL, a failed COMMIT): the
                    # connection must leave every write with no transaction open, or the next fails.
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                if self._queue_fd is not None:
                    fcntl.flock(self._queue_fd, fcntl.LOCK_UN)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read: one consistent snapshot (a read transaction) of committed state."""
        if self._shared is not None:
            with self._lock:
                yield self._shared
            return
        conn = self._connection()
        if conn.in_transaction:  # already inside this thread's transaction
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def _read_one(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Row | None:
        """One row from one SELECT: a single statement is its own consistent snapshot, so it
        needs no BEGIN/COMMIT around it (two statements fewer on every request's token lookup)."""
        if self._shared is not None:
            with self._lock:
                return self._shared.execute(sql, params).fetchone()  # type: ignore[no-any-return]
        return self._connection().execute(sql, params).fetchone()  # type: ignore[no-any-return]

    def _org_row(self, c: sqlite3.Connection, org: str) -> sqlite3.Row:
        row = c.execute("SELECT * FROM orgs WHERE name=?", (org,)).fetchone()
        if row is None:
            raise NotFound(f"organization {org!r} not found")
        return row

    def _event(self, c: sqlite3.Connection, org: str, name: str, data: dict[str, Any], now: str | None = None) -> None:
        self._events(c, org, [(name, data)], now)

    def _events(self, c: sqlite3.Connection, org: str, events: list[tuple[str, dict[str, Any]]],
                now: str | None = None) -> None:
        """WorkOS-style events, in order, with one statement however many there are; `now` is the write's
        instant when it has one already (the resource's meta.lastModified)."""
        now = now or now_iso()
        c.executemany("INSERT INTO events (org, id, event, data, created_at) VALUES (?,?,?,?,?)",
                      [(org, "event_" + secrets.token_hex(13).upper(), name, to_json(data), now)
                       for name, data in events])

    def _group_out(self, c: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        return resource_from_row("Group", row, self._members_of(c, row["id"]))

    @staticmethod
    def _members_of(c: sqlite3.Connection, group_id: str) -> list[dict[str, Any]]:
        rows = c.execute("SELECT gm.user_id, gm.display, u.user_name FROM group_members gm "
                         "JOIN users u ON u.id = gm.user_id WHERE gm.group_id=? ORDER BY gm.seq", (group_id,))
        return [member_value(r["user_id"], r["display"] or r["user_name"]) for r in rows]

    def _user_groups(self, c: sqlite3.Connection, user_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {uid: [] for uid in user_ids}
        for chunk in range(0, len(user_ids), 500):
            ids = user_ids[chunk:chunk + 500]
            rows = c.execute(f"SELECT gm.user_id, g.id, g.display_name FROM group_members gm JOIN groups g "
                             f"ON g.id = gm.group_id WHERE gm.user_id IN ({','.join('?' * len(ids))}) "
                             f"ORDER BY g.seq", ids)
            groups_by_user(rows, out)
        return out

    def _with_groups(self, c: sqlite3.Connection, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return attach_groups(users, self._user_groups(c, [u["id"] for u in users]))

    def _row(self, c: sqlite3.Connection, table: str, org: str, rid: str) -> sqlite3.Row:
        row = c.execute(f"SELECT * FROM {table} WHERE org=? AND id=?", (org, rid)).fetchone()
        if row is None:
            raise missing(table, rid)
        return row
