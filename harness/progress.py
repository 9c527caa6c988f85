"""Progress inside a long scenario, and `-q`, around the console reporter.

The console reporter prints one line per finished scenario; a scenario of many steps (import paging,
the 10-user threshold, a 429 back-off) or an rfc area against a slow server can run for minutes with
nothing on the screen, in a terminal or a CI log alike. `Progress` forwards every event to it and,
when a scenario has been running for `every` seconds since its last line, prints
`… <scenario>: step 7/20 'deactivate p1' done (35 s)` as a step ends, or, while one step goes on
(Okta's 429 back-off waits minutes), `… <scenario>: step 8/20 running (40 s)` from a heartbeat thread.
With `quiet` (`-q`) only failed scenarios get a line while the run goes (the summary still comes at
the end).
"""
from __future__ import annotations

import threading
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
                 clock: Callable[[], float] = time.monotonic, heartbeat: bool = True) -> None:
        self.inner, self.console = inner, console
        self.steps = steps or {}          # scenario label -> its number of steps, when known
        self.quiet, self.verbose, self.every, self.clock = quiet, verbose, every, clock
        self.heartbeat = heartbeat and not verbose  # -v shows every step already
        self._started = self._last = 0.0
        self._done = 0
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None

    def scenario_started(self, name: str) -> None:
        with self._lock:
            self._started = self._last = self.clock()
            self._done = 0
        if not self.quiet:
            self.inner.scenario_started(name)
        if self.heartbeat:
            self._stop = threading.Event()
            threading.Thread(target=self._beat, args=(name, self._stop), daemon=True,
                             name="scim-harness-progress").start()

    def _beat(self, name: str, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            with self._lock:
                now = self.clock()
                if stop.is_set() or now - self._last < self.every:
                    continue
                self._last = now
                total = self.steps.get(name)
                # Printed under the lock: once the scenario is over (_stop_heartbeat), no line can follow its result.
                self.console.print(f"[dim]    … {escape(name)}: step {self._done + 1}{f'/{total}' if total else ''} "
                                   f"running ({now - self._started:.0f} s)[/]")

    def close(self) -> None:
        """Stop the heartbeat (the scenario is over, or the run was interrupted)."""
        with self._lock:
            if self._stop is not None:
                self._stop.set()
                self._stop = None

    def step_finished(self, scenario: str, step: StepResult) -> None:
        if not self.quiet:
            self.inner.step_finished(scenario, step)
        with self._lock:
            self._done += 1
            now = self.clock()
            if self.verbose or now - self._last < self.every:
                return  # -v shows every step already
            self._last = now
        total = self.steps.get(scenario)
        of = f"/{total}" if total else ""
        self.console.print(f"[dim]    … {escape(scenario)}: step {self._done}{of} {escape(repr(step.name))} done "
                           f"({now - self._started:.0f} s)[/]")

    def note(self, text: str) -> None:
        """A line of the driver's (a 429 wait), shown even with -q: a wait explains a slow run."""
        note = getattr(self.inner, "note", None)
        if note is not None:
            note(text)

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.close()
        if not self.quiet:
            self.inner.scenario_finished(result)
        elif result.status in ("fail", "error"):
            failed = sum(1 for s in result.steps for c in s.checks if c.status in ("fail", "error"))
            failed += sum(1 for s in result.steps if s.error)
            self.console.print(f"[bold red]{result.status.upper()}[/] {escape(result.name)} — {failed} failed check(s)")
