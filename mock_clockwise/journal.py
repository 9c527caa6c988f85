"""The request journal: every /scim/v2 request the mock answered (diagnostic).

Bounded (the last N requests, default 10,000); credentials never enter it (headers are
redacted by the caller, `redact_headers`, before an entry is recorded). Two implementations
with one interface (record, entries, clear, close, len):
- `Journal`: one process, a deque in memory.
- `SharedJournal`: the worker processes of one server (prefork.py). Each worker appends its
  entries to its own file in the server's private state folder; reading merges every
  worker's files in time order. A record is one marshal'd tuple behind a small header,
  written with one write(2): ~3 µs more per request than the deque (JSON text would cost
  ~3 µs more again).
"""
from __future__ import annotations

import functools
import logging
import marshal
import os
import secrets
import struct
import threading
import time as _time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping

log = logging.getLogger("mock_clockwise")

# Headers whose values are credentials: the journal keeps only the auth scheme.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_MAX_BODY_TEXT = 64 * 1024
_RAW = "_raw"  # an entry's undecoded body bytes (never returned)


def redact_headers(headers: Iterable[tuple[str, str]], also: str | None = None) -> dict[str, str]:
    """Headers as a dict with credentials replaced: `Bearer abc` → `Bearer [REDACTED]`; `also` names one
    more secret header (an org's custom auth header)."""
    out: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in _SECRET_HEADERS or (also and name.lower() == also.lower()):
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} [REDACTED]" if rest else "[REDACTED]"
        out[name] = value
    return out


@functools.lru_cache(maxsize=1024)
def _header_name(key: str) -> str | None:
    """The header name of a WSGI environ key as werkzeug's EnvironHeaders gives it (PEP 3333: HTTP_*
    keys, CONTENT_TYPE, CONTENT_LENGTH), or None for a key that is no header."""
    if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        return key[5:].replace("_", "-").title()
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.replace("_", "-").title()
    return None


def request_headers(environ: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(name, value) of a request's headers, as `request.headers.items()` gives them (in environ order,
    an empty Content-Type or Content-Length left out), each key's name worked out once."""
    for key, value in environ.items():
        name = _header_name(key)
        if name is not None and (value or key.startswith("HTTP_")):
            yield name, value


def body_for_journal(raw: bytes | None, parsed: Any = None) -> Any:
    """The parsed JSON body when there is one, else the text (truncated), else None."""
    if parsed is not None:
        return parsed
    if not raw:
        return None
    text = raw[:_MAX_BODY_TEXT].decode("utf-8", errors="replace")
    if len(raw) > _MAX_BODY_TEXT:
        text += f"… [{len(raw) - _MAX_BODY_TEXT} more bytes]"
    return text


def _iso_ms(ns: int) -> str:
    """`ns` since the epoch as the journal writes times: ISO 8601 UTC, milliseconds, a `Z`."""
    return datetime.fromtimestamp(ns // 1_000_000 / 1000, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


class Journal:
    """A thread-safe, bounded, oldest-first list of request records.

    A body can be recorded as raw bytes (`raw=`): it is decoded with `decode` only when the
    journal is read, so the request path pays nothing for it (most journals are never read).
    """

    def __init__(self, maxlen: int = 10_000, decode: Callable[[bytes], Any] | None = None) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._decode = decode or body_for_journal

    def record(self, *, time: str | None = None, org: str | None, method: str, path: str, query: str,
               headers: Mapping[str, str], body: Any = None, status: int, raw: bytes | None = None) -> None:
        """One entry; `time` (ISO 8601) defaults to now."""
        entry = {"time": time or _iso_ms(_time.time_ns()), "org": org, "method": method, "path": path,
                 "query": query, "headers": dict(headers), "body": body, "status": status}
        if raw:
            entry[_RAW] = raw
        with self._lock:
            self._entries.append(entry)

    def entries(self, org: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Oldest first; with `limit`, the most recent `limit` entries (still oldest first)."""
        with self._lock:
            items = [e for e in self._entries if org is None or e["org"] == org]
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return [self._materialise(e) for e in items]

    def _materialise(self, entry: dict[str, Any]) -> dict[str, Any]:
        raw = entry.get(_RAW)
        if raw is not None:
            body = self._decode(raw)
            with self._lock:  # decode once; later reads see the decoded body
                entry["body"] = body
                entry.pop(_RAW, None)
        return {k: v for k, v in entry.items() if k != _RAW}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------- shared by workers
_PREFIX = "journal-"
_CURRENT, _PREVIOUS = ".log", ".log.1"
# A record: its header (length of the marshal'd part, time.time_ns() when recorded), then the
# marshal'd tuple of _FIELDS with `body` split in two (raw bytes, decoded body). The time in
# the header orders the workers' entries, and lets a read unmarshal only the entries it returns.
_HEADER = struct.Struct("<IQ")
_FIELDS = ("time", "org", "method", "path", "query", "headers", "body", "status")


class SharedJournal:
    """A journal every worker process of one server writes to and any worker reads whole.

    Bound: each worker keeps at most `maxlen` entries in its current file, then renames it
    to its previous file (one generation kept) and starts a new one; so every worker holds
    at least its own last `maxlen` entries, and a read returns the last `maxlen` entries of
    all workers together, as the in-memory journal does. `clear()` (the control plane's
    reset) truncates every worker's files.

    The files are written by this server's own processes into a private folder (mode 0700,
    made by server.py), so reading them back with `marshal` is safe.
    """

    def __init__(self, state_dir: str, maxlen: int = 10_000, decode: Callable[[bytes], Any] | None = None) -> None:
        self._dir = state_dir
        self._maxlen = maxlen
        self._decode = decode or body_for_journal
        self._lock = threading.Lock()
        self._pid = -1  # the file is opened on the first record, in the process that records
        self._fd: int | None = None
        self._stem = ""
        self._count = 0  # entries in the current file
        self._failed = False

    def _open(self) -> int:
        # A random part as well as the pid: a replacement worker may get a dead one's pid, and
        # tests run two "workers" in one process.
        self._pid = os.getpid()
        self._stem = os.path.join(self._dir, f"{_PREFIX}{self._pid}-{secrets.token_hex(4)}")
        self._fd = os.open(self._stem + _CURRENT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._count = 0
        return self._fd

    def record(self, *, time: str | None = None, org: str | None, method: str, path: str, query: str,
               headers: Mapping[str, str], body: Any = None, status: int, raw: bytes | None = None) -> None:
        # `body` (already decoded) or `raw` (bytes, decoded on read). The entry's time is the instant its
        # records are merged by (`time` is not used): a time taken apart from it could be overtaken by another
        # worker's entry in between, and "oldest first" would list a later time before an earlier one. It is
        # written as the header's nanoseconds and formatted when read (_materialise).
        ns = _time.time_ns()
        data = marshal.dumps((None, org, method, path, query, dict(headers), raw if raw else None, body, status))
        record = _HEADER.pack(len(data), ns) + data
        with self._lock:
            try:
                self._append(record)
            except OSError as exc:
                # A diagnostic must never fail the request it records (a full tmpfs, a folder
                # removed under the server): the entry is dropped, and said so once.
                if not self._failed:
                    self._failed = True
                    log.warning("the request journal cannot be written (%s); entries are dropped", exc.strerror)

    def _append(self, record: bytes) -> None:
        fd = self._fd if self._pid == os.getpid() and self._fd is not None else self._open()
        os.write(fd, record)
        # After another worker's reset truncated the file, the count is too high: the next
        # rotation comes early and moves only entries made since the reset; none is lost.
        self._count += 1
        if self._count >= self._maxlen:
            os.replace(self._stem + _CURRENT, self._stem + _PREVIOUS)  # one previous file kept
            new = os.open(self._stem + _CURRENT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.close(fd)
            self._fd, self._count = new, 0

    def _files(self) -> list[tuple[str, str]]:
        """(stem, suffix) of every journal file in the folder."""
        found = []
        try:
            names = os.listdir(self._dir)
        except OSError:
            return []  # the folder is gone: nothing to read
        for name in names:
            if name.startswith(_PREFIX):
                for suffix in (_PREVIOUS, _CURRENT):
                    if name.endswith(suffix):
                        found.append((os.path.join(self._dir, name[:-len(suffix)]), suffix))
                        break
        return found

    def _read_worker(self, stem: str) -> list[bytes]:
        """One worker's files, previous first. The current file is opened first: if the worker
        rotates in between, both opens reach the same file, read once."""
        handles = []
        for suffix in (_CURRENT, _PREVIOUS):
            try:
                handles.append(open(stem + suffix, "rb"))
            except FileNotFoundError:
                continue
        try:
            if len(handles) == 2 and os.fstat(handles[0].fileno()).st_ino == os.fstat(handles[1].fileno()).st_ino:
                handles.pop()
            return [handle.read() for handle in reversed(handles)]
        finally:
            for handle in handles:
                handle.close()

    def entries(self, org: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Oldest first; with `limit`, the most recent `limit` entries (still oldest first)."""
        # (ns, file number, offset, length): time across workers, file order within one.
        found: list[tuple[int, int, int, int]] = []
        files: list[bytes] = []
        for stem in sorted({stem for stem, _ in self._files()}):
            for data in self._read_worker(stem):
                found.extend((ns, len(files), start, size) for ns, start, size in _index(data))
                files.append(data)
        found.sort()
        recs = ((ns, _load(files[f][start:start + size])) for ns, f, start, size in found[-self._maxlen:])
        items = [(ns, rec) for ns, rec in recs if rec is not None and (org is None or rec[1] == org)]
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return [self._materialise(ns, rec) for ns, rec in items]

    def _materialise(self, ns: int, rec: tuple[Any, ...]) -> dict[str, Any]:
        time, org, method, path, query, headers, raw, body, status = rec
        time = time or _iso_ms(ns)  # the header's instant (record); files of an earlier version hold the text
        if raw is not None:
            body = self._decode(raw)
        return dict(zip(_FIELDS, (time, org, method, path, query, headers, body, status)))

    def clear(self) -> None:
        # Truncated, not removed: the other workers keep appending to the files they hold open.
        for stem, suffix in self._files():
            try:
                os.truncate(stem + suffix, 0)
            except FileNotFoundError:
                pass  # rotated away meanwhile

    def __len__(self) -> int:
        return len(self.entries())

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def _index(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(ns, offset, length) of each record of one file; a record still being written (a short
    tail) is left out."""
    pos, end = 0, len(data)
    while pos + _HEADER.size <= end:
        size, ns = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        if start + size > end:
            return
        yield ns, start, size
        pos = start + size


def _load(data: bytes) -> tuple[Any, ...] | None:
    try:
        rec = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return rec if isinstance(rec, tuple) and len(rec) == 9 else None
