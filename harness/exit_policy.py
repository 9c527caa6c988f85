"""The exit policy of `scim-harness run` (`--fail-on`): which failures fail the build.

- `must` (the default): a failed MUST check, or a failed check of any strength whose rule an IdP needs
  (harness.reports.needs.breaks: the same sets the verdicts use), fails the run;
- `should`: SHOULD failures too; `may`: every failure.
A failure the policy lets through is still reported (console, JSON, JUnit, HTML); it only does not
change the exit status. A step that could not run, and a run that stopped because the target stopped
answering, always fail. A run that executed no check at all fails too, with the reason: "PASSED, 0
checks" would be a green build that tested nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from harness.reports.needs import breaks
from harness.reports.verdict import stop_reason
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult

FAIL_ON = ("must", "should", "may")
DEFAULT_FAIL_ON = "must"
_RANK = {"MUST": 0, "SHOULD": 1, "MAY": 2}
MAX_SHOWN = 5


@dataclass(frozen=True)
class Judgement:
    fail_on: str
    failing: list[str] = field(default_factory=list)  # every failure that fails the run, one line each
    ignored: int = 0  # failed checks weaker than --fail-on that no IdP needs: reported, not failing the run
    no_check: str | None = None  # why the run executed no check, when it executed none

    @property
    def ok(self) -> bool:
        return not self.failing and self.no_check is None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def reason(self) -> str:
        """One line: why the run passes or fails under the policy."""
        if self.no_check is not None:
            return f"no check ran: {self.no_check}"
        if self.failing:
            more = f" (and {len(self.failing) - MAX_SHOWN} more)" if len(self.failing) > MAX_SHOWN else ""
            return (f"{len(self.failing)} failure(s) fail the run under --fail-on {self.fail_on}: "
                    + "; ".join(self.failing[:MAX_SHOWN]) + more)
        ignored = (f"; {self.ignored} failed check(s) weaker than {self.fail_on.upper()} that no IdP needs are "
                   "reported only") if self.ignored else ""
        return f"nothing fails the run under --fail-on {self.fail_on}{ignored}"

    def to_dict(self) -> dict[str, Any]:
        return {"fail_on": self.fail_on, "ok": self.ok, "failing": list(self.failing), "ignored": self.ignored,
                "no_check": self.no_check, "reason": self.reason()}


def check_fails_run(sc: ScenarioResult, st: StepResult, check: CheckResult, fail_on: str = DEFAULT_FAIL_ON) -> bool:
    """Does this check's outcome fail the run under `fail_on`?"""
    if check.status not in ("fail", "error"):
        return False
    if _RANK.get(check.strength, 0) <= _RANK[fail_on.upper()]:
        return True
    return bool(breaks(sc, st, check))  # a rule an IdP needs fails the run whatever its strength


def _failures(sc: ScenarioResult, fail_on: str) -> Iterator[tuple[bool, str]]:
    """(fails the run?, line) for every failed check and step error of the scenario."""
    for st in sc.steps:
        if st.error:
            yield True, f"{sc.name} › {st.name}: the step could not run: {st.error}"
        for c in st.checks:
            if c.status in ("fail", "error"):
                yield check_fails_run(sc, st, c, fail_on), f"{sc.name} › {st.name}: {c.check_id} [{c.strength}] {c.message}"


def scenario_fails_run(sc: ScenarioResult, fail_on: str = DEFAULT_FAIL_ON) -> bool:
    """Does any failure of this scenario fail the run under `fail_on`? (`-x` stops at the first such one.)"""
    return any(fails for fails, _ in _failures(sc, fail_on))


def _no_check_reason(run: RunResult) -> str | None:
    executed = sum(n for status, n in run.check_counts().items() if status != "skip")
    if executed or any(st.error for sc in run.scenarios for st in sc.steps):
        return None
    if not run.scenarios:
        return "nothing was selected"
    reasons: dict[str, int] = {}
    for sc in run.scenarios:
        why = sc.skipped or next((st.skipped for st in sc.steps if st.skipped), None) or next(
            (c.message for st in sc.steps for c in st.checks), None) or "it has no check"
        reasons[why] = reasons.get(why, 0) + 1
    return "; ".join(f"{n} scenario(s) skipped: {why}" if n > 1 else f"{why}" for why, n in reasons.items())


def judge(run: RunResult, fail_on: str = DEFAULT_FAIL_ON) -> Judgement:
    """The run under the policy `fail_on` (one of FAIL_ON)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON)}")
    stop = stop_reason(run)
    failing: list[str] = [f"the run stopped: {stop}"] if stop else []
    ignored = 0
    for sc in run.scenarios:
        for fails, line in _failures(sc, fail_on):
            if fails:
                failing.append(line)
            else:
                ignored += 1
    return Judgement(fail_on=fail_on, failing=failing, ignored=ignored, no_check=_no_check_reason(run))
