"""The rfc suite against the deliberately broken app: each switch breaks one rule, and the check
for that rule — and only checks the break explains — fails, naming its rule."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.conformance import CATALOGUE, run_rfc
from harness.conformance import crud as crud_mod
from harness.results import ScenarioResult
from tests.harness.broken_scim_app import BREAKS, TOKEN, make_app

# switch -> (areas to run, the check that must fail)
EXPECTED = {
    "spc-no-auth-schemes": (["discovery"], "rfc.discovery.spc.auth-schemes"),
    "schemas-unknown-200": (["discovery"], "rfc.discovery.schemas.unknown-404"),
    "discovery-write-ok": (["discovery"], "rfc.discovery.write-refused"),
    "leak-password": (["schema"], "rfc.schema.returned-never"),
    "undeclared-attr": (["schema"], "rfc.schema.no-undeclared-attributes"),
    "create-200": (["users"], "rfc.users.create.201"),
    "no-conflict": (["users"], "rfc.users.create.conflict-409"),
    "get-unknown-400": (["users"], "rfc.users.get.unknown-404"),
    "delete-200": (["users"], "rfc.users.delete.204"),
    "no-meta-location": (["users"], "rfc.users.create.meta"),
    "put-noop": (["users"], "rfc.users.put.replaces"),
    "password-taken-id": (["schema"], "rfc.schema.readonly-ignored"),
    "filter-ignored": (["filters"], "rfc.filters.eq"),
    "or-as-and": (["filters"], "rfc.filters.or"),
    "invalid-filter-200": (["filters"], "rfc.filters.invalid-400"),
    "ignore-start-index": (["paging"], "rfc.paging.start-index"),
    "count-ignored": (["paging"], "rfc.paging.count"),
    "total-is-page": (["paging"], "rfc.paging.total"),
    "start-zero-empty": (["paging"], "rfc.paging.start-zero"),
    "sort-ignored": (["sort"], "rfc.sort.descending"),
    "projection-ignored": (["projection"], "rfc.projection.attributes-get"),
    "patch-noop": (["patch"], "rfc.patch.replace-simple"),
    "etag-ignored": (["etag"], "rfc.etag.if-none-match-304"),
    "no-auth": (["auth"], "rfc.auth.missing-401"),
    "error-status-int": (["users", "errors"], "rfc.errors.error-body"),
}


def _client(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver/scim/v2",
                        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/scim+json"})


def _checks(areas: list[ScenarioResult]) -> list[Any]:
    return [c for sc in areas for st in sc.steps for c in st.checks]


def _totals(client: httpx.Client) -> tuple[int, int]:
    return (client.get("/Users", params={"count": 0}).json()["totalResults"],
            client.get("/Groups", params={"count": 0}).json()["totalResults"])


@pytest.fixture(scope="module")
def clean_run() -> list[ScenarioResult]:
    with _client(make_app()) as client:
        return run_rfc(client)


def test_every_check_passes_or_skips_with_a_reason_on_the_correct_app(clean_run: list[ScenarioResult]) -> None:
    checks = _checks(clean_run)
    bad = [(c.check_id, c.message) for c in checks if c.status in ("fail", "error")]
    assert not bad
    assert not [st.error for sc in clean_run for st in sc.steps if st.error]
    assert all(c.message for c in checks if c.status == "skip")
    ran = {c.check_id.split("[", 1)[0] for c in checks}
    # Every catalogued check is exercised on the correct app (403 only as a skip with its reason).
    assert set(CATALOGUE) - ran == set()


def test_each_area_is_a_scenario_and_each_rfc_check_names_its_rule(clean_run: list[ScenarioResult]) -> None:
    assert [sc.name for sc in clean_run][0] == "rfc: discovery" and clean_run[-1].name == "rfc: safety"
    for c in _checks(clean_run):
        base = c.check_id.split("[", 1)[0]
        if base in CATALOGUE:
            assert c.rule == CATALOGUE[base].rule and c.strength == CATALOGUE[base].strength


@pytest.mark.parametrize("switch", sorted(EXPECTED))
def test_a_broken_rule_fails_its_check(switch: str, clean_run: list[ScenarioResult]) -> None:
    areas, check_id = EXPECTED[switch]
    with _client(make_app({switch})) as client:
        result = run_rfc(client, areas=areas)
    failed = [c for c in _checks(result) if c.check_id.split("[", 1)[0] == check_id and c.status == "fail"]
    assert failed, f"{check_id} did not fail with {switch}"
    assert failed[0].rule == CATALOGUE[check_id].rule and "RFC" in failed[0].rule or "Okta" in failed[0].rule
    passed_before = [c for c in _checks(clean_run) if c.check_id.split("[", 1)[0] == check_id]
    assert passed_before and all(c.status == "pass" for c in passed_before)


def test_every_switch_is_covered() -> None:
    assert set(EXPECTED) == BREAKS


def test_the_suite_leaves_the_target_as_it_found_it() -> None:
    app = make_app()
    with _client(app) as client:
        client.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "someone@else"})
        before = _totals(client)
        result = run_rfc(client)
        assert _totals(client) == before
        safety = [c for c in _checks(result) if c.check_id == "rfc.safety.cleanup"]
        assert safety and safety[0].status == "pass"


def test_cleanup_also_after_a_check_crashes_midway(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(ctx: Any) -> None:
        raise RuntimeError("boom in the middle of groups")

    from harness import conformance
    monkeypatch.setitem(conformance.AREA_RUNNERS, "groups", explode)
    with _client(make_app()) as client:
        before = _totals(client)
        result = run_rfc(client)
        assert _totals(client) == before
    errors = [st.error for sc in result for st in sc.steps if st.error]
    assert any("boom in the middle of groups" in e for e in errors)
    assert any(sc.name == "rfc: patch" and sc.steps for sc in result)  # later areas still ran


def test_a_check_that_fails_midway_still_cleans_up() -> None:
    with _client(make_app({"put-noop", "delete-200"})) as client:
        before = _totals(client)
        result = run_rfc(client, areas=["users", "groups", "filters"])
        assert _totals(client) == before
    assert any(c.status == "fail" for c in _checks(result))


def test_unadvertised_patch_sort_etag_are_skipped_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.conformance import context

    with _client(make_app()) as client:
        original = context.Capabilities.from_document

        def no_patch(doc: Any) -> Any:
            caps = original(doc)
            caps.patch = caps.sort = caps.etag = False
            return caps

        monkeypatch.setattr(context.Capabilities, "from_document", staticmethod(no_patch))
        result = run_rfc(client, areas=["patch", "sort", "etag"])
    checks = _checks(result)
    assert not [c for c in checks if c.status == "fail"]
    skipped = {c.check_id for c in checks if c.status == "skip"}
    assert {"rfc.discovery.advertised.patch", "rfc.discovery.advertised.etag", "rfc.discovery.advertised.sort"} <= skipped
    assert crud_mod.unknown_id() != crud_mod.unknown_id()
