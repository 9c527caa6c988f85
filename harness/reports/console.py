"""The console reporter (rich): one line per scenario while the run goes, then a summary.

rich drops colour codes by itself when the output is not a terminal.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from harness.reports.html import short_reason
from harness.reports.root_causes import root_cause_line, root_causes
from harness.reports.verdict import rule_table, stop_reason, verdict_line, verdicts
from harness.results import RunResult, ScenarioResult, StepResult
from harness.transcript import scrub

STYLE = {"pass": "green", "fail": "bold red", "error": "bold yellow", "skip": "dim"}
LABEL = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "SKIP"}


MAX_LINE = 300  # characters of a root-cause line; the reports keep the whole message


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE else flat[:MAX_LINE] + "…"


def _badge(status: str) -> str:
    return f"[{STYLE.get(status, '')}]{LABEL.get(status, status.upper()):5}[/]"


class ConsoleReporter:
    """Live progress while running; summary table, failed checks and report paths at the end."""

    def __init__(self, console: Console | None = None, verbose: bool = False, *, secrets: Iterable[str] = ()) -> None:
        self.console = console or Console(highlight=False)
        self.verbose = verbose
        # A list is kept as given (a live list, as Session.secrets, that grows during the run).
        self.secrets: list[str] = secrets if isinstance(secrets, list) else list(secrets)
        self.total = 0
        self.done = 0

    def _e(self, text: str) -> str:
        """Text for the console: secrets scrubbed, rich markup escaped."""
        return escape(scrub(text, self.secrets) or "")

    def start(self, total_scenarios: int, target: str, dialect: str) -> None:
        self.total = total_scenarios
        self.done = 0
        self.console.print(f"[bold]scim-harness[/]: {total_scenarios} scenario(s) against "
                           f"{self._e(target)} (dialect: {self._e(dialect)})")

    def note(self, text: str) -> None:
        """A line about what the run is doing (a 429 back-off wait), scrubbed."""
        self.console.print(f"    [dim]{self._e(text)}[/]")

    def scenario_started(self, name: str) -> None:
        if self.verbose:
            self.console.print(f"[dim]… {self._e(name)}[/]")

    def step_finished(self, scenario: str, step: StepResult) -> None:
        if not self.verbose:
            return
        failed = sum(1 for c in step.checks if c.status in ("fail", "error"))
        note = f" — {failed} failed check(s)" if failed else ""
        self.console.print(f"    {_badge(step.status)} {self._e(step.name)} [dim]({self._e(step.action)})[/]{note}")

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.done += 1
        width = len(str(self.total or self.done))
        counter = f"[{self.done:>{width}}/{self.total}]" if self.total else f"[{self.done}]"
        extra = f" [dim]— {self._e(result.skipped)}[/]" if result.skipped else ""
        if result.status in ("fail", "error"):
            failed = sum(1 for s in result.steps for c in s.checks if c.status in ("fail", "error"))
            failed += sum(1 for s in result.steps if s.error)
            extra = f" [red]— {failed} failed check(s)[/]"
        self.console.print(f"{self._e(counter)} {_badge(result.status)} {self._e(result.name)} "
                           f"[dim]({result.duration_s:.2f} s)[/]{extra}")
        if self.verbose and result.status in ("fail", "error"):
            self._failures_of(result)

    def _failures_of(self, result: ScenarioResult) -> None:
        for step in result.steps:
            if step.error:
                self.console.print(f"      [yellow]{self._e(step.name)}: the step could not run: {self._e(step.error)}[/]")
            for c in step.checks:
                if c.status in ("fail", "error"):
                    self.console.print(f"      {self._e(step.name)}: [bold]{self._e(c.check_id)}[/] "
                                       f"[dim]\\[{self._e(c.rule)}, {c.strength}][/] {self._e(c.message)}")

    def finish(self, run: RunResult, written: dict[str, Path]) -> None:
        """What a person reads first comes first: the verdicts, then one line per root cause; the tables of
        scenarios and rules only with -v (the progress lines named every scenario; report.html has both)."""
        if self.verbose:
            self._scenario_table(run)
        self._verdicts(run)
        causes = root_causes(run)
        if causes:
            # One line per root cause, with its count (DESIGN.md, "Verdicts"); report.json keeps every instance.
            instances = sum(e["count"] for e in causes)
            self.console.print(f"\n[bold red]Failures: {len(causes)} root cause(s), {instances} failed check(s):[/]")
            for e in causes:
                # Scrubbed before the cut: a cut through a secret would leave its start in clear.
                self._hanging("  ", _cut(scrub(root_cause_line(e), self.secrets) or ""), indent=4)
        self._rules(run)
        stop = stop_reason(run)
        if stop:
            not_run = sum(1 for sc in run.scenarios if sc.skipped and stop in sc.skipped)
            self.console.print(f"\n[bold red]Stopped:[/] {self._e(stop)}; nothing more was sent "
                               f"({not_run} scenario(s) not run)")
        counts, checks = run.counts(), run.check_counts()
        verdict = "[bold green]PASSED[/]" if run.ok else "[bold red]FAILED[/]"
        self.console.print(f"\n{verdict}: {len(run.scenarios)} scenario(s) — {counts['pass']} passed, "
                           f"{counts['fail']} failed, {counts['error']} errors, {counts['skip']} skipped; "
                           f"{sum(checks.values())} checks ({checks['fail']} failed) in {run.duration_s:.2f} s")
        for fmt, path in written.items():
            self.console.print(f"  {fmt}: {self._e(str(path))}")

    def _hanging(self, lead: str, text: str, style: str = "", indent: int | None = None) -> None:
        """`lead` then `text`, wrapped to the console's width with its later lines indented (by default under
        the text's start): readable at 80 columns, and no trailing blanks in a CI log."""
        flat = " ".join((scrub(text, self.secrets) or "").split())
        lines = textwrap.wrap(flat, width=max(self.console.width, len(lead) + 20), initial_indent=lead,
                              subsequent_indent=" " * (len(lead) if indent is None else indent),
                              break_on_hyphens=False) or [lead]
        self.console.print(Text("\n".join(lines), style=style), soft_wrap=True)

    def _scenario_table(self, run: RunResult) -> None:
        table = Table(title="Scenarios", show_lines=False)
        # The names whole, folded if they must be: cut ones made dialect variants look the same
        # ("clockwise-admin-attributes…" three times).
        longest = max((len(sc.name) for sc in run.scenarios), default=8)
        table.add_column("Scenario", overflow="fold", min_width=max(8, min(longest, self.console.width - 35)))
        for column in ("Steps", "Pass", "Fail"):
            table.add_column(column, justify="right")
        table.add_column("Status")
        for sc in run.scenarios:
            checks = [c for s in sc.steps for c in s.checks]
            passed = sum(1 for c in checks if c.status == "pass")
            failed = sum(1 for c in checks if c.status in ("fail", "error")) + sum(1 for s in sc.steps if s.error)
            table.add_row(self._e(sc.name), str(len(sc.steps)), str(passed), str(failed), _badge(sc.status))
        self.console.print()
        self.console.print(table)

    def _rules(self, run: RunResult) -> None:
        """With -v, the rules with failures; otherwise one line (every rule is in report.json and report.html)."""
        rules = rule_table(run)
        failing = [r for r in rules if r["fail"] + r["error"]]
        if not rules:
            return
        if not failing or not self.verbose:
            more = f", {len(failing)} with failures (table: -v or report.html)" if failing else ", none failed"
            self.console.print(f"\nRules: {len(rules)} judged{more}")
            return
        table = Table(title=f"Rules with failures ({len(failing)} of {len(rules)})", show_lines=False)
        table.add_column("Rule", overflow="fold")
        table.add_column("Strength")
        for column in ("Pass", "Fail", "Skip", "Error"):
            table.add_column(column, justify="right")
        for r in failing:
            table.add_row(self._e(r["rule"]), r["strength"], str(r["pass"]), f"[red]{r['fail']}[/]", str(r["skip"]),
                          str(r["error"]))
        self.console.print()
        self.console.print(table)

    def _verdicts(self, run: RunResult) -> None:
        self.console.print("\n[bold]Verdict per identity provider[/]")
        for v in verdicts(run):
            colour = {"ready": "green", "not ready": "red"}.get(v["verdict"], "dim")
            reasons = [short_reason(v["name"], r) for r in v["because"]]
            if v["verdict"] != "not ready":
                self._hanging("  ", verdict_line(v), colour)
            elif len(reasons) == 1 and not v["more"]:
                self._hanging("  ", f"{v['name']}: not ready — {reasons[0]}", colour)
            else:
                self.console.print(f"  [{colour}]{self._e(v['name'])}: not ready[/] —")
                for reason in reasons:
                    self._hanging("    - ", reason)
                if v["more"]:
                    self.console.print(f"    (and {v['more']} more: see the failures below)")
            for warning in v.get("warnings") or []:
                self._hanging("    SHOULD: ", short_reason(v["name"], warning))
