"""Entra's retry model (idp-wire.md "Entra corrections"): no 429 back-off, retries in later cycles,
quarantine for 404 lookups and 401s on the documented schedule, the escrow thresholds."""
from __future__ import annotations

import httpx
import pytest

from mock_okta import OktaOrg, ProvisioningError
from mock_okta.entra_retry import CYCLE_SECONDS, DAY, HOUR, EntraJob, Escrow, quarantine_schedule


def test_quarantine_schedule_is_6h_12h_24h_then_daily_to_28_days():
    at = quarantine_schedule()
    assert at[:4] == [6 * HOUR, 18 * HOUR, 42 * HOUR, 66 * HOUR]
    assert all(b - a == DAY for a, b in zip(at[2:], at[3:]))
    assert at[-1] <= 28 * DAY < at[-1] + DAY
    assert len(at) == 29


def test_escrow_thresholds():
    e = Escrow()
    assert not e.trips(4_999, 4_999)          # evaluated only from 5,000 failures
    assert e.trips(5_000, 10_000)             # 50% > 40%
    assert not e.trips(5_000, 12_500)         # exactly 40% does not trip
    assert e.trips(40_000, 10**9)             # 40,000 failures trip whatever the ratio


@pytest.fixture
def entra(fake):
    return OktaOrg(fake.client(), dialect="entra", seed=3)


def test_entra_lookup_404_is_a_failed_operation_and_quarantines(entra, fake):
    p = entra.add_person(first_name="Test", last_name="User", email="t.u@x.com")
    fake.script[:] = [fake.error(404, "no such user")] * 40
    with pytest.raises(ProvisioningError) as info:
        entra.assign(p)
    msg = info.value.message
    assert "Not Found. Errors reported by remote server: no such user" in msg
    assert "quarantine in cycle 1 (SCIM compliance issue: a lookup answered 404" in msg
    assert "retried 29 times" in msg and "28 days" in msg
    assert all(r.method == "GET" for r in fake.requests)  # never POSTs after a 404 lookup
    assert len(fake.requests) == 1 + 29                  # the lookup, then the quarantine retries
    assert entra.entra_job.quarantine is not None


def test_entra_quarantine_lifts_when_a_retry_succeeds(entra, fake):
    p = entra.add_person()
    fake.script[:] = [fake.error(401, "bad token"), fake.error(401, "bad token")]
    uid = entra.assign(p)  # the third lookup (second quarantine retry) answers 200 with no user
    assert [r.method for r in fake.requests] == ["GET", "GET", "GET", "POST"]
    assert entra.scim_id(p) == uid
    job = entra.entra_job
    assert job.quarantine is None and job.clock == 18 * HOUR
    assert (job.operations, job.failures) == (4, 2)


def test_entra_other_failures_are_retried_in_a_later_cycle_not_backed_off(entra, fake, sleeps):
    p = entra.add_person()
    entra.assign(p)
    mark = len(fake.requests)
    fake.script[:] = [httpx.Response(429, headers={"Retry-After": "1"}),
                      httpx.Response(429, headers={"Retry-After": "1"})]
    with pytest.raises(ProvisioningError) as info:
        entra.update_profile(p, first_name="Ann")
    assert len(fake.requests) - mark == 2                # the first try and one later cycle
    assert entra.backoff.waits == []                     # no Okta back-off
    msg = info.value.message
    assert "Too Many Requests. Errors reported by remote server: " in msg
    assert "retried it in 1 later cycle (now cycle 2)" in msg and "not in quarantine" in msg
    assert entra.entra_job.clock == CYCLE_SECONDS


def test_entra_later_cycle_success_completes_the_operation(entra, fake):
    p = entra.add_person()
    entra.assign(p)
    mark = len(fake.requests)
    fake.script[:] = [fake.error(500, "busy")]
    entra.update_profile(p, first_name="Ann")  # no error: the retry in cycle 2 was accepted
    assert [r.method for r in fake.requests[mark:]] == ["PATCH", "PATCH"]
    assert fake.requests[-1].content == fake.requests[-2].content


def test_escrow_quarantines_after_n_cycles(fake):
    job = EntraJob(escrow=Escrow(min_failures=3, ratio=0.4, max_failures=100), retry_cycles=5)
    entra = OktaOrg(fake.client(), dialect="entra", seed=4, entra_job=job)
    p = entra.add_person()
    entra.assign(p)  # 2 operations ok
    fake.script[:] = [fake.error(400, "nope")] * 50
    with pytest.raises(ProvisioningError) as info:
        entra.update_profile(p, first_name="Ann")
    # failures 1, 2 (cycle 2), 3 (cycle 3): 3 of 5 > 40% → quarantined in cycle 3.
    assert "quarantine in cycle 3 (escrow: 3 of 5 operations failed)" in info.value.message


def test_okta_keeps_its_429_backoff_and_404_lookup(fake, sleeps):
    org = OktaOrg(fake.client(), seed=5, sleep=sleeps)
    assert org.entra_job is None
    p = org.add_person()
    fake.script[:] = [fake.error(404, "none"), httpx.Response(429, headers={"Retry-After": "2"})]
    org.assign(p)
    assert [r.method for r in fake.requests] == ["GET", "POST", "POST"]
    assert sleeps.calls == [2.0]


def test_entra_test_connection_404_fails_at_once_naming_the_quarantine_cause(entra, fake):
    fake.script[:] = [fake.error(404, "no such route")]
    with pytest.raises(ProvisioningError) as info:
        entra.test_connection()
    assert len(fake.requests) == 1  # the admin's test is not retried in later cycles
    assert info.value.message.startswith("Test connection to app Clockwise failed: Error while reading users: "
                                         "Not Found. Errors reported by remote server: no such route. ")
    assert "quarantine for this answer (SCIM compliance issue: a lookup answered 404" in info.value.message
