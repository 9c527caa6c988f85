"""Peak memory of the mock holding N users (issue 6: RSS under 500 MB at 100,000), in both
serving models.

- One process (`--workers 1`: in-memory SQLite, waitress threads): a child process builds the
  mock that way, loads N users through the store's bulk path and serves them on 127.0.0.1.
- Worker processes (the default of `python -m mock_clockwise`: CPUs + 1 workers sharing one
  SQLite file): the N users are bulk-loaded into a file first (in /dev/shm, where the server
  keeps its state file, so it is memory too), then `python -m mock_clockwise --db FILE` serves it.

This process then reads every user back over HTTP (an import in pages of `maxResults`, 1,000;
with workers, over one connection per worker) and runs userName filters and GETs by id, and
finally reads the peak resident set size (VmHWM) from /proc. For workers the figure is the sum
over the server's processes (an upper bound: pages shared since the fork count once per
process) plus the size of the state file on tmpfs.

    python bench/bench_rss.py [--users 100000] [--workers N] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from typing import Any

import httpx

from benchlib import BENCH, PY, TOKEN, Server, start_banner_server

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


def _state_dir() -> str:
    shm = "/dev/shm"
    return tempfile.mkdtemp(prefix="bench-rss-", dir=shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None)


def _load_file(path: str, users: int) -> None:
    from mock_clockwise.store import Store

    store = Store(path)
    try:
        store.create_org("acme", [TOKEN], threshold=10)
        for start in range(0, users, 10_000):
            store.bulk_insert_users("acme", (fake_user(i) for i in range(start, min(users, start + 10_000))))
    finally:
        store.close()


def _peak_mb(server: Server) -> tuple[float, float]:
    """(sum of VmHWM, sum of VmRSS) over the server's processes, in MB."""
    peak = now = 0.0
    for proc in server.tree():
        try:
            p, n = peak_rss_mb(proc.pid)
        except (FileNotFoundError, ProcessLookupError, KeyError):
            continue
        peak, now = peak + p, now + n
    return peak, now


def _exercise(base: str, users: int, connections: int) -> tuple[int, float]:
    """An import of every user (pages of 1,000, round robin over `connections` connections),
    then 200 userName filters and GETs by id. Returns (users read, import seconds)."""
    clients = [httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"})
               for _ in range(connections)]
    try:
        seen, start, t1 = 0, 1, time.perf_counter()
        while True:
            page = clients[(start // 1000) % connections].get(f"/Users?startIndex={start}&count=1000").json()
            seen += len(page["Resources"])
            start += 1000
            if start > page["totalResults"]:
                break
        import_s = time.perf_counter() - t1
        rng = random.Random(1)
        for i in range(200):
            c = clients[i % connections]
            k = rng.randrange(users)
            found = c.get(f'/Users?filter=userName eq "user{k:07d}@bench.example"').json()
            assert found["totalResults"] == 1
            assert c.get(f"/Users/{found['Resources'][0]['id']}").status_code == 200
        return seen, import_s
    finally:
        for c in clients:
            c.close()


def run(users: int, workers: int = 1) -> dict[str, Any]:
    t0 = time.perf_counter()
    state_dir, file_mb = None, 0.0
    if workers == 1:
        server = start_banner_server("mock (rss)", [PY, str(BENCH / "bench_rss.py"), "--child", str(users)],
                                     timeout=600)
    else:
        state_dir = _state_dir()
        db = os.path.join(state_dir, "state.sqlite3")
        _load_file(db, users)
        server = start_banner_server("mock (rss, workers)", [
            PY, "-m", "mock_clockwise", "--port", "0", "--db", db, "--workers", str(workers), "--token", TOKEN,
            "--admin-token", "rss-admin"], timeout=600)
    load_s = time.perf_counter() - t0
    try:
        deadline = time.monotonic() + 30  # the banner comes before the workers are forked
        while workers > 1 and len(server.tree()) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        _, idle_rss = _peak_mb(server)
        seen, import_s = _exercise(server.base, users, workers)
        peak, now = _peak_mb(server)
        if state_dir is not None and os.path.realpath(state_dir).startswith("/dev/shm"):
            file_mb = sum(os.path.getsize(os.path.join(state_dir, f)) for f in os.listdir(state_dir)) / 2**20
    finally:
        server.stop()
        if state_dir is not None:
            shutil.rmtree(state_dir, ignore_errors=True)
    if seen != users:
        raise RuntimeError(f"the import read {seen} users, expected {users}")
    total = peak + file_mb
    return {"users": users, "workers": workers, "load_s": load_s, "import_s": import_s, "idle_rss_mb": idle_rss,
            "peak_rss_mb": peak, "rss_after_mb": now, "state_file_mb": file_mb, "total_mb": total,
            "limit_mb": LIMIT_MB, "ok": total < LIMIT_MB}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=1,
                   help="1: one process, in memory (default); N > 1: N worker processes sharing a state file")
    p.add_argument("--quick", action="store_true", help="smoke run with 2,000 users")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        return child(args.child)
    if args.workers < 1:
        p.error("--workers must be at least 1")
    result = run(2000 if args.quick else args.users, args.workers)
    if args.json:
        print(json.dumps(result))
    else:
        extra = f" + state file on tmpfs {result['state_file_mb']:.0f} MB" if args.workers > 1 else ""
        print(f"{result['users']:,} users, {args.workers} process(es): peak RSS {result['peak_rss_mb']:.0f} MB{extra} "
              f"(idle after load {result['idle_rss_mb']:.0f} MB; limit {LIMIT_MB} MB) "
              f"{'OK' if result['ok'] else 'OVER'}; start + load {result['load_s']:.1f} s, "
              f"import of all users {result['import_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
