"""A transcript that stops sending once the target has stopped answering, and does not hoard
oversized bodies.

A target that hangs or trickles after answering the probe would otherwise cost one full timeout
per request of the run (131 s at --timeout 2 for the default suites). After STOP_AFTER consecutive
transport failures — no response, a timeout, a reset, a body still arriving after the timeout —
every later request is refused without touching the network: `send` returns no response and an
Exchange whose error says why (a client on `transport(...)` gets `NotSent` raised), and that
exchange is not recorded (it was never sent). Any HTTP
answer, whatever its status, resets the count: a 502 page is an answer.

A body larger than the transcript's cap (Exchange.truncated: 10 MiB read, the rest not) is judged
only as "too large", so the exchange keeps just its first KEEP_OF_OVERSIZED bytes: a target that
answers every request with 12 MiB would otherwise hold ~2 GB in memory and in the HAR. The HAR
still says how much was read (content.size) and that the text was cut (content.comment). Every other
body is kept whole, up to the transcript's cap.

A run reads at most MAX_RUN_READ bytes of response bodies in all: a target answering an import with
page after page of 9.5 MiB and `totalResults` 10⁹ would otherwise be read for 10,000 pages (95 GB).
Past it the breaker stops the run the same way, saying how much was read.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Callable

import httpx

from harness.transcript import EXCHANGE_KEY, MAX_RESPONSE_BYTES, Exchange, Transcript, redact_headers

STOP_AFTER = 3
NOT_SENT = "not sent: "
STOPPED = "the target stopped answering"
KEEP_OF_OVERSIZED = 64 * 1024
MAX_RUN_READ = 256 * 1024 * 1024


class GuardedTranscript(Transcript):
    """`Transcript` plus a breaker: `stopped` is None, or the reason no request is sent any more."""

    def __init__(self, stop_after: int = STOP_AFTER, max_read: int = MAX_RUN_READ, **kwargs: int) -> None:
        super().__init__(**kwargs)
        self.stop_after = stop_after
        self.max_read = max_read
        self.stopped: str | None = None
        self._streak: list[str] = []
        self._guard = threading.Lock()
        self._cut: dict[int, int] = {}  # index in the transcript -> bytes read of an oversized body

    def note(self, error: str | None) -> None:
        """Count one outcome: a transport failure (`error`), or an answer (None) that resets the count."""
        with self._guard:
            if error is None:
                self._streak.clear()
                return
            self._streak.append(error)
            if self.stopped is None and len(self._streak) >= self.stop_after:
                why = "; ".join(dict.fromkeys(e[:160] for e in self._streak))
                self.stopped = f"{STOPPED} ({len(self._streak)} consecutive transport failures: {why})"

    def record(self, request: httpx.Request, respond: Callable[[], httpx.Response],
               budget: float | None) -> httpx.Response:
        if self.stopped is not None:
            request.extensions[EXCHANGE_KEY] = refused(request, self.stopped)
            raise NotSent(self.stopped, request=request)
        try:
            response = super().record(request, respond, budget)
        finally:
            exchange: Exchange = request.extensions[EXCHANGE_KEY]
            self.note(exchange.error)
            self._check_budget()
        body = exchange.response_body
        if exchange.truncated and body is not None and len(body) > KEEP_OF_OVERSIZED:
            read = MAX_RESPONSE_BYTES  # a truncated body is exactly the cap
            exchange.response_body = (body[:KEEP_OF_OVERSIZED] + f"\n… ({read - KEEP_OF_OVERSIZED} more bytes read and "
                                      f"not kept: the body exceeded the {read // (1024 * 1024)} MiB the harness reads)")
            with self._guard:
                self._cut[self._index_of(exchange)] = read
        return response

    def _check_budget(self) -> None:
        with self._guard:
            if self.stopped is None and self.bytes_read > self.max_read:
                self.stopped = (f"{STOPPED} within the run's limits (it sent {_mib(self.bytes_read)} MiB of "
                                f"response bodies, more than the {_mib(self.max_read)} MiB a run reads in all)")

    def _index_of(self, exchange: Exchange) -> int:
        for i in range(len(self) - 1, -1, -1):
            if self[i] is exchange:
                return i
        return -1

    def har_entry(self, index: int, ex: Exchange, secrets: list[str]) -> dict[str, Any]:
        entry = super().har_entry(index, ex, secrets)
        read = self._cut.get(index)
        if read is not None:
            content = entry["response"]["content"]
            content["size"] = read
            content["comment"] = f"the first {KEEP_OF_OVERSIZED} bytes of the {read} read; the body exceeded the cap"
        return entry


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


class NotSent(httpx.TransportError):
    """The breaker refused to send: the target had stopped answering."""


def refused(request: httpx.Request, reason: str) -> Exchange:
    """The exchange of a request the breaker did not send (not recorded in any transcript)."""
    return Exchange(method=request.method, url=str(request.url), request_headers=redact_headers(request.headers.items()),
                    request_body=None, started=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    error=NOT_SENT + reason)


def stopped(transcript: Transcript) -> str | None:
    """Why `transcript` sends no more requests (None: it still sends, or it has no breaker)."""
    # A job's view of the run's transcript (harness.parallel) answers for the run's breaker.
    value = getattr(transcript, "stopped", None)
    return value if isinstance(value, str) else None
