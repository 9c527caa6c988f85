"""The control plane /_mock (mock_clockwise/control.py): the routes of the shared contract.

Every test runs twice: on the one-process mock (faults and journal in memory) and on a mock
whose faults and journal are those the worker processes share (a state folder, as server.py
gives its workers; test_shared_control.py runs two such apps side by side).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture(params=["in-memory", "shared"])
def mock_app(request: pytest.FixtureRequest, tmp_path: Path, mock_tokens: dict[str, str]) -> Iterator[Any]:
    from mock_clockwise.app import create_app

    config: dict[str, Any] = {"ORGS": [{"name": mock_tokens["org"], "tokens": [mock_tokens["scim"]], "threshold": 10}],
                              "ADMIN_TOKEN": mock_tokens["admin"], "FAULT_SEED": 1234}
    if request.param == "shared":
        config |= {"DB_PATH": str(tmp_path / "state.sqlite3"), "STATE_DIR": str(tmp_path)}
    app = create_app(config)
    yield app
    app.extensions["mock_clockwise"].close()


def create(c: httpx.Client, name: str, active: bool = True) -> dict[str, Any]:
    r = c.post("/Users", json={"schemas": [CORE_USER], "userName": name, "active": active})
    assert r.status_code == 201, r.text
    return r.json()


def test_auth_admin_token_only(make_client: Any, mock_tokens: dict[str, str]) -> None:
    assert make_client("/_mock").get("/orgs").status_code == 401
    r = make_client("/_mock", mock_tokens["scim"]).get("/orgs")
    assert r.status_code == 401 and r.json()["status"] == "401" and r.headers["WWW-Authenticate"].startswith("Bearer")
    # ...and the admin token is refused on /scim/v2.
    assert make_client("/scim/v2", mock_tokens["admin"]).get("/Users").status_code == 401


def test_orgs_create_list_delete(admin_client: httpx.Client, make_client: Any) -> None:
    r = admin_client.post("/orgs", json={"name": "globex", "tokens": ["t1"], "threshold": 2})
    assert r.status_code == 201 and r.json() == {"name": "globex", "threshold": 2, "mode": "trial"}
    assert r.headers["content-type"] == "application/scim+json"
    assert admin_client.post("/orgs", json={"name": "globex"}).status_code == 409
    names = [o["name"] for o in admin_client.get("/orgs").json()["data"]]
    assert names == ["acme", "globex"]
    assert make_client("/scim/v2", "t1").get("/Users").status_code == 200
    assert admin_client.delete("/orgs/globex").status_code == 204
    assert make_client("/scim/v2", "t1").get("/Users").status_code == 401
    assert admin_client.delete("/orgs/globex").status_code == 404


def test_org_validation(admin_client: httpx.Client, mock_tokens: dict[str, str]) -> None:
    for body in ({"name": "bad name"}, {"name": "x", "threshold": 0}, {"name": "x", "tokens": "t"},
                 {"name": "x", "tokens": [mock_tokens["admin"]]}, {"name": "x", "tokens": ["a", "b", "c"]}, []):
        r = admin_client.post("/orgs", json=body)
        assert r.status_code == 400 and r.json()["scimType"] == "invalidValue", body
    # A token already used by another org.
    assert admin_client.post("/orgs", json={"name": "x", "tokens": [mock_tokens["scim"]]}).status_code == 409


def test_members_and_plan(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    r = admin_client.post("/orgs/acme/members", json={"email": "Seed@X.com", "plan": "free", "admin": True})
    assert r.status_code == 201
    assert r.json() == {"email": "seed@x.com", "plan": "free", "admin": True, "scim_user_id": None, "source": "seed"}
    assert admin_client.post("/orgs/acme/members", json={"email": "seed@x.com"}).status_code == 409
    assert admin_client.post("/orgs/acme/members", json={"email": "nope"}).status_code == 400
    assert admin_client.post("/orgs/acme/members", json={"email": "a@x.com", "plan": "gold"}).status_code == 400
    assert admin_client.post("/orgs/ghost/members", json={"email": "a@x.com"}).status_code == 404
    u = create(scim_client, "Seed@x.com")
    members = admin_client.get("/orgs/acme/members").json()["data"]
    assert members == [{"email": "seed@x.com", "plan": "paid", "admin": True, "scim_user_id": u["id"],
                        "source": "seed"}]
    create(scim_client, "new@x.com")
    assert admin_client.get("/orgs/acme/members").json()["data"][1]["source"] == "scim"
    assert admin_client.get("/orgs/acme/plan").json() == {
        "mode": "trial", "threshold": 10, "paid": ["new@x.com", "seed@x.com"], "free": [], "admins": ["seed@x.com"]}


def test_nine_versus_ten_threshold(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    admin_client.post("/orgs/acme/members", json={"email": "legacy@x.com", "plan": "paid"})
    for i in range(9):
        create(scim_client, f"u{i}@x.com")
    plan = admin_client.get("/orgs/acme/plan").json()
    assert plan["mode"] == "trial" and "legacy@x.com" in plan["paid"] and len(plan["paid"]) == 10
    create(scim_client, "u9@x.com")
    plan = admin_client.get("/orgs/acme/plan").json()
    assert plan["mode"] == "synced" and plan["free"] == ["legacy@x.com"] and len(plan["paid"]) == 10


def test_admin_panel_disabled_after_provisioning(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    r = admin_client.post("/orgs/acme/admin-panel/members", json={"email": "early@x.com"})
    assert r.status_code == 201 and r.json()["source"] == "admin-panel"
    scim_client.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "G"})
    r = admin_client.post("/orgs/acme/admin-panel/members", json={"email": "late@x.com"})
    assert r.status_code == 403 and r.json()["status"] == "403"
    assert "identity provider" in r.json()["detail"]
    # Seeding (not the admin panel) is always allowed.
    assert admin_client.post("/orgs/acme/members", json={"email": "late@x.com"}).status_code == 201


def test_events_oldest_first(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    u = create(scim_client, "ev@x.com")
    scim_client.patch(f"/Users/{u['id']}", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                 "Operations": [{"op": "replace", "value": {"active": False}}]})
    g = scim_client.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "G",
                                          "members": [{"value": u["id"]}]}).json()
    scim_client.delete(f"/Groups/{g['id']}")
    data = admin_client.get("/orgs/acme/events").json()["data"]
    assert [e["event"] for e in data] == ["dsync.user.created", "dsync.user.updated", "dsync.group.created",
                                          "dsync.group.user_added", "dsync.group.deleted"]
    assert all(e["id"].startswith("event_") and e["created_at"].endswith("Z") for e in data)
    assert data[1]["data"]["active"] is False and "password" not in data[0]["data"]
    assert data[3]["data"]["user"]["id"] == u["id"] and data[3]["data"]["group"]["id"] == g["id"]


def test_journal_redacts_and_filters(admin_client: httpx.Client, scim_client: httpx.Client,
                                     mock_tokens: dict[str, str], make_client: Any) -> None:
    create(scim_client, "j@x.com")
    scim_client.get("/Users?filter=userName%20eq%20%22j%40x.com%22")
    make_client("/scim/v2", "wrong").get("/Users")
    entries = admin_client.get("/journal").json()["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/Users", 201), ("GET", "/Users", 200), ("GET", "/Users", 401)]
    assert entries[0]["body"]["userName"] == "j@x.com" and entries[0]["org"] == "acme"
    assert entries[1]["query"] == "filter=userName%20eq%20%22j%40x.com%22"
    assert entries[0]["headers"]["Authorization"] == "Bearer [REDACTED]"
    text = admin_client.get("/journal").text
    assert mock_tokens["scim"] not in text and "wrong" not in text
    assert len(admin_client.get("/journal?org=acme").json()["data"]) == 2
    assert [e["status"] for e in admin_client.get("/journal?limit=1").json()["data"]] == [401]
    assert admin_client.get("/journal?limit=x").status_code == 400


def test_faults_status_count_retry_after_and_clear(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    r = admin_client.put("/faults", json={"faults": [{"method": "post", "path": "^/Users", "status": 429,
                                                      "retry_after": "5", "count": 2}]})
    assert r.status_code == 200 and r.json()["faults"][0]["method"] == "POST"
    body = {"schemas": [CORE_USER], "userName": "f@x.com"}
    for _ in range(2):
        r = scim_client.post("/Users", json=body)
        assert r.status_code == 429 and r.headers["Retry-After"] == "5" and r.json()["status"] == "429"
    assert scim_client.get("/Users").json()["totalResults"] == 0  # faults changed nothing
    assert scim_client.post("/Users", json=body).status_code == 201  # count exhausted
    assert admin_client.get("/faults").json() == {"faults": []}
    admin_client.put("/faults", json={"faults": [{"status": 503, "org": "globex"}]})
    assert scim_client.get("/Users").status_code == 200  # other org only
    admin_client.put("/faults", json={"faults": [{"status": 503}]})
    assert scim_client.get("/Users").status_code == 503
    assert admin_client.delete("/faults").status_code == 204
    assert scim_client.get("/Users").status_code == 200
    assert admin_client.get("/orgs").status_code == 200  # faults never apply to the control plane


def test_faults_fraction_and_latency_accepted(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    admin_client.put("/faults", json={"faults": [{"status": 500, "fraction": 0.5}]})
    statuses = {scim_client.get("/Users").status_code for _ in range(40)}
    assert statuses == {200, 500}
    r = admin_client.put("/faults", json={"faults": [{"latency_ms": 1, "path": "^/Groups"}]})
    assert r.json()["faults"] == [{"path": "^/Groups", "latency_ms": 1}]
    assert scim_client.get("/Groups").status_code == 200


def test_fault_validation(admin_client: httpx.Client) -> None:
    for faults in ([{"status": 200}], [{"path": "("}], [{"retry_after": "5", "status": 503}], [{}],
                   [{"status": 500, "count": 0}], [{"status": 500, "fraction": 2}], [{"bogus": 1}], "x"):
        r = admin_client.put("/faults", json={"faults": faults})
        assert r.status_code == 400 and r.json()["scimType"] == "invalidValue", faults
    assert admin_client.put("/faults", json={}).status_code == 400


def test_reset(admin_client: httpx.Client, scim_client: httpx.Client, mock_tokens: dict[str, str],
               make_client: Any) -> None:
    create(scim_client, "r@x.com")
    admin_client.post("/orgs", json={"name": "globex", "tokens": ["t9"]})
    admin_client.put("/faults", json={"faults": [{"latency_ms": 1}]})
    assert admin_client.post("/reset").status_code == 204
    assert [o["name"] for o in admin_client.get("/orgs").json()["data"]] == ["acme"]
    assert scim_client.get("/Users").json()["totalResults"] == 0
    assert admin_client.get("/orgs/acme/events").json()["data"] == []
    assert admin_client.get("/faults").json()["faults"] == []
    # The journal was cleared: only the one SCIM request made since the reset is in it.
    assert [(e["method"], e["path"]) for e in admin_client.get("/journal").json()["data"]] == [("GET", "/Users")]
    assert make_client("/scim/v2", "t9").get("/Users").status_code == 401
    assert admin_client.get("/orgs/acme/plan").json()["mode"] == "trial"
