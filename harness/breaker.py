"""A transcript that stops sending once the target has stopped answering.

A target that hangs or trickles after answering the probe would otherwise cost one full timeout
per request of the run (131 s at --timeout 2 for the default suites). After STOP_AFTER consecutive
transport failures — no response, a timeout, a reset, a body still arriving after the timeout —
every later request is refused without touching the network: `send` returns no response and an
Exchange whose error says why, and that exchange is not recorded (it was never sent). Any HTTP
answer, whatever its status, resets the count: a 502 page is an answer.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import httpx

from mock_okta.transcript import Exchange, Transcript, redact_headers

STOP_AFTER = 3
NOT_SENT = "not sent: "
STOPPED = "the target stopped answering"


class GuardedTranscript(Transcript):
    """`Transcript` plus a breaker: `stopped` is None, or the reason no request is sent any more."""

    def __init__(self, stop_after: int = STOP_AFTER) -> None:
        super().__init__()
        self.stop_after = stop_after
        self.stopped: str | None = None
        self._streak: list[str] = []
        self._guard = threading.Lock()

    def note(self, error: str | None) -> None:
        """Count one outcome: a transport failure (`error`), or an answer (None) that resets the count.
        For requests sent outside the transcript too (the runner's control-plane calls)."""
        with self._guard:
            if error is None:
                self._streak.clear()
                return
            self._streak.append(error)
            if self.stopped is None and len(self._streak) >= self.stop_after:
                why = "; ".join(dict.fromkeys(e[:160] for e in self._streak))
                self.stopped = f"{STOPPED} ({len(self._streak)} consecutive transport failures: {why})"

    def send(self, client: httpx.Client, request: httpx.Request, *,
             timeout: float | None = None) -> tuple[httpx.Response | None, Exchange]:
        if self.stopped is not None:
            return None, refused(request, self.stopped)
        response, exchange = super().send(client, request, timeout=timeout)
        self.note(exchange.error)
        return response, exchange


def refused(request: httpx.Request, reason: str) -> Exchange:
    """The exchange of a request the breaker did not send (not recorded in any transcript)."""
    return Exchange(method=request.method, url=str(request.url), request_headers=redact_headers(request.headers.items()),
                    request_body=None, started=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    error=NOT_SENT + reason)


def stopped(transcript: Transcript) -> str | None:
    """Why `transcript` sends no more requests (None: it still sends, or it has no breaker)."""
    return transcript.stopped if isinstance(transcript, GuardedTranscript) else None
