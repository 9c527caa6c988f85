"""Okta's 429 policy: Retry-After (or 300 s), doubling, at most 10 attempts."""
from __future__ import annotations

import httpx
import pytest

from mock_okta import OktaOrg, ProvisioningError, first_wait, schedule


def too_many(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(429, headers=headers, json={"detail": "slow down"})


@pytest.mark.parametrize("value, wait", [("5", 5.0), (" 7 ", 7.0), ("0", 0.0), (None, 300.0), ("", 300.0),
                                         ("1.5", 300.0), ("-3", 300.0), ("soon", 300.0),
                                         ("Wed, 21 Oct 2015 07:28:00 GMT", 300.0), ("５", 300.0)])
def test_first_wait(value, wait):
    assert first_wait(value) == wait


def test_schedule_doubles():
    assert schedule("5") == [5, 10, 20, 40, 80, 160, 320, 640, 1280]
    assert schedule(None)[:3] == [300, 600, 1200]


def test_retries_with_doubling_waits_then_succeeds(fake, sleeps):
    fake.script[:] = [too_many("5"), too_many("1"), too_many()]  # later Retry-After values do not reset
    org = OktaOrg(fake.client(), sleep=sleeps)
    org.test_connection()
    assert sleeps.calls == [5, 10, 20]
    assert org.backoff.waits == [5, 10, 20]
    statuses = [ex.status for ex in fake.transcript]
    assert statuses == [429, 429, 429, 200, 200]  # every attempt is recorded


def test_missing_retry_after_waits_300_and_time_scale_applies(fake, sleeps):
    fake.script[:] = [too_many(), too_many("abc")]
    org = OktaOrg(fake.client(), sleep=sleeps, time_scale=0.01)
    p = org.add_person()
    org.assign(p)
    assert sleeps.calls == pytest.approx([3.0, 6.0])
    assert org.backoff.waits == [300, 600]


def test_gives_up_after_10_attempts(fake, sleeps):
    fake.script[:] = [too_many("5") for _ in range(12)]
    org = OktaOrg(fake.client(), sleep=sleeps)
    p = org.add_person(first_name="Test", last_name="User", email="test.user@okta.local")
    with pytest.raises(ProvisioningError) as info:
        org.assign(p)
    assert len(fake.requests) == 10
    assert sleeps.calls == [5, 10, 20, 40, 80, 160, 320, 640, 1280]
    err = info.value
    assert err.response is not None and err.response.status_code == 429
    assert err.message.startswith("Automatic provisioning of user Test User to app Clockwise failed: ")
    assert "429" in err.message and "10 attempts" in err.message


def test_429_applies_to_every_operation(fake, sleeps):
    org = OktaOrg(fake.client(), sleep=sleeps)
    p = org.add_person()
    org.assign(p)
    fake.script.append(too_many("2"))
    org.deactivate(p)
    assert sleeps.calls == [2]
    assert [ex.method for ex in fake.transcript][-2:] == ["PATCH", "PATCH"]
