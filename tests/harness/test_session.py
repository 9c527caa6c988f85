"""The run session (harness.session), its control plane (harness.control_plane) and the prober
(harness.prober), in process on the mock: control-plane calls are recorded and feed the breaker, a
throwaway org is made and removed in one place, and the prober's ledger cleans up what it created."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.breaker import NOT_SENT, GuardedTranscript
from harness.control_plane import CONTROL_ROUTES, ControlPlaneError
from harness.prober import Prober, path_id
from harness.scenarios import scenario_schema
from harness.session import EMBEDDED_TIME_SCALE, Session
from harness.target import Target
from tests.conftest import MOCK_ADMIN_TOKEN, MOCK_SCIM_TOKEN

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _session(app: Any, **kw: Any) -> Session:
    target = Target("http://testserver/scim/v2", MOCK_SCIM_TOKEN, admin_token=MOCK_ADMIN_TOKEN, has_control_plane=True)
    return Session(target, transport=httpx.WSGITransport(app=app), **kw)


def test_the_schema_enum_of_control_steps_is_the_route_table() -> None:
    enum = scenario_schema()["$defs"]["step"]["properties"]["control"]["enum"]
    assert sorted(enum) == sorted(CONTROL_ROUTES)


def test_defaults_follow_the_target() -> None:
    embedded = Target("http://x/scim/v2", "t", embedded=True, has_control_plane=True)
    session = Session(embedded)
    assert session.isolate and session.time_scale == EMBEDDED_TIME_SCALE
    assert session.prefix == f"scimh-{session.run_id}-" and session.secrets == ["t"]
    assert isinstance(session.transcript, GuardedTranscript)
    foreign = Session(Target("http://x/scim/v2", "t"))
    assert not foreign.isolate and foreign.time_scale == 1.0
    assert [foreign.next_org_name(), foreign.next_org_name(), foreign.next_org_name("rfc")] == [
        f"h{foreign.run_id}-1", f"h{foreign.run_id}-2", f"h{foreign.run_id}-rfc"]


def test_a_throwaway_org_is_recorded_without_its_token_and_removed(mock_app: Any) -> None:
    with _session(mock_app) as session:
        org = session.open_org(session.next_org_name(), what="create an org", threshold=3)
        assert org.token in session.secrets
        assert session.scim_client(org.token).get("/Users").status_code == 200  # the org answers its own token
        session.close_org(org.name)
        assert session.control.send("GET", f"/orgs/{org.name}/plan").status == 404
        posts = [ex for ex in session.transcript if ex.method == "POST" and ex.path.endswith("/orgs")]
        assert len(posts) == 1 and org.token not in (posts[0].request_body or "")
        assert posts[0].request_json()["threshold"] == 3
        assert [ex.method for ex in session.transcript][-2:] == ["DELETE", "GET"]


def test_a_refused_org_says_what_could_not_be_done(mock_app: Any) -> None:
    with _session(mock_app) as session:
        session.open_org("dup", what="create an org")
        with pytest.raises(ControlPlaneError, match=r"^cannot create an org: control plane answered 409"):
            session.open_org("dup", what="create an org")


def test_control_plane_failures_feed_the_breaker() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    target = Target("http://testserver/scim/v2", "t", admin_token="a", has_control_plane=True)
    with Session(target, transport=httpx.MockTransport(refuse)) as session:
        for _ in range(3):
            with pytest.raises(ControlPlaneError, match="control plane unreachable"):
                session.open_org("o", what="create an org")
        assert session.stopped is not None
        with pytest.raises(ControlPlaneError, match=f"cannot create an org: {NOT_SENT}"):
            session.open_org("o", what="create an org")


def test_the_prober_names_remembers_and_cleans_up_groups_first(scim_client: httpx.Client) -> None:
    prober = Prober(scim_client, GuardedTranscript(), prefix="scimh-abc-")
    name = prober.name("u")
    assert name == "scimh-abc-u-1" and prober.name("u") == "scimh-abc-u-2"
    user = prober.request("POST", "/Users", content=f'{{"schemas": ["{USER}"], "userName": "{name}"}}'.encode())
    assert user.status == 201 and user.request_header("content-type") == "application/scim+json; charset=utf-8"
    assert prober.remember_resource("Users", user.json()) and not prober.remember_resource("Users", {"no": "id"})
    prober.remember("Users", user.json()["id"])  # twice is once
    group = prober.request("POST", "/Groups", content=f'{{"schemas": ["{GROUP}"], "displayName": "{name}"}}'.encode())
    prober.remember_resource("Groups", group.json())
    prober.remember("Users", "scimh-gone")
    assert [c for c, _ in prober.doomed()] == ["Groups", "Users", "Users"]
    exchanges = prober.cleanup()
    assert [(ex.method, ex.status) for ex in exchanges] == [("DELETE", 204), ("DELETE", 204), ("DELETE", 404)]
    assert exchanges[0].path.endswith(f"/Groups/{group.json()['id']}") and prober.created == []
    assert len(prober.transcript) == 5


def test_the_prober_auth_modes_and_origin(scim_client: httpx.Client) -> None:
    prober = Prober(scim_client, GuardedTranscript())
    assert prober.request("GET", "/Users", auth="none").status == 401
    assert prober.request("GET", "/Users", auth="wrong").status == 401
    assert prober.request("GET", "/Users", auth="basic").status == 401
    assert prober.request("GET", "/Users", auth="none", headers={"Authorization": f"Bearer {MOCK_SCIM_TOKEN}"}).status == 200
    assert prober.same_origin("/Users/x") and prober.same_origin("http://testserver/scim/v2/Users")
    assert not prober.same_origin("http://elsewhere.test/scim/v2/Users")
    assert path_id("a/b c") == "a%2Fb%20c"
