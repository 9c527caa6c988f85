"""The rule registry (harness.rules): every rule has an id, text, source, strength and IdP set, and
the helpers name the IdP of a dialect."""
from __future__ import annotations

from harness.rules import CATALOGUE, RULES, base_id, request_accepted_source, rule, task_rule


def test_every_rule_is_complete() -> None:
    for rid, r in RULES.items():
        assert r.id == rid and r.text and r.source, rid
        assert r.strength in ("MUST", "SHOULD", "MAY"), rid
        assert r.idps <= {"okta", "entra"}, rid


def test_the_catalogue_is_the_rfc_suite_and_knows_its_areas() -> None:
    assert CATALOGUE and all(rid.startswith("rfc.") for rid in CATALOGUE)
    assert set(CATALOGUE) == {rid for rid in RULES if rid.startswith("rfc.")}
    assert CATALOGUE["rfc.users.create.201"].area == "users" and RULES["transport"].area is None
    assert [rid for rid, r in CATALOGUE.items() if not r.can_fail] == ["rfc.users.put.omitted"]


def test_lookups() -> None:
    assert base_id("rfc.auth.missing-401[GET /Users]") == "rfc.auth.missing-401"
    assert rule("rfc.auth.missing-401[GET /Users]") is RULES["rfc.auth.missing-401"]
    assert rule("schema.Custom").source == "Scenario schema"
    assert task_rule("okta-aiw").idps == {"okta"} and task_rule("entra", detail=True).idps == {"entra"}
    assert request_accepted_source("entra", "assign") == "Microsoft Entra ID needs assign to succeed"
    assert request_accepted_source("okta", "push_group") == "Okta needs push_group to succeed"
