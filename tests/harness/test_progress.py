"""Progress inside a long scenario, and -q."""
from __future__ import annotations

import io
import re
import time

from rich.console import Console

from harness.progress import Progress
from harness.results import ScenarioResult, StepResult


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def scenario_started(self, name: str) -> None:
        self.events.append(f"start {name}")

    def step_finished(self, scenario: str, step: StepResult) -> None:
        self.events.append(f"step {step.name}")

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.events.append(f"done {result.name}")


def make(quiet: bool = False) -> tuple[Progress, Recorder, io.StringIO, list[float]]:
    out, now, inner = io.StringIO(), [0.0], Recorder()
    progress = Progress(inner, Console(file=out, width=200), steps={"long": 20}, quiet=quiet, every=5.0,
                        clock=lambda: now[0], heartbeat=False)
    return progress, inner, out, now


def test_a_long_scenario_shows_its_step_every_few_seconds() -> None:
    progress, inner, out, now = make()
    progress.scenario_started("long")
    for i, t in enumerate([1.0, 2.0, 6.0, 7.0, 12.5], 1):
        now[0] = t
        progress.step_finished("long", StepResult(name=f"s{i}", action="assign"))
    progress.scenario_finished(ScenarioResult(name="long", file="f"))
    assert out.getvalue().splitlines() == ["    … long: step 3/20 's3' done (6 s)", "    … long: step 5/20 's5' done (12 s)"]
    assert inner.events[0] == "start long" and inner.events[-1] == "done long" and len(inner.events) == 7


def test_quiet_shows_only_failed_scenarios() -> None:
    progress, inner, out, now = make(quiet=True)
    ok = ScenarioResult(name="fine", file="f")
    bad = ScenarioResult(name="broken", file="f", steps=[StepResult(name="s", action="a", error="boom")])
    for result in (ok, bad):
        progress.scenario_started(result.name)
        progress.scenario_finished(result)
    assert inner.events == [] and out.getvalue() == "ERROR broken — 1 failed check(s)\n"


def test_a_step_that_goes_on_gets_a_heartbeat_line_which_stops_with_the_scenario() -> None:
    out, inner = io.StringIO(), Recorder()
    progress = Progress(inner, Console(file=out, width=200), steps={"back-off": 3}, every=0.05)
    progress.scenario_started("back-off")
    progress.step_finished("back-off", StepResult(name="s1", action="assign"))
    time.sleep(0.3)  # step 2 waits, as Okta's 429 back-off does
    progress.scenario_finished(ScenarioResult(name="back-off", file="f"))
    lines = out.getvalue().splitlines()
    assert lines and all(re.fullmatch(r"    … back-off: step 2/3 running \(0 s\)", line) for line in lines)
    time.sleep(0.2)
    assert out.getvalue().splitlines() == lines  # nothing more once the scenario is over
