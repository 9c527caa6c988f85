"""Clockwise's rules where a client could walk round them (issue 17 item 14): an admin's attributes
across DELETE + POST (relinking), and a PUT that omits `active` on a deactivated user."""
from __future__ import annotations

from typing import Any

import httpx

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(email: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE_USER], "userName": email, "emails": [{"value": email, "primary": True}], **extra}


def _member(admin_client: httpx.Client, email: str) -> dict[str, Any]:
    return next(m for m in admin_client.get("/orgs/acme/members").json()["data"] if m["email"] == email)


def test_admin_attributes_hold_across_delete_and_post(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    assert admin_client.post("/orgs/acme/members", json={"email": "boss@x.com", "admin": True}).status_code == 201
    # The first link of a seeded admin is free (that is how the IdP takes the admin over).
    first = scim_client.post("/Users", json=_user("boss@x.com", title="CEO", name={"givenName": "Bo"}))
    assert first.status_code == 201, first.text
    assert scim_client.delete(f"/Users/{first.json()['id']}").status_code == 204
    # Relinking with other attributes is the change the admin rule refuses (403, nothing stored).
    changed = scim_client.post("/Users", json=_user("boss@x.com", title="Intern", name={"givenName": "Bo"}))
    assert changed.status_code == 403, changed.text
    assert changed.json()["detail"].startswith("Attributes of admin users cannot be changed through SCIM")
    assert "title" in changed.json()["detail"]
    assert scim_client.get("/Users").json()["totalResults"] == 0
    assert _member(admin_client, "boss@x.com")["scim_user_id"] is None
    # The same attributes relink (active may differ: only `active` may change for an admin).
    same = scim_client.post("/Users", json=_user("boss@x.com", title="CEO", name={"givenName": "Bo"}, active=False))
    assert same.status_code == 201, same.text
    assert _member(admin_client, "boss@x.com")["scim_user_id"] == same.json()["id"]


def test_non_admin_relinks_with_new_attributes(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    assert admin_client.post("/orgs/acme/members", json={"email": "pat@x.com"}).status_code == 201
    uid = scim_client.post("/Users", json=_user("pat@x.com", title="A")).json()["id"]
    assert scim_client.delete(f"/Users/{uid}").status_code == 204
    assert scim_client.post("/Users", json=_user("pat@x.com", title="B")).status_code == 201


def test_put_without_active_keeps_a_deactivated_user_deactivated(scim_client: httpx.Client,
                                                                 admin_client: httpx.Client) -> None:
    uid = scim_client.post("/Users", json=_user("dee@x.com", title="A")).json()["id"]
    assert scim_client.put(f"/Users/{uid}", json=_user("dee@x.com", title="A", active=False)).status_code == 200
    assert _member(admin_client, "dee@x.com")["plan"] == "free"
    # RFC 7644 §3.5.1: the mock keeps an omitted `active` as stored.
    put = scim_client.put(f"/Users/{uid}", json=_user("dee@x.com", title="B"))
    assert put.status_code == 200, put.text
    assert put.json()["active"] is False and scim_client.get(f"/Users/{uid}").json()["active"] is False
    assert _member(admin_client, "dee@x.com")["plan"] == "free"
    # An explicit active:true still reactivates and gives the seat back.
    assert scim_client.put(f"/Users/{uid}", json=_user("dee@x.com", title="B", active=True)).json()["active"] is True
    assert _member(admin_client, "dee@x.com")["plan"] == "paid"
    # And an omitted `active` on an active user keeps it active.
    assert scim_client.put(f"/Users/{uid}", json=_user("dee@x.com", title="C")).json()["active"] is True


def test_put_without_active_on_a_deactivated_admin_changes_nothing(scim_client: httpx.Client,
                                                                  admin_client: httpx.Client) -> None:
    assert admin_client.post("/orgs/acme/members", json={"email": "ada@x.com", "admin": True}).status_code == 201
    uid = scim_client.post("/Users", json=_user("ada@x.com", active=False)).json()["id"]
    r = scim_client.put(f"/Users/{uid}", json=_user("ada@x.com"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert _member(admin_client, "ada@x.com")["plan"] == "free"
