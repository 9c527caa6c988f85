"""Failures grouped by root cause: one entry per (check id, normalised message), with its count, the
scenarios it appears in and the first exchange (DESIGN.md, "Verdicts": failures are reported once per
root cause, with a count). Requests, ids, run prefixes, UUIDs, numbers and quoted values are folded, so 147
"POST /Users: 201 Created without a Location header" lines over 147 users are one root cause.
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any, Iterable

from harness.reports.needs import breaks
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult
from harness.rules import IDP_NAMES
from harness.transcript import Exchange

# Order matters: quoted values and prefixed names go before the numbers inside them.
_FOLDS: list[tuple[re.Pattern[str], str]] = [
    # The request a message names: the same defect on /Users/1 and /Groups/2 is one cause (its first
    # exchange is kept with the entry).
    (re.compile(r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD)\s+(?:https?://|/)\S*?(?=:?(?:\s|$))"), "<request>"),
    (re.compile(r"scimh-[0-9a-f]{6}-", re.I), "scimh-…-"),  # the run prefix (harness.session)
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<id>"),  # hex ids (scim2-server's uuid4().hex)
    (re.compile(r"\b00u[0-9A-Za-z]{17}\b"), "<id>"),  # Okta user ids (idp-wire.md: externalId)
    (re.compile(r'"(?:[^"\\]|\\.)*"'), '"…"'),
    (re.compile(r"'(?:[^'\\]|\\.)*'"), "'…'"),
    (re.compile(r"\d+(?:\.\d+)?"), "N"),
]
_ORDER = {"MUST": 0, "SHOULD": 1, "MAY": 2}
RULE_IDP_NAMES = IDP_NAMES


REPR_START = re.compile(r"[{\[]'")  # where a Python dict or list repr starts in a message


def reprs_as_json(message: str) -> str:
    """`message` with each Python dict/list repr in it (`{'a': None}`) written as JSON (`{"a":null}`)."""
    out, i = [], 0
    for m in REPR_START.finditer(message):
        if m.start() < i:
            continue
        depth, end = 0, None
        for j in range(m.start(), len(message)):
            depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(message[j], 0)
            if depth == 0:
                end = j + 1
                break
        if end is None:
            continue
        try:
            value = ast.literal_eval(message[m.start():end])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        out += [message[i:m.start()], json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)]
        i = end
    return "".join(out) + message[i:]


def normalise(text: str) -> str:
    """`text` with the request it names, run prefixes, UUIDs, hex ids, quoted values and numbers folded."""
    for pattern, repl in _FOLDS:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def exchange_line(exchange: Exchange | None) -> str | None:
    """`METHOD url → status` (or the transport error) of an exchange, None without one."""
    if exchange is None:
        return None
    answer = str(exchange.status) if exchange.status is not None else f"no response ({exchange.error})"
    return f"{exchange.method} {exchange.url} → {answer}"


def _instances(run: RunResult) -> Iterable[tuple[ScenarioResult, StepResult, CheckResult | None]]:
    """Every failed or errored check, and every step that could not run (check None)."""
    for sc in run.scenarios:
        for st in sc.steps:
            if st.error:
                yield sc, st, None
            for c in st.checks:
                if c.status in ("fail", "error"):
                    yield sc, st, c


def root_causes(run: RunResult, scenarios: list[ScenarioResult] | None = None) -> list[dict[str, Any]]:
    """One entry per root cause of `run`'s failures (or of `scenarios` only): rule-needing-IdP causes
    first, then MUST before SHOULD, then the most frequent."""
    scoped = RunResult(run.target, run.dialect, run.started, scenarios=scenarios) if scenarios is not None else run
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for sc, st, c in _instances(scoped):
        if c is None:
            check_id, message, rule, strength, status, exchange = ("step.error", st.error or "", "", "MUST", "error",
                                                                   st.exchanges[-1] if st.exchanges else None)
            idps: list[str] = []
        else:
            check_id, message, rule, strength, status, exchange = (c.check_id, c.message, c.rule, c.strength,
                                                                   c.status, c.exchange)
            idps = sorted(breaks(sc, st, c))
        key = (normalise(check_id), normalise(message))
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = {
                "check_id": check_id, "rule": rule, "strength": strength, "status": status, "message": message,
                "pattern": key[1], "count": 0, "scenarios": [], "idps": [],
                "first": {"scenario": sc.name, "step": st.name, "exchange": exchange_line(exchange)}}
        entry["count"] += 1
        if sc.name not in entry["scenarios"]:
            entry["scenarios"].append(sc.name)
        entry["idps"] = sorted(set(entry["idps"]) | set(idps))
    return sorted(groups.values(), key=lambda e: (0 if e["idps"] else 1, _ORDER.get(e["strength"], 3), -e["count"]))


def root_cause_line(entry: dict[str, Any]) -> str:
    """`147× header.location [RFC 7644 §3.3, MUST] in 12 scenario(s) — POST …: 201 Created without …`."""
    where = entry["scenarios"][0] if len(entry["scenarios"]) == 1 else f"{len(entry['scenarios'])} scenarios"
    rule = f" [{entry['rule']}, {entry['strength']}]" if entry["rule"] else ""
    needs = f" (breaks {', '.join(RULE_IDP_NAMES.get(i, i) for i in entry['idps'])})" if entry["idps"] else ""
    return f"{entry['count']}× {entry['check_id']}{rule}{needs} in {where}: {reprs_as_json(entry['message'])}"
