"""The runner: executes the rfc suite and scenarios against a target and returns a RunResult.

For each scenario (x dialect): isolate (a fresh Clockwise org through the control plane, or a
per-run prefix on names elsewhere) and run it (harness.scenario_run). Every request goes through
one transcript with a breaker (harness.breaker): once the target stopped answering, nothing more is
sent and what did not run is skipped with that reason.
"""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Protocol

import httpx

from harness import checks  # noqa: F401  (tests patch harness.runner.checks)
from harness.breaker import GuardedTranscript, stopped
from harness.results import RunResult, ScenarioResult, StepResult
from harness.scenario_run import CONTROL_OK, CONTROL_ROUTES, SCIM_JSON, ScenarioRun, StepError, _detail
from harness.scenarios import Scenario
from harness.target import Target
from mock_okta.transcript import Transcript

__all__ = ["CONTROL_OK", "CONTROL_ROUTES", "EMBEDDED_TIME_SCALE", "NO_CONTROL_PLANE", "SCIM_JSON", "Reporter", "Runner",
           "StepError", "plan_runs", "scenario_label"]

NO_CONTROL_PLANE = "needs the Clockwise control plane (/_mock); the target has none"
EMBEDDED_TIME_SCALE = 0.01


class Reporter(Protocol):
    def scenario_started(self, name: str) -> None: ...
    def step_finished(self, scenario: str, step: StepResult) -> None: ...
    def scenario_finished(self, result: ScenarioResult) -> None: ...


def scenario_label(scenario: Scenario, dialect: str) -> str:
    """The name a scenario result carries: the scenario name, plus [dialect] when not okta."""
    return scenario.name if dialect == "okta" else f"{scenario.name}[{dialect}]"


def plan_runs(scenarios: list[Scenario], dialect: str | None) -> list[tuple[Scenario, str]]:
    """(scenario, dialect) pairs: every listed dialect, or only `dialect` when given."""
    if dialect:
        return [(s, dialect) for s in scenarios if dialect in s.dialects]
    return [(s, d) for s in scenarios for d in s.dialects]


class Runner:
    def __init__(self, target: Target, *, dialect: str | None = None, reporter: Reporter | None = None,
                 transcript: Transcript | None = None, transport: httpx.BaseTransport | None = None,
                 time_scale: float | None = None, use_control_plane: bool | None = None) -> None:
        self.target = target
        self.dialect = dialect
        self.reporter = reporter
        # A given plain Transcript has no breaker; the default one stops sending when the target stops answering.
        self.transcript = transcript if transcript is not None else GuardedTranscript()
        self.transport = transport
        # Okta's 429 waits (Retry-After, doubling) are real against a real target; against the embedded
        # mock the 429s are injected faults, so the waits are scaled down to keep the run short.
        self.time_scale = time_scale if time_scale is not None else (EMBEDDED_TIME_SCALE if target.embedded else 1.0)
        self.isolate = target.has_control_plane if use_control_plane is None else use_control_plane
        self.run_id = secrets.token_hex(3)
        self.prefix = f"scimh-{self.run_id}-"
        self.secrets: list[str] = list(target.secrets)
        self._count = 0
        # One client each for the whole run: creating an httpx.Client costs ~40 ms (TLS context).
        self._scim: httpx.Client | None = None
        self._control: httpx.Client | None = None

    def scim_client(self, token: str) -> httpx.Client:
        """The run's SCIM client, now carrying `token` (scenarios run one at a time)."""
        if self._scim is None:
            self._scim = self.target.scim_client(token, transport=self.transport)
        self._scim.headers["Authorization"] = f"Bearer {token}"
        return self._scim

    def control_client(self) -> httpx.Client:
        if self._control is None:
            self._control = self.target.control_client(transport=self.transport)
        return self._control

    def close(self) -> None:
        for client in (self._scim, self._control):
            if client is not None:
                client.close()
        self._scim = self._control = None

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, scenarios: list[Scenario], *, plan: list[tuple[Scenario, str]] | None = None,
            rfc: bool = False) -> RunResult:
        """Run the rfc conformance suite (when `rfc`), then each (scenario, dialect) of `plan`
        (default: plan_runs(scenarios, self.dialect))."""
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        result = RunResult(target=self.target.base_url, dialect=self.dialect or "all", started=started,
                           embedded=self.target.embedded)
        t0 = time.perf_counter()
        try:
            if rfc:
                result.scenarios.extend(self.run_rfc())
            for scenario, dialect in (plan if plan is not None else plan_runs(scenarios, self.dialect)):
                result.scenarios.append(self.run_scenario(scenario, dialect))
        finally:
            self.close()
        result.duration_s = time.perf_counter() - t0
        return result

    @property
    def stopped(self) -> str | None:
        """Why no request is sent any more (the target stopped answering), or None."""
        return stopped(self.transcript)

    def note(self, error: str | None) -> None:
        """Count a request sent outside the transcript (control plane) for the breaker."""
        if isinstance(self.transcript, GuardedTranscript):
            self.transcript.note(error)

    def run_rfc(self) -> list[ScenarioResult]:
        """The rfc suite; on a target with the control plane it gets an org of its own, removed after."""
        from harness.conformance import run_rfc

        token, org = self.target.token, None
        if self.isolate:
            org, token = f"h{self.run_id}-rfc", secrets.token_urlsafe(18)
            self.secrets.append(token)
            try:
                resp = self.control_client().post("/orgs", json={"name": org, "tokens": [token]})
            except httpx.HTTPError as exc:
                resp = None
                why = f"control plane unreachable ({type(exc).__name__})"
                self.note(why)
            else:
                self.note(None)
                why = f"control plane answered {resp.status_code} {_detail(resp)}".strip()
            if resp is None or resp.status_code != 201:
                failed = ScenarioResult(name="rfc: setup", file="harness/conformance (rfc suite)", tags=["rfc"], dialect="rfc")
                failed.steps.append(StepResult(name="create the suite's org", action="setup", error=f"cannot create an org: {why}"))
                return [failed]
        try:
            return run_rfc(self.scim_client(token), self.transcript, reporter=self.reporter, run_id=self.run_id)
        finally:
            if org is not None and self.stopped is None:
                try:
                    self.control_client().delete(f"/orgs/{org}")
                except httpx.HTTPError:
                    pass

    def run_scenario(self, scenario: Scenario, dialect: str = "okta") -> ScenarioResult:
        label = scenario_label(scenario, dialect)
        if self.reporter:
            self.reporter.scenario_started(label)
        result = ScenarioResult(name=label, file=scenario.file, description=scenario.description,
                                tags=list(scenario.tags), rules=list(scenario.rules), dialect=dialect)
        t0 = time.perf_counter()
        if self.stopped is not None:
            result.skipped = f"skipped: {self.stopped}"
        elif "clockwise" in scenario.requires and not self.isolate:
            result.skipped = NO_CONTROL_PLANE
        else:
            try:
                ScenarioRun(self, scenario, dialect, result).execute()
            except Exception as exc:  # a harness bug must not end the run: report it on the scenario
                result.steps.append(StepResult(name="harness error", action="internal",
                                               error=f"internal error in the harness: {type(exc).__name__}: {exc}"))
        result.duration_s = time.perf_counter() - t0
        if self.reporter:
            self.reporter.scenario_finished(result)
        return result

