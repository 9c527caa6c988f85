"""The transcript: every HTTP exchange of a run in order, with secrets redacted, writable as HAR 1.2.

The harness records, the driver only sends: the harness's own raw SCIM requests go through
`Transcript.send`, and the driver (mock_okta) is given an `httpx.Client` whose transport is
`Transcript.transport(...)`, so every exchange of a run has the same shape and the same caps.
"""
from __future__ import annotations

import contextlib
import json
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import httpx

from harness.outputs import atomic_output
from harness.redaction import REDACTED, scrub

__all__ = ["REDACTED", "scrub", "Exchange", "Transcript", "RecordingTransport", "exchange_of", "redact_headers"]
# A response body is read up to this many bytes; the rest is not read (a broken or hostile target
# must not exhaust the harness's memory). The exchange says so (`truncated`).
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
# Response bodies held in memory by one transcript, in characters; past it, bodies over SPILL_OVER go to disk.
MEMORY_BUDGET = 32 * 1024 * 1024
SPILL_OVER = 64 * 1024
# Headers whose values are credentials; never stored in clear.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
# Where a recorded request keeps its Exchange (httpx.Request.extensions), for whoever holds the request.
EXCHANGE_KEY = "scim_harness.exchange"


def _text(content: bytes | None) -> str | None:
    if not content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict, with credential values replaced by ``[REDACTED]``.

    The auth scheme is kept (``Bearer [REDACTED]``) so a reader can still see how the
    request authenticated.
    """
    out: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        out[name] = value
    return out


class SpillFile:
    """Where a transcript keeps bodies once its memory budget is spent: one anonymous temporary file
    (removed by the OS when closed or when the process ends), appended to, read back by offset."""

    def __init__(self) -> None:
        self._file: Any = None
        self._lock = threading.Lock()

    def write(self, data: bytes) -> "Spilled":
        with self._lock:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="scim-harness-transcript-")
            offset = self._file.seek(0, 2)
            self._file.write(data)
            return Spilled(self, offset, len(data))

    def read(self, offset: int, length: int) -> bytes:
        with self._lock:
            self._file.seek(offset)
            return self._file.read(length)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


@dataclass(frozen=True)
class Spilled:
    """A body kept on disk: read back (whole) each time it is asked for."""

    file: SpillFile
    offset: int
    length: int

    def text(self) -> str:
        return self.file.read(self.offset, self.length).decode("utf-8", "surrogatepass")


class _Body:
    """The descriptor behind Exchange.response_body: a str in memory, or a Spilled body read back."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return None  # the dataclass default
        value = obj.__dict__.get(self.slot)
        return value.text() if isinstance(value, Spilled) else value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value


NO_AUTH = "scim_harness.no_auth"  # a request extension: send it as built, without the client's auth flow


def no_auth(request: httpx.Request) -> dict[str, Any]:
    """`auth=None` for client.send when the request carries its own (or no) credential on purpose."""
    return {"auth": None} if request.extensions.get(NO_AUTH) else {}


@dataclass
class Exchange:
    """One request and its response (or the transport error that replaced it)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = _Body()  # type: ignore[assignment]  # may live on disk (Transcript's budget)
    elapsed_ms: float = 0.0
    started: str = ""
    error: str | None = None  # transport failure (refused, timeout, reset, body too slow)
    truncated: bool = False   # the body exceeded MAX_RESPONSE_BYTES; response_body holds the start

    @property
    def path(self) -> str:
        return httpx.URL(self.url).path

    @property
    def query(self) -> str:
        return httpx.URL(self.url).query.decode("ascii", "replace")

    def header(self, name: str) -> str | None:
        """A response header, case-insensitively."""
        for key, value in self.response_headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def request_header(self, name: str) -> str | None:
        for key, value in self.request_headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        """The response body parsed as JSON, or None when it is empty or not JSON."""
        return _loads(self.response_body)

    def spill(self, file: SpillFile) -> int:
        """Move the response body to `file`; the bytes it held in memory (0 when it was not there)."""
        body = self.__dict__.get("_response_body")
        if not isinstance(body, str):
            return 0
        self.__dict__["_response_body"] = file.write(body.encode("utf-8", "surrogatepass"))
        return len(body)

    def body_in_memory(self) -> int:
        """Characters of response body held in memory."""
        body = self.__dict__.get("_response_body")
        return len(body) if isinstance(body, str) else 0

    def request_json(self) -> Any:
        return _loads(self.request_body)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": self.request_headers,
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": self.response_headers,
            "response_body": self.response_body,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "started": self.started,
            "error": self.error,
            "truncated": self.truncated,
        }

    def scrubbed(self, secrets: Iterable[str]) -> "Exchange":
        """A copy with every secret removed from URL, headers and bodies."""
        secrets = [s for s in secrets if s]
        return Exchange(
            method=self.method,
            url=scrub(self.url, secrets) or "",
            request_headers={k: scrub(v, secrets) or "" for k, v in self.request_headers.items()},
            request_body=scrub(self.request_body, secrets),
            status=self.status,
            response_headers={k: scrub(v, secrets) or "" for k, v in self.response_headers.items()},
            response_body=scrub(self.response_body, secrets),
            elapsed_ms=self.elapsed_ms,
            started=self.started,
            error=scrub(self.error, secrets),
            truncated=self.truncated,
        )


class _Watchdog:
    """Shuts the response's socket down when the body's time is up: a read blocked on a target that
    went silent mid-body then ends at once, instead of after one more per-read timeout."""

    def __init__(self, response: httpx.Response, seconds: float) -> None:
        stream = response.extensions.get("network_stream")
        self.sock = stream.get_extra_info("socket") if stream is not None else None
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire) if self.sock is not None else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()


def _read_capped(response: httpx.Response, t0: float, budget: float | None) -> tuple[bytes, bool, bool]:
    """(body, truncated, too_slow): at most MAX_RESPONSE_BYTES, and no longer than `budget` seconds
    since `t0` in total (a byte-by-byte trickle beats every per-read timeout, not this one; a silence
    mid-body is cut by a watchdog at the same moment)."""
    chunks: list[bytes] = []
    size = 0
    watchdog = _Watchdog(response, t0 + budget - time.perf_counter()) if budget is not None else None
    try:
        for chunk in response.iter_bytes():  # decoded (gzip...): a decompression bomb is capped too
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                return b"".join(chunks)[:MAX_RESPONSE_BYTES], True, False
            if budget is not None and time.perf_counter() - t0 > budget:
                return b"".join(chunks), False, True
    except httpx.TransportError:
        if watchdog is not None and watchdog.fired:
            return b"".join(chunks), False, True
        raise
    finally:
        if watchdog is not None:
            watchdog.cancel()
    return b"".join(chunks), False, False


def _loads(body: str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # `[` × 100,000 nests deeper than any decoder recurses
        return None


class Transcript:
    """An ordered, thread-safe record of exchanges.

    Response bodies are held in memory up to `memory_budget` characters in all; past it, each body over
    SPILL_OVER is moved to an anonymous temporary file and read back when asked for (the checks, the
    reports and the HAR see the same text), so a target answering page after page of 9.5 MiB costs disk,
    not memory. `bytes_read` counts every body byte read from the target (the breaker's budget).
    """

    def __init__(self, memory_budget: int = MEMORY_BUDGET) -> None:
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self.memory_budget = memory_budget
        self.in_memory = 0
        self.bytes_read = 0
        self.spill_file = SpillFile()

    def __len__(self) -> int:
        return len(self._exchanges)

    def __iter__(self):
        return iter(list(self._exchanges))

    def __getitem__(self, index):
        return self._exchanges[index]

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self._exchanges)

    def since(self, mark: int) -> list[Exchange]:
        """Exchanges recorded after ``mark = len(transcript)`` was taken."""
        return self._exchanges[mark:]

    def append(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)
            size = exchange.body_in_memory()
            if size > SPILL_OVER and self.in_memory + size > self.memory_budget:
                exchange.spill(self.spill_file)
            else:
                self.in_memory += size

    def close(self) -> None:
        """Drop the spill file (bodies kept there read as None afterwards: write the HAR first)."""
        self.spill_file.close()

    def record(self, request: httpx.Request, respond: Callable[[], httpx.Response],
               budget: float | None) -> httpx.Response:
        """Send ``request`` with ``respond()`` (a streamed response), record the exchange, and return
        a fully-read response; the exchange is also kept in ``request.extensions[EXCHANGE_KEY]``.

        The body is read for at most ``budget`` seconds in total (a byte-by-byte trickle beats every
        per-read timeout, not this one) and at most MAX_RESPONSE_BYTES (else ``truncated`` is set and
        the body holds the first part). A transport failure (refused, reset, timeout, a body too slow
        or undecodable) is recorded with ``error`` set, then raised as an ``httpx`` exception.
        """
        exchange = Exchange(
            method=request.method,
            url=str(request.url),
            request_headers=redact_headers(request.headers.items()),
            request_body=_text(request.content),
            started=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        )
        request.extensions[EXCHANGE_KEY] = exchange
        t0 = time.perf_counter()
        failure: Exception | None = None
        response: httpx.Response | None = None
        content = b""
        try:
            response = respond()
            try:
                content, exchange.truncated, slow = _read_capped(response, t0, budget)
            finally:
                response.close()
            if slow:
                exchange.error = (f"the response body was still arriving after {budget:g} s "
                                  f"({len(content)} bytes read); the harness stopped waiting")
                failure = httpx.ReadError(exchange.error, request=request)
        except httpx.TimeoutException as exc:
            exchange.error, failure = f"timed out after {budget or 'the client timeout'} s ({type(exc).__name__})", exc
        except httpx.TransportError as exc:
            exchange.error, failure = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__), exc
        except httpx.DecodingError as exc:
            exchange.error, failure = f"the response body could not be decoded ({exc})", exc
        exchange.elapsed_ms = (time.perf_counter() - t0) * 1000.0
        with self._lock:
            self.bytes_read += len(content)
        if response is not None:
            exchange.status = response.status_code
            exchange.response_headers = redact_headers(response.headers.items())
            exchange.response_body = _text(content)
        self.append(exchange)
        if failure is not None or response is None:
            raise failure or httpx.TransportError("no response", request=request)
        # A fresh, fully-read response holding what was read (already decoded, hence the framing
        # and encoding headers dropped).
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=content, request=request,
                              extensions={k: v for k, v in response.extensions.items() if k != "network_stream"})

    def send(self, client: httpx.Client, request: httpx.Request, *,
             timeout: float | None = None) -> tuple[httpx.Response | None, Exchange]:
        """Send ``request`` on ``client``, record the exchange, and return both.

        It never raises for transport failures: the response is then None and the exchange has
        ``status=None`` (or the status, for a body too slow) and ``error`` set. ``timeout`` (else
        the client's read timeout) bounds the whole exchange, body included.
        """
        if timeout is not None:
            request.extensions.update({"timeout": httpx.Timeout(timeout).as_dict()})
        budget = timeout if timeout is not None else client.timeout.read
        try:
            response: httpx.Response | None = self.record(request, lambda: client.send(request, stream=True, **no_auth(request)), budget)
        except (httpx.TransportError, httpx.DecodingError):
            response = None
        return response, request.extensions[EXCHANGE_KEY]

    def transport(self, inner: httpx.BaseTransport) -> "RecordingTransport":
        """A transport that sends through ``inner`` and records every exchange here."""
        return RecordingTransport(inner, self)

    # --- HAR 1.2 -------------------------------------------------------------------
    def har_entry(self, index: int, ex: Exchange, secrets: list[str]) -> dict[str, Any]:
        """The HAR entry of the `index`-th exchange, scrubbed of `secrets` (its body read back when spilled)."""
        ex = ex.scrubbed(secrets) if secrets else ex
        url = httpx.URL(ex.url)
        req: dict[str, Any] = {
            "method": ex.method,
            "url": ex.url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in ex.request_headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in url.params.multi_items()],
            "headersSize": -1,
            "bodySize": len(ex.request_body.encode()) if ex.request_body else 0,
        }
        if ex.request_body is not None:
            req["postData"] = {"mimeType": ex.request_header("content-type") or "", "text": ex.request_body}
        body = ex.response_body or ""
        size = len(body.encode("utf-8", "surrogatepass"))
        return {
            "startedDateTime": ex.started,
            "time": round(ex.elapsed_ms, 3),
            "request": req,
            "response": {
                "status": ex.status or 0,
                "statusText": ex.error or "",
                "httpVersion": "HTTP/1.1",
                "cookies": [],
                "headers": [{"name": k, "value": v} for k, v in ex.response_headers.items()],
                "content": {"size": size, "mimeType": ex.header("content-type") or "", "text": body},
                "redirectURL": ex.header("location") or "",
                "headersSize": -1,
                "bodySize": size if ex.status else -1,
            },
            "cache": {},
            "timings": {"send": 0, "wait": round(ex.elapsed_ms, 3), "receive": 0},
        }

    def to_har(self, creator: str = "scim-harness", secrets: Iterable[str] = ()) -> dict[str, Any]:
        secrets = list(secrets)
        entries = [self.har_entry(i, ex, secrets) for i, ex in enumerate(self.exchanges)]
        return {"log": {"version": "1.2", "creator": {"name": creator, "version": "0.1.0"}, "entries": entries}}

    def write_har(self, path: str | Path, secrets: Iterable[str] = ()) -> Path:
        """Write the HAR one entry at a time (a spilled body is read back, written, dropped: the HAR of
        a run that read hundreds of MiB never sits in memory whole), to a temporary file renamed over
        `path` at the end (a full disk leaves no truncated HAR)."""
        secrets, path = list(secrets), Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        head = {"version": "1.2", "creator": {"name": "scim-harness", "version": "0.1.0"}}
        with atomic_output(path) as out:
            out.write('{"log": ' + json.dumps(head)[:-1] + ', "entries": [')
            for i, ex in enumerate(self.exchanges):
                out.write(("," if i else "") + "\n" + json.dumps(self.har_entry(i, ex, secrets), indent=1))
            out.write("\n]}}\n")
        return path


class RecordingTransport(httpx.BaseTransport):
    """An httpx transport that records every exchange in a transcript (for clients the harness
    hands to code that only sends, such as the driver). Failures are recorded, then raised."""

    def __init__(self, inner: httpx.BaseTransport, transcript: Transcript) -> None:
        self.inner = inner
        self.transcript = transcript

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        budget = (request.extensions.get("timeout") or {}).get("read")
        return self.transcript.record(request, lambda: self.inner.handle_request(request), budget)

    def close(self) -> None:
        self.inner.close()


def exchange_of(request: httpx.Request | None) -> Exchange | None:
    """The exchange a transcript recorded for ``request`` (None: not recorded, or no request)."""
    return None if request is None else request.extensions.get(EXCHANGE_KEY)
