"""`scim-harness run`: exit codes 0 / 1 / 2, reports written, tokens never printed."""
from __future__ import annotations

import json
import signal
import socket
from pathlib import Path
from typing import Iterator

import pytest

from harness.cli import main
from harness.embedded import EmbeddedMock
from tests.harness.processes import Cli, named

PASSING = """\
name: cli-pass
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1, expect: {status: 201}}
  - name: read
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 200, json: {active: true}}
---
name: cli-clockwise
requires: [clockwise]
steps:
  - {name: plan, control: plan, expect: {json: {mode: trial}}}
"""
FAILING = """\
name: cli-fail
steps:
  - name: expects the impossible
    request: {method: GET, path: /Users}
    expect: {status: 418}
"""


@pytest.fixture(scope="module")
def mock() -> Iterator[EmbeddedMock]:
    with EmbeddedMock() as m:
        yield m


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--no-such-flag"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --no-such-flag" in err
    code, _, err = run(capsys, "--format", "console,xml")
    assert code == 2 and err == "scim-harness run: error: --format: unknown format(s) xml; choose among console, json, junit, html\n"
    code, _, err = run(capsys, "--target", "http://127.0.0.1:9/scim/v2")
    assert code == 2 and "--target needs --token" in err
    code, _, err = run(capsys, "--tags", "no-such-tag")
    assert code == 2 and "no scenario matches" in err
    assert main([]) == 2


def test_unreachable_target_exits_2_without_traceback(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIM_HARNESS_TOKEN", "env-secret-token")
    code, out, err = run(capsys, "--target", f"http://127.0.0.1:{closed_port()}/scim/v2", "--format", "json")
    assert code == 2
    assert err.startswith("scim-harness run: error: cannot reach target http://127.0.0.1:") and err.count("\n") == 1
    assert "Traceback" not in err + out and "env-secret-token" not in err + out


def test_malformed_scenario_exits_2_naming_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.scim.yaml", "name: bad\nsteps:\n  - name: x\n    action: fly\n")
    code, out, err = run(capsys, "--scenarios", bad, "--report-dir", str(tmp_path / "r"))
    assert code == 2
    assert err.startswith(f"scim-harness run: error: malformed scenario: {bad}:4: steps[0].action: 'fly' is not one of")
    assert not (tmp_path / "r").exists()


def test_passing_run_on_the_embedded_mock_writes_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scen = write(tmp_path, "ok.scim.yaml", PASSING)
    reports = tmp_path / "reports"
    code, out, err = run(capsys, "--scenarios", scen, "--report-dir", str(reports), "--format", "console,json,junit", "--har")
    assert code == 0, out + err
    assert sorted(p.name for p in reports.iterdir()) == ["junit.xml", "report.json", "transcript.har"]
    report = json.loads((reports / "report.json").read_text())
    text = json.dumps(report) + (reports / "transcript.har").read_text()
    assert "cli-pass" in text and "cli-clockwise" in text
    har = json.loads((reports / "transcript.har").read_text())
    auth = [h["value"] for e in har["log"]["entries"] for h in e["request"]["headers"] if h["name"].lower() == "authorization"]
    assert auth and all(v.endswith("[REDACTED]") for v in auth)
    assert "scimh-admin-" not in text + out  # the embedded mock's admin token prefix


def test_a_failed_check_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scen = write(tmp_path, "fail.scim.yaml", FAILING)
    code, out, err = run(capsys, "--scenarios", scen, "--report-dir", str(tmp_path / "r"), "--format", "json")
    assert code == 1, err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert "418" in json.dumps(report)


def test_external_target_with_env_token(capsys: pytest.CaptureFixture[str], tmp_path: Path, mock: EmbeddedMock,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    scen = write(tmp_path, "ok.scim.yaml", PASSING)
    monkeypatch.setenv("SCIM_HARNESS_TOKEN", mock.token)
    # Without the admin token the control plane is invisible: the Clockwise scenario is skipped.
    code, out, err = run(capsys, "--target", mock.base_url or "", "--scenarios", scen, "--report-dir", str(tmp_path / "a"),
                         "--format", "json")
    assert code == 0, err
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    statuses = {s["name"]: s["status"] for s in report["run"]["scenarios"]}
    assert statuses == {"cli-pass": "pass", "cli-clockwise": "skip"}
    assert mock.token not in (tmp_path / "a" / "report.json").read_text()
    code, out, err = run(capsys, "--target", mock.base_url or "", "--admin-token", mock.admin_token, "--scenarios", scen,
                         "--report-dir", str(tmp_path / "b"), "--format", "json")
    assert code == 0, err
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert {s["name"]: s["status"] for s in report["run"]["scenarios"]} == {"cli-pass": "pass", "cli-clockwise": "pass"}
    assert mock.admin_token not in (tmp_path / "b" / "report.json").read_text()


def test_serve_help_names_the_command_the_user_typed() -> None:
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "harness.cli", "serve", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("usage: scim-harness serve ")
    assert "--db PATH" in out.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_parent_alone_stops_the_embedded_mock(signum: int, tmp_path: Path) -> None:
    # `kill PID`, a container stop or a CI runner signal the parent only, not its process group.
    cli = Cli(["run", "--format", "json", "--report-dir", str(tmp_path / "reports")], tmp_path)
    try:
        cli.wait_for("the embedded mock", lambda children: bool(named(children, "mock_clockwise")))
        assert cli.stop_parent(signum) == 128 + signum
        assert cli.left_running() == []
        out = cli.output()
        assert out.strip().splitlines()[-1] == ("scim-harness run: interrupted" if signum == signal.SIGINT
                                                else "scim-harness run: stopped by SIGTERM")
        assert "Traceback" not in out
    finally:
        cli.kill_leftovers()
