"""The runner: executes the rfc suite and scenarios against a target and returns a RunResult.

Everything runs in one `harness.session.Session`: one transcript with a breaker (harness.breaker), so
once the target stopped answering nothing more is sent and what did not run is skipped with that
reason. The rfc suite and each (scenario x dialect) are isolated: an org of their own through the
control plane, or the run prefix on every name elsewhere.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import httpx

from harness.conformance import AREA_COST, SUITE_FILE, Suite
from harness.control_plane import ControlPlaneError, Org
from harness.exit_policy import DEFAULT_FAIL_ON, judge, scenario_fails_run
from harness.parallel import Job, JobSession, OrderedReporter, Scheduler, SharedTransport, stop_sending
from harness.rate_limit import Rates
from harness.results import RunResult, ScenarioResult, StepResult
from harness.scenario_run import ScenarioRun
from harness.scenarios import Scenario, default_scenario_dir
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


def is_shipped(scenario: Scenario) -> bool:
    """Is this one of the shipped scenarios (part of the built-in suites), not a user's own?"""
    try:
        return Path(scenario.file).resolve().is_relative_to(default_scenario_dir().resolve())
    except (OSError, ValueError):
        return False


def _closing(session: Session | None, run: Callable[[], list[ScenarioResult]], label: str, dialect: str) -> list[ScenarioResult]:
    try:
        return run()
    except Exception as exc:  # a harness bug in a job must not lose its results: report it, as run_scenario does
        failed = ScenarioResult(name=label, file=SUITE_FILE if dialect == "rfc" else "", dialect=dialect)
        failed.steps.append(StepResult(name="harness error", action="internal",
                                       error=f"internal error in the harness: {type(exc).__name__}: {exc}"))
        return [failed]
    finally:
        if session is not None:
            session.close()


class Runner:
    def __init__(self, session: Session, *, dialect: str | None = None, fail_on: str = DEFAULT_FAIL_ON,
                 exitfirst: bool = False, jobs: int = 1, rates: dict[str, float] | None = None) -> None:
        self.session = session
        self.jobs = jobs            # `--jobs`: how many scenario runs side by side (harness.parallel)
        self.rates = Rates(rates or {})  # `--rate IDP=R` (harness.rate_limit)
        self.dialect = dialect
        self.fail_on = fail_on      # the exit policy (harness.exit_policy)
        self.exitfirst = exitfirst  # `-x`: stop after the first scenario whose failure fails the run
        self.stopped_after: str | None = None  # the scenario `-x` stopped after

    def run(self, scenarios: list[Scenario], *, plan: list[tuple[Scenario, str]] | None = None,
            rfc: bool = False, rfc_areas: list[str] | None = None) -> RunResult:
        """Run the rfc conformance suite (when `rfc`; only `rfc_areas` when given), then each (scenario,
        dialect) of `plan` (default: plan_runs(scenarios, self.dialect)); the result is judged by the exit policy."""
        target = self.session.target
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        result = RunResult(target=target.base_url, dialect=self.dialect or "all", started=started, embedded=target.embedded,
                           auth_mode=target.auth.mode if target.auth else "bearer")
        t0 = time.perf_counter()
        runs = plan if plan is not None else plan_runs(scenarios, self.dialect)
        try:
            if self.jobs > 1 or self.rates.rates:
                result.scenarios.extend(self.run_parallel(runs, rfc=rfc, rfc_areas=rfc_areas))
            else:
                self._run_in_turn(result, runs, rfc=rfc, rfc_areas=rfc_areas)
        finally:
            self.session.close()
        result.duration_s = time.perf_counter() - t0
        result.policy = judge(result, self.fail_on)
        return result

    def _run_in_turn(self, result: RunResult, runs: list[tuple[Scenario, str]], *, rfc: bool,
                     rfc_areas: list[str] | None) -> None:
        if rfc:
            result.scenarios.extend(self.run_rfc(rfc_areas))
            self._exit_first(result.scenarios)
        for scenario, dialect in runs:
            if self.stopped_after is not None:
                break
            result.scenarios.append(self.run_scenario(scenario, dialect))
            self._exit_first(result.scenarios[-1:])

    def run_parallel(self, runs: list[tuple[Scenario, str]], *, rfc: bool,
                     rfc_areas: list[str] | None) -> list[ScenarioResult]:
        """The rfc suite's areas (harness.conformance.Suite) and each run, `self.jobs` at a time
        (harness.parallel): the results in plan order, and with `-x` only up to the first plan unit (the
        suite, or one run) that fails the run, as a sequential run has them."""
        session = self.session
        pool = SharedTransport(session.transport if session.transport is not None else httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=4 * self.jobs, max_keepalive_connections=2 * self.jobs),
            **session.target.tls.client_options()))  # the run's TLS: --ca-bundle, --client-cert, --insecure
        suite = RfcRun(JobSession(session, 0, reporter=None, transport=pool, control_transport=pool), rfc_areas) if rfc else None
        units = suite.units() if suite is not None and suite.open() else ["setup"] if suite is not None else []
        ordered = OrderedReporter(session.reporter, len(units) + len(runs))
        jobs = suite.jobs(ordered) if suite is not None else []
        for k, (scenario, dialect) in enumerate(runs):
            jobs.append(self._scenario_job(scenario, dialect, ordered, pool, len(jobs), k + 1))
        unit_of = [job.unit for job in jobs]
        last = {u: max(i for i, v in enumerate(unit_of) if v == u) for u in unit_of}

        def fails(res: list[ScenarioResult]) -> bool:
            return self.exitfirst and any(scenario_fails_run(sc, self.fail_on) for sc in res)

        def done(i: int, res: list[ScenarioResult] | None) -> None:
            if res is not None and fails(res):
                ordered.drop_after(last[unit_of[i]])
            ordered.done(i)

        scheduler = Scheduler(self.jobs, halt=fails, on_done=done, interrupt=lambda: stop_sending(session.transcript))
        try:
            results: list[list[ScenarioResult] | None] = scheduler.run(jobs)
        finally:
            pool.close_pool()
        by_unit: dict[int, list[ScenarioResult]] = {}
        for job, res in zip(jobs, results):
            if res is not None:
                by_unit.setdefault(job.unit or 0, []).extend(res)
        return self._until_first_failure([by_unit[u] for u in sorted(by_unit)])

    def _scenario_job(self, scenario: Scenario, dialect: str, ordered: OrderedReporter, pool: SharedTransport,
                      index: int, place: int) -> Job:
        """One (scenario, dialect) run as a job: a session of its own, numbered by its `place` in the plan."""
        js = JobSession(self.session, place, reporter=ordered.for_job(index),
                        transport=self.rates.wrap(pool, dialect), control_transport=pool)
        # A step that times its response (`elapsed_ms`: Okta's OIN test wants GET /Groups within 600 ms) runs with
        # no other job in flight, or the figure would be the run's own concurrency, not the target's, and
        # --jobs N could judge what --jobs 1 passes.
        timed = any("elapsed_ms" in step.expect for step in scenario.steps_for(dialect))
        return Job(run=lambda: _closing(js, lambda: [self.run_scenario(scenario, dialect, js)],
                                        scenario_label(scenario, dialect), dialect), unit=index, exclusive=timed)

    def _until_first_failure(self, results: list[list[ScenarioResult]]) -> list[ScenarioResult]:
        out: list[ScenarioResult] = []
        for done in results:
            out.extend(done)
            self._exit_first(done)
            if self.stopped_after is not None:
                break
        return out

    def _exit_first(self, done: list[ScenarioResult]) -> None:
        failed = next((sc for sc in done if scenario_fails_run(sc, self.fail_on)), None)
        if self.exitfirst and failed is not None:
            self.stopped_after = failed.name

    def run_rfc(self, areas: list[str] | None = None, session: Session | None = None) -> list[ScenarioResult]:
        """The rfc suite (`areas`: only those, with discovery and safety; default all), area after area; on
        a target with the control plane it gets an org of its own, removed after. `session`: default the run's."""
        rfc = RfcRun(session or self.session, areas)
        if not rfc.open():
            return rfc.failed
        try:
            return rfc.suite.run_in_order(rfc.session.reporter)  # type: ignore[union-attr]
        finally:
            rfc.close()

    def run_scenario(self, scenario: Scenario, dialect: str = "okta", session: Session | None = None) -> ScenarioResult:
        session = session or self.session
        label = scenario_label(scenario, dialect)
        if session.reporter:
            session.reporter.scenario_started(label)
        result = ScenarioResult(name=label, file=scenario.file, description=scenario.description,
                                tags=list(scenario.tags), rules=list(scenario.rules), dialect=dialect,
                                own=not is_shipped(scenario))
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


class RfcRun:
    """The rfc suite on a session: an org of its own when the target has the control plane (opened first,
    removed after the safety area), and its areas (harness.conformance.Suite) in order or as jobs."""

    def __init__(self, session: Session, areas: list[str] | None) -> None:
        self.session, self.areas = session, areas
        self.org: Org | None = None
        self.suite: Suite | None = None
        self.failed: list[ScenarioResult] = []

    def open(self) -> bool:
        """Open the suite's org and make its Suite; False (the failure in `failed`) when the org cannot be made."""
        session = self.session
        if session.isolate:
            try:
                self.org = session.open_org(session.next_org_name("rfc"), what="create an org")
            except ControlPlaneError as exc:
                failed = ScenarioResult(name="rfc: setup", file=SUITE_FILE, tags=["rfc"], dialect="rfc")
                failed.steps.append(StepResult(name="create the suite's org", action="setup", error=str(exc)))
                self.failed = [failed]
                return False
        self.suite = Suite(session.prober(self.org.token if self.org else None), run_id=session.run_id, areas=self.areas)
        return True

    def close(self) -> None:
        if self.org is not None:
            self.session.close_org(self.org.name)
            self.org = None

    def units(self) -> list[str]:
        """The suite's areas in plan order (once opened)."""
        return [area for area, _ in self.suite.plan()] if self.suite is not None else []

    def jobs(self, ordered: OrderedReporter) -> list[Job]:
        """One job per area (the first `len(units())` reporter slots), after the areas it needs; the last,
        safety, removes the org and closes the session."""
        if self.suite is None:  # its org could not be made: one job, the failure
            return [Job(run=lambda: _closing(self.session, lambda: self.failed, "rfc", "rfc"), unit=0)]
        suite, plan = self.suite, self.suite.plan()
        place = {area: i for i, (area, _) in enumerate(plan)}

        def area_job(i: int, area: str) -> Callable[[], list[ScenarioResult]]:
            def run() -> list[ScenarioResult]:
                try:
                    return [suite.run(area, ordered.for_job(i))]
                finally:
                    if area == "safety":
                        self.close()
                        self.session.close()
            return lambda: _closing(None, run, f"rfc: {area}", "rfc")

        return [Job(run=area_job(i, area), after=tuple(place[a] for a in after), cost=AREA_COST.get(area, 1.0), unit=0)
                for i, (area, after) in enumerate(plan)]

