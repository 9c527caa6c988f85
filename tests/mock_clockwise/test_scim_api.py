"""The SCIM surface over HTTP (in-process, httpx.WSGITransport): CRUD, lists, ETags, groups,
discovery, and the exact Okta/Entra bodies and Okta's OIN SPEC test steps from idp-wire.md."""
from __future__ import annotations

import json
from typing import Any

import httpx

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
OKTA_HEADERS = {"User-Agent": "Okta SCIM Client 1.0.0", "Accept": "application/scim+json",
                "Accept-Charset": "utf-8", "Content-Type": "application/scim+json; charset=utf-8"}

# idp-wire.md, "Assign a user to the app (create)", byte for byte.
OKTA_CREATE = (b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",'
               b'"name":{"givenName":"Test","familyName":"User"},'
               b'"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],'
               b'"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",'
               b'"groups":[],"password":"1mz050nq","active":true}')


def new_user(c: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    body = {"schemas": [CORE_USER], "userName": name, "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": name, "primary": True, "type": "work"}], "active": True, **extra}
    r = c.post("/Users", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def new_group(c: httpx.Client, name: str, members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    r = c.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": name, "members": members or []})
    assert r.status_code == 201, r.text
    return r.json()


def patch(c: httpx.Client, path: str, *ops: dict[str, Any]) -> httpx.Response:
    return c.patch(path, content=json.dumps({"schemas": [PATCH_OP], "Operations": list(ops)}), headers=OKTA_HEADERS)


# ---------------------------------------------------------------------------- Okta flows
def test_okta_create_flow_exact_body(scim_client: httpx.Client) -> None:
    q = "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"
    r = scim_client.get(q, headers=OKTA_HEADERS)
    assert r.status_code == 200 and r.json()["totalResults"] == 0 and r.json()["Resources"] == []
    r = scim_client.post("/Users", content=OKTA_CREATE, headers=OKTA_HEADERS)
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/scim+json"
    body = r.json()
    assert body["id"] and body["active"] is True and "password" not in body
    assert r.headers["Location"] == body["meta"]["location"] == f"http://testserver/scim/v2/Users/{body['id']}"
    assert r.headers["ETag"] == body["meta"]["version"]
    assert set(body["meta"]) >= {"resourceType", "created", "lastModified", "location", "version"}
    # Older clients encode spaces as '+'.
    r = scim_client.get("/Users?filter=userName+eq+%22test.user%40okta.local%22&startIndex=1&count=100")
    assert r.json()["totalResults"] == 1 and r.json()["Resources"][0]["id"] == body["id"]
    # Duplicate create → 409 uniqueness.
    r = scim_client.post("/Users", content=OKTA_CREATE, headers=OKTA_HEADERS)
    assert r.status_code == 409 and r.json()["scimType"] == "uniqueness" and r.json()["status"] == "409"


def test_okta_profile_update_put_with_id_meta_groups(scim_client: httpx.Client) -> None:
    u = new_user(scim_client, "p@x.com")
    got = scim_client.get(f"/Users/{u['id']}").json()
    got["name"]["givenName"] = "Changed"
    got["groups"] = []
    r = scim_client.put(f"/Users/{u['id']}", content=json.dumps(got), headers=OKTA_HEADERS)
    assert r.status_code == 200 and r.json()["name"]["givenName"] == "Changed"
    assert r.json()["id"] == u["id"] and r.json()["meta"]["version"] == 'W/"2"'
    # PUT replaces: an omitted attribute is cleared.
    got = r.json()
    del got["name"]
    assert "name" not in scim_client.put(f"/Users/{u['id']}", json=got).json()


def test_okta_deactivate_reactivate_keeps_id_and_plan(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    u = new_user(scim_client, "d@x.com")
    r = patch(scim_client, f"/Users/{u['id']}", {"op": "replace", "value": {"active": False}})
    assert r.status_code == 200 and r.json()["active"] is False
    r = scim_client.get(f"/Users/{u['id']}")
    assert r.status_code == 200 and r.json()["active"] is False
    assert admin_client.get("/orgs/acme/plan").json()["free"] == ["d@x.com"]
    r = patch(scim_client, f"/Users/{u['id']}", {"op": "replace", "value": {"active": True}})
    assert r.json()["active"] is True and r.json()["id"] == u["id"]
    assert admin_client.get("/orgs/acme/plan").json()["paid"] == ["d@x.com"]
    # AIW: full PUT with active false.
    full = scim_client.get(f"/Users/{u['id']}").json()
    full["active"] = False
    assert scim_client.put(f"/Users/{u['id']}", json=full).json()["active"] is False


def test_okta_group_push_flow(scim_client: httpx.Client) -> None:
    a = new_user(scim_client, "a@x.com")
    b = new_user(scim_client, "b@x.com")
    r = scim_client.post("/Groups", content=b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],'
                                             b'"displayName":"Test SCIMv2","members":[]}', headers=OKTA_HEADERS)
    assert r.status_code == 201
    gid = r.json()["id"]
    r = scim_client.get("/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100")
    assert r.json()["totalResults"] == 1
    r = patch(scim_client, f"/Groups/{gid}", {"op": "replace", "value": {"id": gid, "displayName": "Renamed"}})
    assert r.status_code == 200 and r.json()["displayName"] == "Renamed"
    r = patch(scim_client, f"/Groups/{gid}", {"op": "add", "path": "members",
                                              "value": [{"value": a["id"], "display": "a@x.com"}]})
    assert [m["value"] for m in r.json()["members"]] == [a["id"]]
    assert r.json()["members"][0]["$ref"] == f"http://testserver/scim/v2/Users/{a['id']}"
    r = patch(scim_client, f"/Groups/{gid}",
              {"op": "remove", "path": f'members[value eq "{a["id"]}"]'},
              {"op": "add", "path": "members", "value": [{"value": b["id"], "display": "b@x.com"}]})
    assert [m["value"] for m in r.json()["members"]] == [b["id"]]
    r = patch(scim_client, f"/Groups/{gid}", {"op": "replace", "path": "members", "value": []})
    assert r.json()["members"] == []
    # AIW: PUT with full displayName and members.
    r = scim_client.put(f"/Groups/{gid}", json={"schemas": [CORE_GROUP], "displayName": "Renamed",
                                                "members": [{"value": a["id"]}]})
    assert r.status_code == 200 and [m["value"] for m in r.json()["members"]] == [a["id"]]
    assert scim_client.get(f"/Users/{a['id']}").json()["groups"][0]["value"] == gid
    assert scim_client.delete(f"/Groups/{gid}").status_code == 204
    assert scim_client.get(f"/Groups/{gid}").status_code == 404


def test_group_member_must_be_user_of_same_org(scim_client: httpx.Client, admin_client: httpx.Client,
                                               make_client: Any) -> None:
    admin_client.post("/orgs", json={"name": "globex", "tokens": ["g-token"]})
    other = new_user(make_client("/scim/v2", "g-token"), "o@globex.com")
    r = scim_client.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "G",
                                          "members": [{"value": other["id"]}]})
    assert r.status_code == 400 and r.json()["scimType"] == "invalidValue"
    assert scim_client.get("/Groups").json()["totalResults"] == 0


# ---------------------------------------------------------------------------- Entra flows
def test_entra_bodies(scim_client: httpx.Client) -> None:
    body = {"schemas": [CORE_USER, ENTERPRISE], "externalId": "e-1", "userName": "ent@x.com", "active": True,
            "emails": [{"primary": True, "type": "work", "value": "ent@x.com"}],
            "name": {"formatted": "E N", "familyName": "N", "givenName": "E"}, "roles": [],
            ENTERPRISE: {"employeeNumber": "1", "department": "D"}}
    r = scim_client.post("/Users", json=body, headers={"Content-Type": "application/scim+json"})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    r = patch(scim_client, f"/Users/{uid}", {"op": "Replace", "path": "active", "value": "False"})
    assert r.status_code == 200 and r.json()["active"] is False
    r = patch(scim_client, f"/Users/{uid}",
              {"op": "Replace", "path": "name.givenName", "value": "Eve"},
              {"op": "Replace", "path": "externalId", "value": "e-2"},
              {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ent2@x.com"},
              {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "42"})
    got = r.json()
    assert got["name"]["givenName"] == "Eve" and got["externalId"] == "e-2"
    assert got["emails"][0]["value"] == "ent2@x.com" and got[ENTERPRISE]["employeeNumber"] == "42"
    r = patch(scim_client, f"/Users/{uid}", {"op": "replace", "value": {"name.givenName": "Eva", "active": True}})
    assert r.json()["name"]["givenName"] == "Eva" and r.json()["active"] is True
    for q in ('externalId eq "e-2"', 'userName eq "ent@x.com"', 'emails[type eq "work"].value eq "ent2@x.com"',
              'userName eq "ent@x.com" and externalId eq "e-2"'):
        assert scim_client.get("/Users", params={"filter": q}).json()["totalResults"] == 1, q
    g = scim_client.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "EG", "externalId": "g-1"}).json()
    r = patch(scim_client, f"/Groups/{g['id']}", {"op": "Add", "path": "members", "value": [{"$ref": None,
                                                                                             "value": uid}]})
    assert r.status_code == 200 and r.json()["members"][0]["value"] == uid
    r = scim_client.get("/Groups?excludedAttributes=members")
    assert "members" not in r.json()["Resources"][0] and r.json()["Resources"][0]["displayName"] == "EG"
    r = patch(scim_client, f"/Groups/{g['id']}", {"op": "Remove", "path": "members", "value": [{"value": uid}]})
    assert r.json()["members"] == []
    assert scim_client.delete(f"/Users/{uid}").status_code == 204
    assert scim_client.get(f"/Users/{uid}").status_code == 404


# ---------------------------------------------------------------------------- Okta OIN SPEC test
def test_okta_oin_spec_test_steps(scim_client: httpx.Client, make_client: Any) -> None:
    h = {"User-Agent": "OKTA SCIM Integration"}
    new_user(scim_client, "seed.user@example.com")
    r = scim_client.get("/Users?count=1&startIndex=1", headers=h)  # 1
    body = r.json()
    assert r.status_code == 200 and LIST in body["schemas"]
    assert all(isinstance(body[k], int) for k in ("itemsPerPage", "startIndex", "totalResults"))
    first = body["Resources"][0]
    assert first["id"] and first["name"]["familyName"] and first["name"]["givenName"] and first["userName"]
    assert isinstance(first["active"], bool) and first["emails"][0]["value"]
    r = scim_client.get(f"/Users/{first['id']}", headers=h)  # 2
    assert r.status_code == 200 and r.json()["id"] == first["id"]
    r = scim_client.get('/Users?filter=userName eq "nobody-123@example.com"', headers=h)  # 3
    assert r.status_code == 200 and r.json()["totalResults"] == 0
    r = scim_client.get("/Users/010101010101", headers=h)  # 4
    assert r.status_code == 404 and r.json()["detail"] and ERROR in r.json()["schemas"]
    r = scim_client.get('/Users?filter=userName eq "random.9@example.com"', headers=h)  # 5
    assert r.json()["totalResults"] == 0
    create = {"schemas": [CORE_USER], "userName": "random.9@example.com",
              "name": {"givenName": "Random", "familyName": "Nine"},
              "emails": [{"primary": True, "value": "random.9@example.com", "type": "work"}],
              "displayName": "Random Nine", "active": True}
    r = scim_client.post("/Users", json=create, headers=h)  # 6
    assert r.status_code == 201 and r.json()["active"] is True and r.json()["id"]
    assert r.json()["userName"] == "random.9@example.com" and r.json()["name"]["familyName"] == "Nine"
    assert CORE_USER in r.json()["schemas"]
    new_id = r.json()["id"]
    r = scim_client.get(f"/Users/{new_id}", headers=h)  # 7
    assert r.status_code == 200 and r.json()["userName"] == "random.9@example.com"
    assert scim_client.post("/Users", json=create, headers=h).status_code == 409  # 8
    r = scim_client.get('/Users?filter=userName eq "RANDOM.9@EXAMPLE.COM"', headers=h)  # 9
    assert r.status_code == 200 and r.json()["totalResults"] == 1
    r = scim_client.get("/Groups", headers=h)  # 10
    assert r.status_code == 200 and isinstance(r.json()["Resources"], list)
    bad = make_client("/scim/v2", None, Authorization="non-token")  # 11
    r = bad.get('/Users?filter=userName eq "x@example.com"')
    assert r.status_code == 401 and r.json()["status"] == "401" and r.json()["detail"] and ERROR in r.json()["schemas"]
    r = scim_client.get("/Users/999999999", headers=h)  # 12
    assert r.status_code == 404 and r.json()["status"] == "404" and r.json()["detail"]


def test_okta_crud_test(scim_client: httpx.Client) -> None:
    u = new_user(scim_client, "crud@x.com")
    found = scim_client.get('/Users?filter=userName eq "crud@x.com"').json()["Resources"][0]
    assert found["emails"][0]["value"] == "crud@x.com" and found["name"]["givenName"] == "Ann"
    assert patch(scim_client, f"/Users/{u['id']}", {"op": "replace", "path": "name.givenName",
                                                    "value": "Bo"}).status_code == 200
    assert scim_client.get(f"/Users/{u['id']}").json()["name"]["givenName"] == "Bo"
    patch(scim_client, f"/Users/{u['id']}", {"op": "replace", "value": {"active": False}})
    assert scim_client.get(f"/Users/{u['id']}").json()["active"] is False
    patch(scim_client, f"/Users/{u['id']}", {"op": "replace", "value": {"active": True}})
    again = scim_client.get('/Users?filter=userName eq "crud@x.com"').json()["Resources"][0]
    assert again["id"] == u["id"] and again["active"] is True


# ---------------------------------------------------------------------------- lists
def test_pagination_stable_and_rfc_edge_values(scim_client: httpx.Client) -> None:
    ids = [new_user(scim_client, f"u{i}@x.com")["id"] for i in range(5)]
    seen = []
    start = 1
    while True:
        page = scim_client.get(f"/Users?startIndex={start}&count=2").json()
        seen += [r["id"] for r in page["Resources"]]
        start += 2
        if start > page["totalResults"]:
            break
    assert seen == ids
    r = scim_client.get("/Users?startIndex=0&count=-3").json()  # RFC 7644 §3.4.2.4
    assert r["startIndex"] == 1 and r["itemsPerPage"] == 0 and r["totalResults"] == 5 and r["Resources"] == []
    r = scim_client.get("/Users?startIndex=99&count=10").json()
    assert r["totalResults"] == 5 and r["Resources"] == [] and r["startIndex"] == 99
    r = scim_client.get("/Users?count=abc")
    assert r.status_code == 400 and r.json()["scimType"] == "invalidValue"


def test_import_page_equals_each_user_read_alone(scim_client: httpx.Client) -> None:
    # The unfiltered page is spliced from stored JSON text (representation.import_page_text); every entry
    # must be exactly what GET /Users/{id} returns: groups, meta, $refs, extension, non-ASCII.
    a = new_user(scim_client, "zoë@x.com", displayName='Zoë "Z" \\ Ö', nickName="ünï",
                 **{ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "m1"}}})
    b = new_user(scim_client, "b@x.com", active=False)
    new_group(scim_client, "g1", [{"value": a["id"]}])
    # The page's groups are JSON text SQLite writes (store.user_page_text): escapes as orjson's must agree.
    new_group(scim_client, 'g "2" \\ é \u2028\x01', [{"value": a["id"]}, {"value": b["id"]}])
    assert patch(scim_client, f"/Users/{b['id']}", {"op": "replace", "value": {"active": True}}).status_code == 200
    r = scim_client.get("/Users?startIndex=1&count=100")
    assert r.status_code == 200 and r.headers["content-type"] == "application/scim+json"
    page = r.json()
    assert page["schemas"] == [LIST] and page["totalResults"] == 2 and page["itemsPerPage"] == 2
    assert page["Resources"] == [scim_client.get(f"/Users/{u['id']}").json() for u in (a, b)]
    assert page["Resources"][0]["groups"][1]["display"] == 'g "2" \\ é \u2028\x01'
    assert page["Resources"][1]["meta"]["version"] == 'W/"2"'
    # Projection and filters take the general path and agree with it.
    assert scim_client.get("/Users?attributes=userName").json()["Resources"] == [
        {"schemas": u["schemas"], "id": u["id"], "userName": u["userName"]} for u in (a, b)]


def test_import_page_groups_with_many_memberships_equal_each_user_read_alone(scim_client: httpx.Client) -> None:
    # store.user_page_text reads the org's memberships in one statement when they are at most the page's
    # `count`, else each user's groups with the page (a probe per user): both give GET /Users/{id}'s groups.
    a, b = new_user(scim_client, "a@x.com"), new_user(scim_client, "b@x.com")
    for name in ("first", "second", "third"):
        new_group(scim_client, name, [{"value": a["id"]}, {"value": b["id"]}])  # 6 memberships
    for count in (1, 2, 6, 100):  # 1, 2: more memberships than the page holds; 6, 100: at most
        for start in (1, 2):
            page = scim_client.get(f"/Users?startIndex={start}&count={count}").json()
            alone = [scim_client.get(f"/Users/{u['id']}").json() for u in (a, b)][start - 1:start - 1 + count]
            assert page["Resources"] == alone, (start, count)
            assert [g["display"] for g in alone[0]["groups"]] == ["first", "second", "third"]


def test_sorting_and_projection(scim_client: httpx.Client) -> None:
    for name in ("b@x.com", "C@x.com", "a@x.com"):
        new_user(scim_client, name)
    r = scim_client.get("/Users?sortBy=userName&sortOrder=descending&attributes=userName").json()
    assert [u["userName"] for u in r["Resources"]] == ["C@x.com", "b@x.com", "a@x.com"]
    assert set(r["Resources"][0]) == {"schemas", "id", "userName"}
    r = scim_client.get("/Users?excludedAttributes=emails,name").json()
    assert "emails" not in r["Resources"][0] and "userName" in r["Resources"][0]
    r = scim_client.get("/Users?sortOrder=sideways")
    assert r.status_code == 400


def test_search_endpoint(scim_client: httpx.Client) -> None:
    new_user(scim_client, "s@x.com")
    r = scim_client.post("/Users/.search", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                 "filter": 'userName eq "s@x.com"', "attributes": ["userName"]})
    assert r.status_code == 200 and r.json()["Resources"][0] == {
        "schemas": [CORE_USER], "id": r.json()["Resources"][0]["id"], "userName": "s@x.com"}


def test_invalid_filter_is_400_invalid_filter(scim_client: httpx.Client) -> None:
    for q in ("userName eq", "userName zz \"x\"", "(userName eq \"a\"", "active gt true"):
        r = scim_client.get("/Users", params={"filter": q})
        assert r.status_code == 400 and r.json()["scimType"] == "invalidFilter", q


# ---------------------------------------------------------------------------- ETags
def test_etag_if_match_and_if_none_match(scim_client: httpx.Client) -> None:
    u = new_user(scim_client, "e@x.com")
    path = f"/Users/{u['id']}"
    r = scim_client.get(path, headers={"If-None-Match": u["meta"]["version"]})
    assert r.status_code == 304 and r.headers["ETag"] == 'W/"1"'
    r = scim_client.put(path, json={**u, "title": "T"}, headers={"If-Match": 'W/"5"'})
    assert r.status_code == 412 and r.json()["status"] == "412"
    assert "title" not in scim_client.get(path).json()
    r = scim_client.put(path, json={**u, "title": "T"}, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"' == r.json()["meta"]["version"]
    assert scim_client.delete(path, headers={"If-Match": 'W/"1"'}).status_code == 412
    assert scim_client.delete(path, headers={"If-Match": 'W/"2"'}).status_code == 204


# ---------------------------------------------------------------------------- Clockwise admin rule over HTTP
def test_admin_rule_403_detail(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    admin_client.post("/orgs/acme/members", json={"email": "boss@x.com", "plan": "paid", "admin": True})
    boss = new_user(scim_client, "boss@x.com")
    r = patch(scim_client, f"/Users/{boss['id']}", {"op": "replace", "path": "name.givenName", "value": "Z"})
    assert r.status_code == 403 and r.json()["status"] == "403"
    assert r.json()["detail"].startswith("Attributes of admin users cannot be changed through SCIM")
    assert "boss@x.com" in r.json()["detail"]
    assert scim_client.get(f"/Users/{boss['id']}").json()["name"]["givenName"] == "Ann"
    r = scim_client.put(f"/Users/{boss['id']}", json={**boss, "active": False})
    assert r.status_code == 200 and r.json()["active"] is False


# ---------------------------------------------------------------------------- discovery and unsupported
def test_discovery_endpoints(scim_client: httpx.Client) -> None:
    spc = scim_client.get("/ServiceProviderConfig").json()
    assert spc["patch"]["supported"] is True and spc["bulk"]["supported"] is False
    assert spc["filter"]["maxResults"] == 1000 and spc["etag"]["supported"] is True
    rts = scim_client.get("/ResourceTypes").json()
    assert {rt["id"] for rt in rts["Resources"]} == {"User", "Group"}
    assert scim_client.get("/ResourceTypes/User").json()["endpoint"] == "/Users"
    schemas = scim_client.get("/Schemas").json()["Resources"]
    assert {s["id"] for s in schemas} == {CORE_USER, CORE_GROUP, ENTERPRISE}
    assert scim_client.get(f"/Schemas/{ENTERPRISE}").json()["id"] == ENTERPRISE
    assert scim_client.get("/Schemas/urn:nope").status_code == 404


def test_bulk_and_me_are_501(scim_client: httpx.Client) -> None:
    for path in ("/Bulk", "/Me"):
        r = scim_client.post(path, json={})
        assert r.status_code == 501 and r.json()["status"] == "501" and r.json()["detail"]


def test_multi_tenant_isolation(scim_client: httpx.Client, admin_client: httpx.Client, make_client: Any) -> None:
    u = new_user(scim_client, "iso@x.com")
    admin_client.post("/orgs", json={"name": "globex", "tokens": ["g-token"]})
    other = make_client("/scim/v2", "g-token")
    assert other.get(f"/Users/{u['id']}").status_code == 404
    assert other.get("/Users").json()["totalResults"] == 0
    assert other.delete(f"/Users/{u['id']}").status_code == 404
    assert scim_client.get(f"/Users/{u['id']}").status_code == 200


def test_put_back_what_get_returned_is_a_no_op(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    u = new_user(scim_client, "noop@x.com")
    g = new_group(scim_client, "NoopGroup", [{"value": u["id"]}])
    got = scim_client.get(f"/Users/{u['id']}").json()
    assert got["groups"][0]["value"] == g["id"] and got["groups"][0]["$ref"].endswith(f"/Groups/{g['id']}")
    r = scim_client.put(f"/Users/{u['id']}", json=got)  # groups (read-only) and meta are ignored
    assert r.status_code == 200 and r.json()["meta"]["version"] == 'W/"1"'
    renamed = patch(scim_client, f"/Groups/{g['id']}", {"op": "replace", "path": "displayName", "value": "New"})
    assert renamed.json()["meta"]["version"] == 'W/"2"'
    events = [e["event"] for e in admin_client.get("/orgs/acme/events").json()["data"]]
    assert events == ["dsync.user.created", "dsync.group.created", "dsync.group.user_added", "dsync.group.updated"]
