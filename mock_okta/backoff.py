"""Okta's 429 policy: pause the task, wait, retry with a doubling wait, give up after 10 attempts.

# Okta: the first wait is the integer ``Retry-After`` (seconds), or 300 s when the header is
# missing or not an integer; the wait doubles on each retry; at most 10 attempts, then the
# task fails. Applies to every provisioning operation.

A target can ask for anything: ``Retry-After: 999999999`` (31 years), or a 429 without it every time
(300 s doubling: 42 h for one request). So a wait never exceeds ``max_wait`` when one is set (the
harness sets it from ``--max-wait``), never exceeds LONGEST_WAIT in any case, and each wait is told
to ``on_wait`` (the harness prints it) before it is slept.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import httpx

DEFAULT_WAIT = 300.0
MAX_ATTEMPTS = 10
LONGEST_WAIT = 24 * 3600.0  # seconds; also keeps time.sleep from an OverflowError on absurd values
MAX_DIGITS = 12             # a Retry-After of more digits is "very long" (int() refuses 4,301+ digits)

Sender = Callable[[], httpx.Response]


def first_wait(retry_after: str | None, default: float = DEFAULT_WAIT) -> float:
    """The first wait for a 429, from its ``Retry-After`` value.

    Only a non-negative integer number of seconds counts; an HTTP-date, a fraction, a
    negative number or garbage all fall back to ``default`` (Okta: 300 s).
    """
    if retry_after is None:
        return default
    text = retry_after.strip()
    if text.isascii() and text.isdigit():
        return LONGEST_WAIT if len(text) > MAX_DIGITS else min(float(int(text)), LONGEST_WAIT)
    return default  # idp-wire.md: an HTTP-date also falls back to 5 minutes


def schedule(retry_after: str | None, attempts: int = MAX_ATTEMPTS, default: float = DEFAULT_WAIT) -> list[float]:
    """The waits between ``attempts`` tries that all get 429: first, 2×first, 4×first, …"""
    first = first_wait(retry_after, default)
    return [min(first * (2 ** i), LONGEST_WAIT) for i in range(max(attempts - 1, 0))]


@dataclass
class RateLimitExhausted:
    """What a give-up looked like: the last 429 response and how many attempts were made."""

    response: httpx.Response
    attempts: int
    capped: float | None = None  # the max_wait that shortened a wait Okta would have taken in full


@dataclass
class Backoff:
    """Runs a request, retrying it on 429 according to Okta's policy.

    ``sleep`` is injectable (tests pass a recorder, demos a fast clock); every wait is
    multiplied by ``time_scale`` before sleeping. ``waits`` records the unscaled waits taken.
    ``max_wait`` caps each sleep (seconds, after scaling); ``on_wait(wait, slept, retry_after)`` is
    called before each sleep with Okta's wait, the seconds actually slept and the header as received.
    """

    sleep: Callable[[float], None] = time.sleep
    time_scale: float = 1.0
    max_attempts: int = MAX_ATTEMPTS
    default_wait: float = DEFAULT_WAIT
    waits: list[float] = field(default_factory=list)
    max_wait: float | None = None
    on_wait: Callable[[float, float, str | None], None] | None = None

    def run(self, send: Sender) -> tuple[httpx.Response, RateLimitExhausted | None]:
        """Send until the answer is not 429 or attempts run out.

        Returns the last response, and a ``RateLimitExhausted`` when it gave up. A transport
        failure is whatever ``send`` raises; it is not retried.
        """
        wait: float | None = None
        capped: float | None = None
        attempt = 0
        while True:
            attempt += 1
            response = send()
            if response.status_code != 429:
                return response, None
            if attempt >= self.max_attempts:
                return response, RateLimitExhausted(response, attempt, capped)
            # Okta: the first wait comes from the first 429; later waits double it.
            header = response.headers.get("retry-after")
            wait = first_wait(header, self.default_wait) if wait is None else min(wait * 2, LONGEST_WAIT)
            self.waits.append(wait)
            slept = min(wait * self.time_scale, LONGEST_WAIT)
            if self.max_wait is not None and slept > self.max_wait:
                slept = capped = self.max_wait
            if self.on_wait is not None:
                self.on_wait(wait, slept, header)
            self.sleep(slept)
