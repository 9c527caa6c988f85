"""Which IdPs a recorded failure breaks, where it was judged (DESIGN.md, "Verdicts"), for the verdicts
and the root causes alike:
- in the rfc suite, a catalogued rule (`rfc.<area>.<check>`) breaks the IdPs of its set (harness.rules);
  the per-exchange checks the suite records there are RFC-only (it provokes answers no IdP asks for);
- in a scenario run in an IdP's dialect, a check breaks that IdP when its rule names it: a driver task or
  a refused IdP request always, a per-exchange rule by its set (header.location: none). A scenario's
  expectations (and a raw request step's expected status) are the IdP's when the scenario replays an IdP
  flow — its `rules` cite Okta, Entra or idp-wire.md; a scenario citing only RFCs is RFC-only;
- Clockwise business rules break no IdP (they have their own verdict line).
"""
from __future__ import annotations

from functools import lru_cache

from harness.actions import ACTIONS
from harness.results import CheckResult, ScenarioResult, StepResult
from harness.rules import NONE, RULES, Rule, base_id, idp_of, needed_by, rule_for

EXPECTATION_RULES = frozenset({"expect", "step.expect"})
# The rule lookups are pure functions of their arguments, asked once per recorded check (thousands per run)
# by the verdicts and the root causes alike: each distinct question is answered once.
_rule_for = lru_cache(maxsize=4096)(rule_for)
_needed_by = lru_cache(maxsize=4096)(needed_by)
_IDP_WORDS = ("okta", "entra", "onelogin", "pingfederate", "idp-wire")


def replays_an_idp(sc: ScenarioResult) -> bool:
    """Does the scenario replay an IdP's flow (one of its rules cites Okta, Entra, OneLogin, PingFederate or
    idp-wire.md)?"""
    return any(word in r.lower() for r in sc.rules for word in _IDP_WORDS)


def is_raw_request(st: StepResult) -> bool:
    """A raw SCIM request step (`GET /Users/${id}`), not an IdP action, a control-plane call or the cleanup."""
    return st.action not in ACTIONS and not st.action.startswith("control ") and st.action not in ("cleanup", "setup")


def scenario_rule(st: StepResult, check: CheckResult) -> Rule | None:
    """The rule a scenario check was judged by; a raw request step's status is the scenario's expectation."""
    if is_raw_request(st) and base_id(check.check_id) == "http.status":
        return RULES["step.expect"]
    return _rule_for(check.check_id, check.rule, check.strength)


def breaks(sc: ScenarioResult, st: StepResult, check: CheckResult) -> frozenset[str]:
    """The IdPs whose provisioning this check's failure breaks, where it was judged."""
    if sc.dialect == "rfc":
        if not check.check_id.startswith("rfc."):
            return NONE
        try:
            return _needed_by(check.check_id)
        except KeyError:
            return NONE
    if "clockwise" in sc.tags:
        return NONE
    idp = idp_of(sc.dialect)
    found = scenario_rule(st, check)
    if found is None:
        return frozenset({idp})  # a check the registry does not know counts: no blocker goes unreported
    if found.id in EXPECTATION_RULES and not replays_an_idp(sc):
        return NONE
    return frozenset({idp}) & found.idps
