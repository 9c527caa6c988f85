"""The fuzz campaign's socket phase (fuzz/slow_readers.py, issue 17 item 9): generated requests pipelined
on connections that read slowly or not at all, against the real mock program on loopback: not one 5xx,
no traceback on the server, and a well-behaved client asking meanwhile always served within 1 s."""
from __future__ import annotations

import pytest

from fuzz.slow_readers import campaign

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


def test_pipelined_slow_readers_get_no_5xx_and_stall_nobody() -> None:
    out = campaign(connections=9, per_connection=25, seed_value=3)
    found = out["found"]
    assert out["requests"] > 150 and found.get("answers", 0) > 9  # something was answered and read
    assert found.get("5xx", 0) == 0 and found.get("legit 5xx", 0) == 0, found
    assert found.get("legit no answer", 0) == 0 and found.get("legit 2xx", 0) > 10, found
    assert out["max_latency_s"] < 1.0, out["max_latency_s"]
    assert "Traceback" not in out["stderr"], out["stderr"][-2000:]
