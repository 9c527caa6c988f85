"""End to end: every action of every dialect against mock_clockwise, in-process (WSGI)."""
from __future__ import annotations

import json

import httpx
import pytest

from harness.transcript import Transcript
from mock_okta import DIALECTS, OktaOrg, ProvisioningError
from tests.conftest import MOCK_SCIM_TOKEN


def plan(admin_client: httpx.Client) -> dict:
    response = admin_client.get("/orgs/acme/plan")
    assert response.status_code == 200
    return response.json()


def user(scim_client: httpx.Client, scim_id: str) -> dict:
    response = scim_client.get(f"/Users/{scim_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_user_lifecycle(dialect, scim_client, admin_client):
    org = OktaOrg(scim_client, dialect=dialect, seed=11)
    org.test_connection()
    a, b = org.add_people(2)
    ids = org.assign_many([a, b])
    assert set(plan(admin_client)["paid"]) == {a.email, b.email}

    org.update_profile(a, first_name="Zelda", email="zelda@example.com")
    got = user(scim_client, ids[a.okta_id])
    assert got["name"]["givenName"] == "Zelda"
    assert any(e["value"] == "zelda@example.com" for e in got["emails"])

    org.deactivate(b)
    assert user(scim_client, ids[b.okta_id])["active"] is False
    assert b.email in plan(admin_client)["free"]
    org.reactivate(b)
    assert user(scim_client, ids[b.okta_id])["active"] is True
    assert org.scim_id(b) == ids[b.okta_id]  # the SCIM id never changes

    org.unassign(b)
    assert org.assign(b) == ids[b.okta_id]  # reassign: lookup finds and links the same user
    assert user(scim_client, ids[b.okta_id])["active"] is True

    imported = org.import_users()
    assert {u["id"] for u in imported} == set(ids.values())

    org.deprovision(a)
    status = scim_client.get(f"/Users/{ids[a.okta_id]}").status_code
    assert status == (404 if dialect.startswith("entra") else 200)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_group_push(dialect, scim_client, admin_client):
    org = OktaOrg(scim_client, dialect=dialect, seed=12, rename_groups=True, batch_size=2)
    people = org.add_people(5)
    ids = org.assign_many(people)
    g = org.add_group("Engineering", people[:3])
    gid = org.push_group(g)

    def members() -> set[str]:
        got = scim_client.get(f"/Groups/{gid}")
        assert got.status_code == 200
        return {m["value"] for m in got.json().get("members", [])}

    assert members() == {ids[p.okta_id] for p in people[:3]}
    org.change_group_members(g, add=people[3:], remove=people[:1])
    assert members() == {ids[p.okta_id] for p in people[1:]}
    org.rename_group(g, "Eng")
    assert scim_client.get(f"/Groups/{gid}").json()["displayName"] == "Eng"
    g.members = people[:1]
    org.push_now(g)
    assert members() == {ids[people[0].okta_id]}
    assert [x["id"] for x in org.import_groups()] == [gid]

    linked = org.add_group("Eng", people[:2])
    assert org.push_group(linked, link_existing=True) == gid
    assert members() == {ids[p.okta_id] for p in people[:2]}
    org.unlink_group(linked, delete=False)
    assert scim_client.get(f"/Groups/{gid}").status_code == 200
    org.unlink_group(g)
    assert scim_client.get(f"/Groups/{gid}").status_code == 404


def test_okta_wire_as_the_server_saw_it(scim_client, admin_client):
    org = OktaOrg(scim_client, seed=13)
    p = org.add_person(first_name="Test", last_name="User", email="test.user@okta.local",
                       okta_id="00ujl29u0le5T6Aj10h7", password="1mz050nq")
    org.assign(p)
    org.update_profile(p, last_name="Userson")
    org.deactivate(p)
    org.reactivate(p)
    g = org.add_group("Test SCIMv2", [p])
    org.push_group(g)
    org.push_now(g)
    org.unlink_group(g)
    journal = admin_client.get("/journal", params={"org": "acme"}).json()["data"]
    assert [(e["method"], e["path"].removeprefix("/scim/v2")) for e in journal][:3] == [
        ("GET", "/Users"), ("POST", "/Users"), ("GET", f"/Users/{org.scim_id(p)}")]
    assert journal[0]["query"].endswith("filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100")
    for entry in journal:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        assert headers["user-agent"] == "Okta SCIM Client 1.0.0"
        assert headers["accept"] == "application/scim+json"
        assert headers["accept-charset"] == "utf-8"
        assert "s3cret" not in json.dumps(entry)
        if entry["body"] not in (None, ""):
            assert headers["content-type"] == "application/scim+json; charset=utf-8"
        assert not (entry["method"] == "DELETE" and "/Users" in entry["path"])
    assert journal[1]["body"]["password"] == "1mz050nq" and journal[1]["status"] == 201
    assert journal[-1]["method"] == "DELETE" and journal[-1]["status"] == 204


def test_admin_restriction_surfaces_as_okta_task_error(scim_client, admin_client):
    created = admin_client.post("/orgs/acme/members", json={"email": "boss@example.com", "plan": "paid", "admin": True})
    assert created.status_code == 201
    org = OktaOrg(scim_client, seed=14)
    boss = org.add_person(first_name="Big", last_name="Boss", email="boss@example.com")
    org.assign(boss)
    with pytest.raises(ProvisioningError) as info:
        org.update_profile(boss, last_name="Bossier")
    err = info.value
    assert err.response.status_code == 403
    # idp-wire.md, Errors: the task title names the login; the reason phrase precedes the detail.
    assert err.message.startswith("Automatic profile push of user boss@example.com to app Clockwise failed: "
                                  "Error while trying to push profile update for boss@example.com: "
                                  "Forbidden. Errors reported by remote server: ")
    assert "admin" in err.message.lower()


def test_rate_limit_fault_is_retried(make_client, admin_client):
    faults = {"faults": [{"method": "POST", "path": "^/Users", "status": 429, "retry_after": "5", "count": 2}]}
    assert admin_client.put("/faults", json=faults).status_code == 200
    waits: list[float] = []
    recorded = Transcript()
    org = OktaOrg(make_client("/scim/v2", MOCK_SCIM_TOKEN, record_in=recorded), seed=15, sleep=waits.append)
    p = org.add_person()
    assert org.assign(p)
    assert waits == [5, 10]
    assert [ex.status for ex in recorded] == [200, 429, 429, 201]


def test_case_insensitive_lookup_links_existing_user(scim_client, make_client):
    org = OktaOrg(scim_client, seed=16)
    p = org.add_person()
    org.assign(p)
    recorded = Transcript()
    other = OktaOrg(make_client("/scim/v2", MOCK_SCIM_TOKEN, record_in=recorded), seed=99)
    q = other.add_person(login=p.login.upper(), email=p.email)
    assert other.assign(q) == org.scim_id(p)
    assert [ex.method for ex in recorded] == ["GET", "GET", "PUT"]  # lookup, read, PUT built on it


def test_duplicate_create_is_a_409_task_error(scim_client, admin_client):
    org = OktaOrg(scim_client, seed=18)
    p = org.add_person()
    org.assign(p)
    # The lookup answers 404 once (a "not found"), so the driver POSTs a duplicate.
    faults = {"faults": [{"method": "GET", "path": "^/Users$", "status": 404, "count": 1}]}
    assert admin_client.put("/faults", json=faults).status_code == 200
    with pytest.raises(ProvisioningError) as info:
        org.assign(p)
    assert info.value.request.method == "POST" and info.value.response.status_code == 409
    assert "Errors reported by remote server: " in info.value.message


def test_bulk_assign_1000(make_client, admin_client):
    recorded = Transcript()
    org = OktaOrg(make_client("/scim/v2", MOCK_SCIM_TOKEN, record_in=recorded), seed=17, max_concurrency=8)
    people = org.add_people(1000)
    ids = org.assign_many(people)
    assert len(set(ids.values())) == 1000
    state = plan(admin_client)
    assert state["mode"] == "synced" and len(state["paid"]) == 1000
    assert len(recorded) == 2000


def test_bench_smoke(capsys):
    import runpy
    from pathlib import Path

    bench = runpy.run_path(str(Path(__file__).resolve().parents[2] / "bench" / "bench_driver.py"))
    assert bench["main"](["-n", "20", "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert "20 users in" in out and "users/s" in out
