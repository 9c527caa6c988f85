"""How mock_clockwise's lookups scale with the number of users (issue 2, "Must hold when done").

Loads N users straight into the store (the bulk path), then times requests through the WSGI
app in-process (no sockets): a `userName eq` filter, GET /Users/{id}, a page of 100 users
without a filter at a random startIndex, the first page and the last (deepest) page. Prints the
median CPU time per request (of this thread: the test client and the app) and the ratios.
Requirements: at 100,000 users, the filter and GET by id take at most 1.5x their 1,000-user time
(issue 2); the page of 100 at startIndex N-99 at most 1.5x the first page (issue 13).

    python bench/bench_mock_scale.py            # 1,000 / 10,000 / 100,000 users
    python bench/bench_mock_scale.py --quick    # a few seconds: 1,000 / 5,000 users, fewer requests
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from typing import Any, Callable

from mock_clockwise.app import create_app

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
TOKEN = "bench-token"


def fake_user(i: int) -> dict[str, Any]:
    name = f"user{i:07d}@bench.example"
    return {"schemas": [CORE_USER], "userName": name, "externalId": f"00u{i:017d}",
            "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
            "emails": [{"primary": True, "value": name, "type": "work"}],
            "displayName": f"Given{i} Family{i}", "active": True}


def median_ms(fn: Callable[[int], None], n: int, rng: random.Random, size: int) -> float:
    samples = []
    for _ in range(n):
        k = rng.randrange(size)
        t0 = time.thread_time_ns()
        fn(k)
        samples.append((time.thread_time_ns() - t0) / 1e6)
    return statistics.median(samples)


def paired_ms(fa: Callable[[int], None], fb: Callable[[int], None], n: int) -> tuple[float, float]:
    """Medians of `fa` and `fb` timed in turn, so a busy machine slows both alike."""
    a, b = [], []
    for k in range(n):
        for fn, out in ((fa, a), (fb, b)):
            t0 = time.thread_time_ns()
            fn(k)
            out.append((time.thread_time_ns() - t0) / 1e6)
    return statistics.median(a), statistics.median(b)


def run(size: int, requests: int, seed: int) -> dict[str, float]:
    app = create_app({"ORGS": [{"name": "bench", "tokens": [TOKEN], "threshold": 10}], "ADMIN_TOKEN": "bench-admin"})
    store = app.extensions["mock_clockwise"].store
    t0 = time.perf_counter()
    chunk = 10_000
    for start in range(0, size, chunk):
        store.bulk_insert_users("bench", (fake_user(i) for i in range(start, min(size, start + chunk))))
    load_s = time.perf_counter() - t0
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    # Ids of a spread-out sample (never hold the whole org in memory for this).
    ids = []
    for start in range(1, size + 1, max(1, size // 200)):
        r = client.get(f"/scim/v2/Users?startIndex={start}&count=1&attributes=id", headers=headers)
        ids.append(r.get_json()["Resources"][0]["id"])

    def by_filter(k: int) -> None:
        r = client.get(f'/scim/v2/Users?filter=userName%20eq%20%22USER{k:07d}%40bench.example%22&startIndex=1'
                       f'&count=100', headers=headers)
        assert r.status_code == 200 and r.get_json()["totalResults"] == 1

    def by_id(k: int) -> None:
        r = client.get(f"/scim/v2/Users/{ids[k % len(ids)]}", headers=headers)
        assert r.status_code == 200

    def page_of_100(k: int) -> None:
        start = 1 + (k // 100) * 100 if size > 100 else 1
        start = min(start, max(1, size - 99))
        r = client.get(f"/scim/v2/Users?startIndex={start}&count=100", headers=headers)
        assert r.status_code == 200 and len(r.get_json()["Resources"]) == min(100, size)

    def page_at(start: int) -> Callable[[int], None]:
        def page(k: int) -> None:
            r = client.get(f"/scim/v2/Users?startIndex={start}&count=100", headers=headers)
            assert r.status_code == 200 and len(r.get_json()["Resources"]) == min(100, size - start + 1)
        return page

    first, deep = page_at(1), page_at(max(1, size - 99))
    rng = random.Random(seed)
    for fn in (by_filter, by_id, page_of_100, first, deep):  # warm-up
        for _ in range(5):
            fn(rng.randrange(size))
    pages = max(10, requests // 5)
    result = {"load_s": load_s,
              "filter_ms": median_ms(by_filter, requests, rng, size),
              "get_ms": median_ms(by_id, requests, rng, size),
              "page_ms": median_ms(page_of_100, pages, rng, size)}
    result["first_page_ms"], result["deep_page_ms"] = paired_ms(first, deep, pages)
    store.close()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a few-second smoke run (1,000 and 5,000 users)")
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                   help="comma-separated user counts (default 1000,10000,100000)")
    p.add_argument("--requests", type=int, default=None, help="timed requests per measurement (default 300)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    sizes = args.sizes or ([1000, 5000] if args.quick else [1000, 10_000, 100_000])
    requests = args.requests or (40 if args.quick else 300)
    rows = []
    for size in sizes:
        rows.append((size, run(size, requests, args.seed)))
        print(f"  loaded and measured {size:,} users", file=sys.stderr, flush=True)
    base = rows[0][1]
    print(f"{'users':>9} {'load s':>8} {'filter ms':>10} {'x':>6} {'GET id ms':>10} {'x':>6} {'page100 ms':>11} {'x':>6} "
          f"{'first ms':>9} {'last ms':>9} {'last/first':>10}")
    worst = deepest = 0.0
    for size, r in rows:
        fx, gx, px = r["filter_ms"] / base["filter_ms"], r["get_ms"] / base["get_ms"], r["page_ms"] / base["page_ms"]
        dx = r["deep_page_ms"] / r["first_page_ms"]
        worst, deepest = max(worst, fx, gx), max(deepest, dx)
        print(f"{size:>9,} {r['load_s']:>8.2f} {r['filter_ms']:>10.3f} {fx:>6.2f} {r['get_ms']:>10.3f} {gx:>6.2f} "
              f"{r['page_ms']:>11.3f} {px:>6.2f} {r['first_page_ms']:>9.3f} {r['deep_page_ms']:>9.3f} {dx:>10.2f}")
    verdict = "OK" if worst <= 1.5 else "OVER"
    print(f"worst filter/GET ratio vs {rows[0][0]:,} users: {worst:.2f} (limit 1.5) {verdict}")
    print(f"worst last page/first page: {deepest:.2f} (limit 1.5) {'OK' if deepest <= 1.5 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
