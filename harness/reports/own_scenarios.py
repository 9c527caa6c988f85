"""A user's own scenarios (not the rfc suite, not the shipped ones): a section of their own in every
report. They never decide the IdP verdicts, which come from the built-in suites only; their `rules:`
reach the rules table (harness.reports.verdict.rule_table), judged by the scenario's outcome.
"""
from __future__ import annotations

from typing import Any

from harness.results import RunResult, ScenarioResult


def _failures(sc: ScenarioResult) -> list[str]:
    lines = [f"{st.name}: the step could not run: {st.error}" for st in sc.steps if st.error]
    lines += [f"{st.name}: {c.check_id} [{c.rule}, {c.strength}]: {c.message}"
              for st in sc.steps for c in st.checks if c.status in ("fail", "error")]
    return lines


def own_section(run: RunResult) -> dict[str, Any]:
    """{"total", "pass", "fail", "skip", "error", "scenarios": [{name, file, status, rules, skipped, failures}]}"""
    own = [sc for sc in run.scenarios if sc.own]
    counts = {s: sum(1 for sc in own if sc.status == s) for s in ("pass", "fail", "skip", "error")}
    return {"total": len(own), **counts,
            "scenarios": [{"name": sc.name, "file": sc.file, "status": sc.status, "rules": list(sc.rules),
                           "skipped": sc.skipped, "failures": _failures(sc)} for sc in own]}


def own_lines(section: dict[str, Any], *, max_failures: int = 3) -> list[str]:
    """The section as console lines ([] when the run had no scenario of the user's)."""
    if not section["total"]:
        return []
    lines = [f"Your scenarios ({section['total']}; not part of the verdicts): {section['pass']} passed, "
             f"{section['fail']} failed, {section['error']} errors, {section['skip']} skipped"]
    for sc in section["scenarios"]:
        rules = f" — rules: {'; '.join(sc['rules'])}" if sc["rules"] else ""
        why = f" ({sc['skipped']})" if sc["skipped"] else ""
        lines.append(f"  {sc['status'].upper():5} {sc['name']}{why}{rules}")
        shown = sc["failures"][:max_failures]
        lines += [f"        {line}" for line in shown]
        if len(sc["failures"]) > len(shown):
            lines.append(f"        (and {len(sc['failures']) - len(shown)} more)")
    return lines
