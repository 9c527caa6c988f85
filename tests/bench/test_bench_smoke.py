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
                    "## 100 concurrent clients", "## Lookups as the org grows",
                    "## The driver's bulk provisioning rate", "## Default `scim-harness run`", "## Memory"):
        assert heading in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "bare-workers" in rows and "mock-workers" in rows
    assert "| 0 of " in rows["mock-workers"]  # the mock served the whole Okta mix without a failure
    assert rows["mock (workers): zero failed requests"].endswith("| yes |")
    assert rows["peak RSS holding 2,000 users < 500 MB"].endswith("| yes |")
    assert "listen overflows/drops +0" in text
    assert "Command: `python bench/bench_mock_scale.py --quick`" in text
