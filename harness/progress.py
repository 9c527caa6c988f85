"""Progress inside a long scenario, and `-q`, around the console reporter.

The console reporter prints one line per finished scenario; a scenario of many steps (import paging,
the 10-user threshold, a 429 back-off) or an rfc area against a slow server can run for minutes with
nothing on the screen, in a terminal or a CI log alike. `Progress` forwards every event to it and,
when a scenario has been running for `every` seconds since its last line, prints
`… <scenario>: step 7/20 'deactivate p1' done (35 s)`. With `quiet` (`-q`) only failed scenarios get a
line while the run goes (the summary still comes at the end).
"""
from __future__ import annotations

import time
from typing import Callable

from rich.console import Console
from rich.markup import escape

from harness.results import ScenarioResult, StepResult
from harness.session import Reporter

PROGRESS_EVERY_S = 5.0


class Progress:
    def __init__(self, inner: Reporter, console: Console, *, steps: dict[str, int] | None = None,
                 quiet: bool = False, verbose: bool = False, every: float = PROGRESS_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inner, self.console = inner, console
        self.steps = steps or {}          # scenario label -> its number of steps, when known
        self.quiet, self.verbose, self.every, self.clock = quiet, verbose, every, clock
        self._started = self._last = 0.0
        self._done = 0

    def scenario_started(self, name: str) -> None:
        self._started = self._last = self.clock()
        self._done = 0
        if not self.quiet:
            self.inner.scenario_started(name)

    def step_finished(self, scenario: str, step: StepResult) -> None:
        self._done += 1
        if not self.quiet:
            self.inner.step_finished(scenario, step)
        now = self.clock()
        if self.verbose or now - self._last < self.every:
            return  # -v shows every step already
        self._last = now
        total = self.steps.get(scenario)
        of = f"/{total}" if total else ""
        self.console.print(f"[dim]    … {escape(scenario)}: step {self._done}{of} {escape(repr(step.name))} done "
                           f"({now - self._started:.0f} s)[/]")

    def scenario_finished(self, result: ScenarioResult) -> None:
        if not self.quiet:
            self.inner.scenario_finished(result)
        elif result.status in ("fail", "error"):
            failed = sum(1 for s in result.steps for c in s.checks if c.status in ("fail", "error"))
            failed += sum(1 for s in result.steps if s.error)
            self.console.print(f"[bold red]{result.status.upper()}[/] {escape(result.name)} — {failed} failed check(s)")
