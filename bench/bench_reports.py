"""Benchmark: writing the reports of a whole run (scrubbing the document of every secret, then report.json,
junit.xml and report.html), against the floor of touching every value once (`json.dumps` of the same
document, compact), measured in the same run.

It runs `scim-harness run` on the embedded mock once for a real document (report.json), gives it a run's
worth of secrets (as many org tokens as the run opened orgs, random like the real ones, some of them
planted in its strings, raw and escaped), then times each step --rounds times and prints medians.

    python bench/bench_reports.py [--rounds 3] [--secrets 120] [--json]
"""
from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.redaction import REDACTED, redactor_for  # noqa: E402
from harness.reports import WRITERS  # noqa: E402
from harness.reports.json_report import scrub_value  # noqa: E402

PY = sys.executable


def real_document(tmp: Path) -> dict[str, Any]:
    cmd = [PY, "-m", "harness.cli", "run", "-q", "--format", "json", "--report-dir", str(tmp / "r")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"the run failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(next((tmp / "r").rglob("report.json")).read_text())


def plant(document: dict[str, Any], tokens: list[str]) -> int:
    """Put tokens in some exchanges' URLs (URL-encoded) and bodies (raw): what the scrub must find."""
    planted = 0
    for sc in document["run"]["scenarios"][::7]:
        for st in sc["steps"][:1]:
            for ex in st.get("exchanges", [])[:1]:
                token = tokens[planted % len(tokens)]
                ex["url"] += "&t=" + urllib.parse.quote(token)
                ex["response_body"] = (ex.get("response_body") or "") + f" {token}"
                planted += 1
    return planted


def median_s(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secrets", type=int, default=120, help="secrets of the run (default 120: a full mock run has ~118)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp_name:
        tmp = Path(tmp_name)
        document = real_document(tmp)
        tokens = [secrets.token_urlsafe(18) for _ in range(args.secrets)]
        planted = plant(document, tokens)
        redactor_for(tokens)  # compiled once, as the run's redactor is by the time reports are written
        clean = scrub_value(document, tokens)
        text = json.dumps(clean)
        assert not any(t in text for t in tokens) and text.count(REDACTED) >= 2 * planted
        figures = {"secrets": len(tokens), "planted": planted, "document_mb": round(len(text) / 2**20, 1),
                   "floor_json_dumps_s": median_s(lambda: json.dumps(document), args.rounds),
                   "scrub_s": median_s(lambda: scrub_value(document, tokens), args.rounds)}
        for fmt, writer in WRITERS.items():
            figures[f"{fmt}_s"] = median_s(lambda: writer(clean, tmp / f"out.{fmt}"), args.rounds)
    total = figures["scrub_s"] + sum(figures[f"{f}_s"] for f in WRITERS)
    figures["total_s"] = total
    figures["total_over_floor"] = total / figures["floor_json_dumps_s"]
    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}, indent=2))
    else:
        print(f"document {figures['document_mb']} MiB, {len(tokens)} secrets ({planted} planted, all scrubbed)")
        for key in ("floor_json_dumps_s", "scrub_s", *(f"{f}_s" for f in WRITERS), "total_s"):
            print(f"  {key.removesuffix('_s'):18} {figures[key]:7.3f} s")
        print(f"  reports / floor    {figures['total_over_floor']:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
