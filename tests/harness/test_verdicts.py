"""The verdict per IdP (harness.reports.verdict) and the root-cause grouping (harness.reports.root_causes),
on synthetic runs: failures each IdP does and does not need, the ranking of reasons, and grouping."""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
from rich.console import Console

from harness.reports import ConsoleReporter, run_to_dict, write_reports
from harness.reports.junit import build_junit
from harness.reports.root_causes import exchange_line, normalise, root_cause_line, root_causes
from harness.actions import ACTIONS
from harness.reports.verdict import ACTION_DOES, describe_exchange, evidence, resource_path, verdict_line, verdicts
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult
from harness.rules import RULES, base_id, request_accepted_source, task_rule
from harness.runner import Runner
from harness.scenarios import default_scenario_dir, load_paths
from harness.session import Session
from harness.target import Target
from harness.transcript import Exchange
from tests.harness.broken_scim_app import TOKEN, make_app

BASE = "http://127.0.0.1:9/scim/v2"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def ex(method: str, path: str, status: int | None, body: dict | None = None, *, sent: dict | None = None,
       headers: dict | None = None) -> Exchange:
    return Exchange(method=method, url=f"{BASE}{path}", request_headers={}, status=status,
                    request_body=json.dumps(sent) if sent is not None else None,
                    response_headers=headers or ({"Content-Type": "application/scim+json"} if status else {}),
                    response_body=json.dumps(body) if body is not None else None)


def check(check_id: str, status: str, message: str, exchange: Exchange | None = None, *, rule_id: str | None = None,
          source: str | None = None, strength: str | None = None) -> CheckResult:
    r = RULES[base_id(rule_id or check_id)]
    return CheckResult(check_id, status, source or r.source, strength or r.strength, message, exchange)  # type: ignore[arg-type]


def run_of(*scenarios: ScenarioResult) -> RunResult:
    return RunResult(target=BASE, dialect="all", started="2026-01-01T00:00:00+00:00", scenarios=list(scenarios))


def location_failure(i: int) -> ScenarioResult:
    """A create that worked, whose only flaw is the missing Location header (RFC 7644 §3.3)."""
    uid = f"{i:08x}-aaaa-4bbb-8ccc-{i:012x}"
    post = ex("POST", "/Users", 201, {"id": uid, "userName": f"scimh-{i:06x}-user{i}@example.com"})
    return ScenarioResult(name=f"create-{i % 7}", file="scenarios/users.scim.yaml", dialect="okta", steps=[
        StepResult(name="assign p1", action="assign", exchanges=[post], checks=[
            check("http.status", "pass", "POST /Users: status 201 as expected", post, rule_id="http.status.create"),
            check("header.location", "fail", f"POST /scim/v2/Users/{uid}: 201 Created without a Location header", post),
            check("body.create", "pass", f"created with id {uid}", post)])])


def rfc_scenario(*checks: CheckResult) -> ScenarioResult:
    return ScenarioResult(name="rfc: filters", file="rfc", dialect="rfc", tags=["rfc"], steps=[
        StepResult(name="lookups", action="rfc", checks=list(checks))])


def deactivate_refused(dialect: str = "entra") -> ScenarioResult:
    """Entra's deactivation with the string "False" refused (idp-wire.md: Entra disable)."""
    sent = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    patch = ex("PATCH", "/Users/bf3940bf-ad83-42a9-be19-c1b53fe2bac3", 400,
               {"schemas": [ERROR], "status": "400", "scimType": "invalidValue", "detail": "active must be a boolean"},
               sent=sent)
    task = task_rule(dialect)
    return ScenarioResult(name=f"deactivate[{dialect}]", file="scenarios/users.scim.yaml", dialect=dialect, steps=[
        StepResult(name="unassign p1", action="deactivate", exchanges=[patch], checks=[
            CheckResult("http.status", "fail", request_accepted_source(dialect, "deactivate"), "MUST",
                        "PATCH …: expected status 200 or 204, got 400: active must be a boolean", patch),
            check("error.status-string", "pass", "status is the string 400", patch),
            CheckResult("driver.task", "fail", task.source, task.strength,
                        "deactivate failed: Automatic deprovisioning of user … failed", patch)])])


def by_idp(run: RunResult) -> dict[str, dict]:
    return {v["idp"]: v for v in verdicts(run)}


# --- verdicts: what each IdP needs ----------------------------------------------------------------

def test_a_missing_location_header_alone_leaves_both_ready_but_fails_the_run() -> None:
    run = run_of(*(location_failure(i) for i in range(147)), rfc_scenario(
        check("rfc.filters.eq", "pass", "eq found alpha")))
    v = by_idp(run)
    assert v["okta"]["verdict"] == "ready" and v["entra"]["verdict"] == "ready"
    assert not run.ok  # the RFC failure still fails the run (exit 1)


def test_a_lookup_answering_404_makes_entra_not_ready_and_not_okta() -> None:
    lookup = ex("GET", "/Users?filter=userName+eq+%22nobody%40example.com%22", 404,
                {"schemas": [ERROR], "status": "404", "detail": "not found"})
    run = run_of(rfc_scenario(check("rfc.filters.no-match", "fail", "answered 404, expected 200 with totalResults 0",
                                    lookup), check("rfc.filters.eq", "pass", "eq found alpha")))
    v = by_idp(run)
    assert v["okta"]["verdict"] == "ready"  # idp-wire.md: Okta accepts a 404 there
    assert v["entra"]["verdict"] == "not ready"
    assert v["entra"]["because"][0].startswith("Entra cannot tell a missing user from an error")
    assert "rfc.filters.no-match: answered 404" in v["entra"]["because"][0]


def test_a_failed_driver_task_makes_its_dialects_idp_not_ready_with_what_it_cannot_do_first() -> None:
    rfc_must = check("rfc.filters.and", "fail", "filter 'a eq 1 and b eq 2' found [], expected ['delta']")
    run = run_of(rfc_scenario(rfc_must, check("rfc.filters.eq", "pass", "ok")), deactivate_refused("entra"))
    v = by_idp(run)
    assert v["okta"]["verdict"] == "ready"
    assert v["entra"]["verdict"] == "not ready"
    # Ranked: the failed IdP operation first, although the rfc failure came first in the run.
    assert v["entra"]["because"][0] == \
        'Entra cannot deactivate users: PATCH /Users/{id} Replace active "False" → 400 invalidValue: active must be a boolean'
    assert v["entra"]["because"][1].startswith("Entra cannot match users")
    assert len(v["entra"]["because"]) == 2  # the step's http.status is part of the operation, not another reason
    assert all("{'" not in r for r in v["entra"]["because"])


def test_the_okta_dialects_task_breaks_okta_only() -> None:
    v = by_idp(run_of(deactivate_refused("okta-aiw")))
    assert v["okta"]["verdict"] == "not ready" and v["okta"]["because"][0].startswith("Okta cannot deactivate users:")
    assert v["entra"]["verdict"] == "not assessed"


def test_a_should_rule_it_needs_is_a_warning_not_a_blocker() -> None:
    walk = check("rfc.paging.walk", "fail", "pages gave alpha twice")
    v = by_idp(run_of(rfc_scenario(walk, check("rfc.filters.eq", "pass", "ok"))))
    assert v["okta"]["verdict"] == "ready" and v["okta"]["warnings"][0].startswith("Okta cannot import users")
    assert "1 SHOULD warning" in verdict_line(v["okta"])
    assert v["entra"]["warnings"] == []  # Entra does not page (idp-wire.md)


def test_scenario_checks_count_for_the_dialects_idp_only_through_rules_it_needs() -> None:
    got = ex("GET", "/Groups/7", 200, {"id": "7", "members": []})
    etag = ex("GET", "/Groups/7", 200, {"id": "7", "meta": {"version": 'W/"1"'}})
    sc = ScenarioResult(name="group-push[okta-aiw]", file="scenarios/groups.scim.yaml", dialect="okta-aiw",
                        rules=["Okta: Group Push creates the group (idp-wire.md)"], steps=[
        StepResult(name="the group holds p1 and p2", action="GET /Groups/${g1.id}", exchanges=[got], checks=[
            CheckResult("expect.json:members", "fail", "Scenario expectation", "MUST",
                        'members: expected with length 2, got []', got),
            CheckResult("expect.json:members[0]", "fail", "Scenario expectation", "MUST", "members[0]: missing", got)]),
        StepResult(name="read it", action="GET /Groups/${g1.id}", exchanges=[etag], checks=[
            check("etag.consistent", "fail", "meta.version without the matching ETag header", etag,
                  rule_id="etag.both")])])
    v = by_idp(run_of(sc))
    assert v["okta"]["verdict"] == "not ready" and v["entra"]["verdict"] == "not assessed"
    assert v["okta"]["because"] == [
        "Okta cannot complete group-push[okta-aiw] › the group holds p1 and p2: GET /Groups/{id} → 200: "
        "members: expected with length 2, got [] (and 1 more check(s) of the step)"]
    assert v["okta"]["warnings"] == []  # etag.both: no IdP reads ETags


def test_a_raw_request_steps_status_is_the_scenarios_expectation_and_control_plane_checks_break_no_idp() -> None:
    got = ex("GET", "/Users/unknown", 200, {"id": "x"})
    control = ex("GET", "/_mock/orgs/o/plan", 500, {})
    sc = ScenarioResult(name="okta-oin-spec-test", file="scenarios/okta_oin.scim.yaml", dialect="okta",
                        rules=["Okta OIN SPEC test (idp-wire.md)"], steps=[
        StepResult(name="4: get an unknown id", action="GET /Users/${random.u2}", exchanges=[got], checks=[
            check("http.status", "fail", "expected status 404, got 200", got, rule_id="http.status.get")]),
        StepResult(name="plan", action="control plan", exchanges=[control], checks=[
            check("http.status", "fail", "status 500, expected 200", control, rule_id="control.expect")])])
    v = by_idp(run_of(sc))
    assert v["okta"]["because"] == ["Okta cannot complete okta-oin-spec-test › 4: get an unknown id: "
                                    "GET /Users/{id} → 200: expected status 404, got 200"]


def test_the_expectations_of_a_scenario_citing_only_rfcs_break_no_idp() -> None:
    # auth.scim.yaml: no IdP sends a request without credentials; its expectations are RFC 7644 §2's.
    bare = ex("GET", "/Users", 401, None)
    sc = ScenarioResult(name="bad-and-missing-tokens", file="scenarios/auth.scim.yaml", dialect="okta",
                        rules=["RFC 7644 §2: the service provider authenticates every request; 401 when it cannot"],
                        steps=[StepResult(name="no Authorization header", action="GET /Users", exchanges=[bare], checks=[
                            check("http.status", "pass", "status 401", bare, rule_id="http.status.error"),
                            CheckResult("expect.json:status", "fail", "Scenario expectation", "MUST",
                                        "status: the body is not JSON: an empty body", bare)])])
    v = by_idp(run_of(sc))
    assert v["okta"]["verdict"] == "not assessed"
    assert root_causes(run_of(sc))[0]["idps"] == []
    sc.rules.append("Okta: test connection is GET /Users (idp-wire.md)")
    assert by_idp(run_of(sc))["okta"]["verdict"] == "not ready"


def test_identical_reasons_are_given_once_with_a_count_and_clockwise_keeps_its_line() -> None:
    cw = ScenarioResult(name="clockwise-threshold-ten", file="scenarios/clockwise_plan.scim.yaml", dialect="okta",
                        tags=["clockwise"], steps=[StepResult(name="plan", action="control plan", checks=[
                            check("http.status", "fail", "status 500", rule_id="control.expect")])])
    v = by_idp(run_of(deactivate_refused("okta"), deactivate_refused("okta"), cw))
    assert v["okta"]["because"] == [
        'Okta cannot deactivate users: PATCH /Users/{id} Replace active "False" → 400 invalidValue: active must be a boolean (×2)']
    assert v["clockwise"]["verdict"] == "not ready"


def test_a_step_that_could_not_run_is_a_failed_operation() -> None:
    sc = ScenarioResult(name="users", file="scenarios/users.scim.yaml", dialect="entra", steps=[
        StepResult(name="assign p1", action="assign", error="could not reach the target: ConnectError")])
    v = by_idp(run_of(sc))
    assert v["entra"]["because"] == ["Entra cannot create users: the step 'assign p1' could not run: "
                                     "could not reach the target: ConnectError"]


def _update_refused(dialect: str, step_action: str, op: str) -> ScenarioResult:
    """A PATCH of the differences (Entra) refused, in the step of `step_action`."""
    ops = [{"op": op, "path": f"name.{k}", "value": "x" * 30} for k in ("givenName", "familyName", "formatted")]
    ops.append({"op": op, "path": "active", "value": "True"})
    patch = ex("PATCH", "/Users/bf3940bf-ad83-42a9-be19-c1b53fe2bac3", 400,
               {"schemas": [ERROR], "status": "400", "scimType": "invalidValue",
                "detail": "Attribute 'active' expected value type 'boolean' for operation 4"}, sent={"Operations": ops})
    lookup = ex("GET", "/Users?filter=userName+eq+%22a%40x%22", 200, {"totalResults": 1, "Resources": [{"id": "u"}]})
    task = task_rule(dialect)
    return ScenarioResult(name=f"link[{dialect}]", file="scenarios/driver_fidelity.scim.yaml", dialect=dialect, steps=[
        StepResult(name="assign p1", action=step_action, exchanges=[lookup, patch], checks=[
            CheckResult("driver.task", "fail", task.source, task.strength, "assign failed: …", patch)])])


def test_an_assign_that_failed_updating_the_user_it_found_says_link_not_create_and_why() -> None:
    """idp-wire.md, Assign 4: a user the lookup finds is linked and updated, not created; the answer's detail
    names the refused operation even when the PATCH shown is cut before it."""
    because = by_idp(run_of(_update_refused("entra", "assign", "Replace")))["entra"]["because"]
    assert len(because) == 1
    assert because[0].startswith("Entra cannot link users the app already has (found by the lookup, then updated): "
                                 "PATCH /Users/{id} Replace name.givenName")
    assert "→ 400 invalidValue: Attribute 'active' expected value type 'boolean' for operation 4" in because[0]
    assert "create users" not in because[0]


def test_the_same_refused_update_in_both_entra_dialects_is_one_reason() -> None:
    """entra sends "Replace", entra-2020 "replace" (op names are case-insensitive, RFC 7644 §3.5.2)."""
    run = run_of(_update_refused("entra", "update_profile", "Replace"),
                 _update_refused("entra-2020", "update_profile", "replace"))
    because = by_idp(run)["entra"]["because"]
    assert len(because) == 1 and because[0].startswith("Entra cannot update users: PATCH /Users/{id} Replace")
    assert because[0].endswith("(×2)")


# --- how a reason shows the wire ------------------------------------------------------------------

def test_describe_exchange_shows_the_request_and_answer_without_ids() -> None:
    assert resource_path("/scim/v2/Users/147") == "/Users/{id}"
    assert resource_path("/v2/Groups/5d39c426bee043dc92f30af5cfbb5865") == "/Groups/{id}"
    assert resource_path("/scim/v2/Users/.search") == "/Users/.search"
    assert resource_path("/scim/v2/Schemas/urn:x") == "/Schemas/urn:x"
    assert resource_path("/other") == "/other"
    remove = ex("PATCH", "/Groups/g1", 501, {"schemas": [ERROR], "status": 501, "detail": ""},
                sent={"Operations": [{"op": "remove", "path": 'members[value eq "117"]'}]})
    assert describe_exchange(remove) == 'PATCH /Groups/{id} remove members[value eq "117"] → 501'
    lookup = ex("GET", "/Users?filter=userName+eq+%22A%40x%22", 200, {"totalResults": 0})
    assert describe_exchange(lookup) == 'GET /Users?filter=userName eq "A@x" → 200'
    down = Exchange("GET", f"{BASE}/Users", {}, None, error="timed out")
    assert describe_exchange(down) == "GET /Users → no response (timed out)"
    assert describe_exchange(None) == ""
    said = ex("PUT", "/Users/u1", 400, {"schemas": [ERROR], "status": "400", "detail": "name is readonly"})
    assert describe_exchange(said) == "PUT /Users/{id} → 400 name is readonly"


def test_evidence_replaces_a_python_repr_by_the_wire() -> None:
    answered = ex("PATCH", "/Users/u1", 501, {"schemas": [ERROR], "detail": "Not Implemented", "status": 501},
                  sent={"Operations": [{"op": "Replace", "path": "title", "value": "Capital"}]})
    c = CheckResult("rfc.patch.op-case", "fail", "x", "SHOULD", "answered 501: {'schemas': ['…'], 'status': 501}",
                    answered)
    assert evidence(c) == 'answered 501: PATCH /Users/{id} Replace title "Capital" → 501 Not Implemented'
    plain = CheckResult("rfc.filters.eq", "fail", "x", "MUST", "found [] " + "x" * 300, answered)
    assert evidence(plain).endswith("…") and len(evidence(plain)) <= 161


# --- root causes ----------------------------------------------------------------------------------

def test_normalise_folds_ids_prefixes_numbers_and_quoted_values() -> None:
    assert normalise("scimh-a104c7-alpha") == normalise("scimh-260d83-alpha") == "scimh-…-alpha"
    assert normalise("id 0b6f3a90-1c2d-4e5f-8a9b-0c1d2e3f4a5b") == "id <uuid>"
    assert normalise("id 5d39c426bee043dc92f30af5cfbb5865") == "id <id>"
    assert normalise("externalId 00ujl29u0le5T6Aj10h7") == "externalId <id>"
    assert normalise('got 400 for "bob"  and \'x\'') == "got N for \"…\" and '…'"
    assert normalise("PATCH /scim/v2/Groups/6: bad") == normalise("GET /scim/v2/Users/u1: bad") == "<request>: bad"


def test_147_near_identical_location_failures_are_one_root_cause() -> None:
    run = run_of(*(location_failure(i) for i in range(147)))
    causes = root_causes(run)
    assert len(causes) == 1
    cause = causes[0]
    assert cause["count"] == 147 and cause["check_id"] == "header.location" and cause["idps"] == []
    assert cause["scenarios"] == [f"create-{i}" for i in range(7)]
    assert cause["first"] == {"scenario": "create-0", "step": "assign p1",
                              "exchange": f"POST {BASE}/Users → 201"}
    assert root_cause_line(cause).startswith("147× header.location [RFC 7644 §3.3, MUST] in 7 scenarios: ")


def test_root_causes_rank_what_an_idp_needs_first_and_name_it() -> None:
    run = run_of(location_failure(1), location_failure(2), deactivate_refused("entra"),
                 rfc_scenario(check("rfc.paging.walk", "fail", "pages gave alpha twice"),
                              check("rfc.auth.missing-401[GET /Users]", "fail", "answered 200")))
    causes = root_causes(run)
    ids = [c["check_id"] for c in causes]
    assert ids[:2] == ["http.status", "driver.task"] and causes[0]["idps"] == ["entra"]
    assert ids[2] == "rfc.paging.walk" and causes[2]["idps"] == ["okta"]  # SHOULD after the MUSTs it needs
    assert set(ids[3:]) == {"header.location", "rfc.auth.missing-401[GET /Users]"}
    assert "(breaks Entra)" in root_cause_line(causes[0])
    only = root_causes(run, [run.scenarios[0]])
    assert [c["count"] for c in only] == [1]


def test_step_errors_are_root_causes_and_exchange_line_shows_a_missing_answer() -> None:
    down = Exchange("GET", f"{BASE}/Users", {}, None, error="timed out")
    assert exchange_line(down) == f"GET {BASE}/Users → no response (timed out)" and exchange_line(None) is None
    sc = ScenarioResult(name="users", file="f", dialect="okta", steps=[
        StepResult(name="a", action="assign", exchanges=[down], error="could not reach the target: timed out")])
    [cause] = root_causes(run_of(sc))
    assert cause["check_id"] == "step.error" and cause["status"] == "error" and cause["first"]["exchange"]


# --- the reporters ----------------------------------------------------------------------------------

def test_reports_group_root_causes_and_keep_every_instance(tmp_path: Path) -> None:
    run = run_of(*(location_failure(i) for i in range(20)), deactivate_refused("entra"))
    doc = run_to_dict(run)
    assert len(doc["summary"]["failures"]) == 22  # every instance kept
    assert [c["count"] for c in doc["summary"]["root_causes"]] == [1, 1, 20]
    junit = build_junit(run_to_dict(run_of(*(location_failure(7 * i) for i in range(3)))))
    failure = junit.getroot().find(".//testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.count("\n") == 0  # one scenario's three instances... are one root cause, with its count
    written = write_reports(run_of(location_failure(1), location_failure(2)), tmp_path, ["html", "junit"])
    html = written["html"].read_text(encoding="utf-8")
    assert "Failures by root cause (1)" in html and html.index("root-causes") < html.index('id="rules"')
    assert ET.parse(written["junit"]).getroot().find(".//failure") is not None


def test_junit_lists_a_scenarios_repeated_failure_once_with_its_count() -> None:
    sc = location_failure(0)
    sc.steps = sc.steps * 3
    doc = run_to_dict(run_of(sc))
    failure = build_junit(doc).getroot().find(".//testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.startswith("3× assign p1: header.location [RFC 7644 §3.3, MUST]") and "\n" not in failure.text
    assert failure.get("message", "").startswith("1 root cause(s): 3× assign p1: header.location")


def test_console_prints_verdicts_first_then_one_line_per_root_cause(tmp_path: Path) -> None:
    run = run_of(*(location_failure(i) for i in range(147)), deactivate_refused("entra"))
    buffer = io.StringIO()
    ConsoleReporter(Console(file=buffer, width=80, color_system=None)).finish(run, {})
    out = buffer.getvalue()
    lines = out.splitlines()
    assert out.index("Verdict per identity provider") < out.index("root cause(s)")
    assert "Failures: 3 root cause(s), 149 failed check(s):" in out
    assert sum(1 for line in lines if "header.location" in line and "×" in line) == 1
    assert any(line.startswith("  147× header.location") for line in lines)
    assert any(line.startswith("  Entra: not ready — cannot deactivate users") for line in lines)
    assert "Rules: 5 judged, 3 with failures (table: -v or report.html)" in out  # the table only with -v


def test_console_on_a_clean_run_says_no_rule_failed() -> None:
    run = run_of(rfc_scenario(check("rfc.filters.eq", "pass", "ok")))
    buffer = io.StringIO()
    ConsoleReporter(Console(file=buffer, width=80, color_system=None)).finish(run, {})
    out = buffer.getvalue()
    assert "Rules: 1 judged, none failed" in out and "root cause" not in out
    long = run_of(rfc_scenario(check("rfc.filters.eq", "fail", "y" * 1000)))
    buffer = io.StringIO()
    ConsoleReporter(Console(file=buffer, width=80, color_system=None)).finish(long, {})
    out = buffer.getvalue()
    # one root cause, wrapped at 80 columns under its start, cut at 300 characters
    cause = out[out.index("  1× rfc.filters.eq"):out.index("\nRules:")].strip()
    assert cause.endswith("…") and len("".join(cause.split())) <= 300 + 1
    assert max(len(line) for line in out.splitlines()) <= 80


def test_ranking_operations_then_the_flows_an_idp_replays_then_other_must_rules() -> None:
    got = ex("GET", "/Groups/7", 200, {"id": "7", "members": []})
    flow = ScenarioResult(name="group-push[okta-aiw]", file="f", dialect="okta-aiw", rules=["Okta: Group Push"],
                          steps=[StepResult(name=f"holds {n}", action="GET /Groups/${g1.id}", exchanges=[got], checks=[
                              CheckResult("expect.json:members", "fail", "Scenario expectation", "MUST",
                                          f"members: expected with length {n}, got []", got)]) for n in (2, 3)])
    run = run_of(rfc_scenario(check("rfc.patch.status[group-rename]", "fail", "answered 501"),
                              check("rfc.patch.group-rename", "fail", "answered 501")),
                 flow, deactivate_refused("okta"))
    because = by_idp(run)["okta"]["because"]
    assert because[0].startswith("Okta cannot deactivate users:")
    # The same expectation failing in two steps of one flow is one reason, with its count.
    assert because[1] == ("Okta cannot complete group-push[okta-aiw] › holds 2: GET /Groups/{id} → 200: "
                          "members: expected with length 2, got [] (×2)")
    # rfc.patch.status[group-rename] breaks what rfc.patch.group-rename breaks, and says so once.
    assert because[2] == ("Okta cannot rename groups: both rename with PATCH replace (idp-wire.md: Group Push rename) "
                          "— rfc.patch.status[group-rename]: answered 501 (×2)")
    assert len(because) == 3


def test_python_reprs_in_a_message_become_json() -> None:
    c = CheckResult("rfc.users.put.replaces", "fail", "x", "MUST",
                    "name {'givenName': 'R', 'x': None, 'ok': True}, nickName None; pages ['a', 'b'] and {'broken", None)
    assert evidence(c) == 'name {"givenName":"R","x":null,"ok":true}, nickName None; pages ["a","b"] and {\'broken'


def test_where_a_failure_breaks_which_idp() -> None:
    from harness.reports.needs import breaks, is_raw_request, replays_an_idp, scenario_rule
    okta_flow = ScenarioResult(name="s", file="f", dialect="okta-aiw", rules=["RFC 7644 §3.3", "Okta: assign"])
    rfc_only = ScenarioResult(name="s", file="f", dialect="entra", rules=["RFC 7644 §2"])
    cw = ScenarioResult(name="c", file="f", dialect="okta", tags=["clockwise"], rules=["Okta: x"])
    suite = ScenarioResult(name="rfc: users", file="rfc", dialect="rfc")
    assert replays_an_idp(okta_flow) and not replays_an_idp(rfc_only)
    assert replays_an_idp(ScenarioResult(name="s", file="f", rules=["Okta OIN SPEC test (idp-wire.md)"]))
    raw, action = StepResult(name="r", action="GET /Users"), StepResult(name="a", action="assign")
    control, cleanup = StepResult(name="c", action="control plan"), StepResult(name="x", action="cleanup")
    assert is_raw_request(raw) and not any(is_raw_request(s) for s in (action, control, cleanup))
    status = check("http.status", "fail", "expected 201, got 200", rule_id="http.status.create")
    scenario_rule_id = scenario_rule(raw, status)
    assert scenario_rule_id is not None and scenario_rule_id.id == "step.expect"
    action_rule = scenario_rule(action, status)
    assert action_rule is not None and action_rule.id == "http.status.create"
    assert breaks(okta_flow, raw, status) == {"okta"}  # the raw step's status is the flow's expectation
    assert breaks(okta_flow, action, status) == set()  # a 2xx other than 201: the IdP accepted it (idp-wire.md)
    assert breaks(rfc_only, raw, status) == set()
    location = check("header.location", "fail", "no Location")
    assert breaks(okta_flow, action, location) == set() and breaks(suite, action, location) == set()
    task = CheckResult("driver.task", "fail", task_rule("okta").source, "MUST", "failed")
    assert breaks(okta_flow, action, task) == {"okta"} and breaks(cw, action, task) == set()
    assert breaks(rfc_only, action, CheckResult("no.such", "fail", "x", "MUST", "m")) == {"entra"}
    assert breaks(suite, action, check("rfc.filters.no-match", "fail", "404")) == {"entra"}
    assert breaks(suite, action, CheckResult("rfc.nope.x", "fail", "x", "MUST", "m")) == set()


def test_okta_spec_steps_on_a_populated_server_judge_only_the_harness_users_own_fields() -> None:
    """A server already holding a user with only a userName (listed first): the OIN SPEC test's list
    step judges the list, and the user fields only on the user the harness created — saying so."""
    transport = httpx.WSGITransport(app=make_app())
    with httpx.Client(transport=transport, base_url="http://testserver/scim/v2",
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        foreign = client.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                              "userName": "aaa-foreign@example.com"}).json()
    target = Target(base_url="http://testserver/scim/v2", token=TOKEN)
    target.probe(transport=transport)
    spec = next(s for s in load_paths([default_scenario_dir()]) if s.name == "okta-oin-spec-test")
    result = Runner(Session(target, transport=transport, use_control_plane=False), dialect="okta").run_scenario(spec)
    assert result.status == "pass", [c.message for st in result.steps for c in st.checks if c.status == "fail"]
    listed = next(st for st in result.steps if st.name.startswith("1: list one user"))
    assert "harness's own user" in listed.name
    assert listed.exchanges[0].json()["Resources"][0]["id"] == foreign["id"]  # the first user is not the harness's
    own = next(st for st in result.steps if st.name.startswith("1b:"))
    assert "not a user already on the server" in own.name and "filter=userName" in own.exchanges[0].url


def test_the_new_blind_spot_rules_break_the_idps_they_name_and_no_other() -> None:
    """Bulk, maxResults, schemas under projection, PATCH on the whole extension URN, lastModified on PATCH,
    PUT with ?attributes and Entra's roles shape are RFC-only (or, for roles, not in Entra's default
    mappings): they fail the rfc suite and leave both verdicts ready. The extension path Entra sends
    (<URN>:employeeNumber, idp-wire.md) keeps breaking Entra, and only Entra."""
    rfc_only = [check(cid, "fail", f"{cid} failed") for cid in (
        "rfc.discovery.advertised.bulk", "rfc.bulk.operations[PUT]", "rfc.bulk.bulk-id", "rfc.bulk.fail-on-errors",
        "rfc.bulk.max-operations", "rfc.bulk.max-payload", "rfc.paging.max-results[count=51]",
        "rfc.projection.schemas[Users list]", "rfc.patch.extension-urn-path", "rfc.patch.status[extension-urn-path]",
        "rfc.patch.last-modified-changes[User]", "rfc.users.put.projection-keeps-unlisted",
        "rfc.users.create.entra-roles", "rfc.errors.error-body")]
    run = run_of(rfc_scenario(*rfc_only, check("rfc.filters.eq", "pass", "ok")))
    v = by_idp(run)
    assert (v["okta"]["verdict"], v["entra"]["verdict"]) == ("ready", "ready")
    assert v["okta"]["warnings"] == v["entra"]["warnings"] == []
    assert not run.ok
    needed = check("rfc.patch.extension-path", "fail", "PATCH replace <URN>:department answered 400")
    v = by_idp(run_of(rfc_scenario(*rfc_only, needed, check("rfc.filters.eq", "pass", "ok"))))
    assert (v["okta"]["verdict"], v["entra"]["verdict"]) == ("ready", "not ready")
    assert v["entra"]["because"] == ["Entra cannot update enterprise attributes: Entra replaces <enterprise URN>:"
                                     "employeeNumber (idp-wire.md: Entra) — rfc.patch.extension-path: "
                                     "PATCH replace <URN>:department answered 400"]


# --- OneLogin and PingFederate: verdicts beside Okta's and Entra's -------------------------------

def test_onelogin_and_pingfederate_verdicts_appear_beside_oktas_and_entras() -> None:
    v = verdicts(run_of(rfc_scenario(check("rfc.filters.eq", "pass", "ok"))))
    assert [x["name"] for x in v] == ["Okta", "Entra", "OneLogin", "PingFederate"]
    assert [x["verdict"] for x in v] == ["ready", "ready", "ready", "not assessed"]  # Ping needs no eq lookup
    assert "--suite pingfederate" in v[3]["because"][0]


def test_a_refused_put_breaks_onelogin_and_pingfederate_but_not_entra() -> None:
    put = ex("PUT", "/Users/bf3940bf-ad83-42a9-be19-c1b53fe2bac3", 501,
             {"schemas": [ERROR], "status": "501", "detail": "PUT is not supported"})
    v = by_idp(run_of(rfc_scenario(check("rfc.users.put.200", "fail", "PUT answered 501", put),
                                   check("rfc.filters.eq", "pass", "ok"))))
    assert v["entra"]["verdict"] == "ready"  # Entra PATCHes (idp-wire.md)
    assert v["okta"]["verdict"] == "not ready"
    assert v["onelogin"]["verdict"] == "not ready"
    assert v["onelogin"]["because"][0].startswith("OneLogin cannot update users: OneLogin updates with a full PUT")
    assert v["pingfederate"]["verdict"] == "not ready"
    assert v["pingfederate"]["because"][0].startswith("PingFederate cannot update users: PingFederate sends users by PUT only")


def test_pingfederate_needs_users_0_to_answer_404_and_onelogin_does_not() -> None:
    got = ex("GET", "/Users/0", 500, {"schemas": [ERROR], "status": "500", "detail": "boom"})
    v = by_idp(run_of(rfc_scenario(check("rfc.users.get.unknown-404", "fail", "GET /Users/<unknown> answered 500", got),
                                   check("rfc.users.put.200", "pass", "ok"), check("rfc.filters.eq", "pass", "ok"))))
    assert v["pingfederate"]["verdict"] == "not ready"
    assert "connection check" in v["pingfederate"]["because"][0]
    assert v["onelogin"]["verdict"] == "ready" and v["entra"]["verdict"] == "ready"


def test_failures_the_new_idps_do_not_need_leave_them_ready() -> None:
    # Okta's path-less PATCH, Entra's capitalised ops and 200-only not-found, a hard DELETE (an admin's option).
    fails = [check(rid, "fail", "refused") for rid in ("rfc.patch.replace-no-path", "rfc.patch.op-case",
                                                       "rfc.filters.no-match", "rfc.users.delete.204")]
    v = by_idp(run_of(rfc_scenario(*fails, check("rfc.filters.eq", "pass", "ok"), check("rfc.users.put.200", "pass", "ok"))))
    assert v["okta"]["verdict"] == "not ready" and v["entra"]["verdict"] == "not ready"
    assert v["onelogin"]["verdict"] == "ready" and v["pingfederate"]["verdict"] == "ready"


def test_a_failed_onelogin_task_breaks_onelogin_only() -> None:
    v = by_idp(run_of(deactivate_refused("onelogin")))
    assert v["onelogin"]["verdict"] == "not ready" and v["onelogin"]["because"][0].startswith("OneLogin cannot deactivate users:")
    assert {v[i]["verdict"] for i in ("okta", "entra", "pingfederate")} == {"not assessed"}
    v = by_idp(run_of(deactivate_refused("pingfederate")))
    assert v["pingfederate"]["verdict"] == "not ready" and v["onelogin"]["verdict"] == "not assessed"


def _members_added(group_members: list[str]) -> ScenarioResult:
    sent = {"Operations": [{"op": "add", "path": "members", "value": [{"value": m} for m in group_members]}]}
    patch = ex("PATCH", "/Groups/7", 500, {"schemas": [ERROR], "status": "500", "detail": "Exception occurred"}, sent=sent)
    task = task_rule("onelogin")
    return ScenarioResult(name=f"push[{len(group_members)}]", file="scenarios/groups.scim.yaml", dialect="onelogin",
                          steps=[StepResult(name="push", action="push_group", exchanges=[patch], checks=[
                              CheckResult("driver.task", "fail", task.source, task.strength, "push_group failed", patch)])])


def test_one_refused_operation_with_other_values_is_one_reason_and_every_action_says_what_it_does() -> None:
    """django-scim2 answers 500 to every `add members`: one member or two is the same defect, one line."""
    because = by_idp(run_of(_members_added(["5"]), _members_added(["136", "137"])))["onelogin"]["because"]
    assert because == ['OneLogin cannot push groups: PATCH /Groups/{id} add members [{"value":"5"}] → 500 '
                       'Exception occurred (×2)']
    assert describe_exchange(_members_added(["1"]).steps[0].exchanges[0], values=False) == \
        "PATCH /Groups/{id} add members → 500 Exception occurred"
    assert set(ACTIONS) <= set(ACTION_DOES)  # no reason shows a bare action name ("cannot sync_password")
