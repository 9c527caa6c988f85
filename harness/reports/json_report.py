"""The JSON report: the whole RunResult as plain data, with a summary block and every secret scrubbed.

The same scrubbed document feeds the JUnit and HTML reporters, so no artefact can leak what another
one redacted. Each step lists its exchanges once; a check names its exchange by index in that list.
A body is embedded up to MAX_EMBEDDED_BODY bytes and cut with a note beyond: a broken target's 10 MiB
answers must not make every report 10 MiB per exchange. The HAR (--har) keeps whole bodies, as read
by the transcript (at most harness.transcript.MAX_RESPONSE_BYTES each).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

from harness.reports.own_scenarios import own_section
from harness.reports.root_causes import root_causes
from harness.reports.verdict import rule_table, stop_reason, verdict_line, verdicts
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult
from harness.redaction import redactor_for
from harness.transcript import Exchange

FORMAT_VERSION = 1
MAX_EMBEDDED_BODY = 256 * 1024  # bytes of one request or response body in report.json / report.html


def cap_body(text: str | None, limit: int = MAX_EMBEDDED_BODY) -> str | None:
    """`text` whole when it holds at most `limit` bytes (UTF-8), else its start and "… (N bytes cut …)"."""
    if text is None or len(text) <= limit // 4:  # at most 4 bytes a character: surely under the limit
        return text
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return (data[:limit].decode("utf-8", "ignore")
            + f"\n… ({len(data) - limit} bytes cut; the report keeps {limit} bytes of a body, the HAR (--har) all of it)")


def exchange_dict(exchange: Exchange) -> dict[str, Any]:
    """An exchange for the reports: Exchange.to_dict with each body capped (cap_body)."""
    out = exchange.to_dict()
    for key in ("request_body", "response_body"):
        out[key] = cap_body(out[key])
    return out


def scrub_value(value: Any, secrets: list[str]) -> Any:
    """`value` with every occurrence of every secret replaced, in every string at any depth."""
    if not secrets:
        return value
    redactor = redactor_for(secrets)  # one for the document, not one look-up per string
    seen: dict[str, str] = {}  # a report repeats its texts (ids, rules, URLs, bodies): each is scrubbed once

    def redact(text: str) -> str:
        done = seen.get(text)
        if done is None:
            done = seen[text] = redactor(text)  # every form of each secret (harness.redaction)
        return done
    return _scrubbed(value, redact)


def _scrubbed(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value) if value else value
    if isinstance(value, dict):
        return {_scrubbed(k, redact): _scrubbed(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v, redact) for v in value]
    return value


def _exchange_index(exchanges: list[Exchange], exchange: Exchange | None) -> int | None:
    if exchange is None:
        return None
    for i, known in enumerate(exchanges):
        if known is exchange:
            return i
    exchanges.append(exchange)  # a check judged an exchange the step did not list: list it too
    return len(exchanges) - 1


def _check(check: CheckResult, exchanges: list[Exchange]) -> dict[str, Any]:
    return {"check_id": check.check_id, "status": check.status, "rule": check.rule, "strength": check.strength,
            "message": check.message, "exchange": _exchange_index(exchanges, check.exchange)}


def _step(step: StepResult) -> dict[str, Any]:
    exchanges = list(step.exchanges)
    checks = [_check(c, exchanges) for c in step.checks]
    counts = {s: sum(1 for c in step.checks if c.status == s) for s in ("pass", "fail", "skip", "error")}
    return {"name": step.name, "action": step.action, "status": step.status, "error": step.error,
            "skipped": step.skipped, "check_counts": counts, "checks": checks,
            "exchanges": [exchange_dict(e) for e in exchanges]}


def _scenario(sc: ScenarioResult) -> dict[str, Any]:
    return {"name": sc.name, "file": sc.file, "description": sc.description, "tags": list(sc.tags),
            "rules": list(sc.rules), "dialect": sc.dialect, "own": sc.own, "status": sc.status, "skipped": sc.skipped,
            "duration_s": round(sc.duration_s, 3), "steps": [_step(s) for s in sc.steps]}


def run_to_dict(run: RunResult, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The report document: {"summary": …, "run": …}, scrubbed of `secrets`."""
    secret_list = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial leftovers
    failed = []
    for sc in run.scenarios:
        for st in sc.steps:
            failed.extend({"scenario": sc.name, "step": st.name, "check_id": c.check_id, "status": c.status,
                           "rule": c.rule, "strength": c.strength, "message": c.message}
                          for c in st.checks if c.status in ("fail", "error"))
            if st.error:
                failed.append({"scenario": sc.name, "step": st.name, "check_id": "step.error", "status": "error",
                               "rule": "", "strength": "MUST", "message": st.error})
    summary = {
        "ok": run.ok, "exit": run.policy.to_dict() if run.policy is not None else None,
        "diagnoses": list(run.diagnoses), "stopped": stop_reason(run), "target": run.target, "dialect": run.dialect, "started": run.started,
        "duration_s": round(run.duration_s, 3), "embedded": run.embedded,
        "scenarios": {"total": len(run.scenarios), **run.counts()},
        "steps": {"total": sum(len(sc.steps) for sc in run.scenarios)},
        "checks": {"total": sum(run.check_counts().values()), **run.check_counts()},
        "failures": failed,  # every instance
        "root_causes": root_causes(run),  # the same failures, one entry per root cause (harness.reports.root_causes)
        "verdicts": [{**v, "line": verdict_line(v)} for v in verdicts(run)],  # the built-in suites only
        "own_scenarios": own_section(run),  # the user's scenarios, apart from the verdicts
        "rules": rule_table(run),
    }
    doc = {"format": "scim-harness-report", "format_version": FORMAT_VERSION, "summary": summary,
           "run": {"target": run.target, "dialect": run.dialect, "started": run.started,
                   "duration_s": round(run.duration_s, 3), "embedded": run.embedded,
                   "scenarios": [_scenario(sc) for sc in run.scenarios]}}
    return scrub_value(doc, secret_list)


def write_json(document: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
