"""Benchmark: our `rfc` suite against scim2-tester, on the same scim2-server, in one run.

Neither scim2-server nor scim2-tester is a dependency of this project: they live in a separate
virtualenv, which this script finds with --other-venv or $SCIM_HARNESS_OTHER_VENV (default
/tmp/othervenv). Create it with:

    python3 -m venv /tmp/othervenv && /tmp/othervenv/bin/pip install scim2-server scim2-tester scim2-cli

The script starts `scim2-server` on a free 127.0.0.1 port with a random bearer token, runs our
suite (in this process, over real HTTP) and scim2-tester's check_server() (in the other venv),
stops the server, and prints for each tool: distinct check ids, distinct checks counting each
subject (attribute, endpoint, resource type) once, results, and wall time — plus the ratios.

    python bench/bench_conformance.py [--other-venv PATH] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.conformance import run_rfc  # noqa: E402
from harness.transcript import Transcript  # noqa: E402

TESTER = r"""
import json, sys, time
t0 = time.perf_counter()
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
t1 = time.perf_counter()
client = SyncSCIMClient(Client(base_url=sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]}))
results = check_server(client)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1, "results": [
    {"title": r.title, "resource_type": r.resource_type, "status": r.status.name, "reason": r.reason or ""} for r in results]}))
"""
ID_LIKE = re.compile(r"\b[0-9a-f]{16,}\b|\b[0-9a-f-]{36}\b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(venv: Path, port: int, token: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(venv / "bin" / "scim2-server"), "--hostname", "127.0.0.1", "--port", str(port),
                             "--bearer-token", token], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"scim2-server did not start on port {port}")


def ours(base: str, token: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}", "Accept": "application/scim+json"},
                      timeout=30) as client:
        areas = run_rfc(client, Transcript())
    wall = time.perf_counter() - t0
    checks = [c for sc in areas for st in sc.steps for c in st.checks]
    ran = [c for c in checks if c.status != "skip"]
    return {"tool": "scim-harness --suite rfc", "wall_s": wall,
            "distinct_ids": len({c.check_id.split("[", 1)[0] for c in ran}),
            "distinct_checks": len({c.check_id for c in ran}), "results": len(checks),
            "failed": sum(c.status in ("fail", "error") for c in checks),
            "requests": sum(len(st.exchanges) for sc in areas for st in sc.steps)}


def theirs(venv: Path, base: str, token: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = subprocess.run([str(venv / "bin" / "python"), "-c", TESTER, base, token], capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"scim2-tester failed: {out.stderr.strip()[-500:]}")
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    ran = [r for r in doc["results"] if r["status"] != "SKIPPED"]
    # A check of scim2-tester is one title; an instance is a title on one resource type and subject
    # (its reason names the attribute it touched, minus generated ids).
    return {"tool": "scim2-tester (check_server)", "wall_s": doc["run_s"], "process_wall_s": wall,
            "distinct_ids": len({r["title"] for r in ran}),
            "distinct_checks": len({(r["title"], r["resource_type"], ID_LIKE.sub("<id>", r["reason"])) for r in ran}),
            "results": len(doc["results"]), "failed": sum(r["status"] in ("ERROR", "CRITICAL") for r in doc["results"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other-venv", default=os.environ.get("SCIM_HARNESS_OTHER_VENV", "/tmp/othervenv"),
                        help="virtualenv holding scim2-server and scim2-tester (env SCIM_HARNESS_OTHER_VENV)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    venv = Path(args.other_venv)
    if not (venv / "bin" / "scim2-server").exists():
        print(f"no scim2-server in {venv}; create the venv as the module docstring shows", file=sys.stderr)
        return 2
    port, token = free_port(), secrets.token_urlsafe(16)
    server = start_server(venv, port, token)
    try:
        base = f"http://127.0.0.1:{port}/v2"
        a = ours(base, token)
        b = theirs(venv, base, token)
    finally:
        server.terminate()
        server.wait(timeout=10)
    ratios = {"distinct_ids": a["distinct_ids"] / max(b["distinct_ids"], 1),
              "distinct_checks": a["distinct_checks"] / max(b["distinct_checks"], 1),
              "wall_time": a["wall_s"] / max(b["wall_s"], 1e-9)}
    if args.json:
        print(json.dumps({"ours": a, "scim2_tester": b, "ratios": ratios}, indent=2))
    else:
        print(f"target: scim2-server on 127.0.0.1:{port} (one server, both tools)")
        print(f"{'tool':32} {'check ids':>10} {'checks':>8} {'results':>8} {'failed':>7} {'wall s':>8}")
        for r in (a, b):
            print(f"{r['tool']:32} {r['distinct_ids']:>10} {r['distinct_checks']:>8} {r['results']:>8} {r['failed']:>7} {r['wall_s']:>8.2f}")
        print(f"scim2-tester process incl. interpreter start and imports: {b['process_wall_s']:.2f} s")
        print(f"ratios ours/theirs: check ids x{ratios['distinct_ids']:.1f}, checks x{ratios['distinct_checks']:.1f}, "
              f"wall time x{ratios['wall_time']:.2f}")
    ok = ratios["distinct_checks"] >= 2 and ratios["distinct_ids"] >= 2 and ratios["wall_time"] < 1
    print("requirement (>= 2x the distinct checks, in less wall time):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
