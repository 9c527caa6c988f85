"""The rule registry (harness.rules): every rule has an id, text, source, strength and IdP set, and
the helpers name the IdP of a dialect."""
from __future__ import annotations

from harness.rules import CATALOGUE, IDP_NAMES, RULES, base_id, request_accepted_source, rule, task_rule


def test_every_rule_is_complete() -> None:
    for rid, r in RULES.items():
        assert r.id == rid and r.text and r.source, rid
        assert r.strength in ("MUST", "SHOULD", "MAY"), rid
        assert r.idps <= set(IDP_NAMES), rid


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


def test_every_rule_says_why_and_every_rule_an_idp_needs_says_it_in_its_own_words() -> None:
    from harness.rules import RFC_ONLY, WHY
    for rid, r in RULES.items():
        assert r.why and "\n" not in r.why, rid
        if r.idps:
            assert rid in WHY and r.why == WHY[rid], f"{rid} breaks {sorted(r.idps)}: say why in WHY"
    assert set(WHY) <= set(RULES), set(WHY) - set(RULES)
    assert RULES["rfc.sort.ascending"].why == RFC_ONLY


def test_the_audited_idp_sets() -> None:
    # idp-wire.md: neither IdP reads Location; Okta accepts a 404 on a lookup, Entra quarantines on it.
    assert RULES["header.location"].idps == set() and RULES["etag.both"].idps == set()
    assert RULES["rfc.filters.no-match"].idps == {"entra"}
    assert RULES["rfc.patch.replace-no-path"].idps == {"okta"} and RULES["rfc.patch.op-case"].idps == {"entra"}
    assert RULES["rfc.auth.missing-401"].idps == set() and RULES["rfc.auth.basic-401"].idps == {"okta"}
    assert RULES["rfc.filters.groups-display-name"].idps == {"okta", "entra"}
    assert RULES["okta.task"].idps == {"okta"} and RULES["entra.request-accepted"].idps == {"entra"}
    assert RULES["control.expect"].idps == set()
    assert RULES["expect"].idps == {"okta", "entra", "onelogin", "pingfederate"}


def test_needed_by_follows_subjects() -> None:
    from harness.rules import needed_by, subject_of
    assert subject_of("rfc.filters.value-case[userName]") == "userName" and subject_of("rfc.filters.eq") is None
    assert needed_by("rfc.filters.value-case[userName]") == {"okta"}
    assert needed_by("rfc.filters.value-case[title]") == set()  # Okta looks users up by userName only
    assert needed_by("rfc.patch.status[replace-no-path]") == {"okta"}
    assert needed_by("rfc.patch.status[replace-simple]") == {"entra"}
    assert needed_by("rfc.patch.status[unknown-op]") == {"entra"}
    assert needed_by("rfc.filters.eq") == {"okta", "entra", "onelogin"}  # PingFederate's lookup is not documented


def test_rule_for_resolves_a_recorded_check_to_its_rule() -> None:
    from harness.rules import rule_for
    def rid(check_id: str, source: str, strength: str = "MUST") -> str | None:
        found = rule_for(check_id, source, strength)
        return found.id if found else None
    assert rid("http.status", "Okta needs deactivate to succeed") == "okta.request-accepted"
    assert rid("http.status", "Microsoft Entra ID needs assign to succeed") == "entra.request-accepted"
    assert rid("http.status", "RFC 7644 §3.3") == "http.status.create"
    assert rid("http.status", RULES["control.expect"].source) == "control.expect"
    assert rid("http.status", "something else") == "http.status"
    assert rid("body.json", "RFC 7644 §3.12") == "schema.Error"
    assert rid("body.json", RULES["body.create"].source) == "body.create"
    assert rid("etag.consistent", "RFC 7644 §3.14", "SHOULD") == "etag.both"
    assert rid("etag.consistent", RULES["etag.consistent"].source) == "etag.consistent"
    assert rid("driver.task", RULES["entra.task"].source) == "entra.task"
    assert rid("step.expect_error", RULES["okta.task-detail"].source) == "okta.task-detail"
    assert rid("http.redirect", "RFC 7644 §3 (HTTP)") == "transport"
    assert rid("step.result", "scenario expectation") == "step.expect"
    assert rid("response.time", "x", "SHOULD") == "step.response-time"
    assert rid("expect.json:members", "Scenario expectation") == "expect"
    assert rid("rfc.auth.missing-401[GET /Users]", "x") == "rfc.auth.missing-401"
    assert rid("schema.ListResponse:Schema", "Scenario schema") == "schema.ListResponse:Schema"
    assert rid("no.such.check", "x") is None


def test_onelogin_and_pingfederate_need_what_idp_wire_says_they_send() -> None:
    from harness.rules import IDP_NEEDS, idp_of, why_for
    assert idp_of("onelogin") == "onelogin" and idp_of("pingfederate") == "pingfederate" and idp_of("okta-patch") == "okta"
    # OneLogin: lookup, create, GET, full PUT, group PATCH (idp-wire.md, Other IdPs).
    for rid in ("rfc.filters.eq", "rfc.users.get.200", "rfc.users.put.200", "rfc.patch.group-add-member"):
        assert "onelogin" in RULES[rid].idps, rid
    # PingFederate: PUT only, GET /Users/0 expecting 404, groups matched by fetching all.
    for rid in ("rfc.users.put.200", "rfc.users.get.unknown-404", "rfc.paging.groups", "rfc.groups.create.201"):
        assert "pingfederate" in RULES[rid].idps, rid
    # What they do not send: no path-less PATCH, no capitalised ops, no PATCH of users by PingFederate, and the
    # admin's optional settings (OneLogin's DELETE, PingFederate's group PATCH) are not needs.
    for rid in ("rfc.patch.replace-no-path", "rfc.patch.op-case", "rfc.patch.replace-simple", "rfc.users.delete.204",
                "rfc.filters.no-match", "error.detail", "rfc.auth.basic-401"):
        assert not RULES[rid].idps & {"onelogin", "pingfederate"}, rid
    assert "pingfederate" not in RULES["rfc.patch.group-add-member"].idps
    assert "pingfederate" not in RULES["rfc.filters.eq"].idps
    assert RULES["onelogin.task"].idps == {"onelogin"} and RULES["pingfederate.request-accepted"].idps == {"pingfederate"}
    assert task_rule("onelogin").id == "onelogin.task" and task_rule("pingfederate", detail=True).idps == set()
    assert request_accepted_source("pingfederate", "assign") == "PingFederate needs assign to succeed"
    # Each says, in its own words, what that IdP cannot do; the others keep the rule's line.
    assert "GET /Users/0" in why_for(RULES["rfc.users.get.unknown-404"], "pingfederate")
    assert why_for(RULES["rfc.users.get.unknown-404"], "okta") == RULES["rfc.users.get.unknown-404"].why
    assert all(rid in RULES and idp in RULES[rid].idps for idp, needs in IDP_NEEDS.items() for rid in needs)
