"""`scim-harness load`: short real locust runs (a few seconds each) against the embedded mock
and against a --target, the exit codes of its thresholds, and its usage errors."""
from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from harness import load
from harness.cli import main
from tests.harness.processes import Cli, free_port, named

pytestmark = pytest.mark.skipif(os.name != "posix", reason="starts real processes and stops them with signals")


def aggregated(report_dir: Path, output: str) -> dict[str, str]:
    """The run's request and failure counts, from locust's final "Aggregated" line in `output`. Not from
    load_stats.csv, which must be there: locust rewrites it once a second while running and flushes it every
    10 s or at its close, so a short run's file can lack its last second, or its rows when read (the flake)."""
    assert (report_dir / "load_stats.csv").is_file()
    *_, last = re.finditer(r"^\s*Aggregated\s+(\d+)\s+(\d+)\(", output, re.MULTILINE)
    return {"Request Count": last.group(1), "Failure Count": last.group(2)}


def test_embedded_mock_run_exits_0_and_writes_reports(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "--duration", "3s", "--users", "6", "--spawn-rate", "6", "--report-dir", str(tmp_path)])
    out, err = capfd.readouterr()
    assert code == 0, err[-2000:]
    stats = aggregated(tmp_path, out + err)
    assert int(stats["Request Count"]) > 0 and int(stats["Failure Count"]) == 0
    html = (tmp_path / "load.html").read_text()
    assert "<html" in html.lower() and "/Users" in html
    assert "embedded mock at http://127.0.0.1:" in out
    assert "Traceback" not in out + err


def test_target_in_distributed_mode_with_a_p95_threshold_exits_1(tmp_path: Path, mock_process: Callable[..., Any],
                                                                 capfd: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    srv = mock_process("--token", "load-token", "--admin-token", "load-admin")
    monkeypatch.setenv(load.TOKEN_ENV, "load-token")  # the token from the environment, as documented
    code = main(["load", "--target", srv.base, "--workers", "1", "--duration", "3s", "--users", "4",
                 "--spawn-rate", "4", "--p95-ms", "0.001", "--report-dir", str(tmp_path)])
    out, err = capfd.readouterr()
    assert code == 1  # no request is answered within a microsecond
    assert "✓ fail ratio 0.00% ≤ 0.00%" in out and "> 0.001 ms" in out  # each threshold's verdict, as k6 prints
    assert next(line for line in out.splitlines() if line.startswith("✗ p95 ")).endswith(" ms > 0.001 ms")
    stats = aggregated(tmp_path, out + err)
    assert int(stats["Request Count"]) > 0 and int(stats["Failure Count"]) == 0  # served fine, only slow
    assert (tmp_path / "load.html").is_file()
    assert "load-token" not in out + err  # the token never reaches the output
    assert srv.stop() == 0


@pytest.mark.parametrize("ratio, exit_code, verdict", [
    ("0.5", 1, "✗ fail ratio 100.00% > 50.00%"),
    ("1", 0, "✓ fail ratio 100.00% ≤ 100.00%"),  # locust alone exits 1 on any failure: the threshold decides
])
def test_the_fail_ratio_decides_the_exit_code_and_says_so(ratio: str, exit_code: int, verdict: str, tmp_path: Path,
                                                          mock_process: Callable[..., Any],
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    srv = mock_process("--token", "right-token", "--admin-token", "load-admin")
    code = main(["load", "--target", srv.base, "--token", "wrong-token", "--duration", "2s", "--users", "2",
                 "--spawn-rate", "2", "--fail-ratio", ratio, "--report-dir", str(tmp_path)])
    out, err = capfd.readouterr()
    assert code == exit_code, err[-2000:]
    assert verdict in out
    stats = aggregated(tmp_path, out + err)
    assert int(stats["Failure Count"]) == int(stats["Request Count"]) > 0  # every request got a 401
    with open(tmp_path / "load_failures.csv", newline="") as f:
        assert any("401" in row["Error"] for row in csv.DictReader(f))
    assert srv.stop() == 0


def test_a_dead_target_is_one_line_and_exit_2(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "--target", f"http://127.0.0.1:{free_port()}/scim/v2", "--token", "t", "--duration", "2s",
                 "--report-dir", str(tmp_path)])
    out, err = capfd.readouterr()
    assert code == 2
    assert err.startswith("scim-harness load: error: cannot reach target http://127.0.0.1:") and err.count("\n") == 1
    assert "Traceback" not in out + err and not (tmp_path / "load_stats.csv").exists()


def test_the_locustfile_counts_unanswered_requests_as_failures_without_a_traceback(tmp_path: Path) -> None:
    # A target that dies during a run (here: never there): one failure per request, no traceback.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"SCIM_TOKEN": "t"}
    proc = subprocess.run([sys.executable, "-m", "locust", "-f", str(load.default_locustfile()), "--headless", "-u", "2",
                           "-r", "2", "-t", "2s", "--host", f"http://127.0.0.1:{free_port()}/scim/v2",
                           "--csv", str(tmp_path / "load")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr and "Error" not in (tmp_path / "load_exceptions.csv").read_text()
    assert "✗ fail ratio 100.00% > 0.00%" in proc.stdout
    with open(tmp_path / "load_failures.csv", newline="") as f:
        errors = [row["Error"] for row in csv.DictReader(f)]
    assert errors and all("no answer: " in e for e in errors)


def test_web_autostart_runs_the_given_users_for_the_duration_and_writes_reports(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["load", "--web", "--autostart", "--web-port", str(free_port()), "--duration", "3s", "--users", "3",
                 "--spawn-rate", "3", "--mock-workers", "1", "--report-dir", str(tmp_path)])
    out, err = capfd.readouterr()
    assert code == 0, err[-2000:]
    assert "(3 total users)" in err and "runs 3s, then quits" in out and "✓ fail ratio" in out
    assert int(aggregated(tmp_path, out + err)["Request Count"]) > 0 and (tmp_path / "load.html").is_file()


def test_sigterm_to_the_parent_alone_stops_the_mock_its_workers_and_locust(tmp_path: Path) -> None:
    cli = Cli(["load", "--duration", "60s", "--users", "2", "--spawn-rate", "2", "--mock-workers", "2",
               "--report-dir", str(tmp_path)], tmp_path)
    try:
        # The mock, its two workers, and locust sending load.
        cli.wait_for("mock workers and locust", lambda c: len(named(c, "mock_clockwise")) == 3 and named(c, "locust"))
        time.sleep(1)
        assert len(cli.seen) == 4
        cli.stop_parent(signal.SIGTERM)
        assert cli.left_running() == [], cli.output()[-2000:]
        assert "Traceback" not in cli.output() and (tmp_path / "load.html").is_file()
    finally:
        cli.kill_leftovers()


def test_sigterm_stops_the_web_ui_whose_form_holds_the_options_and_reports_are_written(tmp_path: Path) -> None:
    port = free_port()
    cli = Cli(["load", "--web", "--web-port", str(port), "--users", "7", "--spawn-rate", "2", "--duration", "9s",
               "--mock-workers", "1", "--report-dir", str(tmp_path)], tmp_path)
    try:
        cli.wait_for("the web UI", lambda c: _answers(port))
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
        assert '"num_users": 7' in page and '"spawn_rate": 2.0' in page and '"run_time": 9' in page
        cli.stop_parent(signal.SIGTERM)
        assert cli.left_running() == [], cli.output()[-2000:]
        assert (tmp_path / "load.html").is_file() and (tmp_path / "load_stats.csv").is_file()
    finally:
        cli.kill_leftovers()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("argv, message", [
    (["--duration", "ten seconds"], "--duration"),
    (["--users", "0"], "--users"),
    (["--workers", "-1"], "--workers"),
    (["--fail-ratio", "2"], "--fail-ratio"),
    (["--mock-workers", "0"], "--mock-workers"),
    (["--target", "http://127.0.0.1:9/scim/v2"], "--token"),
    (["--token", "t"], "--target"),
    (["--autostart"], "--autostart needs --web"),
    (["--locustfile", "/no/such/locustfile.py"], "locustfile"),
    (["--no-such-option"], "unrecognized"),
])
def test_bad_options_exit_2_with_one_clear_line(argv: list[str], message: str, tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(load.TOKEN_ENV, raising=False)
    assert exit_code(["load", "--report-dir", str(tmp_path), *argv]) == 2
    _, err = capfd.readouterr()
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "load_stats.csv").exists()


def exit_code(argv: list[str]) -> int:
    """main()'s exit status, whether it returns it or argparse exits."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
