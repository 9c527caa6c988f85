"""Benchmark: users per second for Okta's assign flow (lookup + POST) against mock_clockwise.

In-process over WSGI (no sockets), so the figure measures the driver plus the mock, not a
network; every exchange is recorded as the harness records it (Transcript.transport). Usage:

    python bench/bench_driver.py [-n 2000] [--concurrency 4] [--dialect okta] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time

import httpx

from mock_clockwise.app import create_app  # the bench, not the driver, knows about the mock
from harness.transcript import Transcript
from mock_okta import DIALECTS, OktaOrg

TOKEN = "bench-scim-token"


def run(n: int, concurrency: int, dialect: str, seed: int = 0) -> tuple[float, int]:
    """Assign ``n`` fresh people; return (seconds, requests sent)."""
    app = create_app({"ORGS": [{"name": "bench", "tokens": [TOKEN], "threshold": 10}], "ADMIN_TOKEN": "bench-admin"})
    recorded = Transcript()
    with httpx.Client(transport=recorded.transport(httpx.WSGITransport(app=app)), base_url="http://testserver/scim/v2",
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        org = OktaOrg(client, dialect=dialect, seed=seed, max_concurrency=concurrency)
        people = org.add_people(n)
        t0 = time.perf_counter()
        org.assign_many(people)
        elapsed = time.perf_counter() - t0
        return elapsed, len(recorded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="people to assign (default 2000)")
    parser.add_argument("--concurrency", type=int, default=4, help="max concurrent requests (default 4)")
    parser.add_argument("--dialect", choices=DIALECTS, default="okta")
    parser.add_argument("--quick", action="store_true", help="a smoke run of 100 people")
    args = parser.parse_args(argv)
    n = 100 if args.quick else args.n
    if n < 1 or args.concurrency < 1:
        parser.error("-n and --concurrency must be at least 1")
    elapsed, requests = run(n, args.concurrency, args.dialect)
    print(f"assign flow, dialect={args.dialect}, concurrency={args.concurrency}: {n} users in {elapsed:.2f} s "
          f"= {n / elapsed:.1f} users/s ({requests / elapsed:.1f} requests/s, {requests} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
