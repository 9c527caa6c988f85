"""Every check of the rfc suite, proven both ways: on the correct mock it passes (or is skipped with a
reason where the feature is legitimately not advertised), and with one switch of the broken app on it
fails, naming its rule. A check added to the catalogue without a switch here breaks this module."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.conformance import AREA_RUNNERS, CATALOGUE, areas_for, run_rfc
from harness.results import CheckResult, ScenarioResult
from tests.harness.broken_scim_app import ADMIN, BREAKS, TOKEN, Broken, make_app

# check id (without "rfc.") -> the switch that makes it fail, or (switch, extra areas to run)
FAILS: dict[str, str | tuple[str, list[str]]] = {
    "discovery.spc.get": "spc-404", "discovery.spc.features": "spc-feature-no-supported",
    "discovery.spc.bulk-limits": "spc-bulk-limits-strings", "discovery.spc.filter-max-results": "spc-no-max-results",
    "discovery.spc.auth-schemes": "spc-no-auth-schemes", "discovery.spc.bearer-advertised": "spc-basic-scheme",
    "discovery.rt.list": "rt-list-empty", "discovery.rt.users": "rt-users-wrong-endpoint", "discovery.rt.groups": "rt-no-groups",
    "discovery.rt.schemas-served": "schemas-list-no-enterprise", "discovery.rt.by-id": "rt-by-id-404",
    "discovery.rt.unknown-404": "rt-unknown-200", "discovery.schemas.list": "schemas-list-empty",
    "discovery.schemas.by-id": "schemas-by-id-404", "discovery.schemas.unknown-404": "schemas-unknown-200",
    "discovery.write-refused": "discovery-write-ok", "discovery.advertised.filter": "filter-ignored",
    "discovery.advertised.patch": "patch-refused", "discovery.advertised.sort": "sort-400",
    "discovery.advertised.etag": "etag-no-header",
    "schema.attribute-definition": "schema-bad-definition", "schema.core-user": "schema-username-not-required",
    "schema.core-group": "schema-group-no-members", "schema.resource-conforms": "user-active-string",
    "schema.no-undeclared-attributes": "undeclared-attr", "schema.schemas-declared": "user-schemas-extra",
    "schema.extension-container": "enterprise-flattened", "schema.returned-never": "leak-password",
    "schema.returned-always": "projection-drops-id", "schema.readonly-ignored": "password-taken-id",
    "schema.required-enforced": "no-username-ok", "schema.meta-resource-type": "meta-resource-type-wrong",
    "users.create.201": "create-200", "users.create.returns-attributes": "create-echo-minimal",
    "users.create.meta": "no-meta-location", "users.create.stores-declared": "drops-declared-title", "users.create.unique-ids": "same-id", "users.create.conflict-409": "no-conflict",
    "users.create.conflict-case-insensitive": "username-case-sensitive", "users.get.200": "get-drops-name",
    "users.get.location": "meta-location-wrong", "users.get.unknown-404": "get-unknown-400", "users.put.200": "put-204",
    "users.put.replaces": "put-noop", "users.put.readonly-ignored": "put-takes-id", "users.put.unknown-404": "put-unknown-400",
    "users.meta.last-modified": "last-modified-goes-back", "users.delete.204": "delete-200",
    "users.delete.then-404": "delete-noop", "users.delete.omitted-from-queries": "soft-delete",
    "users.delete.unknown-404": "delete-unknown-204",
    "groups.create.201": "create-200", "groups.create.conflict-409": "group-name-declared-unique",
    "groups.get.200": "get-drops-name", "groups.get.unknown-404": "get-unknown-400", "groups.members.value": "members-value-ref",
    "groups.user.groups": "user-groups-empty", "groups.put.200": "put-noop", "groups.delete.204": "delete-200",
    "groups.delete.keeps-users": "group-delete-cascades",
    "filters.eq": "filter-ignored", "filters.ne": "ne-as-eq", "filters.co": "co-as-sw", "filters.sw": "sw-as-eq",
    "filters.ew": "ew-as-sw", "filters.pr": "pr-matches-all", "filters.gt": "gt-as-ge", "filters.ge": "ge-as-gt",
    "filters.lt": "lt-as-le", "filters.le": "le-as-lt", "filters.and": "and-as-or", "filters.or": "or-as-and",
    "filters.not": "not-ignored", "filters.precedence": "left-to-right", "filters.grouping": "parens-ignored",
    "filters.sub-attribute": "sub-attr-wrong", "filters.value-path": "value-path-as-pr",
    "filters.multi-valued": "multi-valued-first-only", "filters.urn-qualified": "urn-filter-400",
    "filters.extension": "extension-filter-400", "filters.boolean": "boolean-inverted", "filters.datetime": "datetime-as-string",
    "filters.attribute-name-case": "case-sensitive-names", "filters.value-case": "case-exact-values",
    "filters.no-match": "no-match-404", "filters.invalid-400": "invalid-filter-200",
    "filters.invalid-scim-type": "invalid-filter-no-scim-type", "filters.with-paging": "total-is-page",
    "filters.post-search": "search-ignores-filter", "filters.groups-display-name": "groups-filter-empty",
    "filters.groups-member": "members-filter-400", "filters.external-id": "external-id-filter-400",
    "filters.clause-not-dropped": "filter-drops-unknown-clause", "filters.post-search-paging": "search-ignores-paging",
    "paging.items-per-page": "items-per-page-echoes-count", "patch.projection-keeps-unlisted": "patch-projection-wipes",
    "groups.members.malformed-id": "malformed-member-500", "filters.sparse-resources": "sparse-breaks-filters",
    "patch.sparse-resources": "sparse-breaks-patch", "users.meta.last-modified-changes": "last-modified-frozen",
    "groups.create.meta": "group-no-meta-times", "groups.meta.last-modified-changes": "last-modified-frozen",
    "paging.count": "count-ignored", "paging.total": "total-is-page", "paging.start-index": "start-index-echoed-not-applied",
    "paging.walk": "ignore-start-index", "paging.start-zero": "start-zero-empty", "paging.start-negative": "start-negative-400",
    "paging.count-zero": "count-zero-ignored", "paging.count-negative": "count-negative-400", "paging.past-end": "past-end-404",
    "paging.integers": "paging-strings", "paging.groups": "groups-list-needs-filter",
    "sort.ascending": "sort-inverted", "sort.descending": "sort-ignored", "sort.default-order": "sort-default-descending",
    "sort.sub-attribute": "sort-sub-attr-ignored", "sort.paged": "sort-paged-ignores-start",
    "projection.attributes-get": "projection-ignored", "projection.attributes-list": "projection-list-ignored",
    "projection.attributes-filter": "projection-list-ignored", "projection.excluded-get": "excluded-ignored",
    "projection.excluded-list": "excluded-ignored", "projection.sub-attribute": "projection-sub-attr-whole",
    "projection.always-returned": "projection-drops-id", "projection.name-case": "projection-case-sensitive",
    "projection.urn-qualified": "projection-urn-400",
    "patch.status": "patch-200-empty", "patch.replace-simple": "patch-noop", "patch.add-simple": "patch-ignores-add-path",
    "patch.remove-simple": "patch-ignores-remove", "patch.replace-sub-attribute": "patch-sub-attr-replaces-parent",
    "patch.replace-complex": "patch-ignores-complex-value", "patch.add-no-path": "patch-ignores-no-path",
    "patch.replace-no-path": "patch-ignores-no-path", "patch.add-multi-valued": "patch-ignores-add-path",
    "patch.replace-value-path": "patch-ignores-value-path", "patch.remove-value-path": "patch-ignores-remove",
    "patch.value-path-no-match": "no-target-scim-type", "patch.remove-no-path": "no-target-scim-type",
    "patch.extension-path": "patch-ignores-urn-path", "patch.extension-no-path": "patch-ignores-no-path",
    "patch.atomic": "patch-not-atomic", "patch.invalid-op": "patch-unknown-op-ignored", "patch.invalid-path": "patch-bad-path-500",
    "patch.mutability": "patch-mutability-204", "patch.op-case": "patch-op-case-sensitive", "patch.unknown-404": "patch-unknown-400",
    "patch.group-add-member": "patch-ignores-add-path", "patch.group-remove-member": "patch-ignores-value-path",
    "patch.group-remove-member-value": "patch-ignores-remove", "patch.group-rename": "patch-ignores-display-name",
    "etag.header": "etag-no-header", "etag.meta-version": "etag-meta-version-missing", "etag.changes": "etag-constant",
    "etag.if-none-match-304": "etag-ignored", "etag.if-none-match-stale": "if-none-match-always-304",
    "etag.if-match-412": "if-match-ignored", "etag.if-match-ok": "if-match-always-412",
    "errors.unknown-endpoint-404": "unknown-endpoint-400", "errors.invalid-json-400": "invalid-json-500",
    "errors.invalid-json-scim-type": "invalid-json-no-scim-type", "errors.conflict-scim-type": "conflict-no-scim-type",
    "errors.error-body": "error-status-int", "errors.collection-delete-refused": "collection-delete-ok",
    "errors.too-large-413": "too-large-500", "errors.403": "forbidden-plain-403",
    "auth.missing-401": "no-auth", "auth.wrong-401": "wrong-token-accepted", "auth.basic-401": "basic-accepted",
    "auth.www-authenticate": "no-www-authenticate", "auth.no-side-effect": "unauth-post-creates",
    "safety.cleanup": ("delete-noop", ["users"]),
    "discovery.advertised.bulk": "bulk-501", "bulk.operations": "bulk-put-ignored", "bulk.bulk-id": "bulk-ids-unresolved",
    "bulk.fail-on-errors": "bulk-ignores-fail-on-errors", "bulk.max-operations": "bulk-no-limits",
    "bulk.max-payload": "bulk-no-limits", "paging.max-results": "max-results-not-enforced",
    "projection.schemas": "projection-drops-schemas", "users.create.entra-roles": "roles-primary-string-400",
    "patch.extension-urn-path": "patch-urn-container-400", "patch.last-modified-changes": "last-modified-frozen",
    "users.put.projection-keeps-unlisted": "put-projection-wipes",
}
# Further switches that make a check fail (another way to break the same rule).
MORE_FAILS: dict[str, list[str]] = {"errors.error-body": ["error-empty-body"], "paging.past-end": ["past-end-restarts"]}
CASES = [(short, FAILS[short]) for short in sorted(FAILS)] + [(s, sw) for s, sws in MORE_FAILS.items() for sw in sws]
# Features the mock does not offer, which the broken app performs correctly: with the feature on, these pass.
FEATURE_CHECKS: dict[str, list[str]] = {
    "bulk": ["rfc.discovery.advertised.bulk", "rfc.bulk.operations", "rfc.bulk.bulk-id", "rfc.bulk.fail-on-errors",
             "rfc.bulk.max-operations", "rfc.bulk.max-payload"],
    "small-max-results": ["rfc.paging.max-results"],
}
# Informational checks (Rule.can_fail False): the switch shows the other behaviour the RFC allows,
# reported as a skip with its reason, never as a failure.
INFORMS: dict[str, str] = {"users.put.omitted": "put-keeps-omitted"}
# Checks skipped on the correct mock, and why that is legitimate there.
SKIPPED_ON_MOCK = {
    "rfc.groups.create.conflict-409": "the mock does not declare Group.displayName unique",
    "rfc.errors.403": "no generic probe is forbidden on the mock",
    **{cid: "the mock does not advertise bulk.supported" for cid in FEATURE_CHECKS["bulk"]},
    "rfc.paging.max-results": "the mock's maxResults (1000) is more than the users the suite creates",
}


def _client(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver/scim/v2",
                        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/scim+json"})


def _checks(areas: list[ScenarioResult]) -> list[CheckResult]:
    return [c for sc in areas for st in sc.steps for c in st.checks]


def _base(c: CheckResult) -> str:
    return c.check_id.split("[", 1)[0]


@pytest.fixture(scope="module")
def app() -> Broken:
    return make_app()


@pytest.fixture(scope="module")
def clean(app: Broken) -> list[ScenarioResult]:
    with _client(app) as client:
        return run_rfc(client)


def _areas_of(clean: list[ScenarioResult], cid: str) -> list[str]:
    """The areas whose run records `cid` on the correct app (discovery and safety always run)."""
    return sorted({sc.name.removeprefix("rfc: ") for sc in clean for st in sc.steps for c in st.checks
                   if _base(c) == cid} & set(AREA_RUNNERS))


def _run_broken(app: Broken, switch: str, cid: str, extra: list[str] | None = None) -> list[ScenarioResult]:
    app.set(())
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver/_mock",
                      headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        assert admin.post("/reset").status_code == 204
    app.set({switch})
    try:
        with _client(app) as client:
            return run_rfc(client, checks=[cid], areas=extra or [])
    finally:
        app.set(())


def test_every_catalogued_check_has_a_switch() -> None:
    """The guard: a new check without a failing test breaks the suite."""
    mapped = {f"rfc.{k}" for k in (*FAILS, *INFORMS)}
    assert mapped == set(CATALOGUE), (set(CATALOGUE) - mapped, mapped - set(CATALOGUE))
    assert {f"rfc.{k}" for k in INFORMS} == {k for k, d in CATALOGUE.items() if not d.can_fail}


def test_every_switch_breaks_some_check() -> None:
    used = {v if isinstance(v, str) else v[0] for _, v in CASES} | set(INFORMS.values())
    assert used == set(BREAKS), (set(BREAKS) - used, used - set(BREAKS))


def test_running_one_check_runs_the_areas_that_record_it(clean: list[ScenarioResult]) -> None:
    for cid in CATALOGUE:
        assert set(_areas_of(clean, cid)) <= set(areas_for([cid])), cid
    assert areas_for(["rfc.discovery.advertised.patch", "rfc.patch.atomic"]) == ["patch"]


def test_every_check_passes_on_the_correct_app(clean: list[ScenarioResult]) -> None:
    by_id: dict[str, set[str]] = {}
    for c in _checks(clean):
        by_id.setdefault(_base(c), set()).add(c.status)
    for cid in CATALOGUE:
        if cid in SKIPPED_ON_MOCK:
            assert by_id.get(cid) == {"skip"}, (cid, by_id.get(cid))
        else:
            assert by_id.get(cid) == {"pass"}, (cid, by_id.get(cid))
    assert all(c.message for c in _checks(clean) if c.status == "skip")


@pytest.mark.parametrize(("short", "case"), CASES, ids=[f"{s}-{c if isinstance(c, str) else c[0]}" for s, c in CASES])
def test_a_broken_server_fails_the_check_naming_its_rule(short: str, case: str | tuple[str, list[str]], app: Broken,
                                                         clean: list[ScenarioResult]) -> None:
    cid = f"rfc.{short}"
    switch, extra = (case, []) if isinstance(case, str) else case
    result = _run_broken(app, switch, cid, extra)
    mine = [c for c in _checks(result) if _base(c) == cid]
    failed = [c for c in mine if c.status == "fail"]
    assert failed, f"{cid} did not fail with {switch}: {[(c.status, c.message) for c in mine]}"
    for c in failed:
        assert c.rule == CATALOGUE[cid].source and c.strength == CATALOGUE[cid].strength
        assert c.rule.startswith(("RFC", "scim-harness")) or "Entra" in c.rule or "Okta" in c.rule
        assert c.message
    assert not [st.error for sc in result for st in sc.steps if st.error and st.name == "harness error"]


@pytest.mark.parametrize("short", sorted(INFORMS))
def test_an_informational_check_reports_the_other_allowed_behaviour_as_a_skip(short: str, app: Broken,
                                                                              clean: list[ScenarioResult]) -> None:
    cid = f"rfc.{short}"
    result = _run_broken(app, INFORMS[short], cid)
    mine = [c for c in _checks(result) if _base(c) == cid]
    assert mine and all(c.status == "skip" for c in mine)
    assert all("allows" in c.message and c.rule == CATALOGUE[cid].source for c in mine)


@pytest.mark.parametrize("feature", sorted(FEATURE_CHECKS))
def test_a_feature_the_mock_lacks_passes_where_it_is_done_right(feature: str, app: Broken) -> None:
    """Bulk and a small maxResults are skipped on the mock (not advertised / not observable); the broken
    app performs them correctly with the feature on, and there each of their checks passes."""
    wanted = FEATURE_CHECKS[feature]
    result = _run_broken(app, feature, wanted[0], [a for cid in wanted for a in areas_for([cid])])
    by_id: dict[str, set[str]] = {}
    for c in _checks(result):
        by_id.setdefault(_base(c), set()).add(c.status)
    assert {cid: by_id.get(cid) for cid in wanted} == {cid: {"pass"} for cid in wanted}


def _paging_under(app: Broken, switches: set[str]) -> dict[str, set[str]]:
    """The status of every paging check with `switches` on (discovery runs first, as always)."""
    app.set(())
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver/_mock",
                      headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        assert admin.post("/reset").status_code == 204
    app.set(switches)
    try:
        with _client(app) as client:
            result = run_rfc(client, areas=["paging"])
    finally:
        app.set(())
    by_id: dict[str, set[str]] = {}
    for c in _checks(result):
        if c.check_id.startswith("rfc.paging."):
            by_id.setdefault(_base(c), set()).add(c.status)
    return by_id


def test_paging_on_every_user_while_another_client_provisions_fails_nothing(app: Broken) -> None:
    """filter.supported false: paging is judged on the whole collection, which the run's other scenarios
    (here another client, before each list) grow meanwhile. A correct server fails no paging check for it;
    the walk, which cannot be judged on a moving collection, says so."""
    by_id = _paging_under(app, {"filter-unadvertised", "busy-collection"})
    assert not {cid for cid, st in by_id.items() if "fail" in st or "error" in st}, by_id
    assert by_id["rfc.paging.total"] == by_id["rfc.paging.count-zero"] == by_id["rfc.paging.past-end"] == {"pass"}
    assert by_id["rfc.paging.walk"] == {"skip"}


def test_paging_on_every_user_of_a_still_collection_is_judged(app: Broken) -> None:
    """Unscoped but unchanging, the walk is judged (and passes on the correct app)."""
    assert _paging_under(app, {"filter-unadvertised"})["rfc.paging.walk"] == {"pass"}


def test_a_page_past_the_end_that_restarts_fails_past_end_only(app: Broken) -> None:
    """SCIMMY answers a page past the end with the list from its start: that is rfc.paging.past-end. An
    importer walks up to totalResults and never asks for that page (idp-wire.md, Import), so the walk
    (Okta's import order) passes."""
    by_id = _paging_under(app, {"past-end-restarts"})
    assert by_id["rfc.paging.past-end"] == {"fail"}
    assert by_id["rfc.paging.walk"] == {"pass"}
