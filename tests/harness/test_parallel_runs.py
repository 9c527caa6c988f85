"""`--jobs N` end to end: the same report content as a sequential run on the embedded mock, names of
their own on a shared target, and the breaker stopping every job at once."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from harness.cli import main
from harness.conformance import AREA_RUNNERS, Suite
from harness.embedded import EmbeddedMock
from harness.runner import Runner
from harness.scenarios import default_scenario_dir, load_paths
from harness.session import Session

SHIPPED = {s.name: s for s in load_paths([default_scenario_dir()])}


@pytest.fixture(scope="module")
def mock() -> Iterator[EmbeddedMock]:
    with EmbeddedMock() as m:
        yield m


def _content(report: dict[str, Any]) -> list[Any]:
    """What a run found, without timings, ids or messages (which name the run's ids). A step's checks as a
    sorted list: the driver pushes several people at once (mock_okta.driver, Okta's own concurrency), so
    their order within one step follows the target's timing, with --jobs 1 too."""
    text = re.sub(r"scimh-[0-9a-f]{6}-", "scimh-RUN-", json.dumps(report["run"]["scenarios"]))
    return [(sc["name"], sc["status"], [(st["name"], st["status"], sorted((c["check_id"], c["status"]) for c in st["checks"]))
                                        for st in sc["steps"]]) for sc in json.loads(text)]


# Every rfc area, and scenarios of each kind a job runs: the Clockwise rules (an org of the job's own through the
# control plane), Okta's OIN tests, and group push in every dialect (the driver's concurrent pushes). 41 runs,
# 3,400 checks: a third of the default run's time, not all 119 scenario runs (the rest add time, not kinds).
SELECTION = ["-k", "rfc or clockwise_plan or okta_oin or groups.scim"]


def _run(tmp_path: Path, jobs: int) -> dict[str, Any]:
    out = tmp_path / f"jobs{jobs}"
    assert main(["run", *SELECTION, "--jobs", str(jobs), "-q", "--format", "json", "--report-dir", str(out)]) == 0
    return json.loads((out / "report.json").read_text())


def test_jobs_4_reports_what_jobs_1_reports(tmp_path: Path) -> None:
    one, four = _run(tmp_path, 1), _run(tmp_path, 4)
    names = [sc["name"] for sc in one["run"]["scenarios"]]
    assert [n for n in names if n.startswith("rfc: ")] == [f"rfc: {a}" for a in (*AREA_RUNNERS, "safety")]
    assert any(n.startswith("clockwise-") for n in names) and any(n.startswith("okta-oin-") for n in names)
    assert one["summary"]["checks"] == four["summary"]["checks"] and one["summary"]["checks"]["total"] > 1000
    assert [v["line"] for v in one["summary"]["verdicts"]] == [v["line"] for v in four["summary"]["verdicts"]]
    assert _content(one) == _content(four)


def test_jobs_on_a_shared_target_use_names_of_their_own_and_clean_up(mock: EmbeddedMock) -> None:
    # No control plane: every job names with its own prefix under the run's, so two scenarios' people never meet.
    scenarios = [SHIPPED[n] for n in ("create-users", "update-attributes", "deactivate-and-reactivate", "okta-oin-crud-test")]
    session = Session(mock.target, use_control_plane=False)
    run = Runner(session, dialect="okta", jobs=4).run(scenarios)
    assert [s.name for s in run.scenarios] == [s.name for s in scenarios]
    assert all(s.status == "pass" for s in run.scenarios), [(s.name, s.status) for s in run.scenarios]
    posts = [ex.request_json()["userName"] for ex in session.transcript if ex.method == "POST" and ex.path.endswith("/Users")]
    assert {u.split("-")[2] for u in posts} == {"1", "2", "3", "4"}
    with mock.target.scim_client() as client:
        left = client.get("/Users", params={"filter": f'userName sw "{session.prefix}"'}).json()
    assert left["totalResults"] == 0


def test_a_scenario_that_times_a_response_runs_with_no_other_job_in_flight(mock: EmbeddedMock) -> None:
    # okta-oin-spec-test times GET /Groups (elapsed_ms < 600, Okta's OIN test): beside other jobs the figure
    # would be the run's own concurrency, so that scenario runs alone (first: it needs no other job); its
    # exchanges are one unbroken stretch of the run's transcript, every other job's after it.
    timed = SHIPPED["okta-oin-spec-test"]
    assert any("elapsed_ms" in step.expect for step in timed.steps)
    others = [SHIPPED[n] for n in ("create-users", "update-attributes", "deactivate-and-reactivate", "okta-oin-crud-test")]
    session = Session(mock.target, use_control_plane=False)
    run = Runner(session, dialect="okta", jobs=4).run([*others[:2], timed, *others[2:]])
    assert all(s.status == "pass" for s in run.scenarios), [(s.name, s.status) for s in run.scenarios]
    mine = {id(ex) for step in run.scenarios[2].steps for ex in step.exchanges}
    places = [i for i, ex in enumerate(session.transcript) if id(ex) in mine]
    assert len(places) == len(mine) > 10
    assert places == list(range(places[0], places[0] + len(places)))  # no other job's exchange in between
    assert places[0] == 0 and places[-1] < len(list(session.transcript)) - 1  # first, and the others after it


def test_the_suites_safety_sweep_on_a_shared_target_leaves_the_jobs_names_to_the_jobs(mock: EmbeddedMock) -> None:
    # No control plane: the rfc suite and the scenarios' jobs share one org, and every job names under the run's
    # prefix (`<prefix>7-…`). A job's user still there when the suite sweeps is not the suite's leftover.
    session = Session(mock.target, use_control_plane=False)
    with mock.target.scim_client() as client:
        other = client.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                            "userName": f"{session.prefix}7-still-running@example.com"}).json()
        try:
            run = Runner(session, dialect="okta", jobs=4).run([SHIPPED["create-users"]], rfc=True)
        finally:
            client.delete(f"/Users/{other['id']}")
    safety = next(s for s in run.scenarios if s.name == "rfc: safety")
    checks = [c for st in safety.steps for c in st.checks if c.check_id == "rfc.safety.cleanup"]
    assert checks and all(c.status == "pass" for c in checks), [c.message for c in checks]
    assert all(s.status in ("pass", "skip") for s in run.scenarios), [(s.name, s.status) for s in run.scenarios]


class DiesAfter(httpx.BaseTransport):
    """Answers through `inner` for the first `answers` requests, then refuses every connection."""

    def __init__(self, inner: httpx.BaseTransport, answers: int) -> None:
        self.inner, self.answers, self.failed = inner, answers, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.answers -= 1
        if self.answers < 0:
            self.failed += 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_the_breaker_stops_every_job(mock: EmbeddedMock) -> None:
    transport = DiesAfter(httpx.HTTPTransport(), answers=40)
    session = Session(mock.target, use_control_plane=False, transport=transport)
    scenarios = [s for s in SHIPPED.values() if "clockwise" not in s.requires and "okta" in s.dialects][:12]
    run = Runner(session, dialect="okta", jobs=4).run(scenarios)
    assert session.stopped is not None and session.stopped.startswith("the target stopped answering")
    # 3 consecutive failures trip it; at most the other 3 jobs' requests already on their way fail too.
    assert 3 <= transport.failed <= 6
    assert [s.name for s in run.scenarios] == [s.name for s in scenarios]
    assert run.scenarios[-1].skipped == f"skipped: {session.stopped}"


def test_a_harness_error_in_a_job_is_reported_not_lost(mock: EmbeddedMock, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Suite.run

    def broken(self: Suite, area: str, reporter: Any = None) -> Any:
        if area == "groups":
            raise RuntimeError("boom")
        return real(self, area, reporter)
    monkeypatch.setattr(Suite, "run", broken)
    run = Runner(Session(mock.target), dialect="okta", jobs=2).run([SHIPPED["create-users"]], rfc=True)
    names = [s.name for s in run.scenarios]
    assert names == [f"rfc: {a}" for a in (*AREA_RUNNERS, "safety")] + ["create-users"]  # plan order, every area
    groups = run.scenarios[names.index("rfc: groups")]
    assert groups.status == "error" and "RuntimeError: boom" in (groups.steps[0].error or "")
    assert {s.status for s in run.scenarios if s is not groups} <= {"pass", "skip"}  # the others ran (bulk: not advertised)
    assert run.scenarios[names.index("rfc: safety")].status == "pass"  # and the suite cleaned up after them


def test_the_pytest_plugin_runs_under_xdist(tmp_path: Path) -> None:
    # Each xdist worker holds its own session (and embedded mock): scenarios split across 2 workers all pass.
    import subprocess
    import sys
    scenarios = default_scenario_dir()
    # Without the third-party plugins that play no part here (as test_auth_modes' LEAN): every xdist worker imports
    # what the main process loads, and locust's and hypothesis' plugins were half of this test's time.
    lean = ["-p", "no:hypothesispytest", "-p", "no:locust", "-p", "no:faker", "-p", "no:anyio", "-p", "no:cacheprovider"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q", *lean,
                           str(scenarios / "users.scim.yaml"), str(scenarios / "connection.scim.yaml")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "created: 2/2 workers" in proc.stdout or "2 workers" in proc.stdout or "bringing up nodes" in proc.stdout
    assert " passed" in proc.stdout and "failed" not in proc.stdout
