"""Result types shared by the runner, the checks and the reporters."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from harness.transcript import Exchange

Status = Literal["pass", "fail", "skip", "error"]
Strength = Literal["MUST", "SHOULD", "MAY"]
# Worst first: a step or scenario takes the worst status of its parts.
_ORDER = {"error": 0, "fail": 1, "pass": 2, "skip": 3}


def worst(statuses: list[str], empty: Status = "pass") -> Status:
    """The worst status; all-skip gives skip, and pass+skip gives pass."""
    if not statuses:
        return empty
    if all(s == "skip" for s in statuses):
        return "skip"
    return min((s for s in statuses if s != "skip"), key=_ORDER.__getitem__)  # type: ignore[return-value]


@dataclass
class CheckResult:
    check_id: str            # stable id, e.g. "http.status", "schema.User", "header.location"
    status: Status
    rule: str                # what it enforces: "RFC 7644 §3.3", "Okta: …", "Clockwise: …"
    strength: Strength
    message: str             # a sentence a person understands
    exchange: Exchange | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "status": self.status,
            "rule": self.rule,
            "strength": self.strength,
            "message": self.message,
            "exchange": self.exchange.to_dict() if self.exchange else None,
        }


@dataclass
class StepResult:
    name: str
    action: str
    checks: list[CheckResult] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    error: str | None = None  # the step could not run (driver failure, unreachable target…)
    skipped: str | None = None  # reason, when the step was skipped

    @property
    def status(self) -> Status:
        if self.error:
            return "error"
        if self.skipped is not None:
            return "skip"
        return worst([c.status for c in self.checks])


@dataclass
class ScenarioResult:
    name: str
    file: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    skipped: str | None = None  # reason the whole scenario was skipped
    duration_s: float = 0.0
    dialect: str = "okta"
    # A user's own scenario (not the rfc suite, not a shipped one): reported in a section of its own,
    # never part of the IdP verdicts (which come from the built-in suites only).
    own: bool = False

    @property
    def status(self) -> Status:
        if self.skipped is not None:
            return "skip"
        return worst([s.status for s in self.steps])


class Policy(Protocol):
    """The exit policy's judgement of a finished run (harness.exit_policy.Judgement)."""

    @property
    def ok(self) -> bool: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass
class RunResult:
    target: str
    dialect: str
    started: str
    duration_s: float = 0.0
    scenarios: list[ScenarioResult] = field(default_factory=list)
    embedded: bool = False  # the target was the embedded mock
    policy: Policy | None = None  # set by the runner once the run is over (harness.exit_policy)
    diagnoses: list[str] = field(default_factory=list)  # common mistakes seen in the run (harness.diagnose)
    auth_mode: str = "bearer"  # how the harness authenticated (harness.auth.MODES)

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for sc in self.scenarios:
            out[sc.status] += 1
        return out

    def check_counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for sc in self.scenarios:
            for st in sc.steps:
                for c in st.checks:
                    out[c.status] += 1
        return out

    @property
    def ok(self) -> bool:
        """Does the run pass: under the exit policy once judged (`--fail-on`), else when nothing failed."""
        if self.policy is not None:
            return self.policy.ok
        c = self.counts()
        return c["fail"] == 0 and c["error"] == 0
