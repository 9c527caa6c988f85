"""Entra's retry model: no 429 back-off; a failed operation is retried in later sync cycles, and
persistent failure puts the provisioning job in quarantine.

# idp-wire.md "Entra corrections": retries are not Okta's 429 back-off; a failed operation is
# retried in later sync cycles (Microsoft documents no Retry-After handling for custom apps).
# Quarantine after persistent failure retries at 6 h, 12 h, 24 h, then daily for up to 28 days;
# the escrow rule is evaluated after 5,000 failures and trips at more than 40% failed (or 40,000
# failures). A 404 on a filter query, or a 401, is a listed cause of quarantine.

Time is simulated: the job keeps a clock of Entra time (cycles, quarantine retries) and sends each
retry at once, so a scenario can say "quarantined after N cycles" without waiting days. The
clock is Entra's time, reported in the task's message; nothing sleeps.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

import httpx

# Microsoft "How Application Provisioning works": incremental cycles run about every 40 minutes.
CYCLE_SECONDS = 40 * 60
HOUR = 3600.0
DAY = 24 * HOUR
QUARANTINE_DAYS = 28


def quarantine_schedule(days: int = QUARANTINE_DAYS) -> list[float]:
    """When a quarantined job retries, in seconds after it entered quarantine: 6 h, then 12 h and
    24 h later, then daily, until ``days`` days (idp-wire.md "Entra corrections")."""
    at, out = 0.0, []
    for gap in (6 * HOUR, 12 * HOUR, 24 * HOUR):
        at += gap
        out.append(at)
    while at + DAY <= days * DAY:
        at += DAY
        out.append(at)
    return out


@dataclass(frozen=True)
class Escrow:
    """The escrow rule: evaluated from ``min_failures`` failures; trips above ``ratio`` failed, or at
    ``max_failures`` (Microsoft: 5,000, 40%, 40,000). A test may lower the numbers."""

    min_failures: int = 5_000
    ratio: float = 0.4
    max_failures: int = 40_000

    def trips(self, failures: int, operations: int) -> bool:
        if failures >= self.max_failures:
            return True
        return failures >= self.min_failures and failures > self.ratio * max(operations, 1)


@dataclass
class Outcome:
    """How one operation ended: the last response, and (when it failed) the words of what Entra did."""

    response: httpx.Response
    failed: bool
    note: str = ""


def quarantine_cause(response: httpx.Response, lookup: bool) -> str | None:
    """Why this failure quarantines the job at once, or None."""
    if response.status_code == 401:
        return "the credentials were refused (401)"
    if lookup and response.status_code == 404:
        # idp-wire.md: "not found" MUST be 200 with an empty ListResponse; a 404 is a SCIM compliance issue.
        return "SCIM compliance issue: a lookup answered 404 instead of 200 with an empty ListResponse"
    return None


@dataclass
class EntraJob:
    """One app's provisioning job: its operations, failures, simulated clock and quarantine."""

    escrow: Escrow = field(default_factory=Escrow)
    retry_cycles: int = 1          # later cycles a failing operation is retried in (before the driver reports it)
    clock: float = 0.0             # Entra seconds since the job started
    operations: int = 0
    failures: int = 0
    quarantine: str | None = None  # the reason, while the job is in quarantine
    quarantined_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def cycle(self) -> int:
        """The sync cycle the clock is in (the first is 1)."""
        return int(self.clock // CYCLE_SECONDS) + 1

    def record(self, failed: bool) -> None:
        with self._lock:
            self.operations += 1
            self.failures += failed

    def advance(self, to: float) -> None:
        """Move the simulated clock forward to ``to`` (never back: operations run from several threads)."""
        with self._lock:
            self.clock = max(self.clock, to)

    def enter_quarantine(self, reason: str) -> None:
        with self._lock:
            if self.quarantine is None:
                self.quarantine, self.quarantined_at = reason, self.clock

    def run(self, send: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool],
            lookup: bool = False, retried: bool = True) -> Outcome:
        """Send an operation; while it fails, retry it in later cycles (or on the quarantine schedule).
        An operation that is not ``retried`` (the admin's test connection) fails at once, saying whether
        the same answer would quarantine the job."""
        response = send()
        self.record(not ok(response))
        if ok(response):
            return Outcome(response, False)
        if not retried:
            cause = quarantine_cause(response, lookup)
            return Outcome(response, True, f"Entra puts a provisioning job in quarantine for this answer ({cause})"
                           if cause else "the test connection fails")
        if self.quarantine is not None:  # already in quarantine: this operation waits for its retries
            return self._retry_in_quarantine(send, ok, response)
        self._judge(response, lookup)
        if self.quarantine is None:
            response, done = self._retry_in_cycles(send, ok, lookup, response)
            if done:
                return Outcome(response, False)
        if self.quarantine is not None:
            return self._retry_in_quarantine(send, ok, response)
        return Outcome(response, True, self._still_failing())

    def _judge(self, response: httpx.Response, lookup: bool) -> None:
        cause = quarantine_cause(response, lookup)
        if cause is None and self.escrow.trips(self.failures, self.operations):
            cause = f"escrow: {self.failures:,} of {self.operations:,} operations failed"
        if cause is not None:
            self.enter_quarantine(cause)

    def _retry_in_cycles(self, send: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool],
                         lookup: bool, response: httpx.Response) -> tuple[httpx.Response, bool]:
        for _ in range(self.retry_cycles):
            self.advance(self.cycle * CYCLE_SECONDS)  # the start of the next cycle
            response = send()
            self.record(not ok(response))
            if ok(response):
                return response, True
            self._judge(response, lookup)
            if self.quarantine is not None:
                break
        return response, False

    def _retry_in_quarantine(self, send: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool],
                             response: httpx.Response) -> Outcome:
        start = self.clock
        since = self.quarantined_at if self.quarantined_at is not None else start
        reason = self.quarantine
        retries = 0
        for offset in quarantine_schedule():
            self.advance(start + offset)
            response = send()
            retries += 1
            self.record(not ok(response))
            if ok(response):
                with self._lock:
                    self.quarantine = self.quarantined_at = None
                return Outcome(response, False)
        return Outcome(response, True,
                       f"Entra put the provisioning job in quarantine in cycle {int(since // CYCLE_SECONDS) + 1} "
                       f"({reason}); it retried {retries} times (6 h, 12 h, 24 h, then daily) "
                       f"and stopped after {QUARANTINE_DAYS} days")

    def _still_failing(self) -> str:
        e = self.escrow
        return (f"Entra retried it in {self.retry_cycles} later cycle{'s' if self.retry_cycles != 1 else ''} "
                f"(now cycle {self.cycle}) and keeps retrying it each cycle; not in quarantine: "
                f"{self.failures:,} of {self.operations:,} operations failed (escrow evaluated from "
                f"{e.min_failures:,} failures, trips above {e.ratio:.0%} or at {e.max_failures:,})")
