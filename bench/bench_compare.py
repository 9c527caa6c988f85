"""Throughput and latency under the Okta mix: the mock vs its stack's ceiling vs scim2-server.

Same generator, same settings for every target: scenarios/locustfile.py (locust FastHttpUser,
Okta's assign / profile update / deactivation / group push / import paging mix with its
default weights and pacing), `--users` concurrent clients, one locust process, headless.
Each target is first warmed up with the same number of users created, then loaded for
`--duration` seconds; the targets run in rotating order for `--rounds` rounds and each
figure is the median over the rounds (so a burst of background load on this shared machine
does not land on one target only), and before each run it waits (up to --quiet-wait seconds)
for the rest of the machine to be idle. No CPU pinning: pinning the generator to one core and
the server to the other would cap every server to one core and hide what several worker
processes gain; instead each run reports the CPU seconds of the server, of locust, and of
anything else on the machine.

Targets: the mock and the bare-Flask ceiling (bench/bare_flask.py), each in both serving
models (one waitress process with 4 threads; CPUs + 1 granian worker processes x 1 thread, what
`scim-harness load` runs), the mock's workers with 4 threads each (the threads choice), and
scim2-server from PyPI as shipped (its own threaded wsgiref server). scim2-server is never
one of our dependencies; install it in a separate venv:

    python -m venv /tmp/othervenv && /tmp/othervenv/bin/pip install scim2-server

and point --scim2-server (or $SCIM2_SERVER) at /tmp/othervenv/bin/scim2-server.

    python bench/bench_compare.py [--duration 20] [--rounds 3] [--users 20] [--json out.json] [--quick]
                                  [--targets bare-workers,mock-workers]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from benchlib import LoadResult, Server, default_workers, find_scim2_server, run_locust, start_bare, start_mock, \
    start_scim2_server, wait_for_quiet, warm_up

FIELDS = ("rps", "p50", "p95", "p99", "server_cpu_s", "locust_cpu_s", "other_cpu_s")


TARGETS = ("bare-workers", "mock-workers", "bare-1p", "mock-1p", "mock-workers-4t", "scim2-server")


def targets(scim2: str | None, quick: bool, only: list[str] | None = None) -> list[tuple[str, Callable[[], Server]]]:
    n = default_workers()
    out: list[tuple[str, Callable[[], Server]]] = [
        ("bare-workers", lambda: start_bare(n)),
        ("mock-workers", lambda: start_mock(n)),
    ]
    if not quick:
        out += [("bare-1p", lambda: start_bare(1)), ("mock-1p", lambda: start_mock(1)),
                ("mock-workers-4t", lambda: start_mock(n, 4))]
    if scim2:
        out.append(("scim2-server", lambda: start_scim2_server(scim2)))
    return [t for t in out if only is None or t[0] in only]


def measure(key: str, start: Callable[[], Server], users: int, duration: int, warm: int, workdir: Path,
            round_no: int, quiet_wait: float) -> tuple[str, LoadResult]:
    if quiet_wait > 0:
        background = wait_for_quiet(quiet_wait)
        if background >= 0.15:
            print(f"  (background load {background:.2f} cores after waiting {quiet_wait:.0f} s; measuring anyway)",
                  file=sys.stderr, flush=True)
    server = start()
    try:
        warm_up(server.base, warm)
        result = run_locust(server, users, duration, workdir / f"{key}-{round_no}")
        return server.name, result
    finally:
        server.stop()


def run(duration: int, rounds: int, users: int, warm: int, scim2: str | None, quick: bool,
        quiet_wait: float = 0.0, only: list[str] | None = None) -> dict[str, Any]:
    summary = rotate(targets(scim2, quick, only), duration, rounds, users, warm, quiet_wait)
    summary["settings"]["scim2_server"] = bool(scim2)
    t = summary["targets"]
    ratios: dict[str, float] = {}
    for model in ("workers", "1p"):
        if f"mock-{model}" in t and f"bare-{model}" in t:
            ratios[f"mock/bare ({model})"] = ratio(t[f"mock-{model}"]["rps"], t[f"bare-{model}"]["rps"])
        if f"mock-{model}" in t and "scim2-server" in t:
            ratios[f"mock ({model})/scim2-server"] = ratio(t[f"mock-{model}"]["rps"], t["scim2-server"]["rps"])
    summary["ratios"] = ratios
    return summary


def ratio(a: float, b: float) -> float:
    # A target that served nothing in its window (a short smoke run on a busy machine) has no
    # ratio: NaN, which fails its verdict, instead of a ZeroDivisionError that ends the run.
    return a / b if b else math.nan


def rotate(chosen: list[tuple[str, Callable[[], Server]]], duration: int, rounds: int, users: int, warm: int,
           quiet_wait: float = 0.0) -> dict[str, Any]:
    """Every target of `chosen` loaded `rounds` times, in an order rotated each round; the medians per target
    (its `settings` and `targets`)."""
    runs: dict[str, list[LoadResult]] = {key: [] for key, _ in chosen}
    names: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        for r in range(rounds):
            order = chosen[r % len(chosen):] + chosen[:r % len(chosen)]  # rotate the order every round
            for key, start in order:
                names[key], result = measure(key, start, users, duration, warm, Path(tmp), r, quiet_wait)
                runs[key].append(result)
                print(f"  round {r + 1}/{rounds} {names[key]:<34} {result.rps:8.1f} req/s  p50 {result.p50:5.0f}  "
                      f"p95 {result.p95:5.0f}  p99 {result.p99:5.0f} ms  failures {result.failures}  "
                      f"cpu server {result.server_cpu_s:5.1f}s locust {result.locust_cpu_s:5.1f}s "
                      f"other {result.other_cpu_s:5.1f}s", file=sys.stderr, flush=True)
    summary: dict[str, Any] = {"settings": {"duration_s": duration, "rounds": rounds, "users": users,
                                            "warm_up_users": warm, "quiet_wait_s": quiet_wait}, "targets": {}}
    for key, all_results in runs.items():
        # Runs that other processes disturbed (over 0.1 core on average) are left out of the
        # medians when undisturbed runs of the same target exist; all runs stay in the JSON.
        clean = [x for x in all_results if x.other_cpu_s < 0.1 * x.wall_s]
        results = clean or all_results
        row: dict[str, Any] = {f: statistics.median(getattr(x, f) for x in results) for f in FIELDS}
        row["runs_in_median"] = len(results)
        # CPU per request does not depend on how busy the rest of the machine was.
        row["cpu_ms_per_request"] = statistics.median(1000 * x.server_cpu_s / max(1, x.requests) for x in results)
        row.update(name=names[key], requests=sum(x.requests for x in all_results),
                   failures=sum(x.failures for x in all_results), runs=[x.as_dict() for x in all_results])
        summary["targets"][key] = row
    return summary


def table(summary: dict[str, Any]) -> str:
    lines = ["| target | serving | req/s | p50 ms | p95 ms | p99 ms | failed | server CPU ms/request | "
             "CPU s server / locust / other |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for key, row in summary["targets"].items():
        lines.append(f"| {key} | {row['name']} | {row['rps']:.1f} | {row['p50']:.0f} | {row['p95']:.0f} | "
                     f"{row['p99']:.0f} | {row['failures']} of {row['requests']} | {row['cpu_ms_per_request']:.2f} | "
                     f"{row['server_cpu_s']:.1f} / {row['locust_cpu_s']:.1f} / {row['other_cpu_s']:.1f} |")
    if summary["ratios"]:
        lines += ["", "| ratio (throughput) | value |", "|---|---:|"]
        lines += [f"| {name} | {value:.2f} |" for name, value in summary["ratios"].items()]
    return "\n".join(lines)


def add_load_options(p: argparse.ArgumentParser) -> None:
    """The options of a rotation (rotate): --duration, --rounds, --users, --warm-up, --json."""
    p.add_argument("--duration", type=int, default=20, help="seconds of load per run (default 20)")
    p.add_argument("--rounds", type=int, default=3, help="rounds over all targets, rotating order (default 3)")
    p.add_argument("--users", type=int, default=20, help="concurrent locust users (default 20)")
    p.add_argument("--warm-up", type=int, default=600, help="users created before each run (default 600)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_options(p)
    p.add_argument("--scim2-server", metavar="PATH", help="the scim2-server executable (or $SCIM2_SERVER)")
    p.add_argument("--quiet-wait", type=float, default=30.0, metavar="S",
                   help="before each run, wait up to S seconds for the rest of the machine to go idle "
                        "(default 30; 0: never wait)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s, 1 round, the mock's workers and their ceiling")
    p.add_argument("--targets", metavar="NAMES", help=f"comma-separated subset of {', '.join(TARGETS)} (default: all)")
    args = p.parse_args(argv)
    only = None
    if args.targets:
        only = [t.strip() for t in args.targets.split(",") if t.strip()]
        unknown = [t for t in only if t not in TARGETS]
        if unknown:
            p.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    if args.quick:
        args.duration, args.rounds, args.warm_up = 2, 1, 20
    scim2 = find_scim2_server(args.scim2_server)
    if scim2 is None:
        print("bench_compare: scim2-server not found (see --help); measuring without it", file=sys.stderr)
    summary = run(args.duration, args.rounds, args.users, args.warm_up, None if args.quick else scim2, args.quick,
                  0.0 if args.quick else args.quiet_wait, only)
    print(table(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
