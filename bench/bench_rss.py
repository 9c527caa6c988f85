"""Peak memory (RSS) of the mock holding N users (issue 6: under 500 MB at 100,000).

A child process builds the mock as `python -m mock_clockwise` does by default (in-memory
SQLite, one process, waitress threads), loads N users through the store's bulk path, and
serves them on 127.0.0.1. This process then reads every user back over HTTP (an import in
pages of `maxResults`, 1,000) and runs userName filters and GETs by id, and finally reads
the child's peak resident set size (VmHWM) from /proc.

    python bench/bench_rss.py [--users 100000] [--quick]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

import httpx

from benchlib import BENCH, PY, TOKEN, start_banner_server

LIMIT_MB = 500


def fake_user(i: int) -> dict[str, Any]:
    name = f"user{i:07d}@bench.example"
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
            "externalId": f"00u{i:017d}", "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
            "emails": [{"primary": True, "value": name, "type": "work"}], "displayName": f"Given{i} Family{i}",
            "locale": "en-US", "active": True}


def child(users: int) -> int:
    """Load `users` users into a fresh mock and serve it (until SIGTERM)."""
    from mock_clockwise.app import create_app
    from mock_clockwise.prefork import listen_sockets, serve_threads

    app = create_app({"ORGS": [{"name": "acme", "tokens": [TOKEN], "threshold": 10}], "ADMIN_TOKEN": "rss-admin"})
    store = app.extensions["mock_clockwise"].store
    for start in range(0, users, 10_000):
        store.bulk_insert_users("acme", (fake_user(i) for i in range(start, min(users, start + 10_000))))
    sock = listen_sockets("127.0.0.1", 0)[0]
    print(f"SCIM base URL: http://127.0.0.1:{sock.getsockname()[1]}/scim/v2", flush=True)
    serve_threads(app, sock, 4)  # the default of `python -m mock_clockwise`
    return 0


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                fields[name] = int(rest.split()[0]) / 1024
    return fields["VmHWM"], fields["VmRSS"]


def run(users: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    server = start_banner_server("mock (rss)", [PY, str(BENCH / "bench_rss.py"), "--child", str(users)], timeout=600)
    load_s = time.perf_counter() - t0
    try:
        _, idle_rss = peak_rss_mb(server.proc.pid)
        seen = 0
        with httpx.Client(base_url=server.base, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            t1 = time.perf_counter()
            start = 1
            while True:  # an import of every user, pages of 1,000
                page = c.get(f"/Users?startIndex={start}&count=1000").json()
                seen += len(page["Resources"])
                start += 1000
                if start > page["totalResults"]:
                    break
            import_s = time.perf_counter() - t1
            rng = random.Random(1)
            for _ in range(200):
                k = rng.randrange(users)
                found = c.get(f'/Users?filter=userName eq "user{k:07d}@bench.example"').json()
                assert found["totalResults"] == 1
                assert c.get(f"/Users/{found['Resources'][0]['id']}").status_code == 200
        peak, now = peak_rss_mb(server.proc.pid)
    finally:
        server.stop()
    if seen != users:
        raise RuntimeError(f"the import read {seen} users, expected {users}")
    return {"users": users, "load_s": load_s, "import_s": import_s, "idle_rss_mb": idle_rss, "peak_rss_mb": peak,
            "rss_after_mb": now, "limit_mb": LIMIT_MB, "ok": peak < LIMIT_MB}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--quick", action="store_true", help="smoke run with 2,000 users")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        return child(args.child)
    result = run(2000 if args.quick else args.users)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['users']:,} users: peak RSS {result['peak_rss_mb']:.0f} MB (idle after load "
              f"{result['idle_rss_mb']:.0f} MB; limit {LIMIT_MB} MB) {'OK' if result['ok'] else 'OVER'}; "
              f"start + load {result['load_s']:.1f} s, import of all users {result['import_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
