"""The serving stack chosen by measurement (issue 13): waitress pre-fork, gunicorn gthread, granian WSGI.

In ONE run, in rotating order over rounds (bench_compare.rotate: same generator, warm-up and medians),
bare Flask (bench/bare_flask.py, fixed bodies: the ceiling) and the mock, each on
- waitress: the home-made pre-fork supervisor the mock ran on before (bench/waitress_prefork.py, through
  bench/stack_server.py), CPUs + 1 workers x 1 thread;
- gunicorn: gthread workers, CPUs + 1 x 1 thread (bench/stack_server.py);
- granian: Rust HTTP front, WSGI workers, CPUs + 1 x 1 WSGI thread: what `python -m mock_clockwise` and
  bench/bare_flask.py run (mock_clockwise/prefork.py);
under the locust Okta mix (scenarios/locustfile.py, 20 users): req/s, p50/p95/p99, failed requests,
server CPU ms per request (the server processes' CPU seconds / requests: much less sensitive to the
rest of this shared machine than req/s), and the mock over the fastest bare Flask of the run.

Then small probes of the mock on each stack, printed as a yes/no table with what was measured:
keep-alive, a SIGKILLed worker replaced while service goes on, a SIGKILLed supervisor taking its
workers with it, graceful shutdown (SIGTERM to the supervisor during a slow request: it completes,
exit 0), slow clients (200 idle half-sent requests + 9 connections pipelining large GETs, never
reading, while a normal client asks every 0.2 s), TLS with a client certificate (mutual TLS) and
how many workers serve it, and a port in use (exit 2, one line). The 1-minute load average is
printed at the start and the end.

    python bench/bench_stacks.py [--duration 20] [--rounds 3] [--users 20] [--warm-up 600] [--workers N]
                                 [--granian-workers 2,4] [--no-load] [--no-probes] [--json out.json] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from bench_compare import add_load_options, ratio, rotate
from benchlib import ADMIN, BENCH, PY, TOKEN, Server, default_workers, start_banner_server, start_bare, start_mock
from stack_probes import PROBES, run_probes

STACKS = ("granian", "gunicorn", "waitress")


def available_stacks() -> list[str]:
    """STACKS whose server is installed: gunicorn is a comparison only, not a dependency of scim-harness
    (`pip install gunicorn` to measure it); a stack left out is said on stderr."""
    found = [s for s in STACKS if importlib.util.find_spec(s) is not None]
    for missing in sorted(set(STACKS) - set(found)):
        print(f"bench_stacks: {missing} is not installed (pip install {missing} to compare it); left out",
              file=sys.stderr, flush=True)
    return found


def start(stack: str, app: str, workers: int, threads: int = 1, *extra: str) -> Server:
    """`app` (mock or bare) on `stack` with `workers` processes of `threads` threads; `extra`: the probes'
    options (--port, --tls, --tls-client-ca), which the mock's and stack_server.py's command lines share."""
    if stack == "granian" and not extra:  # what `python -m mock_clockwise` and bare_flask.py run by default
        return start_mock(workers, threads) if app == "mock" else start_bare(workers, threads)
    port = () if "--port" in extra else ("--port", "0")
    if stack == "granian":
        return start_banner_server(f"mock ({stack})", [
            PY, "-m", "mock_clockwise", "--token", TOKEN, "--admin-token", ADMIN, "--workers", str(workers),
            "--threads", str(threads), *port, *extra])
    return start_banner_server(f"{'mock' if app == 'mock' else 'bare Flask'} ({stack}, {workers} x {threads})", [
        PY, str(BENCH / "stack_server.py"), stack, app, "--workers", str(workers), "--threads", str(threads),
        *port, *extra])


def load_targets(stacks: list[str], workers: int, more_workers: list[int]) -> list[tuple[str, Callable[[], Server]]]:
    """bare and mock on each stack with `workers` processes, and on granian with each of `more_workers`."""
    out: list[tuple[str, Callable[[], Server]]] = []
    for stack in stacks:
        for app in ("bare", "mock"):
            out.append((f"{app}-{stack}", lambda s=stack, a=app: start(s, a, workers)))
    for n in more_workers:
        for app in ("bare", "mock"):
            out.append((f"{app}-granian-{n}w", lambda a=app, n=n: start("granian", a, n)))
    return out


def _worker_counts(p: argparse.ArgumentParser, text: str) -> list[int]:
    """--granian-workers N,M as integers of at least 2 (one process is waitress, not granian); else a usage error."""
    counts = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        if not item.isdigit() or int(item) < 2:
            p.error(f"--granian-workers: {item!r} is not a worker count of at least 2 (granian serves with worker "
                    "processes; 1 is waitress in one process)")
        counts.append(int(item))
    return counts


def ratios(summary: dict[str, Any]) -> dict[str, float]:
    t = summary["targets"]
    bare = {k: row["rps"] for k, row in t.items() if k.startswith("bare-")}
    fastest = max(bare, key=lambda k: bare[k]) if bare else None
    out: dict[str, float] = {}
    for key, row in t.items():
        if key.startswith("mock-") and fastest:
            out[f"{key} / fastest bare ({fastest})"] = ratio(row["rps"], bare[fastest])
            same = f"bare-{key.split('-', 1)[1]}"
            if same in t:
                out[f"{key} / {same}"] = ratio(row["rps"], t[same]["rps"])
    return out


def load_table(summary: dict[str, Any]) -> str:
    lines = ["| target | serving | req/s | p50 ms | p95 ms | p99 ms | failed | server CPU ms/request |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for key, row in summary["targets"].items():
        lines.append(f"| {key} | {row['name']} | {row['rps']:.1f} | {row['p50']:.0f} | {row['p95']:.0f} | "
                     f"{row['p99']:.0f} | {row['failures']} of {row['requests']} | {row['cpu_ms_per_request']:.2f} |")
    lines += ["", "| ratio (throughput, same run) | value |", "|---|---:|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in summary["ratios"].items()]
    return "\n".join(lines)


def probe_table(probes: dict[str, dict[str, tuple[bool, str]]]) -> str:
    stacks = list(probes)
    lines = ["| probe (the mock) | " + " | ".join(stacks) + " |", "|---|" + "---|" * len(stacks)]
    for name in PROBES:
        cells = []
        for stack in stacks:
            ok, detail = probes[stack].get(name, (False, "not run"))
            cells.append(f"{'yes' if ok else '**no**'}: {detail}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(duration: int, rounds: int, users: int, warm: int, workers: int, stacks: list[str],
        probe_stacks: list[str], more_workers: list[int] | None = None, quick: bool = False) -> dict[str, Any]:
    """The load rotation over `stacks` (none: no load) and the probes of `probe_stacks`, with the load average;
    `quick` (a smoke run) shortens the probes' waits (stack_probes.run_probes)."""
    out: dict[str, Any] = {"load_average_1min": {"start": os.getloadavg()[0]}, "cpus": os.cpu_count(),
                           "workers": workers}
    print(f"load average (1 min) at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", file=sys.stderr,
          flush=True)
    if stacks:
        out["load"] = rotate(load_targets(stacks, workers, more_workers or []), duration, rounds, users, warm)
        out["load"]["ratios"] = ratios(out["load"])
    out["probes"] = {s: run_probes(lambda *extra, s=s: start(s, "mock", workers, 1, *extra), workers, quick)
                     for s in probe_stacks}
    out["load_average_1min"]["end"] = os.getloadavg()[0]
    return out


def report(out: dict[str, Any]) -> str:
    parts = [load_table(out["load"])] if "load" in out else []
    if out["probes"]:
        parts.append(probe_table(out["probes"]))
    la = out["load_average_1min"]
    parts.append(f"1-minute load average {la['start']:.1f} at the start and {la['end']:.1f} at the end on "
                 f"{out['cpus']} CPUs; {out['workers']} worker processes x 1 thread on every stack "
                 "(`-Nw` targets: N granian workers).")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_options(p)
    p.add_argument("--workers", type=int, default=default_workers(), help="worker processes (default CPUs + 1)")
    p.add_argument("--granian-workers", default="", metavar="N,M",
                   help="also granian with these worker counts (targets bare-granian-Nw, mock-granian-Nw)")
    p.add_argument("--stacks", default=None, help=f"comma-separated subset of {', '.join(STACKS)} (default: those installed)")
    p.add_argument("--no-load", action="store_true", help="probes only")
    p.add_argument("--no-probes", action="store_true", help="load only")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s, 1 round, 20 users warm-up, shorter probe waits")
    args = p.parse_args(argv)
    stacks = available_stacks() if args.stacks is None else [s.strip() for s in args.stacks.split(",") if s.strip()]
    if any(s not in STACKS for s in stacks):
        p.error(f"--stacks: choose from {', '.join(STACKS)}")
    more_workers = _worker_counts(p, args.granian_workers)
    if args.workers < 2 and "granian" in stacks:
        # One process is the mock's waitress model (`--workers 1`), not granian: a `*-granian` target would be misnamed.
        p.error("--workers: at least 2 with granian (it serves with worker processes; --workers 1 is waitress in one process)")
    if args.quick:
        args.duration, args.rounds, args.warm_up = 2, 1, 20
    out = run(args.duration, args.rounds, args.users, args.warm_up, args.workers, [] if args.no_load else stacks,
              [] if args.no_probes else stacks, more_workers, args.quick)
    print(report(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
