"""The rfc suite as a whole: on the correct app, cleanup (also after failures and crashes), the run
prefix, and unadvertised features. Each check against its broken server: test_conformance_every_check."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.conformance import CATALOGUE, run_rfc
from harness.conformance import bulk as bulk_mod
from harness.conformance import crud as crud_mod
from harness.conformance.context import Capabilities
from harness.results import ScenarioResult
from harness.transcript import Transcript
from tests.harness.broken_scim_app import TOKEN, make_app

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
            assert c.rule == CATALOGUE[base].source and c.strength == CATALOGUE[base].strength


def test_every_resource_the_suite_creates_carries_the_run_prefix() -> None:
    """The suite's own safety rule (no server behaviour can break it, so it is a test, not a check)."""
    transcript = Transcript()
    with _client(make_app()) as client:
        run_rfc(client, transcript, run_id="pfx123")
    bodies = [ex.request_json() for ex in transcript.exchanges if ex.method == "POST" and ex.path.endswith(("/Users", "/Groups"))]
    names = [b.get("userName") or b.get("displayName") for b in bodies if isinstance(b, dict)]
    assert len(names) > 20 and any(n is None for n in names)  # the create without userName is sent too
    assert all(n is None or n.lower().startswith("scimh-pfx123-") for n in names), names


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


def test_bulk_results_are_read_whatever_their_status_form_and_only_created_resources_are_kept() -> None:
    # RFC 7644 §3.7.3: status is a string; an integer or a {"code": …} object is read too, anything else is None.
    assert [bulk_mod.op_status({"status": v}) for v in ("201", 204, {"code": "409"}, "x", None)] == [201, 204, 409, None, None]
    assert bulk_mod.created_id({"method": "POST", "status": "201", "location": "https://h/scim/v2/Users/u-1"}) == ("u-1", "Users")
    assert bulk_mod.created_id({"method": "post", "status": 201, "location": "/Groups/g-1/"}) == ("g-1", "Groups")
    for res in ({"method": "POST", "status": "409", "location": "/Users/u-1"}, {"method": "PUT", "status": "200", "location": "/Users/u-1"},
                {"method": "POST", "status": "201"}, {"method": "POST", "status": "201", "location": "/Elsewhere/u-1"}):
        assert bulk_mod.created_id(res) == (None, None), res


def test_the_advertised_limits_are_read_only_as_positive_integers() -> None:
    caps = Capabilities.from_document({"bulk": {"supported": True, "maxOperations": 10, "maxPayloadSize": "65536"},
                                       "filter": {"supported": True, "maxResults": True}})
    assert (caps.bulk, caps.bulk_max_operations, caps.bulk_max_payload, caps.max_results) == (True, 10, None, None)
    caps = Capabilities.from_document({"bulk": {"supported": False, "maxOperations": 0}, "filter": {"maxResults": 200}})
    assert (caps.bulk, caps.bulk_max_operations, caps.max_results, caps.filter) == (False, None, 200, False)
    assert Capabilities.from_document("not a document") == Capabilities()
