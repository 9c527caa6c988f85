"""The HTML report: one self-contained file (inline CSS and a little inline JS, nothing fetched) a person
opens in a browser and reads top-down — the verdict per IdP first, then the failures grouped by root cause
(each linking to its steps and exchanges), then the scenarios with every exchange (and "copy as curl"),
and the rules table collapsed at the end.

Built from the scrubbed report document (json_report.run_to_dict): this module adds only anchors, the
instances of each root cause and the curl commands, and never reads a secret.
"""
from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from harness.reports.json_report import pretty_json
from harness.reports.root_causes import normalise, reprs_as_json
from harness.rules import DIALECT_IDP, IDP_NAMES
from harness.transcript import REDACTED

TEMPLATE_DIR = Path(__file__).parent / "templates"
MAX_BODY_CHARS = 100_000  # per body in the page; longer ones are cut with a note
MAX_LINKS = 200  # instances of one root cause linked from it; report.json keeps every one
# Headers curl sets by itself, or that would be wrong once the body is re-sent (RFC 9110 §7.6.1: hop-by-hop).
_CURL_SKIP = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "keep-alive",
                        "transfer-encoding", "te", "upgrade"})
# The IdPs a scenario speaks for, for the page's IdP filter: the rfc suite's verdicts feed both.
# The IdP filter: a scenario run belongs to the IdP its dialect imitates; the rfc suite to every IdP.
_IDPS_OF_DIALECT = {**DIALECT_IDP, "rfc": " ".join(["rfc", *IDP_NAMES])}


def pretty_body(text: str | None) -> str:
    """A body for display: pretty-printed when it is JSON, cut when huge."""
    if text is None or text == "":
        return ""
    try:
        shown = pretty_json(json.loads(text))
    except (ValueError, RecursionError):
        shown = text
    if len(shown) > MAX_BODY_CHARS:
        shown = shown[:MAX_BODY_CHARS] + f"\n… ({len(shown) - MAX_BODY_CHARS} more characters not shown)"
    return shown


def curl_command(exchange: dict[str, Any]) -> str:
    """The request of `exchange` as a curl command line. A redacted credential becomes `$SCIM_TOKEN`, for
    the shell to fill in: the report never holds the token (transcript.REDACTED marks where it was)."""
    parts = ["curl", "-sS", "-X", shlex.quote(str(exchange.get("method") or "GET")), shlex.quote(str(exchange.get("url")))]
    for name, value in (exchange.get("request_headers") or {}).items():
        if name.lower() in _CURL_SKIP:
            continue
        value = str(value)
        if REDACTED in value:
            # Double quotes: the shell expands the variable, and nothing else in "Bearer $SCIM_TOKEN" is special.
            parts += ["-H", f'"{name}: {value.replace(REDACTED, "$SCIM_TOKEN")}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = exchange.get("request_body")
    if body:
        parts += ["--data-raw", shlex.quote(str(body))]
    return " ".join(parts)


def step_anchor(sc: int, st: int) -> str:
    return f"s{sc}-{st}"


def exchange_anchor(sc: int, st: int, ex: int) -> str:
    return f"s{sc}-{st}-x{ex}"


def _instances(run: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every failed check and step error of the run, keyed as root_causes groups them (normalised check id
    and message), with the anchors of its step and exchange."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i, sc in enumerate(run.get("scenarios", [])):
        for j, st in enumerate(sc.get("steps", [])):
            found = [(c["check_id"], c["message"], c.get("exchange")) for c in st.get("checks", [])
                     if c.get("status") in ("fail", "error")]
            if st.get("error"):
                exchanges = st.get("exchanges") or []
                found.append(("step.error", st["error"], len(exchanges) - 1 if exchanges else None))
            for check_id, message, ex in found:
                key = (normalise(check_id), normalise(message or ""))
                out.setdefault(key, []).append({
                    "scenario": sc["name"], "step": st["name"], "step_anchor": step_anchor(i, j),
                    "exchange_anchor": exchange_anchor(i, j, ex) if ex is not None else None,
                    "exchange": ex})
    return out


def _causes(summary: dict[str, Any], run: dict[str, Any]) -> list[dict[str, Any]]:
    """The root causes, each with its instances (anchors) and the IdPs it breaks."""
    instances = _instances(run)
    causes = []
    for entry in summary.get("root_causes") or []:
        found = instances.get((normalise(entry["check_id"]), entry.get("pattern") or normalise(entry["message"])), [])
        causes.append({**entry, "instances": found[:MAX_LINKS], "unlinked": max(0, len(found) - MAX_LINKS)})
    return causes


def short_reason(name: str, reason: str) -> str:
    """`Okta cannot deactivate users: …` → `cannot deactivate users: …` (the IdP is named once, before)."""
    return reason[len(name) + 1:] if reason.startswith(name + " ") else reason


def _verdicts(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**v, "reasons": [short_reason(v["name"], r) for r in v.get("because", [])],
             "warned": [short_reason(v["name"], w) for w in v.get("warnings", [])]}
            for v in summary.get("verdicts") or []]


def _scenarios(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenarios with their anchors, the IdP each speaks for and a curl command per exchange."""
    out = []
    for i, sc in enumerate(run.get("scenarios", [])):
        steps = []
        for j, st in enumerate(sc.get("steps", [])):
            exchanges = [{**ex, "anchor": exchange_anchor(i, j, k), "curl": curl_command(ex)}
                         for k, ex in enumerate(st.get("exchanges") or [])]
            # What the rule filter matches a step on: each check id and rule once (a step may hold 1,000 checks).
            rules = " ".join(dict.fromkeys(f"{c['check_id']} {c['rule']}" for c in st.get("checks", [])))
            steps.append({**st, "anchor": step_anchor(i, j), "exchanges": exchanges, "rules_text": rules})
        out.append({**sc, "anchor": f"s{i}", "idps": _IDPS_OF_DIALECT.get(sc.get("dialect", ""), ""), "steps": steps})
    return out


def _own(summary: dict[str, Any], scenarios: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The user's own scenarios (summary["own_scenarios"], when the runner reports them), each with the
    anchor of its details below."""
    own = summary.get("own_scenarios")
    if not own:
        return None
    anchors = {(sc["name"], sc.get("file")): sc["anchor"] for sc in scenarios}
    return {**own, "scenarios": [{**sc, "anchor": anchors.get((sc["name"], sc.get("file")))}
                                 for sc in own.get("scenarios", [])]}


def _exit(summary: dict[str, Any]) -> dict[str, str] | None:
    """The exit policy's reason (summary["exit"], when the runner reports it) as a short head — `65 failure(s)
    fail the run under --fail-on must` — and the rest (the failures it lists), shown on demand."""
    reason = (summary.get("exit") or {}).get("reason")
    if not reason:
        return None
    head, sep, rest = str(reason).partition(": ")
    return {"head": head, "rest": rest} if sep and len(head) <= 160 else {"head": str(reason), "rest": ""}


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pretty_body"] = pretty_body
    env.filters["as_json"] = reprs_as_json  # a message's Python reprs ({'a': None}) as JSON ({"a":null})
    return env


def render_html(document: dict[str, Any]) -> str:
    summary, run = document["summary"], document["run"]
    rules = summary.get("rules") or []
    scenarios = _scenarios(run)
    return _environment().get_template("report.html.j2").render(
        summary=summary, run=run, verdicts=_verdicts(summary), causes=_causes(summary, run), scenarios=scenarios,
        own=_own(summary, scenarios), exit=_exit(summary), idp_names=IDP_NAMES, rules=rules, rules_failing=sum(1 for r in rules if r["fail"] + r["error"]))


def write_html(document: dict[str, Any], path: Path) -> Path:
    path.write_text(render_html(document), encoding="utf-8")
    return path
