"""The runner end to end: against the embedded mock (a real subprocess), the same mock seen as a
foreign target (no control plane), and a deliberately broken SCIM server (in-process Flask)."""
from __future__ import annotations

import io
import json
import re
import socket
import uuid
from typing import Any, Iterator

import httpx
import pytest
from flask import Flask, Response, request

from harness.embedded import EmbeddedMock
from harness.results import ScenarioResult, StepResult
from harness.runner import NO_CONTROL_PLANE, Runner, plan_runs
from harness.session import Session
from harness.scenarios import Scenario, default_scenario_dir, load_paths, load_text
from harness.target import Target, TargetUnreachable, derive_control_url
from mock_clockwise.app import create_app

SHIPPED = {s.name: s for s in load_paths([default_scenario_dir()])}


@pytest.fixture(scope="module")
def mock() -> Iterator[EmbeddedMock]:
    with EmbeddedMock() as m:
        yield m


def failed_checks(result: ScenarioResult) -> list[Any]:
    return [c for st in result.steps for c in st.checks if c.status in ("fail", "error")]


def test_shipped_scenarios_pass_on_the_embedded_mock(mock: EmbeddedMock) -> None:
    runner = Runner(Session(mock.target))
    run = runner.run([SHIPPED["create-users"], SHIPPED["clockwise-threshold-ten"], SHIPPED["clockwise-admin-attributes-rejected"]])
    assert [s.name for s in run.scenarios] == [
        "create-users", "create-users[okta-aiw]", "create-users[okta-patch]", "create-users[entra]",
        "create-users[entra-2020]", "create-users[onelogin]", "create-users[pingfederate]",
        "clockwise-threshold-ten", "clockwise-threshold-ten[entra]", "clockwise-threshold-ten[entra-2020]",
        "clockwise-threshold-ten[onelogin]", "clockwise-threshold-ten[pingfederate]",
        "clockwise-admin-attributes-rejected", "clockwise-admin-attributes-rejected[okta-aiw]",
        "clockwise-admin-attributes-rejected[okta-patch]", "clockwise-admin-attributes-rejected[entra]",
        "clockwise-admin-attributes-rejected[entra-2020]"]
    assert run.ok, [(s.name, [c.message for c in failed_checks(s)]) for s in run.scenarios]
    assert run.embedded and run.check_counts()["pass"] > 100
    # Each scenario ran in its own org, deleted at the end; the run's tokens are all known secrets.
    with mock.target.control_client() as control:
        orgs = control.get("/orgs").json()["data"]
    assert [o["name"] for o in orgs] == ["acme"]
    assert len(runner.session.secrets) == 2 + len(run.scenarios)
    # Nothing in the transcript carries a token.
    dump = json.dumps([ex.to_dict() for ex in runner.session.transcript])
    assert not any(secret in dump for secret in runner.session.secrets)


def test_a_foreign_target_gets_prefixes_cleanup_and_clockwise_skips(mock: EmbeddedMock) -> None:
    target = mock.target
    scenarios = [SHIPPED["create-users"], SHIPPED["clockwise-seat-lifecycle"]]
    for _ in range(2):  # runs twice in a row on a non-empty server
        runner = Runner(Session(target, use_control_plane=False), dialect="okta")
        run = runner.run(scenarios)
        created, skipped = run.scenarios
        assert created.status == "pass", [c.message for c in failed_checks(created)]
        assert skipped.status == "skip" and skipped.skipped == NO_CONTROL_PLANE
        posts = [ex for ex in runner.session.transcript if ex.method == "POST" and ex.path.endswith("/Users")]
        assert posts and all(ex.request_json()["userName"].startswith(runner.session.prefix) for ex in posts)
        cleanup = created.steps[-1]
        assert cleanup.action == "cleanup"
        assert sorted(ex.status for ex in cleanup.exchanges if ex.method == "DELETE") == [204, 204, 204]
    with target.scim_client() as client:
        left = client.get("/Users", params={"filter": f'userName sw "{runner.session.prefix}"'}).json()
    assert left["totalResults"] == 0


def test_failures_errors_and_aborts_are_reported(mock: EmbeddedMock) -> None:
    [sc] = load_text("""\
name: mixed
setup: {people: 2}
steps:
  - name: an action expected to fail succeeds
    action: assign
    person: p1
    expect_failure: true
  - name: wrong status expected
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 418, json: {active: false}}
  - name: saving a missing path
    request: {method: GET, path: "/Users/${p1.id}"}
    save: {nothing: "no.such.path"}
  - name: never runs
    request: {method: GET, path: /Users}
""", "mixed.scim.yaml")
    seen: list[str] = []

    class Recorder:
        def scenario_started(self, name: str) -> None:
            seen.append(f"start {name}")

        def step_finished(self, scenario: str, step: StepResult) -> None:
            seen.append(f"{step.name}: {step.status}")

        def scenario_finished(self, result: ScenarioResult) -> None:
            seen.append(f"end {result.status}")

    result = Runner(Session(mock.target, reporter=Recorder())).run_scenario(sc)
    assert seen == ["start mixed", "an action expected to fail succeeds: fail", "wrong status expected: fail",
                    "saving a missing path: error", "never runs: skip", "end error"]
    first, second, third, fourth = result.steps
    assert [c.message for c in first.checks if c.status == "fail"] == ["assign was expected to fail but succeeded"]
    failed = {c.check_id: c for c in second.checks if c.status == "fail"}
    assert "http.status" in failed and "418" in failed["http.status"].message
    assert any("active" in c.message for c in second.checks if c.status == "fail")
    assert third.error and "cannot save 'nothing'" in third.error
    assert fourth.skipped and "could not run" in fourth.skipped


def test_a_driver_failure_fails_the_step_and_skips_the_rest(mock: EmbeddedMock) -> None:
    [sc] = load_text("""\
name: admin-edit
requires: [clockwise]
setup:
  members: [{email: boss@acme.test, plan: paid, admin: true}]
  people: [{ref: boss, email: boss@acme.test}]
steps:
  - {name: assign, action: assign, person: boss}
  - {name: edit the admin, action: update_profile, person: boss, changes: {first_name: Robert}}
  - {name: read, request: {method: GET, path: "/Users/${boss.id}"}}
""")
    result = Runner(Session(mock.target)).run_scenario(sc)
    edit = result.steps[1]
    [task] = [c for c in edit.checks if c.check_id == "driver.task"]
    assert task.status == "fail" and "admin" in task.message and task.rule.startswith("Okta:")
    assert task.exchange is not None and task.exchange.status == 403
    assert result.steps[2].status == "skip" and "failed" in (result.steps[2].skipped or "")
    assert result.status == "fail"


# --- a deliberately broken SCIM server ------------------------------------------------------
def broken_app(defect: str) -> Flask:
    """Just enough SCIM for Okta's create flow, with one defect."""
    app = Flask("broken")
    users: dict[str, dict[str, Any]] = {}

    def scim(doc: Any, status: int, **headers: str) -> Response:
        return Response(json.dumps(doc), status, headers={"Content-Type": "application/scim+json", **headers})

    @app.route("/scim/v2/Users", methods=["GET", "POST"])
    def collection() -> Response:
        if request.method == "POST":
            body = request.get_json(force=True)
            uid = str(uuid.uuid4())
            loc = f"http://testserver/scim/v2/Users/{uid}"
            body.pop("password", None)
            users[uid] = {**body, "id": uid, "meta": {"resourceType": "User", "location": loc}}
            if defect == "create-200":
                return scim(users[uid], 200)
            if defect == "create-400":
                del users[uid]
                return scim({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                             "scimType": "invalidValue", "detail": "locale is not supported"}, 400)
            return scim(users[uid], 201, Location=loc)
        m = re.fullmatch(r'userName eq "(.*)"', request.args.get("filter", ""))
        found = [u for u in users.values() if not m or u["userName"].lower() == m.group(1).lower()]
        return scim({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": len(found),
                     "startIndex": 1, "itemsPerPage": len(found), "Resources": found}, 200)

    @app.route("/scim/v2/Users/<uid>", methods=["GET"])
    def one(uid: str) -> Response:
        if uid not in users:
            return scim({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "no"}, 404)
        return scim(users[uid], 200)

    return app


def broken_target(defect: str) -> tuple[Target, httpx.WSGITransport]:
    transport = httpx.WSGITransport(app=broken_app(defect))
    target = Target(base_url="http://testserver/scim/v2", token="broken-token")
    target.probe(transport=transport)
    return target, transport


def test_a_broken_target_fails_naming_the_rule() -> None:
    target, transport = broken_target("create-200")
    assert not target.has_control_plane
    run = Runner(Session(target, transport=transport), dialect="okta").run([SHIPPED["create-users"]])
    [result] = run.scenarios
    assert result.status == "fail" and not run.ok
    failures = failed_checks(result)
    first = failures[0]
    assert (first.check_id, first.rule, first.strength) == ("http.status", "RFC 7644 §3.3", "MUST")
    assert "201" in first.message and "200" in first.message
    assert first.exchange is not None and first.exchange.method == "POST"


def test_the_same_server_without_the_defect_passes_the_create_story() -> None:
    target, transport = broken_target("none")
    [sc] = load_text("""\
name: create-only
setup: {people: 2}
steps:
  - name: assign
    action: assign
    people: [p1, p2]
    expect: {status: 201, schema: User}
  - name: read
    request: {method: GET, path: "/Users/${p2.id}"}
    expect: {status: 200, json: {userName: "${p2.userName}"}}
""")
    result = Runner(Session(target, transport=transport, use_control_plane=False)).run_scenario(sc)
    assert result.status == "pass", [c.message for c in failed_checks(result)]


# --- targets ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_and_invalid_targets() -> None:
    with pytest.raises(TargetUnreachable, match="cannot reach target"):
        Target(base_url=f"http://127.0.0.1:{free_port()}/scim/v2", token="t").probe()
    with pytest.raises(TargetUnreachable, match="invalid target URL"):
        Target(base_url="ftp:/nowhere", token="t").probe()


def test_control_plane_detection(mock: EmbeddedMock) -> None:
    t = mock.target
    probed = Target(base_url=t.base_url, token=t.token, admin_token=t.admin_token)
    probed.probe()
    assert probed.has_control_plane and probed.control_url == t.control_url
    wrong = Target(base_url=t.base_url, token=t.token, admin_token="not-the-admin-token")
    wrong.probe()
    assert not wrong.has_control_plane
    assert derive_control_url("https://x.test/scim/v2/") == "https://x.test/_mock"
    assert derive_control_url("https://x.test/api/scim") is None


def test_plan_runs_filters_by_dialect() -> None:
    a = Scenario(name="a", file="f", line=1, steps=[], dialects=["okta", "entra"])
    b = Scenario(name="b", file="f", line=1, steps=[])
    assert plan_runs([a, b], None) == [(a, "okta"), (a, "entra"), (b, "okta")]
    assert plan_runs([a, b], "entra") == [(a, "entra")]


def test_expectations_on_an_action_that_sent_nothing_fail(mock: EmbeddedMock) -> None:
    [sc] = load_text("""\
name: quiet-unlink
setup:
  people: 1
  groups: [{ref: g1, name: Quiet, members: [p1]}]
steps:
  - {name: assign, action: assign, person: p1}
  - {name: push, action: push_group, group: g1}
  - {name: unlink and keep, action: unlink_group, group: g1, delete: false, expect: {status: 204}}
""")
    result = Runner(Session(mock.target)).run_scenario(sc)
    [check] = result.steps[2].checks
    assert (check.check_id, check.status) == ("step.response", "fail")
    assert "sent no request" in check.message


def test_a_harness_bug_is_a_scenario_error_not_a_crash(mock: EmbeddedMock, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.checks as checks_mod

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(checks_mod, "check_exchange", boom)
    run = Runner(Session(mock.target), dialect="okta").run([SHIPPED["test-connection"]])
    [result] = run.scenarios
    assert result.status == "error" and not run.ok
    assert result.steps[-1].error == "internal error in the harness: KeyError: 'oops'"


def test_faults_are_scoped_to_the_scenario_org_and_429_waits_are_scaled(mock: EmbeddedMock) -> None:
    runner = Runner(Session(mock.target))
    assert runner.session.time_scale == 0.01  # embedded: injected 429s, not real limits
    result = runner.run_scenario(SHIPPED["rate-limit-429"])
    assert result.status == "pass", [c.message for c in failed_checks(result)]
    [put] = [ex for ex in runner.session.transcript if ex.method == "PUT" and ex.path.endswith("/faults")]
    assert [f["org"] for f in put.request_json()["faults"]] == [result_org(put)]
    posts = [ex.status for ex in runner.session.transcript if ex.method == "POST" and ex.path.endswith("/Users")]
    assert posts == [429, 429, 201]


def result_org(put: Any) -> str:
    # The org the runner created for the scenario: "h<run id>-<n>", never the shared "acme".
    org = put.request_json()["faults"][0]["org"]
    assert re.fullmatch(r"h[0-9a-f]{6}-\d+", org)
    return org


def test_an_embedded_mock_that_cannot_start_is_a_clear_error() -> None:
    from harness.embedded import EmbeddedMockError

    with pytest.raises(EmbeddedMockError, match=r"exited with status \d+ before it was ready: .*--port"):
        EmbeddedMock(extra_args=["--port", "not-a-port"]).start()


def test_a_refused_driver_request_names_the_idp_not_the_rfc() -> None:
    # The server refuses the Okta create (a 400): that breaks what Okta needs; the status check names Okta.
    target, transport = broken_target("create-400")
    run = Runner(Session(target, transport=transport), dialect="okta").run([SHIPPED["create-users"]])
    first = failed_checks(run.scenarios[0])[0]
    assert first.check_id == "http.status" and first.rule == "Okta needs assign to succeed", first


def test_shipped_scenarios_are_built_in_and_others_are_the_users_own(mock: EmbeddedMock, tmp_path: Any) -> None:
    from harness.runner import is_shipped
    own_file = tmp_path / "mine.scim.yaml"
    own_file.write_text("name: mine\nsteps:\n  - {name: list, request: {method: GET, path: /Users}}\n")
    (own,) = load_paths([own_file])
    assert is_shipped(SHIPPED["create-users"]) and not is_shipped(own)
    run = Runner(Session(mock.target), dialect="okta").run([SHIPPED["create-users"], own])
    assert [(s.name, s.own) for s in run.scenarios] == [("create-users", False), ("mine", True)]
    assert run.policy is not None and run.ok


def test_exitfirst_stops_after_the_first_scenario_that_fails_the_run(mock: EmbeddedMock) -> None:
    failing = load_text("name: a\nsteps:\n  - {name: x, request: {method: GET, path: /Users}, expect: {status: 418}}\n"
                        "---\nname: b\nsteps:\n  - {name: y, request: {method: GET, path: /Users}}\n", "x.scim.yaml")
    runner = Runner(Session(mock.target), exitfirst=True)
    run = runner.run(failing)
    assert [s.name for s in run.scenarios] == ["a"] and runner.stopped_after == "a" and not run.ok
    run = Runner(Session(mock.target)).run(failing)
    assert [s.name for s in run.scenarios] == ["a", "b"]


def test_run_rfc_can_run_some_areas(mock: EmbeddedMock) -> None:
    results = Runner(Session(mock.target)).run_rfc(areas=["auth"])
    assert [sc.name for sc in results] == ["rfc: discovery", "rfc: auth", "rfc: safety"]


def _dropping_nick_name(on: tuple[str, ...]) -> Any:
    """The mock, as a server that never stores `nickName` in the requests of methods `on` (RFC 7643 §7 lets a
    server leave an optional attribute out; django-scim2 stores none at the create)."""
    inner = create_app({"ORGS": [{"name": "acme", "tokens": ["nick-token"], "threshold": 10}], "ADMIN_TOKEN": "nick-admin"})

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] in on and environ.get("CONTENT_LENGTH"):
            body = json.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
            body.pop("nickName", None)
            raw = json.dumps(body).encode()
            environ = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
        return inner(environ, start_response)

    return app


@pytest.mark.parametrize("dropped_on, judged", [(("POST", "PUT"), False), (("PUT",), True)])
def test_a_step_whose_precondition_does_not_hold_is_skipped_not_failed(dropped_on: tuple[str, ...], judged: bool) -> None:
    # okta-link-user-reads-first claims Okta's PUT kept an unmapped attribute (nickName): on a server that never
    # stored it at the create that claim is not about the target (a false alarm against django-scim2 before);
    # on one that stored it and lost it in the PUT, the PUT did wipe it, and the step still fails.
    transport = httpx.WSGITransport(app=_dropping_nick_name(dropped_on))
    target = Target(base_url="http://testserver/scim/v2", token="nick-token")
    target.probe(transport=transport)
    run = Runner(Session(target, transport=transport), dialect="okta").run([SHIPPED["okta-link-user-reads-first"]])
    [result] = run.scenarios
    step = next(s for s in result.steps if s.name == "the unmapped attribute survived the PUT built on the read")
    if judged:
        assert step.skipped is None and step.status == "fail"
        assert [c.check_id for c in step.checks if c.status == "fail"] == ["expect.json:nickName"]
        assert result.status == "fail"
    else:
        assert step.status == "skip" and not step.exchanges
        assert step.skipped == ("skipped: the server did not keep nickName at the create, so no PUT could keep or "
                                "wipe it (in the response to 'the app already has the user, inactive, with an "
                                "attribute Okta does not map', nickName is absent; wanted equal to \"Kept\")")
        assert [(c.check_id, c.status) for c in step.checks] == [("step.precondition", "skip")]
        assert result.status == "pass" and run.ok, [c.message for c in failed_checks(result)]


def test_a_precondition_on_a_step_that_gave_no_response_skips_with_that_reason(mock: EmbeddedMock) -> None:
    [sc] = load_text("""\
name: chained-preconditions
setup: {people: 1}
steps:
  - name: create
    request:
      method: POST
      path: /Users
      body: {schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "${p1.userName}", nickName: Kept}
    expect: {status: 201}
    save: {uid: id}
  - name: holds
    only_if: {step: create, json: {nickName: Kept, userName: "${p1.userName}"}, why: the create kept nickName}
    request: {method: GET, path: "/Users/${uid}"}
    expect: {json: {nickName: Kept}}
  - name: does not hold
    only_if: {step: create, json: {nickName: {ne: Kept}}, why: only a server that dropped nickName}
    request: {method: GET, path: "/Users/${uid}"}
    expect: {json: {nickName: Dropped}}
  - name: built on a skipped step
    only_if: {step: does not hold, json: {id: {exists: true}}, why: the step before it read the user}
    request: {method: GET, path: "/Users/${uid}"}
    expect: {status: 404}
  - name: still runs
    request: {method: DELETE, path: "/Users/${uid}"}
    expect: {status: 204}
""")
    result = Runner(Session(mock.target)).run_scenario(sc)
    steps = {s.name: s for s in result.steps}
    assert steps["holds"].status == "pass" and steps["holds"].exchanges
    assert steps["does not hold"].skipped == ("skipped: only a server that dropped nickName (in the response to "
                                              "'create', nickName is \"Kept\"; wanted not equal to \"Kept\")")
    assert steps["built on a skipped step"].skipped == ("skipped: the step before it read the user "
                                                        "(step 'does not hold' gave no response)")
    assert steps["still runs"].status == "pass"
    assert result.status == "pass", [c.message for c in failed_checks(result)]


def test_a_precondition_that_cannot_be_judged_is_the_steps_error_and_the_scenario_goes_on(mock: EmbeddedMock) -> None:
    [sc] = load_text("""\
name: unjudgeable-preconditions
dialects: [okta, entra]
setup: {people: 1}
steps:
  - name: list
    request: {method: GET, path: /Users, query: {count: 1}}
    expect: {status: 200}
  - name: saved in okta only
    dialects: [okta]
    request: {method: GET, path: /Users, query: {count: 1}}
    save: {nope: totalResults}
  - name: bad matcher
    only_if: {step: list, json: {totalResults: {exists: maybe}}, why: an answer}
    request: {method: GET, path: /Users}
  - name: unsaved variable
    only_if: {step: list, json: {totalResults: "${nope}"}, why: an answer}
    request: {method: GET, path: /Users}
  - name: still runs
    request: {method: GET, path: /Users, query: {count: 1}}
    expect: {status: 200}
""")
    result = Runner(Session(mock.target)).run_scenario(sc, "entra")
    steps = {s.name: s for s in result.steps}
    assert steps["bad matcher"].error == "only_if: bad matcher for 'totalResults': 'exists' takes true or false, not \"maybe\""
    assert steps["unsaved variable"].error is not None and steps["unsaved variable"].error.startswith("only_if: ")
    assert "nope" in steps["unsaved variable"].error
    assert not steps["bad matcher"].exchanges and not steps["unsaved variable"].exchanges
    assert steps["still runs"].status == "pass" and result.status == "error"
