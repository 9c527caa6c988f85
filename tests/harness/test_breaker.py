"""The breaker of harness.breaker: after 3 consecutive transport failures nothing more is sent."""
from __future__ import annotations

import httpx

from harness.breaker import NOT_SENT, GuardedTranscript, stopped
from harness.transcript import Transcript


def _client(outcomes: list[str]) -> tuple[httpx.Client, list[str]]:
    """A client whose transport answers (`ok`) or fails (`timeout`, `reset`) in the given order."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        kind = outcomes[len(seen) - 1] if len(seen) <= len(outcomes) else "ok"
        if kind == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        if kind == "reset":
            raise httpx.RemoteProtocolError("connection reset", request=request)
        if kind == "502":
            return httpx.Response(502, text="<html>Bad Gateway</html>")
        return httpx.Response(200, json={"ok": True})

    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://t"), seen


def _send(t: Transcript, client: httpx.Client, path: str) -> tuple[httpx.Response | None, object]:
    return t.send(client, client.build_request("GET", path, headers={"Authorization": "Bearer s3cret"}))


def test_three_consecutive_failures_stop_sending() -> None:
    client, seen = _client(["timeout", "reset", "timeout", "ok"])
    t = GuardedTranscript()
    for i in range(3):
        _send(t, client, f"/r{i}")
        assert (stopped(t) is None) == (i < 2)
    why = stopped(t)
    assert why is not None and why.startswith("the target stopped answering (3 consecutive transport failures: timed out")
    assert "RemoteProtocolError" in why
    response, ex = _send(t, client, "/r3")
    assert response is None and ex.error == NOT_SENT + why  # type: ignore[attr-defined]
    assert seen == ["/r0", "/r1", "/r2"] and len(t) == 3  # the refused request never left, and is not recorded
    assert "s3cret" not in str(ex.request_headers)  # type: ignore[attr-defined]


def test_any_answer_resets_the_count() -> None:
    # A 502 page is an answer: the target is broken, not gone.
    client, seen = _client(["timeout", "timeout", "502", "timeout", "timeout", "ok", "timeout"])
    t = GuardedTranscript()
    for i in range(7):
        _send(t, client, f"/r{i}")
    assert stopped(t) is None and len(seen) == 7


def test_a_plain_transcript_has_no_breaker_and_calls_outside_it_count() -> None:
    client, seen = _client(["timeout"] * 4)
    plain = Transcript()
    for i in range(4):
        _send(plain, client, f"/r{i}")
    assert stopped(plain) is None and len(seen) == 4
    t = GuardedTranscript(stop_after=2)
    t.note("control plane: ConnectError")
    t.note("control plane: ConnectError")
    assert stopped(t) == "the target stopped answering (2 consecutive transport failures: control plane: ConnectError)"
