"""The verdict per identity provider and the per-rule table that end every report.

An IdP is "not ready" only through failures of checks whose rule that IdP needs (harness.rules: each
rule's `idps`; where a check breaks which IdP is harness.reports.needs). An RFC failure no IdP needs
still fails the run (RunResult.ok) but leaves the verdicts "ready". Each reason says what the IdP cannot
do, ranked: failed IdP operations first, then the flows it replays (scenario expectations), then the other
MUST rules it needs; SHOULD failures are warnings. Identical reasons (folded like root causes) are given
once with a count. Clockwise business rules get their own line. A target the rfc suite could not reach,
or that stopped answering during the run, is "not ready" for both: an IdP provisions nothing through a
server that does not answer.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_plus

from harness.actions import ACTIONS
from harness.breaker import STOPPED
from harness.reports.needs import EXPECTATION_RULES, breaks, scenario_rule
from harness.reports.root_causes import REPR_START, normalise, reprs_as_json
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult
from harness.auth import MODE_LABELS
from harness.rules import DIALECT_IDP, IDP_NAMES, Rule, auth_reach, judged_rule, why_for
from harness.transcript import Exchange

IDPS = tuple(IDP_NAMES.items())  # (("okta", "Okta"), ("entra", "Entra"), ("onelogin", "OneLogin"), ("pingfederate", …))
MAX_REASONS = 3
MAX_EVIDENCE = 160  # characters of a detail, a message or a PATCH body in a reason
# What an IdP cannot do when a driver action fails (harness.actions; idp-wire.md names each flow).
ACTION_DOES = {
    "test_connection": "test the connection", "import_users": "import users", "import_groups": "import groups",
    "assign": "create users", "assign_many": "create users", "deactivate": "deactivate users",
    "unassign": "deactivate users", "reactivate": "reactivate users", "deprovision": "delete users",
    "update_profile": "update users", "push_group": "push groups", "add_to_group": "add group members",
    "remove_from_group": "remove group members", "push_now": "push group memberships",
    "rename_group": "rename groups", "unlink_group": "unlink groups", "reassign": "reactivate users",
    "sync_password": "push passwords", "import_schema": "import the user schema",
}
LINKS_USERS = "link users the app already has (found by the lookup, then updated)"
_OPERATION_RULES = frozenset(f"{idp}.{kind}" for idp in IDP_NAMES for kind in ("task", "request-accepted"))
_RESOURCE = re.compile(r"/(Users|Groups|Schemas|ResourceTypes|ServiceProviderConfig|Bulk|Me)(/[^/?]*)?(/[^?]*)?$")


def _cut(text: str, limit: int = MAX_EVIDENCE) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def resource_path(path: str) -> str:
    """`/scim/v2/Users/147` -> `/Users/{id}`: the path from its SCIM endpoint on, with the id folded."""
    m = _RESOURCE.search(path)
    if not m:
        return path
    endpoint, ident, rest = m.group(1), m.group(2) or "", m.group(3) or ""
    if ident and endpoint in ("Users", "Groups") and ident != "/.search":
        ident = "/{id}"
    return f"/{endpoint}{ident}{rest}"


def _patch_ops(body: str | None, values: bool = True) -> str:
    """A PatchOp body as `Replace active "False"; Remove members[…]` (RFC 7644 §3.5.2), '' if not one;
    without `values`, only each operation's op and path."""
    try:
        ops = json.loads(body or "").get("Operations")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(ops, list):
        return ""
    shown = []
    for op in ops:
        if not isinstance(op, dict):
            continue
        part = " ".join(str(x) for x in (op.get("op"), op.get("path")) if x is not None)
        if "value" in op and values:
            part += " " + json.dumps(op["value"], ensure_ascii=False, separators=(",", ":"))
        shown.append(part)
    return _cut("; ".join(shown))


def _answer(exchange: Exchange) -> str:
    """`400 invalidValue: active must be a boolean`, `501 Not Implemented`, or `no response (…)`: the status
    and what the Error says — its scimType and its detail, which names what was refused (a long PATCH is
    cut before the operation the detail names)."""
    if exchange.status is None:
        return f"no response ({exchange.error})"
    doc = exchange.json() if exchange.response_body else None
    if isinstance(doc, dict):
        said = [x.strip() for x in (doc.get("scimType"), doc.get("detail")) if isinstance(x, str) and x.strip()]
        if said:
            return f"{exchange.status} {': '.join(_cut(x, 100) for x in said)}"
    return str(exchange.status)


def describe_exchange(exchange: Exchange | None, values: bool = True) -> str:
    """What was sent and what came back, as on the wire but short:
    `PATCH /Users/{id} Replace active "False" → 400 invalidValue: active must be a boolean`; without `values`,
    a PATCH's operations without their values (`PATCH /Groups/{id} add members → 500`)."""
    if exchange is None:
        return ""
    query = f"?{_cut(unquote_plus(exchange.query), 100)}" if exchange.query else ""
    ops = _patch_ops(exchange.request_body, values) if exchange.method.upper() == "PATCH" else ""
    return f"{exchange.method} {resource_path(exchange.path)}{query}{' ' + ops if ops else ''} → {_answer(exchange)}"


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


class _Reasons:
    """An IdP's reasons and warnings, ranked — 0: a failed IdP operation (or a target that does not answer),
    1: a flow the IdP replays not giving what it needs (a scenario expectation), 2: another MUST rule it
    needs — each distinct reason once with its count (`key`: what makes two reasons the same)."""

    def __init__(self) -> None:
        self.items: dict[tuple[int, str], list[Any]] = {}
        self.warnings: dict[str, list[Any]] = {}

    def add(self, rank: int, text: str, key: str | None = None) -> None:
        self.items.setdefault((rank, normalise(key or text)), [text, 0])[1] += 1

    def warn(self, text: str, key: str | None = None) -> None:
        self.warnings.setdefault(normalise(key or text), [text, 0])[1] += 1

    @staticmethod
    def _shown(text: str, count: int) -> str:
        return text if count == 1 else f"{text} (×{count})"

    def because(self) -> list[str]:
        ranked = sorted(self.items.items(), key=lambda kv: kv[0][0])  # stable: first seen first within a rank
        return [self._shown(text, n) for _, (text, n) in ranked]

    def warned(self) -> list[str]:
        return [self._shown(text, n) for text, n in self.warnings.values()]


def _operation_reason(label: str, st: StepResult, failed: list[CheckResult]) -> tuple[str, str]:
    """(`Entra cannot deactivate users: PATCH /Users/{id} Replace active "False" → 400 invalidValue: …`, its key).
    The key leaves out the PATCH values and the case of op names (RFC 7644 §3.5.2: op names are
    case-insensitive): the same operation refused the same way is one reason — members [1] and [2, 3]
    added to two groups, entra's "Add" and entra-2020's "add"."""
    exchange = next((c.exchange for c in failed if c.exchange is not None), None) or (
        st.exchanges[-1] if st.exchanges else None)
    evidence = describe_exchange(exchange) or _cut(failed[0].message)
    does = ACTION_DOES.get(st.action, st.action)
    if st.action in ("assign", "assign_many") and exchange is not None and exchange.method.upper() != "POST":
        # idp-wire.md, Assign 4: when the lookup finds the user, Okta links it and updates it (GET + PUT) instead
        # of creating it; the entra dialect sends one PATCH of the differences. What failed is that update.
        does = LINKS_USERS
    key = f"{label} cannot {does}: {describe_exchange(exchange, values=False) or _cut(failed[0].message)}"
    return f"{label} cannot {does}: {evidence}", key.lower()


def evidence(check: CheckResult) -> str:
    """The check's message, short, with any Python repr in it written as JSON; a repr that is an answer's
    whole Error body (`answered 400: {'schemas': …}`) is replaced by the exchange as on the wire."""
    message = check.message
    at = REPR_START.search(message)
    if at is not None and check.exchange is not None and message[at.start():].startswith("{'schemas'"):
        return _cut(message[:at.start()].rstrip(" :"), 100) + ": " + describe_exchange(check.exchange)
    return _cut(reprs_as_json(message))


def _rule_reason(label: str, sc: ScenarioResult, st: StepResult, check: CheckResult, found: Rule | None) -> str:
    idp = next((k for k, v in IDP_NAMES.items() if v == label), "")
    if sc.dialect == "rfc" and found is not None:
        return f"{label} cannot {why_for(found, idp)} — {check.check_id}: {evidence(check)}"
    wire = describe_exchange(check.exchange)
    where = f"{sc.name} › {st.name}"
    if found is None or found.id in EXPECTATION_RULES:
        return f"{label} cannot complete {where}: {wire + ': ' if wire else ''}{_cut(check.message)}"
    return f"{label} cannot {why_for(found, idp)} — {check.check_id} in {where}: {evidence(check)}"


def _judge_rfc(idp: str, label: str, sc: ScenarioResult, reasons: _Reasons) -> int:
    n = 0
    for st in sc.steps:
        if st.error and st.error.startswith("could not reach the target"):
            reasons.add(0, f"{label} cannot reach the target: {sc.name} › {st.name}: {st.error}")
        for c in st.checks:
            if c.status == "skip" or idp not in breaks(sc, st, c):
                continue
            n += 1
            if c.status in ("fail", "error"):
                found = judged_rule(c.check_id)
                # One reason per thing the IdP cannot do: rfc.patch.status[group-rename] and rfc.patch.group-rename
                # are one (with a count).
                text, key = _rule_reason(label, sc, st, c, found), f"{label} cannot {why_for(found, idp)}"
                reasons.add(2, text, key) if c.strength == "MUST" else reasons.warn(text, key)
    return n


def _judge_scenario(idp: str, label: str, sc: ScenarioResult, reasons: _Reasons) -> int:
    n = 0
    for st in sc.steps:
        is_action = st.action in ACTIONS
        if st.error:
            what = f"{label} cannot {ACTION_DOES.get(st.action, st.action)}" if is_action else f"{label} cannot complete {sc.name}"
            reasons.add(0, f"{what}: the step {st.name!r} could not run: {_cut(st.error)}")
        needed = [(c, scenario_rule(st, c)) for c in st.checks if c.status != "skip" and idp in breaks(sc, st, c)]
        n += len(needed)
        failed = [(c, r) for c, r in needed if c.status in ("fail", "error")]
        operation = [c for c, r in failed if is_action and r is not None and r.id in _OPERATION_RULES]
        if operation:
            # The IdP operation failed: that is the reason; the step's other failures are part of it.
            reasons.add(0, *_operation_reason(label, st, operation))
            continue
        expected = [c for c, r in failed if r is None or r.id in EXPECTATION_RULES]
        if expected:
            # A step's expectations fail together (totalResults 0, then Resources[0] missing): one reason.
            more = f" (and {len(expected) - 1} more check(s) of the step)" if len(expected) > 1 else ""
            # Keyed by scenario and check: the same expectation failing in several steps of a flow is one reason.
            reasons.add(1, _rule_reason(label, sc, st, expected[0], None) + more,
                        key=f"{label} cannot complete {sc.name}: {expected[0].check_id}")
        for c, r in failed:
            if c in expected:
                continue
            text = _rule_reason(label, sc, st, c, r)
            reasons.add(2, text) if c.strength == "MUST" else reasons.warn(text)
    return n


def verdicts(run: RunResult) -> list[dict[str, Any]]:
    """[{"idp", "name", "verdict": ready|not ready|not assessed, "because": [...], "warnings": [...], "checks": n}]"""
    out = []
    stop = stop_reason(run)
    for idp, label in IDPS:
        reasons, n = _Reasons(), 0
        for sc in run.scenarios:
            if sc.own:  # the verdicts come from the built-in suites only; a user's scenarios have their own section
                continue
            if sc.dialect == "rfc":
                n += _judge_rfc(idp, label, sc, reasons)
            elif DIALECT_IDP.get(sc.dialect) == idp and "clockwise" not in sc.tags:
                n += _judge_scenario(idp, label, sc, reasons)
        failures = ([f"the run stopped: {stop}"] if stop else []) + reasons.because()
        warnings = reasons.warned()
        if n == 0 and not failures:
            verdict, because = "not assessed", [f"no check {label} depends on ran (run --suite rfc or --suite {idp})"]
        elif failures:
            verdict, because = "not ready", failures
        else:
            verdict, because = "ready", [f"all {n} check(s) {label} depends on passed"]
        out.append({"idp": idp, "name": label, "verdict": verdict, "because": because[:MAX_REASONS],
                    "more": max(0, len(because) - MAX_REASONS), "warnings": warnings[:MAX_REASONS],
                    "more_warnings": max(0, len(warnings) - MAX_REASONS), "checks": n,
                    "auth": auth_reach(idp, label, run.auth_mode, MODE_LABELS.get(run.auth_mode, run.auth_mode))})
    cw = [(sc, st, c) for sc in run.scenarios if "clockwise" in sc.tags and not sc.own for st in sc.steps
          for c in st.checks]
    if cw:
        bad = [_reason(sc, st.name, c) for sc, st, c in cw if c.status in ("fail", "error")]
        skipped = all(sc.skipped for sc in run.scenarios if "clockwise" in sc.tags and not sc.own)
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
    if v.get("auth"):
        text += f"; {v['auth']}"
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
    for sc in run.scenarios:  # a user's scenario's own `rules:`, judged by the scenario's outcome
        for declared in sc.rules if sc.own else ():
            row = rows.setdefault((declared, "scenario"), {"rule": declared, "strength": "scenario",
                                                          "pass": 0, "fail": 0, "skip": 0, "error": 0})
            row[sc.status] += 1
    order = {"MUST": 0, "SHOULD": 1, "MAY": 2}
    return sorted(rows.values(), key=lambda r: (0 if r["fail"] + r["error"] else 1, order.get(r["strength"], 3), r["rule"]))
