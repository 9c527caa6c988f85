"""The request journal: every /scim/v2 request the mock answered (diagnostic, in memory).

Kept in a bounded deque (the last N requests, default 10,000); credentials never enter it.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable, Iterable, Mapping

# Headers whose values are credentials: the journal keeps only the auth scheme.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_MAX_BODY_TEXT = 64 * 1024
_RAW = "_raw"  # an entry's undecoded body bytes (never returned)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict with credentials replaced: `Bearer abc` → `Bearer [REDACTED]`."""
    out: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in _SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} [REDACTED]" if rest else "[REDACTED]"
        out[name] = value
    return out


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


class Journal:
    """A thread-safe, bounded, oldest-first list of request records.

    A body can be recorded as raw bytes (`raw=`): it is decoded with `decode` only when the
    journal is read, so the request path pays nothing for it (most journals are never read).
    """

    def __init__(self, maxlen: int = 10_000, decode: Callable[[bytes], Any] | None = None) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._decode = decode or body_for_journal

    def record(self, *, time: str, org: str | None, method: str, path: str, query: str,
               headers: Mapping[str, str], body: Any = None, status: int, raw: bytes | None = None) -> None:
        entry = {"time": time, "org": org, "method": method, "path": path, "query": query,
                 "headers": dict(headers), "body": body, "status": status}
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
