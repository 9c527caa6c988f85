"""The benchmarks' smoke run (`python bench/run_all.py --quick`), so CI keeps every benchmark
working. It checks that each one ran and reported, not how fast anything was."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="starts and signals real server processes")


def test_run_all_quick_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    r = subprocess.run([sys.executable, str(REPO / "bench" / "run_all.py"), "--quick", "--output", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    text = out.read_text()
    for heading in ("## Must hold (issue 6)", "## Throughput and latency under the Okta mix",
                    "## The serving stack (issue 13)", "## 100 concurrent clients", "## Lookups as the org grows",
                    "## The driver's bulk provisioning rate", "## Default `scim-harness run`", "## Memory",
                    "## The mock's own CPU per request (issue 13)", "## Parallel runs (`--jobs`, issue 13)"):
        assert heading in text
    assert "Identical between the two modes: check counts yes, scenario counts yes, verdicts yes, content yes" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "bare-workers" in rows and "mock-workers" in rows
    assert "| 0 of " in rows["mock-workers"]  # the mock served the whole Okta mix without a failure
    assert rows["mock (workers): zero failed requests"].endswith("| yes |")
    assert rows["peak RSS holding 2,000 users < 500 MB (1 process)"].endswith("| yes |")
    workers = (os.cpu_count() or 1) + 1
    assert rows[f"peak RSS holding 2,000 users < 500 MB ({workers} workers: all processes + state file)"].endswith(
        "| yes |")
    assert "listen overflows/drops +0" in text
    assert "| keep-alive | yes: 5 requests on 1 connection(s) |" in text  # the default stack's probes ran
    assert "Command: `python bench/bench_mock_scale.py --quick`" in text
    assert "the mock's own CPU per request (Okta mix) halved vs 028a2cf" in text
    assert "page of 100 at startIndex 4,901 of 5,000 users within 1.5x of the first page" in text


def test_splice_replaces_only_the_sections_given() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import run_all
    finally:
        sys.path.remove(str(REPO / "bench"))
    old = "# B\n\n## A\n\nold a\n\n## Lookups\n\nold l\n\n## The driver's\n\nd\n"
    new = run_all.splice(old, ["## Lookups", "", "new l", "", "## CPU", "", "new c", ""])
    assert new == "# B\n\n## A\n\nold a\n\n## Lookups\n\nnew l\n\n## CPU\n\nnew c\n\n## The driver's\n\nd\n"



def test_a_partial_rewrite_says_under_the_title_which_sections_it_rewrote(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import run_all
    finally:
        sys.path.remove(str(REPO / "bench"))
    out = tmp_path / "B.md"
    out.write_text("# B\n\nWritten by the full run.\n\n## Parallel runs\n\nold j\n\n## CPU\n\nold c\n")
    for n in (1, 2):  # a second --sections jobs replaces the first one's line
        run_all.write_sections(out, ["## Parallel runs", "", f"new j{n}", ""], "jobs", run_all.datetime.now(), 0.0, 0.5)
    run_all.write_sections(out, ["## CPU", "", "new c", ""], "mock", run_all.datetime.now(), 0.0, 0.5)
    lines = out.read_text().splitlines()
    stamps = [line for line in lines if line.startswith("Sections '")]
    assert [s.split("--sections ")[1][:4] for s in stamps] == ["mock", "jobs"]
    assert stamps[1].startswith("Sections 'Parallel runs' rewritten by ")
    assert lines[:2] == ["# B", ""] and "Written by the full run." in lines
    assert "new j2" in lines and "new j1" not in lines and "new c" in lines and "old c" not in lines


def test_verdicts_judge_the_workers_model_and_show_one_process_for_reference() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import run_all
    finally:
        sys.path.remove(str(REPO / "bench"))

    def row(rps: float, p99: float, failures: int = 0) -> dict[str, float]:
        return {"rps": rps, "p99": p99, "failures": failures, "requests": 1000}

    cmp = {"settings": {"users": 20},
           "targets": {"mock-workers": row(650, 60, failures=2), "mock-1p": row(500, 40)},
           "ratios": {"mock/bare (workers)": 0.65, "mock (workers)/scim2-server": 2.9, "mock/bare (1p)": 0.5}}
    scale = [(1000, {"filter_ms": 1.0, "get_ms": 1.0}), (100_000, {"filter_ms": 1.6, "get_ms": 1.4})]
    hundred = {"result": {"failures": 0, "requests": 10}, "counters": {"ListenOverflows": 1, "TCPAbortOnData": 3}}
    rss = [{"users": 100_000, "workers": 1, "peak_rss_mb": 501, "state_file_mb": 0, "ok": False},
           {"users": 100_000, "workers": 3, "peak_rss_mb": 300, "state_file_mb": 99, "ok": True}]
    got = {name: ok for name, _, ok in run_all.verdicts(cmp, scale, rss, hundred)}
    assert got["mock (workers) >= 70% of the bare-Flask ceiling"] is False
    assert got["mock (workers) >= 3x scim2-server"] is False
    assert got["mock (workers): zero failed requests"] is False
    assert got["mock (workers): p99 < 50 ms at 20 users"] is False
    assert got["mock (1p) >= 70% of the bare-Flask ceiling"] is None  # reference, not judged
    assert got["filter at 100,000 users within 1.5x of 1,000"] is False
    assert got["GET by id at 100,000 users within 1.5x of 1,000"] is True
    assert got["peak RSS holding 100,000 users < 500 MB (1 process)"] is False
    assert got["peak RSS holding 100,000 users < 500 MB (3 workers: all processes + state file)"] is True
    assert got["100 concurrent clients: no failures, resets or listen overflows"] is False


def test_a_latency_locust_could_not_measure_fails_its_verdict() -> None:
    # locust writes "N/A" for a percentile when nothing was measured (a quick run on a busy machine):
    # the figure is NaN, not a crash, and no "< 50 ms" verdict passes on it.
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import benchlib
        import run_all
    finally:
        sys.path.remove(str(REPO / "bench"))
    assert benchlib.locust_figure("12.5") == 12.5
    p99 = benchlib.locust_figure("N/A")
    cmp = {"settings": {"users": 20},
           "targets": {"mock-workers": {"rps": 0.0, "p99": p99, "failures": 0, "requests": 0}},
           "ratios": {}}
    scale = [(1000, {"filter_ms": 1.0, "get_ms": 1.0}), (100_000, {"filter_ms": 1.0, "get_ms": 1.0})]
    hundred = {"result": {"failures": 0, "requests": 10}, "counters": {}}
    got = {name: ok for name, _, ok in run_all.verdicts(cmp, scale, [], hundred)}
    assert got["mock (workers): p99 < 50 ms at 20 users"] is False


@pytest.mark.parametrize("args, named", [(["--granian-workers", "1"], "--granian-workers"),
                                         (["--granian-workers", "2,x"], "--granian-workers"),
                                         (["--workers", "1", "--stacks", "granian"], "--workers")])
def test_bench_stacks_refuses_a_granian_target_that_would_not_be_granian(args: list[str], named: str) -> None:
    # One worker is the mock's waitress model: a target named `mock-granian-1w` would have measured waitress.
    r = subprocess.run([sys.executable, str(REPO / "bench" / "bench_stacks.py"), *args, "--no-load", "--no-probes"],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith(f"bench_stacks.py: error: {named}")
    assert "Traceback" not in r.stderr and r.stdout == ""
