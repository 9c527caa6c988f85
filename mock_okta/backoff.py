"""Okta's 429 policy: pause the task, wait, retry with a doubling wait, give up after 10 attempts.

# Okta: the first wait is the integer ``Retry-After`` (seconds), or 300 s when the header is
# missing or not an integer; the wait doubles on each retry; at most 10 attempts, then the
# task fails. Applies to every provisioning operation.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import httpx

DEFAULT_WAIT = 300.0
MAX_ATTEMPTS = 10

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
        return float(int(text))
    return default


def schedule(retry_after: str | None, attempts: int = MAX_ATTEMPTS, default: float = DEFAULT_WAIT) -> list[float]:
    """The waits between ``attempts`` tries that all get 429: first, 2×first, 4×first, …"""
    first = first_wait(retry_after, default)
    return [first * (2 ** i) for i in range(max(attempts - 1, 0))]


@dataclass
class RateLimitExhausted:
    """What a give-up looked like: the last 429 response and how many attempts were made."""

    response: httpx.Response
    attempts: int


@dataclass
class Backoff:
    """Runs a request, retrying it on 429 according to Okta's policy.

    ``sleep`` is injectable (tests pass a recorder, demos a fast clock); every wait is
    multiplied by ``time_scale`` before sleeping. ``waits`` records the unscaled waits taken.
    """

    sleep: Callable[[float], None] = time.sleep
    time_scale: float = 1.0
    max_attempts: int = MAX_ATTEMPTS
    default_wait: float = DEFAULT_WAIT
    waits: list[float] = field(default_factory=list)

    def run(self, send: Sender) -> tuple[httpx.Response, RateLimitExhausted | None]:
        """Send until the answer is not 429 or attempts run out.

        Returns the last response, and a ``RateLimitExhausted`` when it gave up. A transport
        failure is whatever ``send`` raises; it is not retried.
        """
        wait: float | None = None
        attempt = 0
        while True:
            attempt += 1
            response = send()
            if response.status_code != 429:
                return response, None
            if attempt >= self.max_attempts:
                return response, RateLimitExhausted(response, attempt)
            # Okta: the first wait comes from the first 429; later waits double it.
            wait = first_wait(response.headers.get("retry-after"), self.default_wait) if wait is None else wait * 2
            self.waits.append(wait)
            self.sleep(wait * self.time_scale)
