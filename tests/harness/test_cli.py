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


def test_a_sigkilled_run_leaves_no_mock_behind(tmp_path: Path) -> None:
    # `kill -9`, an OOM killer or a CI timeout gives `run` no chance to stop its mock: the kernel's
    # parent-death signal (harness.embedded) stops it, and the mock stops its own workers.
    cli = Cli(["run", "--format", "console,json", "--report-dir", str(tmp_path / "reports")], tmp_path)
    try:
        # Once the run is under way: a mock killed while it prints its banner dies of the closed pipe anyway.
        cli.wait_for("the run to start", lambda children: bool(named(children, "mock_clockwise"))
                     and "[  1/" in cli.output())
        assert cli.stop_parent(signal.SIGKILL) == -signal.SIGKILL
        assert cli.left_running() == []
    finally:
        cli.kill_leftovers()


# --- conventions (issue 14) ------------------------------------------------------------------------------
OWN = """\
name: my-own-check
rules: ["Acme: a created user is readable at once"]
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1}
  - name: read it back, wrongly
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 418}
"""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import metadata
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"scim-harness {metadata.version('scim-harness')}\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--dialect", "entr"], "argument --dialect: invalid choice: 'entr' (did you mean 'entra'?)"),
    (["run", "--targt", "x"], "unrecognized arguments: --targt x (did you mean '--target'?)"),
    (["rn"], "invalid choice: 'rn' (did you mean 'run'?)"),
    (["run", "--fail-on", "shuold"], "invalid choice: 'shuold' (did you mean 'should'?)"),
])
def test_did_you_mean_for_options_commands_and_choices(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                       message: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(("argv", "message"), [
    (["--suite", "rfx"], "--suite: unknown suite 'rfx' (did you mean 'rfc'?)"),
    (["--format", "console,jsn"], "--format: unknown format(s) jsn (did you mean 'json'?)"),
    (["-k", "users and"], "-k 'users and': unexpected end of the expression"),
    (["--tags", "treshold"], "nothing to run: no scenario matches --tags treshold (did you mean 'threshold'?); the tags are: "),
])
def test_did_you_mean_for_suites_and_formats(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv, "--list")
    assert code == 2 and message in err and err.count("\n") == 1


def test_list_collects_only_and_k_selects(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--list", "-k", "create-users and okta")
    assert code == 0, err
    assert out.splitlines()[:2] == [l for l in out.splitlines() if "create-users" in l][:2]
    assert [l.split()[0] for l in out.splitlines()[:-1]] == ["create-users", "create-users[okta-aiw]",
                                                               "create-users[okta-patch]"]
    assert out.splitlines()[-1] == "3 scenario run(s) selected"
    code, out, _ = run(capsys, "--list", "-k", "rfc")
    assert code == 0 and out.splitlines()[0] == "rfc: discovery" and "0 scenario run(s) and the rfc suite" in out
    code, out, _ = run(capsys, "--list", "-k", "rfc and patch")  # an area (discovery and safety always run)
    assert code == 0 and out.splitlines()[:-1] == ["rfc: discovery", "rfc: patch", "rfc: safety"]


def test_x_stops_after_the_first_failure_and_q_shows_only_failures(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    two = FAILING + "---\n" + FAILING.replace("cli-fail", "cli-fail-again") + "---\n" + PASSING.split("---")[0]
    scen = write(tmp_path, "two.scim.yaml", two)
    code, out, err = run(capsys, "--scenarios", scen, "-x", "-q", "--report-dir", str(tmp_path / "r"),
                         "--format", "console,json")
    assert code == 1, err
    names = [s["name"] for s in json.loads((tmp_path / "r" / "report.json").read_text())["run"]["scenarios"]]
    assert names == ["cli-fail"]
    assert "-x: stopped after the first failure, in cli-fail" in out
    assert "FAIL cli-fail — 1 failed check(s)" in out and "suites:" not in out


def test_report_folders_per_run_with_a_latest_link_and_junitxml(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    scen = write(tmp_path, "ok.scim.yaml", PASSING.split("---")[0])
    monkeypatch.chdir(tmp_path)
    folders = []
    for _ in range(2):
        code, out, err = run(capsys, "--scenarios", scen, "--format", "json", "--junitxml", "ci/junit.xml")
        assert code == 0, err
        folders.append((tmp_path / "reports" / "latest").resolve())
    assert folders[0] != folders[1] and all((f / "report.json").is_file() for f in folders)
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted([folders[0].name, folders[1].name, "latest"])
    assert (tmp_path / "reports" / "latest").is_symlink() and "cli-pass" in (tmp_path / "ci" / "junit.xml").read_text()


def test_fail_on_decides_the_exit_status(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import runner as runner_mod
    from harness.results import CheckResult
    # A SHOULD failure no IdP needs (a Content-Type check in the rfc suite is RFC-only): only --fail-on should fails.
    real = runner_mod.Runner.run_rfc

    def with_a_should_failure(self, areas=None, session=None):  # type: ignore[no-untyped-def]
        results = real(self, ["discovery"], session)
        results[0].steps[0].checks.append(CheckResult("http.content-type", "fail", "RFC 7644 §3.1", "SHOULD", "text/html"))
        return results
    monkeypatch.setattr(runner_mod.Runner, "run_rfc", with_a_should_failure)  # the suite in turn (--jobs 1) runs through it
    code, out, err = run(capsys, "--suite", "rfc", "--jobs", "1", "--report-dir", str(tmp_path / "a"), "--format", "console,json")
    assert code == 0, out + err
    summary = json.loads((tmp_path / "a" / "report.json").read_text())["summary"]
    assert summary["ok"] is True and summary["exit"]["ignored"] == 1 and "PASSED" in out
    code, out, err = run(capsys, "--suite", "rfc", "--jobs", "1", "--fail-on", "should", "--report-dir", str(tmp_path / "b"),
                         "--format", "console,json")
    assert code == 1 and "FAILED" in out and "exit 1: 1 failure(s) fail the run under --fail-on should" in out


def test_a_run_that_checked_nothing_exits_1_with_the_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                            mock: EmbeddedMock) -> None:
    only_clockwise = write(tmp_path, "cw.scim.yaml", PASSING.split("---\n")[1])
    code, out, err = run(capsys, "--target", mock.base_url or "", "--token", mock.token, "--scenarios", only_clockwise,
                         "--suite", "clockwise", "--report-dir", str(tmp_path / "r"), "--format", "json")
    assert code == 1
    assert err == ("scim-harness run: no check ran: needs the Clockwise control plane (/_mock); the target has none\n")


def test_a_users_own_scenario_has_its_section_and_no_say_in_the_verdicts(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path) -> None:
    scen = write(tmp_path, "own.scim.yaml", OWN)
    code, out, err = run(capsys, "--scenarios", scen, "--report-dir", str(tmp_path / "r"), "--format", "console,json")
    assert code == 1, err
    summary = json.loads((tmp_path / "r" / "report.json").read_text())["summary"]
    assert {v["idp"]: v["verdict"] for v in summary["verdicts"]} == {
        "okta": "not assessed", "entra": "not assessed", "onelogin": "not assessed", "pingfederate": "not assessed"}
    own = summary["own_scenarios"]
    assert (own["total"], own["fail"], own["scenarios"][0]["name"]) == (1, 1, "my-own-check")
    assert {"rule": "Acme: a created user is readable at once", "strength": "scenario", "pass": 0, "fail": 1, "skip": 0,
            "error": 0} in summary["rules"]
    assert "Your scenarios (1; not part of the verdicts): 0 passed, 1 failed" in out


def test_validate_is_a_dry_run_with_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = write(tmp_path, "good.scim.yaml", PASSING)
    bad = write(tmp_path, "bad.scim.yaml", "name: bad\nsteps:\n  - name: x\n    action: asign\n    peple: [p1]\n")
    assert main(["validate", good]) == 0
    assert capsys.readouterr().out == "scim-harness validate: 2 scenario(s) in 1 file(s), no problem\n"
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{bad}:4: steps[0].action: 'asign' is not one of: ")
    assert err[0].endswith("(did you mean 'assign'?)")
    assert err[1].startswith(f"{bad}:5: steps[0].peple: unknown key 'peple' (did you mean 'people'?) (allowed: ")
    assert err[-1] == "scim-harness validate: 2 problem(s)" and len(err) == 3
    assert main(["validate", str(tmp_path / "missing.scim.yaml")]) == 1


def test_schema_prints_the_installed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.name == "scenario_schema.json" and path.is_file()
    assert main(["schema", "--json"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads(path.read_text()) and "action" in json.dumps(schema)


def test_scenarios_are_checked_before_the_target_is_contacted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.scim.yaml", "name: bad\nsteps:\n  - name: x\n    action: fly\n")
    code, _, err = run(capsys, "--target", f"http://127.0.0.1:{closed_port()}/scim/v2", "--token", "t",
                       "--scenarios", bad)
    assert code == 2 and err.startswith("scim-harness run: error: malformed scenario: ")


def test_the_copies_kept_for_a_fast_help_match_their_sources() -> None:
    from harness import cli, exit_policy, pytest_plugin
    from harness.conformance import AREA_RUNNERS
    assert cli.FAIL_ON == exit_policy.FAIL_ON and exit_policy.DEFAULT_FAIL_ON == "must"
    assert pytest_plugin.RFC_AREAS == (*AREA_RUNNERS, "safety")
