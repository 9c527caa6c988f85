"""`scim-harness run --target … --timeout 2` against a real loopback server that misbehaves in every
way a real one does (tests/harness/broken_targets.py): each defect is a failed check with a clear
reason, the run ends, its reports are written, no traceback; exit 1 once the target answered,
exit 2 with one line when it never did."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from harness.cli import main
from harness.transcript import MAX_RESPONSE_BYTES
from tests.harness.broken_targets import GIGANTIC_BYTES, BrokenServer, closed_port_url

TOKEN = "broken-target-secret-token-7f3a"
SCENARIO = """\
name: broken-target
setup: {people: 1}
steps:
  - {name: connection, action: test_connection}
  - {name: assign, action: assign, person: p1, expect: {status: 201}}
"""
# mode -> words the failed check's message must contain
REASONS = {
    "reset": "could not reach the target",
    "close": "could not reach the target",
    "hang": "timed out after 2",
    "html": "the response body is not JSON: '<!DOCTYPE html>",
    "invalid-json": "the response body is not JSON",
    "wrong-ctype": "Content-Type is 'text/html'",
    "empty-200": "200 with an empty body",
    "gigantic": "larger than 10 MiB",
    "slow": "still arriving after 2 s",
    "redirect": "redirected (302) to",
}


@pytest.fixture(scope="module")
def server() -> Iterator[BrokenServer]:
    with BrokenServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("scenarios") / "broken.scim.yaml"
    path.write_text(SCENARIO)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], url: str, report_dir: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["run", "--target", url, "--token", TOKEN, "--timeout", "2", "--report-dir", str(report_dir),
                 "--har", *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("mode", sorted(REASONS))
def test_each_defect_is_a_failed_check_with_a_clear_reason(mode: str, server: BrokenServer, scenario: str,
                                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, server.url(mode), tmp_path, "--scenarios", scenario)
    assert code == 1, out + err
    assert "Traceback" not in out + err and err == ""
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [c for s in report["run"]["scenarios"] for st in s["steps"] for c in st["checks"] if c["status"] == "fail"]
    assert failed, report
    assert any(REASONS[mode] in c["message"] for c in failed), [c["message"] for c in failed]
    for name in ("junit.xml", "report.html", "transcript.har"):
        assert (tmp_path / name).stat().st_size > 0
    har = json.loads((tmp_path / "transcript.har").read_text())
    assert har["log"]["entries"]
    assert TOKEN not in "".join(p.read_text(errors="replace") for p in tmp_path.iterdir()) + out


def test_a_gigantic_body_is_read_only_up_to_the_cap(server: BrokenServer, scenario: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, server.url("gigantic"), tmp_path, "--scenarios", scenario, "--format", "json")
    har = json.loads((tmp_path / "transcript.har").read_text())
    sizes = [e["response"]["content"]["size"] for e in har["log"]["entries"] if e["request"]["method"] == "GET"]
    probe_excluded = [s for s in sizes if s > 1000]
    assert probe_excluded and all(s == MAX_RESPONSE_BYTES < GIGANTIC_BYTES for s in probe_excluded)
    # Only the start of an oversized body is kept (in memory, the HAR and the reports), saying so.
    cut = [e["response"]["content"] for e in har["log"]["entries"] if e["response"]["content"]["size"] > 1000]
    assert all(len(c["text"]) < 70_000 and "more bytes read and not kept" in c["text"] for c in cut)
    assert all(c["comment"].startswith("the first 65536 bytes of the 10485760 read") for c in cut)
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 2_000_000


def test_a_target_that_never_answers_or_refuses_is_exit_2_with_one_line(server: BrokenServer, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for url, words in ((server.url("hang-all"), "did not answer within 2 s"), (closed_port_url(), "cannot reach")):
        code, out, err = run(capsys, url, tmp_path)
        assert code == 2
        assert err.count("\n") == 1 and words in err and "Traceback" not in err
        assert TOKEN not in out + err


@pytest.fixture(scope="module")
def full_run(server: BrokenServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, Path]:
    # Every rfc area and every shipped scenario meets HTML error pages.
    out_dir = tmp_path_factory.mktemp("full")
    code = main(["run", "--target", server.url("html"), "--token", TOKEN, "--timeout", "2", "--report-dir",
                 str(out_dir), "--format", "json,junit,html"])
    return code, json.loads((out_dir / "report.json").read_text()), out_dir


def test_the_full_suites_survive_a_broken_target(full_run: tuple[int, dict, Path]) -> None:
    code, report, out_dir = full_run
    assert code == 1
    names = [s["name"] for s in report["run"]["scenarios"]]
    assert any(n.startswith("rfc: ") for n in names) and len(names) > 10
    assert sum(s["status"] in ("fail", "error") for s in report["run"]["scenarios"]) > 10
    assert (out_dir / "junit.xml").stat().st_size and (out_dir / "report.html").stat().st_size


def test_the_rfc_suite_has_no_internal_error_on_a_broken_target(full_run: tuple[int, dict, Path]) -> None:
    # HTML error pages: each area fails its checks and skips those that depend on them, saying why.
    _, report, _ = full_run
    errors = [st.get("error") or "" for s in report["run"]["scenarios"] for st in s["steps"]]
    assert not [e for e in errors if "internal error" in e]
    users = next(s for s in report["run"]["scenarios"] if s["name"] == "rfc: users")
    checks = {c["check_id"]: c for st in users["steps"] for c in st["checks"]}
    assert checks["rfc.users.create.201"]["status"] == "fail" and checks["rfc.users.create.201"]["rule"]
    assert checks["rfc.users.get.200"]["status"] == "skip" and "no user id in the 502 answer" in checks["rfc.users.get.200"]["message"]


@pytest.mark.parametrize("mode", ["html", "invalid-json", "wrong-ctype", "empty-200", "redirect", "reset"])
def test_no_broken_mode_makes_an_internal_error(mode: str, server: BrokenServer, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, server.url(mode), tmp_path, "--suite", "rfc", "--format", "json")
    assert code == 1 and "Traceback" not in out + err
    report = json.loads((tmp_path / "report.json").read_text())
    errors = [st.get("error") or "" for s in report["run"]["scenarios"] for st in s["steps"]]
    assert errors and not [e for e in errors if "internal error" in e]


def test_the_console_command_shows_no_traceback(server: BrokenServer, scenario: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--target", server.url("reset"), "--token",
                           TOKEN, "--timeout", "2", "--scenarios", scenario, "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr and TOKEN not in proc.stdout + proc.stderr
    assert "could not reach the target" in proc.stdout


@pytest.mark.parametrize("jobs", [1, 8])  # 8: the default against --target
@pytest.mark.parametrize("mode", ["hang", "slow"])
def test_a_target_that_stops_answering_stops_the_run(mode: str, jobs: int, server: BrokenServer, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The full default run (rfc suite and every shipped scenario) after the probe: 3 consecutive transport
    # failures and nothing more is sent; what did not run is skipped with that reason; reports are written.
    before = len(server.requests)
    code = main(["run", "--target", server.url(mode), "--token", TOKEN, "--timeout", "1", "--report-dir",
                 str(tmp_path), "--format", "console,json,junit,html", "--har", "--jobs", str(jobs)])
    out, err = capsys.readouterr()
    sent = server.requests[before:]
    assert code == 1 and "Traceback" not in out + err
    # The probe, a few requests that hang, then silence (was ~130); side by side, each other job may
    # have one request under way when the breaker trips.
    assert len(sent) <= 8 + (jobs - 1), sent
    report = json.loads((tmp_path / "report.json").read_text())
    scenarios = report["run"]["scenarios"]
    reason = "the target stopped answering (3 consecutive transport failures: "
    skipped = [s for s in scenarios if s["status"] == "skip"]
    assert len(skipped) > 10 and all(reason in (s.get("skipped") or "") for s in skipped[1:])
    assert {s["name"] for s in scenarios} >= {"rfc: users", "rfc: safety", "create-users"}
    safety = next(s for s in scenarios if s["name"] == "rfc: safety")
    assert "cleanup not attempted: " + reason in safety["steps"][0]["error"]
    for name in ("junit.xml", "report.html", "transcript.har"):
        assert (tmp_path / name).stat().st_size > 0
    assert reason in out
