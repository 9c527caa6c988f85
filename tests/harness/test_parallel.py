"""Parallel runs (harness.parallel, harness.rate_limit): the scheduler, the reporter order, the per-IdP
token buckets on a fake clock, and the breaker when several jobs send at once."""
from __future__ import annotations

import _thread
import threading
import time
from typing import Any

import httpx
import pytest

from harness.conformance import Gate
from harness.parallel import Job, OrderedReporter, Scheduler, TranscriptView, critical_path, stop_sending
from harness.breaker import GuardedTranscript, NOT_SENT
from harness.rate_limit import RateError, RateLimitedTransport, Rates, TokenBucket, idp_of, parse_rates


# --- the token bucket, on a fake clock -------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_the_bucket_spaces_requests_at_the_rate_and_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(25, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0, 0.04, 0.08, 0.12, 0.16])
    clock.now = 10.0  # a long pause refills the bucket, but only up to its burst of 1
    assert bucket.reserve() == 0 and bucket.reserve() == pytest.approx(0.04)


def test_one_bucket_is_shared_by_every_job() -> None:
    # 4 jobs x 10 requests at 20/s: the 40 reservations are 1/20 s apart, whoever made them.
    clock = FakeClock()
    bucket = TokenBucket(20, clock=clock, sleep=clock.sleep)
    seen: list[str] = []
    transport = RateLimitedTransport(httpx.MockTransport(lambda r: seen.append(r.url.path) or httpx.Response(200)), bucket)
    client = httpx.Client(transport=transport, base_url="http://t")

    def job(n: int) -> None:
        for i in range(10):
            client.get(f"/{n}/{i}")

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 40
    assert sorted([0.0] + clock.slept) == pytest.approx([k / 20 for k in range(40)])


def test_rates_parse_and_apply_per_idp() -> None:
    assert parse_rates(["entra=25", "okta=10.5,entra=30"]) == {"entra": 30.0, "okta": 10.5}
    assert parse_rates(None) == {}
    for bad in ("entra", "ping=3", "okta=0", "okta=-1", "okta=nan", "okta=fast", "okta=inf"):
        with pytest.raises(RateError, match="--rate"):
            parse_rates([bad])
    assert [idp_of(d) for d in ("okta", "okta-aiw", "okta-patch", "entra", "entra-2020", "rfc")] == \
        ["okta", "okta", "okta", "entra", "entra", None]
    rates = Rates({"entra": 25})
    inner = httpx.MockTransport(lambda r: httpx.Response(200))
    assert isinstance(rates.wrap(inner, "entra-2020"), RateLimitedTransport)
    assert rates.wrap(inner, "okta") is inner and rates.wrap(inner, None) is inner  # no rate given; the rfc suite


# --- the reporter's order ---------------------------------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def scenario_started(self, name: str) -> None:
        self.events.append(("started", name))

    def step_finished(self, scenario: str, step: Any) -> None:
        self.events.append(("step", scenario))

    def scenario_finished(self, result: Any) -> None:
        self.events.append(("finished", result))


def test_events_come_in_plan_order_whatever_finishes_first() -> None:
    inner = Recorder()
    ordered = OrderedReporter(inner, 3)
    r0, r1, r2 = (ordered.for_job(i) for i in range(3))
    r0.scenario_started("a")                       # the head job reports live
    r2.scenario_started("c"), r2.scenario_finished("c")
    ordered.done(2)
    r1.scenario_started("b")
    assert inner.events == [("started", "a")]
    r0.scenario_finished("a")
    ordered.done(0)                                # b becomes the head: its held event, then live ones
    assert inner.events[-1] == ("started", "b")
    r1.step_finished("b", None), r1.scenario_finished("b")
    ordered.done(1)
    assert inner.events == [("started", "a"), ("finished", "a"), ("started", "b"), ("step", "b"),
                            ("finished", "b"), ("started", "c"), ("finished", "c")]
    with pytest.raises(AttributeError):
        r1.not_a_reporter_method  # noqa: B018


def test_exit_first_drops_the_events_of_later_jobs() -> None:
    inner = Recorder()
    ordered = OrderedReporter(inner, 3)
    ordered.for_job(2).scenario_started("c")
    ordered.for_job(0).scenario_started("a")
    ordered.drop_after(0)
    ordered.done(0)
    assert inner.events == [("started", "a")]


# --- the scheduler ----------------------------------------------------------------------------------------
def _tracked(log: list[str], busy: list[int], name: str, pause: float = 0.05) -> Job:
    lock = threading.Lock()

    def run() -> str:
        with lock:
            busy[0] += 1
            busy[1] = max(busy[1], busy[0])
        log.append(f"+{name}")
        time.sleep(pause)
        log.append(f"-{name}")
        with lock:
            busy[0] -= 1
        return name
    return Job(run=run)


def test_at_most_n_jobs_at_once_results_in_plan_order() -> None:
    log: list[str] = []
    busy = [0, 0]
    jobs = [_tracked(log, busy, str(i)) for i in range(9)]
    assert Scheduler(3).run(jobs) == [str(i) for i in range(9)]
    assert 1 < busy[1] <= 3


def test_an_exclusive_job_runs_alone() -> None:
    log: list[str] = []
    busy = [0, 0]
    jobs = [_tracked(log, busy, str(i)) for i in range(6)]
    jobs[3].exclusive, jobs[3].after = True, (0, 1, 2)
    Scheduler(4).run(jobs)
    at = log.index("+3")
    assert {"-0", "-1", "-2"} <= {e for e in log[:at] if e.startswith("-")}  # what it needs finished
    assert {e for e in log[:at] if e.startswith("+")} == {e.replace("-", "+") for e in log[:at] if e.startswith("-")}
    assert log[at + 1] == "-3"                                                 # and nothing ran beside it


def test_an_exclusive_job_that_needs_no_other_runs_first_alone() -> None:
    # (a scenario that times a response, harness/runner.py): first, nothing has to finish for it to start.
    log: list[str] = []
    busy = [0, 0]
    jobs = [_tracked(log, busy, str(i)) for i in range(6)]
    jobs[3].exclusive = True
    assert Scheduler(4).run(jobs) == [str(i) for i in range(6)]
    assert log[:2] == ["+3", "-3"]


def test_halt_stops_starting_jobs() -> None:
    started: list[int] = []
    jobs = [Job(run=lambda i=i: started.append(i) or i) for i in range(10)]
    results = Scheduler(1, halt=lambda r: r == 2).run(jobs)
    assert started == [0, 1, 2] and results[3:] == [None] * 7


def test_a_job_starts_after_the_jobs_it_needs_and_the_longest_chain_first() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def job(i: int, **kw: Any) -> Job:
        def run() -> int:
            with lock:
                started.append(i)
            time.sleep(0.01)
            return i
        return Job(run=run, unit=0, **kw)  # one plan unit, as the rfc suite's areas
    # 0 -> {1, 2} -> 3 is the long chain (the rfc suite's shape); 4 and 5 are short and first in plan order.
    jobs = [job(0, cost=1), job(1, after=(0,), cost=5), job(2, after=(0,)), job(3, after=(1, 2), cost=2), job(4), job(5)]
    jobs = jobs[4:] + jobs[:4]  # the plan puts the short ones first; the scheduler does not
    for j in jobs:
        j.after = tuple(a + 2 for a in j.after)
    assert critical_path(jobs) == [1, 1, 8, 7, 3, 2]
    assert Scheduler(1).run(jobs) == [4, 5, 0, 1, 2, 3]
    assert started == [0, 1, 2, 3, 4, 5]  # the chain first, each after what it needs; then plan order


def test_the_head_of_the_plan_goes_before_a_longer_chain() -> None:
    # Job 1 ends the plan's first unit (as the rfc suite's safety area does): once ready it goes before the
    # longer job 2 of a later unit, so the console, which shows unit 0 live, is not held back.
    started: list[int] = []
    jobs = [Job(run=lambda: started.append(0) or 0, unit=0), Job(run=lambda: started.append(1) or 1, after=(0,), unit=0),
            Job(run=lambda: started.append(2) or 2, cost=9, unit=2), Job(run=lambda: started.append(3) or 3, unit=3)]
    assert Scheduler(1).run(jobs) == [0, 1, 2, 3]
    assert started == [0, 1, 2, 3]


def test_halt_lets_the_failing_unit_finish_but_starts_no_later_unit() -> None:
    started: list[int] = []
    jobs = [Job(run=lambda i=i: started.append(i) or i, unit=0 if i < 3 else i) for i in range(6)]
    results = Scheduler(1, halt=lambda r: r == 1).run(jobs)
    assert started == [0, 1, 2] and results == [0, 1, 2, None, None, None]  # 2 is unit 0's clean-up


def test_an_area_alone_runs_while_no_other_does() -> None:
    gate, log = Gate(), []
    inside = threading.Event()

    def shared() -> None:
        with gate.shared():
            inside.set()
            time.sleep(0.1)
            log.append("shared done")

    t = threading.Thread(target=shared)
    t.start()
    inside.wait(5)
    with gate.alone():
        log.append("alone")
    t.join()
    assert log == ["shared done", "alone"]


def test_an_interruption_stops_the_jobs_and_goes_on() -> None:
    gate = threading.Event()
    stopped: list[bool] = []

    def interrupting() -> int:
        _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread
        gate.wait(5)
        return 1

    jobs = [Job(run=interrupting), Job(run=lambda: 2), Job(run=lambda: 3)]
    scheduler = Scheduler(1, interrupt=lambda: (stopped.append(True), gate.set()))
    with pytest.raises(KeyboardInterrupt):
        scheduler.run(jobs)
    assert stopped == [True]


def test_stop_sending_refuses_every_later_request_of_every_view() -> None:
    run = GuardedTranscript()
    views = [TranscriptView(run), TranscriptView(run)]
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)), base_url="http://t")
    views[0].send(client, client.build_request("GET", "/a"))
    stop_sending(run)
    response, ex = views[1].send(client, client.build_request("GET", "/b"))
    assert response is None and ex.error.startswith(NOT_SENT) and "interrupted" in ex.error
    assert len(run) == 1 and len(views[0]) == 1 and len(views[1]) == 0 and views[1].stopped
