"""Fault injection for /scim/v2 requests (set through the control plane).

A fault matches on method, a regex on the path below /scim/v2, and org; it adds latency
and/or forces a status (429 may carry Retry-After), for the next `count` matching
requests and/or a `fraction` of them. The first matching fault applies. Faults are checked
after authentication (a request with a bad token still gets its 401), never on /_mock.

Two implementations with one interface (set, list, clear, pick, close):
- `Faults`: one process, in memory.
- `SharedFaults`: the worker processes of one server (prefork.py) share the faults through a
  table of the SQLite file they already share. A `count` is consumed inside a write
  transaction, so it holds across workers; a `fraction` draws from each process's own
  random generator. Each process keeps a cached copy and re-reads the table only when a
  generation counter in a small mmap'd file of the state folder has moved, so a request
  costs no SQL statement unless a fault matches it and has a `count`.
"""
from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidValue
from .generation import Generation

_KEYS = {"method", "path", "org", "status", "retry_after", "latency_ms", "count", "fraction"}
_MAX_LATENCY_MS = 120_000


@dataclass
class Fault:
    method: str | None = None
    path: str | None = None
    org: str | None = None
    status: int | None = None
    retry_after: str | None = None
    latency_ms: int = 0
    count: int | None = None  # remaining applications; None = unlimited
    fraction: float | None = None
    _regex: re.Pattern[str] | None = field(default=None, repr=False)
    key: int | None = field(default=None, repr=False)  # its row id in SharedFaults' table

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("method", "path", "org", "status", "retry_after", "latency_ms", "count", "fraction"):
            value = getattr(self, key)
            if value is not None and not (key == "latency_ms" and value == 0):
                out[key] = value
        return out

    def applies(self, method: str, path: str, org: str | None, rng: random.Random) -> bool:
        """Matches this request and, with a `fraction`, is drawn for it (both fault stores)."""
        return self.matches(method, path, org) and (self.fraction is None or rng.random() < self.fraction)

    def matches(self, method: str, path: str, org: str | None) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        if self.org is not None and self.org != org:
            return False
        return self._regex is None or self._regex.search(path) is not None


def parse_fault(spec: Any, index: int) -> Fault:
    """One fault from its JSON form; bad input → InvalidValue naming the fault and field."""
    where = f"faults[{index}]"
    if not isinstance(spec, dict):
        raise InvalidValue(f"{where} must be an object")
    unknown = set(spec) - _KEYS
    if unknown:
        raise InvalidValue(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    fault = Fault()
    if spec.get("method") is not None:
        if not isinstance(spec["method"], str) or not spec["method"].isalpha():
            raise InvalidValue(f"{where}.method must be an HTTP method name")
        fault.method = spec["method"].upper()
    if spec.get("path") is not None:
        if not isinstance(spec["path"], str):
            raise InvalidValue(f"{where}.path must be a regular expression string")
        try:
            fault._regex = re.compile(spec["path"])
        except re.error as exc:
            raise InvalidValue(f"{where}.path is not a valid regular expression: {exc}") from exc
        fault.path = spec["path"]
    if spec.get("org") is not None:
        if not isinstance(spec["org"], str):
            raise InvalidValue(f"{where}.org must be a string")
        fault.org = spec["org"]
    if spec.get("status") is not None:
        status = spec["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise InvalidValue(f"{where}.status must be an integer error status (400-599)")
        fault.status = status
    if spec.get("retry_after") is not None:
        if fault.status != 429:
            raise InvalidValue(f"{where}.retry_after needs status 429")
        fault.retry_after = str(spec["retry_after"])
        if not fault.retry_after.isprintable() or len(fault.retry_after) > 64:
            raise InvalidValue(f"{where}.retry_after must be a short header value")
    latency = spec.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= _MAX_LATENCY_MS:
        raise InvalidValue(f"{where}.latency_ms must be a number from 0 to {_MAX_LATENCY_MS}")
    fault.latency_ms = int(latency)
    if spec.get("count") is not None:
        count = spec["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidValue(f"{where}.count must be a positive integer")
        fault.count = count
    if spec.get("fraction") is not None:
        frac = spec["fraction"]
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 < frac <= 1:
            raise InvalidValue(f"{where}.fraction must be a number in (0, 1]")
        fault.fraction = float(frac)
    if fault.status is None and fault.latency_ms == 0:
        raise InvalidValue(f"{where} does nothing: give a status and/or latency_ms")
    return fault


def parse_faults(specs: Any, org: str | None) -> list[Fault]:
    """The faults of a PUT body; with `org` (PUT /_mock/faults?org=...) every one must be that org's,
    so that a scenario sets its own faults while another's stay (parallel runs)."""
    if not isinstance(specs, list):
        raise InvalidValue("'faults' must be a list of fault objects")
    parsed = [parse_fault(spec, i) for i, spec in enumerate(specs)]
    if org is not None and any(f.org != org for f in parsed):
        raise InvalidValue(f"with ?org={org} every fault must have \"org\": \"{org}\"")
    return parsed


class Faults:
    """The active faults of one mock (thread-safe)."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def set(self, specs: Any, org: str | None = None) -> list[dict[str, Any]]:
        """Replace the faults (with `org`: only that org's, the others untouched)."""
        parsed = parse_faults(specs, org)
        with self._lock:
            kept = [f for f in self._faults if org is not None and f.org != org]
            # One fault per request, the first that applies: an org's own faults before those of every org.
            self._faults = sorted(kept + parsed, key=lambda f: f.org is None)
        return self.list()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self, org: str | None = None) -> None:
        """Remove the faults (with `org`: only that org's)."""
        with self._lock:
            self._faults = [f for f in self._faults if org is not None and f.org != org]

    def pick(self, method: str, path: str, org: str | None) -> Fault | None:
        """The fault to apply to this request, if any (consumes one of its `count`)."""
        with self._lock:
            for fault in self._faults:
                if not fault.applies(method, path, org, self._random):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------- shared by workers
_TABLE = "mock_faults"
# AUTOINCREMENT: a row id is never reused, so a worker whose cached copy is one change
# behind can never consume the count of a newer fault that took an old fault's id.
_DDL = (f"CREATE TABLE IF NOT EXISTS {_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "spec TEXT NOT NULL, count INTEGER)")
_BUSY_TIMEOUT_S = 30.0


class SharedFaults:
    """The faults of all worker processes of one server (same interface as `Faults`).

    `db_path` is the SQLite file the workers share (the table is created here, through this
    module's own connection); `state_dir` is the server's private folder for the counter.
    """

    def __init__(self, db_path: str, state_dir: str, seed: int | None = None) -> None:
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None,
                                     timeout=_BUSY_TIMEOUT_S)
        self._conn.execute(_DDL)
        self._lock = threading.Lock()  # one connection per process, used by one thread at a time
        self._random = random.Random(seed)  # `fraction`: random per process, as the issue allows
        self._gen = Generation(os.path.join(state_dir, "faults.gen"))
        # (the generation it was read at, the faults): replaced as one object, so a thread never
        # pairs one reload's rows with another reload's generation.
        self._snapshot: tuple[int, tuple[Fault, ...]] = (-1, ())

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._conn.execute(sql, params)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        self._gen.bump()  # after the commit: a reader that sees the new value reads the new rows

    def set(self, specs: Any, org: str | None = None) -> list[dict[str, Any]]:
        """Replace the faults (with `org`: only that org's, the others untouched)."""
        parsed = parse_faults(specs, org)
        rows: list[tuple[str, tuple[Any, ...]]] = [self._delete(org)]
        for fault in parsed:
            spec = {k: v for k, v in fault.to_dict().items() if k != "count"}
            rows.append((f"INSERT INTO {_TABLE} (spec, count) VALUES (?, ?)", (json.dumps(spec), fault.count)))
        self._write(rows)
        return self.list()

    def _rows(self) -> list[Fault]:
        with self._lock:
            # One fault per request, the first that applies: an org's own faults before those of every org.
            rows = self._conn.execute(f"SELECT id, spec, count FROM {_TABLE} "
                                      "ORDER BY json_extract(spec, '$.org') IS NULL, id").fetchall()
        faults = []
        for key, spec, count in rows:
            fault = parse_fault(json.loads(spec), 0)  # written by set(): valid
            fault.key, fault.count = key, count
            faults.append(fault)
        return faults

    def list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self._rows()]

    def clear(self, org: str | None = None) -> None:
        """Remove the faults (with `org`: only that org's)."""
        self._write([self._delete(org)])

    def _delete(self, org: str | None) -> tuple[str, tuple[Any, ...]]:
        if org is None:
            return f"DELETE FROM {_TABLE}", ()
        return f"DELETE FROM {_TABLE} WHERE json_extract(spec, '$.org') = ?", (org,)

    def _current(self) -> tuple[Fault, ...]:
        gen = self._gen.value()  # read before the rows: a change after this read is seen next time
        seen, faults = self._snapshot
        if gen != seen:
            faults = tuple(self._rows())
            self._snapshot = (gen, faults)
        return faults

    def _consume(self, key: int) -> bool:
        """Take one application of a `count` fault; False when other workers used them all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                taken = self._conn.execute(f"UPDATE {_TABLE} SET count = count - 1 WHERE id = ? AND count > 0",
                                           (key,)).rowcount == 1
                gone = self._conn.execute(f"DELETE FROM {_TABLE} WHERE id = ? AND count <= 0", (key,)).rowcount
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        if gone:
            self._gen.bump()  # the other workers drop it from their copies
        return taken

    def pick(self, method: str, path: str, org: str | None) -> Fault | None:
        """The fault to apply to this request, if any (consumes one of its `count`)."""
        for fault in self._current():
            if not fault.applies(method, path, org, self._random):
                continue
            if fault.count is not None and (fault.key is None or not self._consume(fault.key)):
                continue  # used up meanwhile: as if it were gone, the next matching fault applies
            return fault
        return None

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self._gen.close()
