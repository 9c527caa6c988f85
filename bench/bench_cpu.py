"""The mock's own CPU per request, this tree against an earlier commit, measured in the same run.

Runs bench/profile_mock.py (server CPU µs/request per request kind of the Okta mix, in-process,
no HTTP server) in separate processes against three apps, in rotating order, round after round:

- `bare`: bench/bare_flask.py, Flask answering fixed bodies (the floor: Flask's own cost);
- `base`: mock_clockwise as of `--baseline` (default `main`), exported with `git archive` into a
  temporary folder that comes first on PYTHONPATH (profile_mock records which package it ran);
- `head`: mock_clockwise of this working tree.

The same profile_mock.py (this tree's) drives all three, so only the mock differs. The mock's
OWN CPU per request is its figure minus bare Flask's; the ratio head/base of that is the
figure to read. Medians over the rounds; CPU time (not wall time), so a busy machine inflates
every figure alike rather than favouring one side.

    python bench/bench_cpu.py [--baseline REF] [--rounds 5] [--repeat 200] [--json out.json] [--memory]
    python bench/bench_cpu.py --instructions [--baseline REF] [--passes 8]

`--instructions` counts instructions instead of timing: each app runs under valgrind (cachegrind,
no cache simulation; Debian's `valgrind` package), once with 0 and once with N passes of the mix after
the same set-up, and the difference over the requests sent is the figure. It includes the client's
side (building requests, decoding answers), the same for all three, so the own figure (minus bare)
is the mock's alone. Deterministic to ~1% (PYTHONHASHSEED=0), where CPU time on a shared 2-core
machine wanders by 15%; it counts user-space instructions, not system calls nor cache misses.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PROFILE = REPO / "bench" / "profile_mock.py"
MIX = "okta_mix"


def export(ref: str, dest: Path) -> str:
    """mock_clockwise/ of `ref` into dest; returns the commit it names."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", f"{ref}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, "mock_clockwise"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return commit


def one_run(app: str, pythonpath: Path, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), str(REPO / "bench")])}
    cmd = [sys.executable, str(PROFILE), "--no-profile", "--rounds", "1", "--repeat", str(args.repeat),
           "--users", str(args.users), "--app", "bare" if app == "bare" else "mock", "--json", str(out)]
    if args.memory:
        cmd.append("--memory")
    subprocess.run(cmd, check=True, env=env, cwd=pythonpath, stdout=subprocess.DEVNULL)
    result: dict[str, Any] = json.loads(out.read_text())
    if app != "bare" and Path(result["mock_clockwise"]).resolve() != (pythonpath / "mock_clockwise").resolve():
        raise RuntimeError(f"{app}: profile_mock ran {result['mock_clockwise']}, not {pythonpath}")
    return result


def run(baseline: str = "main", rounds: int = 5, repeat: int = 200, users: int = 600,
        memory: bool = False) -> dict[str, Any]:
    args = argparse.Namespace(repeat=repeat, users=users, memory=memory)
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        base_dir = Path(tmp) / "base"
        base_dir.mkdir()
        commit = export(baseline, base_dir)
        trees = {"bare": REPO, "base": base_dir, "head": REPO}
        samples: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
        order = list(trees)
        for r in range(rounds):
            for app in order[r % 3:] + order[:r % 3]:  # rotating order
                res = one_run(app, trees[app], args, Path(tmp) / f"{app}-{r}.json")
                samples[app].append(res["figures"])
                print(f"  round {r + 1}/{rounds} {app}: {res['figures'][MIX]:.0f} µs/request", file=sys.stderr,
                      flush=True)
    kinds = list(samples["head"][0])
    med = {app: {k: statistics.median(s[k] for s in runs) for k in kinds} for app, runs in samples.items()}
    return {"baseline": baseline, "baseline_commit": commit, "rounds": rounds, "repeat": repeat, "users": users,
            "store": "memory" if memory else "WAL file on tmpfs, shared control plane", "median": med,
            "samples": samples}


REQUESTS_PER_PASS = 25  # profile_mock.okta_mix: 4 filters, 4 POSTs, 3 GET+PUT, 2 PATCHes, 2 group add+remove, 5 pages


def _instructions(app: str, pythonpath: Path, users: int, passes: int, out: Path) -> int:
    """User-space instructions (cachegrind's Ir) of one profile_mock run: set-up, warm-up, `passes` passes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), str(REPO / "bench")]), "PYTHONHASHSEED": "0"}
    cmd = ["valgrind", "-q", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}", sys.executable,
           str(PROFILE), "--app", "bare" if app == "bare" else "mock", "--users", str(users), "--passes", str(passes)]
    done = subprocess.run(cmd, env=env, cwd=pythonpath, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{app}: profile_mock under valgrind failed (exit {done.returncode}): {last}")
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"{out}: no summary line from cachegrind")


def run_instructions(baseline: str = "main", passes: int = 8, users: int = 600) -> dict[str, Any]:
    """Instructions per request of the Okta mix for bare Flask, the mock at `baseline` and this tree's."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("--instructions needs valgrind (Debian: apt-get install valgrind)")
    if users < 500:
        raise RuntimeError("--users must be at least 500: the mix reads import pages 1-5 of 100 users")
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        base_dir = Path(tmp) / "base"
        base_dir.mkdir()
        commit = export(baseline, base_dir)
        trees = {"bare": REPO, "base": base_dir, "head": REPO}
        jobs = [(app, n) for app in trees for n in (0, passes)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = dict(zip(jobs, pool.map(lambda job: _instructions(job[0], trees[job[0]], users, job[1],
                                                                         Path(tmp) / f"{job[0]}-{job[1]}.out"), jobs)))
    per_request = {app: (counts[(app, passes)] - counts[(app, 0)]) / (passes * REQUESTS_PER_PASS) for app in trees}
    own = {app: per_request[app] - per_request["bare"] for app in ("base", "head")}
    return {"baseline": baseline, "baseline_commit": commit, "passes": passes, "users": users,
            "per_request": per_request, "own": own, "own_ratio": own["head"] / own["base"],
            "total_ratio": per_request["head"] / per_request["base"]}


def instructions_table(res: dict[str, Any]) -> str:
    per, own, commit = res["per_request"], res["own"], res["baseline_commit"]
    return "\n".join([
        "| Okta mix, per request | bare Flask | mock " + commit + " | mock now | now/before |",
        "|---|---:|---:|---:|---:|",
        f"| instructions, whole request (client side included) | {per['bare'] / 1e6:.2f} M | {per['base'] / 1e6:.2f} M | "
        f"{per['head'] / 1e6:.2f} M | {res['total_ratio']:.2f} |",
        f"| instructions, the mock's own (minus bare Flask) | | {own['base'] / 1e6:.2f} M | {own['head'] / 1e6:.2f} M | "
        f"**{res['own_ratio']:.2f}** |"])


def table(res: dict[str, Any]) -> str:
    med = res["median"]
    bare, base, head = med["bare"], med["base"], med["head"]
    lines = [f"| request | bare Flask µs | mock {res['baseline_commit']} µs | mock now µs | own {res['baseline_commit']} "
             "µs | own now µs | own now/before |", "|---|---:|---:|---:|---:|---:|---:|"]
    for k in head:
        own_b, own_h = base[k] - bare[k], head[k] - bare[k]
        label = "**Okta mix (locustfile weights)**" if k == MIX else k
        lines.append(f"| {label} | {bare[k]:.0f} | {base[k]:.0f} | {head[k]:.0f} | {own_b:.0f} | {own_h:.0f} | "
                     f"{own_h / own_b:.2f} |")
    return "\n".join(lines)


def summary(res: dict[str, Any]) -> dict[str, float]:
    med = res["median"]
    own_b = med["base"][MIX] - med["bare"][MIX]
    own_h = med["head"][MIX] - med["bare"][MIX]
    return {"total_ratio": med["head"][MIX] / med["base"][MIX], "own_before": own_b, "own_now": own_h,
            "own_ratio": own_h / own_b}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="main", help="git ref of the mock to compare with (default main)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--users", type=int, default=600)
    p.add_argument("--memory", action="store_true", help="the in-memory store (--workers 1) instead")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--instructions", action="store_true",
                   help="count instructions under valgrind instead of timing (deterministic; see above)")
    p.add_argument("--passes", type=int, default=8, help="--instructions: passes of the mix (25 requests each)")
    args = p.parse_args(argv)
    if args.instructions:
        try:
            ires = run_instructions(args.baseline, args.passes, args.users)
        except RuntimeError as exc:
            print(f"bench_cpu: {exc}", file=sys.stderr)
            return 2
        print(f"instructions per request of the Okta mix ({args.passes} passes of {REQUESTS_PER_PASS} requests, "
              f"{args.users} users); before = {args.baseline} ({ires['baseline_commit']}), now = this tree")
        print(instructions_table(ires))
        if args.json:
            Path(args.json).write_text(json.dumps(ires, indent=2))
        return 0
    res = run(args.baseline, args.rounds, args.repeat, args.users, args.memory)
    print(f"server CPU µs/request, in-process, median of {args.rounds} rounds ({res['store']}); "
          f"before = {args.baseline} ({res['baseline_commit']}), now = this tree")
    print(table(res))
    s = summary(res)
    print(f"the mock's own CPU per request (minus bare Flask): {s['own_before']:.0f} -> {s['own_now']:.0f} µs "
          f"({s['own_ratio']:.2f}x); whole request {s['total_ratio']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
