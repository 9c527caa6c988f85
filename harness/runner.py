"""The runner: executes the rfc suite and scenarios against a target and returns a RunResult.

Everything runs in one `harness.session.Session`: one transcript with a breaker (harness.breaker), so
once the target stopped answering nothing more is sent and what did not run is skipped with that
reason. The rfc suite and each (scenario x dialect) are isolated: an org of their own through the
control plane, or the run prefix on every name elsewhere.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from harness.conformance import SUITE_FILE, run_suite
from harness.control_plane import ControlPlaneError, Org
from harness.results import RunResult, ScenarioResult, StepResult
from harness.scenario_run import ScenarioRun
from harness.scenarios import Scenario
from harness.session import Session

NO_CONTROL_PLANE = "needs the Clockwise control plane (/_mock); the target has none"


def scenario_label(scenario: Scenario, dialect: str) -> str:
    """The name a scenario result carries: the scenario name, plus [dialect] when not okta."""
    return scenario.name if dialect == "okta" else f"{scenario.name}[{dialect}]"


def plan_runs(scenarios: list[Scenario], dialect: str | None) -> list[tuple[Scenario, str]]:
    """(scenario, dialect) pairs: every listed dialect, or only `dialect` when given."""
    if dialect:
        return [(s, dialect) for s in scenarios if dialect in s.dialects]
    return [(s, d) for s in scenarios for d in s.dialects]


class Runner:
    def __init__(self, session: Session, *, dialect: str | None = None) -> None:
        self.session = session
        self.dialect = dialect

    def run(self, scenarios: list[Scenario], *, plan: list[tuple[Scenario, str]] | None = None,
            rfc: bool = False) -> RunResult:
        """Run the rfc conformance suite (when `rfc`), then each (scenario, dialect) of `plan`
        (default: plan_runs(scenarios, self.dialect))."""
        target = self.session.target
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        result = RunResult(target=target.base_url, dialect=self.dialect or "all", started=started, embedded=target.embedded)
        t0 = time.perf_counter()
        try:
            if rfc:
                result.scenarios.extend(self.run_rfc())
            for scenario, dialect in (plan if plan is not None else plan_runs(scenarios, self.dialect)):
                result.scenarios.append(self.run_scenario(scenario, dialect))
        finally:
            self.session.close()
        result.duration_s = time.perf_counter() - t0
        return result

    def run_rfc(self) -> list[ScenarioResult]:
        """The rfc suite; on a target with the control plane it gets an org of its own, removed after."""
        session = self.session
        org: Org | None = None
        if session.isolate:
            try:
                org = session.open_org(session.next_org_name("rfc"), what="create an org")
            except ControlPlaneError as exc:
                failed = ScenarioResult(name="rfc: setup", file=SUITE_FILE, tags=["rfc"], dialect="rfc")
                failed.steps.append(StepResult(name="create the suite's org", action="setup", error=str(exc)))
                return [failed]
        try:
            return run_suite(session.prober(org.token if org else None), run_id=session.run_id, reporter=session.reporter)
        finally:
            if org is not None:
                session.close_org(org.name)

    def run_scenario(self, scenario: Scenario, dialect: str = "okta") -> ScenarioResult:
        session = self.session
        label = scenario_label(scenario, dialect)
        if session.reporter:
            session.reporter.scenario_started(label)
        result = ScenarioResult(name=label, file=scenario.file, description=scenario.description,
                                tags=list(scenario.tags), rules=list(scenario.rules), dialect=dialect)
        t0 = time.perf_counter()
        if session.stopped is not None:
            result.skipped = f"skipped: {session.stopped}"
        elif "clockwise" in scenario.requires and not session.isolate:
            result.skipped = NO_CONTROL_PLANE
        else:
            try:
                ScenarioRun(session, scenario, dialect, result).execute()
            except Exception as exc:  # a harness bug must not end the run: report it on the scenario
                result.steps.append(StepResult(name="harness error", action="internal",
                                               error=f"internal error in the harness: {type(exc).__name__}: {exc}"))
        result.duration_s = time.perf_counter() - t0
        if session.reporter:
            session.reporter.scenario_finished(result)
        return result
