"""The verdict per identity provider and the per-rule table that end every report.

An IdP is "ready" when no check it depends on failed: the rfc checks whose catalogue entry names it
(harness.rules), and every check of a scenario run in its dialect. SHOULD failures
do not make it "not ready" but are listed as warnings. Clockwise business rules get their own line.
A target the rfc suite could not reach, or that stopped answering during the run, is "not ready" for
both: an IdP provisions nothing through a server that does not answer.
"""
from __future__ import annotations

from typing import Any

from harness.breaker import STOPPED
from harness.results import CheckResult, RunResult, ScenarioResult
from harness.rules import CATALOGUE, base_id

IDPS = (("okta", "Okta"), ("entra", "Entra"))
MAX_REASONS = 3
DIALECT_IDP = {"okta": "okta", "okta-aiw": "okta", "entra": "entra"}


def _relevant(sc: ScenarioResult, check: CheckResult, idp: str) -> bool:
    if sc.dialect == "rfc":
        # The suite's own rules name the IdPs they break; the per-exchange checks it records are RFC-only there.
        d = CATALOGUE.get(base_id(check.check_id))
        return d is not None and idp in d.idps
    return DIALECT_IDP.get(sc.dialect) == idp and "clockwise" not in sc.tags


def _reason(sc: ScenarioResult, step: str, check: CheckResult) -> str:
    return f"{check.check_id} [{check.rule}, {check.strength}] in {sc.name} › {step}: {check.message}"


def stop_reason(run: RunResult) -> str | None:
    """Why the run stopped sending (harness.breaker: the target stopped answering), or None."""
    for sc in run.scenarios:
        if sc.skipped and STOPPED in sc.skipped:
            return sc.skipped.removeprefix("skipped: ")
        for st in sc.steps:
            for why in (st.skipped, st.error):
                if why and STOPPED in why:
                    return why[why.index(STOPPED):]
    return None


def verdicts(run: RunResult) -> list[dict[str, Any]]:
    """[{"idp", "name", "verdict": ready|not ready|not assessed, "because": [...], "warnings": [...], "checks": n}]"""
    out = []
    stop = stop_reason(run)
    for idp, label in IDPS:
        failures, warnings, n = [], [], 0
        if stop:
            failures.append(f"the run stopped: {stop}")
        for sc in run.scenarios:
            for st in sc.steps:
                if st.error and (DIALECT_IDP.get(sc.dialect) == idp and "clockwise" not in sc.tags):
                    failures.append(f"{sc.name} › {st.name}: the step could not run: {st.error}")
                elif st.error and sc.dialect == "rfc" and st.error.startswith("could not reach the target"):
                    failures.append(f"{sc.name} › {st.name}: {st.error}")
                for c in st.checks:
                    if not _relevant(sc, c, idp) or c.status == "skip":
                        continue
                    n += 1
                    if c.status in ("fail", "error"):
                        (warnings if c.strength != "MUST" else failures).append(_reason(sc, st.name, c))
        if n == 0 and not failures:
            verdict, because = "not assessed", [f"no check {label} depends on ran (run --suite rfc or --suite {idp})"]
        elif failures:
            verdict, because = "not ready", failures
        else:
            verdict, because = "ready", [f"all {n} check(s) {label} depends on passed"]
        out.append({"idp": idp, "name": label, "verdict": verdict, "because": because[:MAX_REASONS],
                    "more": max(0, len(because) - MAX_REASONS), "warnings": warnings[:MAX_REASONS],
                    "more_warnings": max(0, len(warnings) - MAX_REASONS), "checks": n})
    cw = [(sc, st, c) for sc in run.scenarios if "clockwise" in sc.tags for st in sc.steps for c in st.checks]
    if cw:
        bad = [_reason(sc, st.name, c) for sc, st, c in cw if c.status in ("fail", "error")]
        skipped = all(sc.skipped for sc in run.scenarios if "clockwise" in sc.tags)
        out.append({"idp": "clockwise", "name": "Clockwise business rules",
                    "verdict": "not assessed" if skipped else ("not ready" if bad else "ready"),
                    "because": bad[:MAX_REASONS] or [f"all {len(cw)} check(s) passed"], "more": max(0, len(bad) - MAX_REASONS),
                    "warnings": [], "more_warnings": 0, "checks": len(cw)})
    return out


def verdict_line(v: dict[str, Any]) -> str:
    """`Okta: not ready, because …` as one line."""
    text = f"{v['name']}: {v['verdict']}"
    if v["verdict"] == "not ready":
        text += ", because " + "; ".join(v["because"]) + (f" (and {v['more']} more)" if v["more"] else "")
    elif v["verdict"] == "not assessed":
        text += f" ({v['because'][0]})"
    elif v["warnings"]:
        text += f" (with {len(v['warnings']) + v['more_warnings']} SHOULD warning(s))"
    return text


def rule_table(run: RunResult) -> list[dict[str, Any]]:
    """One row per (rule, strength): pass/fail/skip/error counts, failing rows first, then by rule."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for sc in run.scenarios:
        for st in sc.steps:
            for c in st.checks:
                row = rows.setdefault((c.rule, c.strength), {"rule": c.rule, "strength": c.strength,
                                                             "pass": 0, "fail": 0, "skip": 0, "error": 0})
                row[c.status] += 1
    order = {"MUST": 0, "SHOULD": 1, "MAY": 2}
    return sorted(rows.values(), key=lambda r: (0 if r["fail"] + r["error"] else 1, order.get(r["strength"], 3), r["rule"]))
