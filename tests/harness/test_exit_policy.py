"""The exit policy (`--fail-on`): what fails the run, and a run that judged nothing."""
from __future__ import annotations

import pytest

from harness.exit_policy import judge, scenario_fails_run
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult


def run_of(*scenarios: ScenarioResult) -> RunResult:
    return RunResult(target="http://x/scim/v2", dialect="all", started="now", scenarios=list(scenarios))


def scenario(dialect: str, *checks: CheckResult, error: str | None = None, skipped: str | None = None) -> ScenarioResult:
    sc = ScenarioResult(name=f"sc-{dialect}", file="f.scim.yaml", dialect=dialect, skipped=skipped)
    sc.steps.append(StepResult(name="step", action="GET /Users", checks=list(checks), error=error))
    return sc


def check(check_id: str, status: str, strength: str) -> CheckResult:
    return CheckResult(check_id, status, "RFC 7644 §3.1", strength, f"{check_id} {status}")  # type: ignore[arg-type]


# In the rfc suite a per-exchange check breaks no IdP (harness.reports.needs); in an okta scenario
# error.detail (SHOULD) is a rule both IdPs need.
RFC_ONLY_SHOULD = scenario("rfc", check("http.content-type", "fail", "SHOULD"))
RFC_ONLY_MAY = scenario("rfc", check("http.content-type", "fail", "MAY"))
IDP_SHOULD = scenario("okta", check("error.detail", "fail", "SHOULD"))
PASSING = scenario("rfc", check("http.status", "pass", "MUST"))


@pytest.mark.parametrize(("scenarios", "fail_on", "ok"), [
    ((PASSING, RFC_ONLY_SHOULD), "must", True),     # a SHOULD no IdP needs: reported, not failing the build
    ((PASSING, RFC_ONLY_SHOULD), "should", False),
    ((PASSING, RFC_ONLY_MAY), "should", True),
    ((PASSING, RFC_ONLY_MAY), "may", False),
    ((PASSING, IDP_SHOULD), "must", False),         # an IdP needs it: fails the run whatever its strength
    ((PASSING, scenario("rfc", check("http.status", "fail", "MUST"))), "must", False),
    ((PASSING, scenario("rfc", check("http.status", "error", "MUST"))), "must", False),
    ((PASSING, scenario("rfc", error="driver failed")), "must", False),  # a step that could not run
], ids=["should-default", "should-should", "may-should", "may-may", "idp-should", "must", "error", "step-error"])
def test_fail_on(scenarios: tuple[ScenarioResult, ...], fail_on: str, ok: bool) -> None:
    run = run_of(*scenarios)
    judgement = judge(run, fail_on)
    assert judgement.ok is ok and judgement.exit_code == (0 if ok else 1)
    run.policy = judgement
    assert run.ok is ok  # what every report shows follows the policy


def test_a_let_through_failure_is_counted_and_the_reason_says_so() -> None:
    judgement = judge(run_of(PASSING, RFC_ONLY_SHOULD))
    assert judgement.ignored == 1
    assert judgement.reason() == ("nothing fails the run under --fail-on must; 1 failed check(s) weaker than MUST that "
                                  "no IdP needs are reported only")
    failing = judge(run_of(IDP_SHOULD))
    assert failing.reason().startswith("1 failure(s) fail the run under --fail-on must: sc-okta › step: error.detail")


def test_a_run_that_executed_no_check_fails_with_the_reason() -> None:
    skipped = [scenario("okta", skipped="needs the Clockwise control plane (/_mock); the target has none")
               for _ in range(2)]
    judgement = judge(run_of(*skipped))
    assert not judgement.ok
    assert judgement.reason() == ("no check ran: 2 scenario(s) skipped: needs the Clockwise control plane (/_mock); "
                                  "the target has none")
    all_skips = judge(run_of(scenario("rfc", check("rfc.sort.asc", "skip", "MUST"))))
    assert all_skips.no_check == "rfc.sort.asc skip" and not all_skips.ok
    assert judge(run_of()).no_check == "nothing was selected"


def test_unknown_policy_and_scenario_judgement() -> None:
    with pytest.raises(ValueError):
        judge(run_of(PASSING), "sometimes")
    assert scenario_fails_run(IDP_SHOULD) and not scenario_fails_run(RFC_ONLY_SHOULD)
    assert scenario_fails_run(RFC_ONLY_SHOULD, "should")
