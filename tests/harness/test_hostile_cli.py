"""`scim-harness run` given hostile input on its own command line (issue 17, item 7): exit 2 with one line
on stderr, quickly, no traceback, the token never echoed, nothing sent, and report files that are either
whole or absent."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from harness import outputs
from harness.cli import main
from harness.reports import json_report
from tests.harness.hostile_targets import HostileServer
from tests.harness.test_hostile_targets import ONE_STEP, leaks

TOKEN = "cli-hostile-token-9c1e"
BILLION_LAUGHS = "name: lol\n" + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)) + \
    "steps: [{name: s, action: test_connection}]\n"


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str, float]:
    t0 = time.monotonic()
    try:
        code = main(["run", *argv])
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err, time.monotonic() - t0


def one_line_usage(code: int, out: str, err: str) -> None:
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in out + err, err


@pytest.mark.parametrize("token,words", [("tök", "not ASCII"), (TOKEN + "\r", "ends with a carriage return"),
                                         (TOKEN + "\n", "ends with a newline"), ("a b", "a space"), ("", "empty")])
def test_a_token_that_cannot_be_sent_is_refused_without_echoing_it(token: str, words: str, server: HostileServer,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    before = len(server.requests)
    code, out, err, _ = run(capsys, "--target", server.url("echo"), "--token", token)
    one_line_usage(code, out, err)
    assert words in err and (not token.strip() or token.strip() not in err)
    assert len(server.requests) == before  # nothing was sent


def test_a_token_from_the_environment_with_a_newline_is_refused(server: HostileServer, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCIM_HARNESS_TOKEN", TOKEN + "\n")
    code, out, err, _ = run(capsys, "--target", server.url("echo"))
    one_line_usage(code, out, err)
    assert "SCIM_HARNESS_TOKEN: the token ends with a newline" in err and TOKEN not in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e400", "x"])
def test_a_timeout_that_is_no_finite_positive_number_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _ = run(capsys, "--timeout", value)
    one_line_usage(code, out, err)
    assert "--timeout" in err


def test_max_wait_refuses_nan_and_negatives(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("nan", "-1", "inf"):
        code, out, err, _ = run(capsys, "--max-wait", value)
        one_line_usage(code, out, err)
        assert "argument --max-wait: " in err and "unrecognized" not in err


def test_a_password_in_the_target_url_is_never_printed(server: HostileServer, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    password = "url-pa55word-4d2b"
    scenario = tmp_path / "one.scim.yaml"
    scenario.write_text(ONE_STEP)
    url = server.url("echo").replace("http://", f"http://vendor:{password}@")
    code, out, err, _ = run(capsys, "--target", url, "--token", TOKEN, "--timeout", "2", "--scenarios", str(scenario),
                            "--report-dir", str(tmp_path / "r"), "--har", "-v")
    assert code == 1 and "Traceback" not in out + err
    files = "".join(p.read_text() for p in (tmp_path / "r").iterdir())
    assert not leaks(out + err + files, password) and not leaks(out + err + files, TOKEN)
    # ... and not in the one line of an unreachable target either
    code, out, err, _ = run(capsys, "--target", f"http://vendor:{password}@127.0.0.1:1/scim/v2", "--token", TOKEN)
    one_line_usage(code, out, err)
    assert password not in err and "[REDACTED]" in err


@pytest.mark.parametrize("text,words", [
    ("name: deep\nsteps: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
    ("name: deep\nsteps:\n  - name: s\n    request: {method: POST, path: /Users, body: "
     + "{a: " * 5000 + "1" + "}" * 5000 + "}\n", "nested more than 64 levels deep"),
    (BILLION_LAUGHS, "expands to more than 200000 nodes"),
])
def test_hostile_scenario_files_are_refused_fast(text: str, words: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hostile.scim.yaml"
    path.write_text(text)
    code, out, err, took = run(capsys, "--scenarios", str(path), "--report-dir", str(tmp_path / "r"))
    one_line_usage(code, out, err)
    assert words in err and took < 5, (took, err)


def test_a_fifo_as_scenarios_is_refused_not_waited_on(tmp_path: Path) -> None:
    # A subprocess with a deadline: on the old code, reading the FIFO blocks forever.
    fifo = tmp_path / "pipe.scim.yaml"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--scenarios", str(fifo), "--report-dir",
                           str(tmp_path / "r")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_report_dir_that_is_a_file_is_found_before_anything_is_sent(server: HostileServer, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    where = tmp_path / "a-file"
    where.write_text("not a directory")
    before = len(server.requests)
    code, out, err, _ = run(capsys, "--target", server.url("echo"), "--token", TOKEN, "--report-dir", str(where))
    one_line_usage(code, out, err)
    assert "is not a directory" in err and len(server.requests) == before  # not even the probe


def test_a_report_dir_that_is_not_writable_is_found_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    where = tmp_path / "read-only"
    where.mkdir()
    where.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: the refusal the kernel would give, given by the file system call
        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(outputs.tempfile, "TemporaryFile", refuse)
    t0 = time.monotonic()
    code, out, err, _ = run(capsys, "--report-dir", str(where))
    one_line_usage(code, out, err)
    assert "is not writable: Permission denied" in err and time.monotonic() - t0 < 5  # no run, no embedded mock


def test_a_full_disk_is_found_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(outputs.shutil, "disk_usage", lambda path: type("U", (), {"free": 4096})())
    code, out, err, _ = run(capsys, "--report-dir", str(tmp_path))
    one_line_usage(code, out, err)
    assert "has 4 KiB free; the reports need at least 16 MiB" in err


def test_a_disk_filling_up_while_writing_leaves_no_truncated_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "one.scim.yaml"
    scenario.write_text(ONE_STEP.replace("name: hostile", "name: disk"))
    reports = tmp_path / "r"
    reports.mkdir()
    (reports / "report.json").write_text('{"previous": "run"}')

    def half_then_enospc(document: dict, path: Path) -> Path:
        with path.open("w") as f:
            f.write(json.dumps(document)[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setitem(__import__("harness.reports", fromlist=["WRITERS"]).WRITERS, "json", half_then_enospc)
    code, out, err, _ = run(capsys, "--scenarios", str(scenario), "--report-dir", str(reports), "--format", "json")
    one_line_usage(code, out, err)
    assert "No space left on device" in err
    assert json.loads((reports / "report.json").read_text()) == {"previous": "run"}  # whole: the old one
    assert sorted(p.name for p in reports.iterdir()) == ["report.json"]  # no half-written temporary left
    assert json_report.write_json  # the real writer is untouched
