"""`scim-harness run` against a target that attacks its client (tests/harness/hostile_targets.py), issue 17
items 1-6: the run ends within its --timeout budget, exit 1 (2 when the target never answered properly),
its reports written, no traceback, and no form of the token in any output."""
from __future__ import annotations

import html
import json
import os
import resource
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Iterator

import pytest

from harness.cli import main
from mock_okta.backoff import LONGEST_WAIT, Backoff, first_wait
from tests.harness.hostile_targets import HostileServer

# Every character JSON, URLs and HTML escape differently.
TOKEN = 'hostile"tok\\en/with<&>-7f3a'
ONE_STEP = """\
name: hostile
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1, expect: {status: 201}}
"""
IMPORT = """\
name: hostile-import
setup: {people: 1}
steps:
  - {name: import, action: import_users}
"""


def forms(secret: str) -> list[str]:
    """The forms a secret takes in JSON, URLs and HTML, and the same escaped twice."""
    js = json.dumps(secret)[1:-1]
    return [secret, js, js.replace("/", "\\/"), json.dumps(js)[1:-1], urllib.parse.quote(secret, safe=""),
            urllib.parse.quote_plus(secret), html.escape(secret), html.escape(js), html.escape(json.dumps(js)[1:-1])]


def leaks(text: str, secret: str = TOKEN) -> list[str]:
    return [f for f in forms(secret) if f in text]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def scenario(tmp_path: Path) -> str:
    path = tmp_path / "hostile.scim.yaml"
    path.write_text(ONE_STEP)
    return str(path)


def _all_output(report_dir: Path, *streams: str) -> str:
    files = "".join(p.read_text(errors="replace") for p in report_dir.iterdir() if p.is_file())
    return files + "".join(streams)


def _run_subprocess(args: list[str], *, memory_limit: int, timeout: float, out_file: Path) -> tuple[int, str, int]:
    """`scim-harness run ...` as its own process under an address-space limit, killed after `timeout`:
    (exit status, output, its peak RSS in bytes)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    with out_file.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", *args], stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=limit)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out_file.read_text(errors="replace"), usage.ru_maxrss * 1024


def test_an_endless_probe_body_is_read_up_to_the_cap(server: HostileServer, scenario: str, tmp_path: Path) -> None:
    # Item 1: the probe read without a cap and grew to 23.7 GB. Under a 1.5 GiB address-space limit the
    # old code dies with a MemoryError traceback; now the probe reads 10 MiB and the run goes on.
    reports = tmp_path / "reports"
    code, out, _ = _run_subprocess(["--target", server.url("endless"), "--token", TOKEN, "--timeout", "3",
                                    "--scenarios", scenario, "--report-dir", str(reports), "--har"],
                                   memory_limit=1536 * 1024 * 1024, timeout=90, out_file=tmp_path / "out.txt")
    assert code == 1, out
    assert "Traceback" not in out and "MemoryError" not in out
    assert json.loads((reports / "report.json").read_text())["summary"]["ok"] is False
    assert json.loads((reports / "transcript.har").read_text())["log"]["entries"]
    assert not leaks(_all_output(reports, out))


def test_a_dripping_probe_ends_within_the_timeout(server: HostileServer, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # Item 2: one byte every 0.5 s beat every per-read timeout; --timeout 2 took 44-240 s.
    t0 = time.monotonic()
    code = main(["run", "--target", server.url("drip"), "--token", TOKEN, "--timeout", "2",
                 "--report-dir", str(tmp_path)])
    took = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert code == 2 and took < 6, (took, err)
    assert err.count("\n") == 1 and "did not answer within 2 s" in err and "Traceback" not in out + err
    assert not leaks(out + err)


def test_a_probe_body_that_stops_midway_ends_at_the_timeout(server: HostileServer, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # Item 2: a target silent after half a body cost the timeout twice (the budget, then one more read).
    t0 = time.monotonic()
    code = main(["run", "--target", server.url("stall"), "--token", TOKEN, "--timeout", "2",
                 "--report-dir", str(tmp_path)])
    took = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert code == 2 and took < 3.2, (took, err)
    assert err.count("\n") == 1 and "did not answer within 2 s" in err


def test_endless_import_pages_cost_disk_not_memory_and_the_run_stops(server: HostileServer, tmp_path: Path) -> None:
    # Item 3: pages of 9.5 MiB with totalResults 10^9 were all kept in memory (MemoryError, then a traceback
    # while writing the HAR, no HAR). Now bodies past 32 MiB go to disk, the run stops after 256 MiB read,
    # and the HAR is written one entry at a time.
    path = tmp_path / "import.scim.yaml"
    path.write_text(IMPORT)
    reports = tmp_path / "reports"
    code, out, peak = _run_subprocess(["--target", server.url("pages"), "--token", TOKEN, "--timeout", "5",
                                       "--scenarios", str(path), "--report-dir", str(reports), "--har"],
                                      memory_limit=4 * 1024 ** 3, timeout=120, out_file=tmp_path / "out.txt")
    assert code == 1, out[-3000:]
    assert "Traceback" not in out and "MemoryError" not in out
    assert "the target stopped answering within the run's limits" in out and "256 MiB a run reads in all" in out
    assert peak < 1024 ** 3, peak  # the transcript holds ~32 MiB; the rest is the driver's parsed pages
    har = reports / "transcript.har"
    assert har.stat().st_size > 200 * 1024 ** 2  # every page, whole, in the HAR
    with har.open("rb") as f:
        assert f.read(8) == b'{"log": '
        f.seek(-5, 2)
        assert f.read() == b"\n]}}\n"
    assert json.loads((reports / "report.json").read_text())["summary"]["stopped"]


def test_a_token_echoed_in_every_escaped_form_is_in_no_output(server: HostileServer, scenario: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # Item 4: the target echoes the token raw, JSON-escaped (\" \\ \/ \uXXXX) and URL-encoded.
    code = main(["run", "--target", server.url("echo"), "--token", TOKEN, "--timeout", "2", "--scenarios", scenario,
                 "--report-dir", str(tmp_path), "--har", "-v"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert "[REDACTED]" in out and "bad token" in out  # the echo was shown, the token was not
    for name in ("report.json", "report.html", "junit.xml", "transcript.har"):
        text = (tmp_path / name).read_text()
        assert not leaks(text), (name, leaks(text))
        assert "[REDACTED]" in text
    assert not leaks(out + err)


def test_a_body_nested_100000_deep_is_a_finding(server: HostileServer, scenario: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Item 5: `[` × 100,000 was a RecursionError traceback, exit 1, no reports.
    code = main(["run", "--target", server.url("deep"), "--token", TOKEN, "--timeout", "2", "--report-dir",
                 str(tmp_path), "--format", "console,json,junit,html", "--har"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err and "RecursionError" not in out + err
    report = json.loads((tmp_path / "report.json").read_text())
    messages = [c["message"] for s in report["run"]["scenarios"] for st in s["steps"] for c in st["checks"]
                if c["status"] == "fail"]
    assert any("not JSON" in m for m in messages), messages[:5]
    for name in ("junit.xml", "report.html", "transcript.har"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize("mode,okta_wait", [("429-neg", 300), ("429-none", 300), ("429-date", 300),
                                            ("429-huge", 86400)])
def test_429_waits_are_capped_and_shown(mode: str, okta_wait: int, server: HostileServer, scenario: str,
                                        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Item 6: 300 s doubling × 10 (42 h) per request, silent; Retry-After 999999999 slept 31 years.
    t0 = time.monotonic()
    code = main(["run", "--target", server.url(mode), "--token", TOKEN, "--timeout", "2", "--scenarios", scenario,
                 "--report-dir", str(tmp_path), "--max-wait", "0.01"])
    took = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert code == 1 and took < 30 and "Traceback" not in out + err
    flat = " ".join(out.split())
    assert f"Okta waits {okta_wait:g} s; waiting 0.01 s (capped by --max-wait)" in flat
    assert flat.count("429 (") == 9  # 10 attempts, 9 waits, each on the console
    report = json.loads((tmp_path / "report.json").read_text())
    failures = " ".join(f["message"] for f in report["summary"]["failures"])
    assert "on 10 attempts, each wait capped at 0.01 s, shorter than Okta's" in failures


def test_retry_after_values_a_target_can_send() -> None:
    assert first_wait("-5") == first_wait(None) == first_wait("Wed, 21 Oct 2015 07:28:00 GMT") == 300
    assert first_wait("7") == 7
    assert first_wait("999999999") == LONGEST_WAIT
    assert first_wait("9" * 5000) == LONGEST_WAIT  # int() refuses 4,301+ digits: no ValueError
    slept: list[float] = []
    told: list[tuple[float, float, str | None]] = []
    backoff = Backoff(sleep=slept.append, max_wait=2.0, on_wait=lambda *a: told.append(a))
    import httpx
    answers = iter([httpx.Response(429, headers={"Retry-After": "999999999"})] * 3 + [httpx.Response(200)])
    response, exhausted = backoff.run(lambda: next(answers))
    assert response.status_code == 200 and exhausted is None
    assert slept == [2.0, 2.0, 2.0] and [t[0] for t in told] == [LONGEST_WAIT] * 3
