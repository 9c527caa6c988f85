"""Per-IdP request rates (`scim-harness run --rate IDP=R`): one token bucket per IdP, shared by every
job of the run, so that N scenarios side by side send no faster than the IdP itself would.

An IdP sends at a bounded rate: Entra documents 25 requests per second per tenant for a gallery app
(idp-wire.md, "Entra corrections"); Okta's rate is not in idp-wire.md, so it has no default and is
given by the user. A scenario's SCIM requests (the driver's and its raw steps, cleanup included)
count against the IdP of its dialect; the control plane (/_mock) and the rfc suite are not an IdP's
traffic and are not limited. Okta's 429 back-off (mock_okta.backoff) still applies on top.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable

import httpx

IDPS = ("okta", "entra")


class RateError(ValueError):
    """A malformed --rate value."""


def idp_of(dialect: str) -> str | None:
    """The IdP a dialect speaks for (okta, okta-aiw, okta-patch -> okta; entra, entra-2020 -> entra)."""
    return next((idp for idp in IDPS if dialect == idp or dialect.startswith(f"{idp}-")), None)


def parse_rates(values: list[str] | None) -> dict[str, float]:
    """`--rate` values (repeatable, comma lists) `IDP=R`, R requests per second > 0 -> {idp: R}."""
    rates: dict[str, float] = {}
    for value in values or []:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            idp, sep, text = part.partition("=")
            idp = idp.strip().lower()
            if not sep or idp not in IDPS:
                raise RateError(f"--rate: expected IDP=R with IDP among {', '.join(IDPS)}, got {part!r}")
            try:
                rate = float(text)
            except ValueError:
                rate = math.nan
            if not math.isfinite(rate) or rate <= 0:
                raise RateError(f"--rate: {idp}={text!r}: the rate must be a positive number of requests per second")
            rates[idp] = rate
    return rates


class TokenBucket:
    """At most `rate` requests per second, `burst` at once (default 1: requests evenly spaced).

    A caller reserves its token under the lock and sleeps outside it, so concurrent callers are
    served in turn, each 1/rate after the previous one, and none holds the others up while it waits."""

    def __init__(self, rate: float, *, burst: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.burst = rate, burst
        self.clock, self.sleep = clock, sleep
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; the seconds the caller must wait before sending (0: at once)."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Wait for a token; the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self.sleep(wait)
        return wait


class RateLimitedTransport(httpx.BaseTransport):
    """Sends through `inner` once `bucket` gives a token."""

    def __init__(self, inner: httpx.BaseTransport, bucket: TokenBucket) -> None:
        self.inner, self.bucket = inner, bucket

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bucket.acquire()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class Rates:
    """The run's buckets, one per IdP given a rate."""

    def __init__(self, rates: dict[str, float], **bucket: Callable[[float], None] | Callable[[], float]) -> None:
        self.rates = dict(rates)
        self.buckets = {idp: TokenBucket(rate, **bucket) for idp, rate in rates.items()}  # type: ignore[arg-type]

    def for_dialect(self, dialect: str) -> TokenBucket | None:
        idp = idp_of(dialect)
        return self.buckets.get(idp) if idp else None

    def wrap(self, transport: httpx.BaseTransport, dialect: str | None) -> httpx.BaseTransport:
        """`transport`, limited by the bucket of the dialect's IdP when it has one."""
        bucket = self.for_dialect(dialect) if dialect else None
        return RateLimitedTransport(transport, bucket) if bucket is not None else transport
