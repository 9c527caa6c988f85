"""Benchmark: `scim-harness run --target` with `--jobs 1` against the default, behind a 50 ms latency.

The default for a remote target is harness.parallel.REMOTE_JOBS jobs. The mock gets a 50 ms latency fault
on every SCIM request (its own fault, `PUT /_mock/faults`), so the run waits on the network as it does
against a vendor's server.

It starts the mock on a free 127.0.0.1 port (3 worker processes, --threads threads each: a remote SCIM
service answers more than 3 requests at once), sets the fault, runs each mode as a child process with
JSON reports, stops the mock, and prints: wall time of each, the ratio, the check counts and verdicts
(which must be equal), and how many SCIM requests took at least the latency. Not every one does: a 401
is answered before any fault, and the scenarios that set faults of their own org (a 404 lookup, a 429)
are answered at once; under --jobs N on a loaded machine one of those quick answers can itself take
the latency, so the two modes' counts may differ by a few (measured: 95 and 92 quick answers of 1,578,
the difference all in entra-lookup-404-quarantines' 404s).

    python bench/bench_jobs.py [--latency-ms 50] [--threads 8] [--jobs N] [--suite S] [--json]

`bench/run_all.py` runs it too (`measure` and `figures`) and writes its table to BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ADMIN, PY, TOKEN, start_banner_server  # noqa: E402

from harness.parallel import REMOTE_JOBS  # noqa: E402  (the default a remote target gets)


def set_latency(base: str, latency_ms: int) -> None:
    control = base.removesuffix("/scim/v2") + "/_mock"
    r = httpx.put(f"{control}/faults", json={"faults": [{"latency_ms": latency_ms}]},
                  headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
    r.raise_for_status()


def run_mode(base: str, jobs: int | None, out: Path, suite: str | None = None) -> tuple[float, dict[str, Any]]:
    cmd = [PY, "-m", "harness.cli", "run", "--target", base, "--token", TOKEN, "--admin-token", ADMIN,
           "-q", "--format", "json", "--report-dir", str(out)] + ([] if jobs is None else ["--jobs", str(jobs)]) \
        + ([] if suite is None else ["--suite", suite])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"run failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wall, json.loads((out / "report.json").read_text())


def content(report: dict[str, Any]) -> list[Any]:
    """What a run found, without timings, ids or messages; a step's checks sorted (the driver pushes
    several people at once, so their order inside a step follows the target's timing)."""
    text = re.sub(r"scimh-[0-9a-f]{6}-", "scimh-RUN-", json.dumps(report["run"]["scenarios"]))
    return [(sc["name"], sc["status"], [(st["name"], st["status"], sorted((c["check_id"], c["status"]) for c in st["checks"]))
                                        for st in sc["steps"]]) for sc in json.loads(text)]


def delayed(report: dict[str, Any], latency_ms: int) -> tuple[int, int]:
    """(SCIM exchanges that took at least the latency, SCIM exchanges) in the report."""
    seen: dict[tuple[str, str, str], float] = {}
    for sc in report["run"]["scenarios"]:
        for st in sc["steps"]:
            for ex in st.get("exchanges", []):
                if "/scim/v2" in ex["url"]:
                    seen[(ex["started"], ex["method"], ex["url"])] = ex["elapsed_ms"]
    return sum(1 for ms in seen.values() if ms >= latency_ms), len(seen)


def measure(latency_ms: int = 50, threads: int = 8, jobs: int | None = None, suite: str | None = None) -> dict[str, Any]:
    """Both modes against one mock: {label: {"wall_s", "report"}}, `--jobs 1` first."""
    server = start_banner_server("mock", [PY, "-m", "mock_clockwise", "--port", "0", "--token", TOKEN,
                                          "--admin-token", ADMIN, "--workers", "3", "--threads", str(threads)])
    runs: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
            for label, n in (("jobs 1", 1), ("default" if jobs is None else f"jobs {jobs}", jobs)):
                set_latency(server.base, latency_ms)
                wall, report = run_mode(server.base, n, Path(tmp) / label.replace(" ", ""), suite)
                runs[label] = {"wall_s": wall, "report": report}
    finally:
        server.stop()
    return runs


def figures(runs: dict[str, Any], latency_ms: int, threads: int) -> dict[str, Any]:
    """The figures of both modes, their ratio, and whether they found the same (`identical`)."""
    (l1, a), (l2, b) = runs.items()
    sa, sb = a["report"]["summary"], b["report"]["summary"]
    same = {"check counts": sa["checks"] == sb["checks"], "scenario counts": sa["scenarios"] == sb["scenarios"],
            "verdicts": [v["line"] for v in sa["verdicts"]] == [v["line"] for v in sb["verdicts"]],
            "content": content(a["report"]) == content(b["report"])}
    return {"latency_ms": latency_ms, "mock_threads_per_worker": threads, "modes": [l1, l2],
            l1: {"wall_s": round(a["wall_s"], 2), "checks": sa["checks"], "delayed_scim_requests": delayed(a["report"], latency_ms)},
            l2: {"wall_s": round(b["wall_s"], 2), "checks": sb["checks"], "delayed_scim_requests": delayed(b["report"], latency_ms)},
            "ratio": round(a["wall_s"] / b["wall_s"], 2), "identical": same,
            "verdicts": [v["line"] for v in sb["verdicts"]]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--threads", type=int, default=8, help="threads per mock worker process (default 8)")
    ap.add_argument("--jobs", type=int, default=None, help="the parallel mode's --jobs (default: the harness's default)")
    ap.add_argument("--suite", default=None, help="the runs' --suite (default: every suite)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    found = figures(measure(args.latency_ms, args.threads, args.jobs, args.suite), args.latency_ms, args.threads)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print(f"latency fault {args.latency_ms} ms on every SCIM request; mock: 3 workers x {args.threads} threads")
        for label in found["modes"]:
            f = found[label]
            d, n = f["delayed_scim_requests"]
            print(f"  {label:8} {f['wall_s']:7.2f} s   checks {f['checks']}   SCIM requests delayed {d}/{n}")
        print(f"  ratio {found['ratio']:.2f}x   identical: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in found["identical"].items()))
        print("  verdicts: " + "; ".join(found["verdicts"]))
    return 0 if all(found["identical"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
