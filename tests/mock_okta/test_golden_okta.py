"""Golden tests: the `okta` dialect's requests, byte for byte against idp-wire.md."""
from __future__ import annotations

import httpx
import pytest

from mock_okta import OktaOrg

USER_ID = "23a35c27-23d3-4c03-b4c5-6443c09e7173"
OTHER_ID = "89bb1940-b905-4575-9e7f-6f887cfb368e"
GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"

# idp-wire.md "Assign a user to the app", step 2, compacted.
POST_USER = (b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",'
             b'"name":{"givenName":"Test","familyName":"User"},'
             b'"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],'
             b'"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",'
             b'"groups":[],"password":"1mz050nq","active":true}')
DEACTIVATE = (b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
              b'"Operations":[{"op":"replace","value":{"active":false}}]}')
REACTIVATE = DEACTIVATE.replace(b"false", b"true")
POST_GROUP = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}'
RENAME = (b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
          b'"Operations":[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b",'
          b'"displayName":"Test SCIMv2"}}]}')
MEMBERSHIP = (b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
              b'"Operations":[{"op":"remove","path":"members[value eq \\"89bb1940-b905-4575-9e7f-6f887cfb368e\\"]"},'
              b'{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173",'
              b'"display":"test.user@okta.local"}]}]}')
LOOKUP = b"filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"

OKTA_HEADERS = {
    "user-agent": "Okta SCIM Client 1.0.0",
    "accept": "application/scim+json",
    "accept-charset": "utf-8",
    "accept-encoding": "gzip,deflate",
}


def wire(request: httpx.Request) -> tuple[str, str, bytes, bytes]:
    return request.method, request.url.path.removeprefix("/scim/v2"), request.url.query, request.content


def assert_okta_headers(request: httpx.Request) -> None:
    for name, value in OKTA_HEADERS.items():
        assert request.headers.get(name) == value, name
    if request.content:
        assert request.headers["content-type"] == "application/scim+json; charset=utf-8"
    else:
        assert "content-type" not in request.headers
    assert request.headers["authorization"].startswith("Bearer ")


@pytest.fixture
def org(fake):
    return OktaOrg(fake.client(), seed=1)


@pytest.fixture
def test_user(org):
    return org.add_person(first_name="Test", last_name="User", email="test.user@okta.local",
                          okta_id="00ujl29u0le5T6Aj10h7", password="1mz050nq")


def test_connection_sequence(org, fake):
    org.test_connection()
    assert [wire(r) for r in fake.requests] == [
        ("GET", "/Users", b"startIndex=1&count=2", b""),
        ("GET", "/Groups", b"startIndex=1&count=100", b""),
    ]
    for r in fake.requests:
        assert_okta_headers(r)


def test_assign_new_user_is_lookup_then_exact_post(org, fake, test_user):
    fake.preset_ids = [USER_ID]
    assert org.assign(test_user) == USER_ID
    assert [wire(r) for r in fake.requests] == [("GET", "/Users", LOOKUP, b""), ("POST", "/Users", b"", POST_USER)]
    for r in fake.requests:
        assert_okta_headers(r)
    assert org.scim_id(test_user) == USER_ID


def test_assign_found_user_links_and_puts_profile(org, fake, test_user):
    fake.users[USER_ID] = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": USER_ID,
                           "userName": "TEST.USER@okta.local", "name": {"givenName": "Old", "familyName": "User"},
                           "active": True, "meta": {"resourceType": "User"}}
    assert org.assign(test_user) == USER_ID
    # idp-wire.md, Assign 4: lookup → GET /Users/{id} → PUT built on what was read.
    assert [wire(r)[:3] for r in fake.requests] == [("GET", "/Users", LOOKUP), ("GET", f"/Users/{USER_ID}", b""),
                                                    ("PUT", f"/Users/{USER_ID}", b"")]
    assert fake.requests[1].content == b""
    put = fake.requests[2]
    assert put.url.path.endswith(f"/Users/{USER_ID}")
    body = httpx.Response(200, content=put.content).json()
    assert body["id"] == USER_ID and body["name"]["givenName"] == "Test" and body["groups"] == []
    assert body["meta"] == {"resourceType": "User"}
    assert body["userName"] == "test.user@okta.local"


def test_assign_found_inactive_user_puts_then_patches_active(org, fake, test_user):
    fake.users[USER_ID] = {"id": USER_ID, "userName": "test.user@okta.local", "active": False}
    org.assign(test_user)
    assert [r.method for r in fake.requests] == ["GET", "GET", "PUT", "PATCH"]
    assert fake.requests[3].content == REACTIVATE
    assert b'"active":false' in fake.requests[2].content  # the PUT leaves active as read


def test_lookup_404_counts_as_not_found(org, fake, test_user):
    fake.script.append(fake.error(404, "no such user"))
    org.assign(test_user)
    assert [r.method for r in fake.requests] == ["GET", "POST"]


def test_update_profile_gets_then_puts_received_object(org, fake, test_user):
    fake.preset_ids = [USER_ID]
    org.assign(test_user)
    fake.users[USER_ID]["nickName"] = "kept"
    fake.users[USER_ID]["active"] = False
    mark = len(fake.requests)
    answer = org.update_profile(test_user, first_name="Tess")
    get, put = fake.requests[mark:]
    assert (get.method, get.url.path, get.content) == ("GET", f"/scim/v2/Users/{USER_ID}", b"")
    assert put.method == "PUT" and put.url.path == f"/scim/v2/Users/{USER_ID}"
    assert_okta_headers(put)
    body = httpx.Response(200, content=put.content).json()
    assert list(body)[:2] == ["id", "schemas"]  # received key order kept
    assert body["nickName"] == "kept" and body["active"] is True and body["groups"] == []
    assert body["name"] == {"givenName": "Tess", "familyName": "User"}
    assert body["displayName"] == "Tess User"
    assert body["meta"]["location"] == f"/Users/{USER_ID}"
    assert answer["name"]["givenName"] == "Tess"  # the server's answer is returned


def test_deactivate_unassign_and_reactivate_bodies(org, fake, test_user):
    fake.preset_ids = [USER_ID]
    org.assign(test_user)
    mark = len(fake.requests)
    org.deactivate(test_user)
    org.unassign(test_user)
    org.reactivate(test_user)
    assert [wire(r) for r in fake.requests[mark:]] == [
        ("PATCH", f"/Users/{USER_ID}", b"", DEACTIVATE),
        ("PATCH", f"/Users/{USER_ID}", b"", DEACTIVATE),
        ("GET", "/Users", LOOKUP, b""),
        ("PATCH", f"/Users/{USER_ID}", b"", REACTIVATE),
    ]
    assert org.scim_id(test_user) == USER_ID


def test_deprovision_never_deletes_for_okta(org, fake, test_user):
    org.assign(test_user)
    org.deprovision(test_user)
    assert fake.requests[-1].method == "PATCH" and fake.requests[-1].content == DEACTIVATE


def test_group_push_create_rename_membership_bodies(fake, test_user):
    org = OktaOrg(fake.client(), seed=1, rename_groups=False)
    other = org.add_person(first_name="Other", last_name="Person", email="other@okta.local")
    fake.preset_ids = [OTHER_ID, USER_ID, GROUP_ID]
    org.assign(other)
    tu = org.add_person(first_name="Test", last_name="User", email="test.user@okta.local")
    org.assign(tu)
    g = org.add_group("Test SCIMv2", [other])
    mark = len(fake.requests)
    assert org.push_group(g) == GROUP_ID
    org.rename_groups = True
    org.change_group_members(g, add=[tu], remove=[other])
    sent = [wire(r) for r in fake.requests[mark:]]
    assert sent[0] == ("POST", "/Groups", b"", POST_GROUP)
    assert sent[1][0:2] == ("PATCH", f"/Groups/{GROUP_ID}")  # the initial add of `other`
    assert sent[2] == ("PATCH", f"/Groups/{GROUP_ID}", b"", RENAME)
    assert sent[3] == ("PATCH", f"/Groups/{GROUP_ID}", b"", MEMBERSHIP)
    for r in fake.requests[mark:]:
        assert_okta_headers(r)


def test_link_existing_group_is_additive(org, fake, test_user):
    fake.preset_ids = [USER_ID]
    org.assign(test_user)
    fake.groups[GROUP_ID] = {"id": GROUP_ID, "displayName": "Test SCIMv2", "members": [{"value": OTHER_ID}]}
    g = org.add_group("Test SCIMv2", [test_user])
    mark = len(fake.requests)
    assert org.push_group(g, link_existing=True) == GROUP_ID
    # idp-wire.md, Group Push: link is ADDITIVE (Okta's test plan C9315, C9322, C9330); rename is on by default.
    assert [wire(r) for r in fake.requests[mark:]] == [
        ("GET", "/Groups", b"filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100", b""),
        ("PATCH", f"/Groups/{GROUP_ID}", b"", RENAME),
        ("PATCH", f"/Groups/{GROUP_ID}", b"", b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
                                             b'"Operations":[{"op":"add","path":"members","value":[{"value":"'
                                             + USER_ID.encode() + b'","display":"test.user@okta.local"}]}]}'),
    ]
    assert {m["value"] for m in fake.groups[GROUP_ID]["members"]} == {OTHER_ID, USER_ID}  # the old member stays


def test_membership_batches_of_batch_size_removes_first(fake):
    org = OktaOrg(fake.client(), seed=2, batch_size=100, max_concurrency=1, rename_groups=False)
    people = org.add_people(250)
    org.assign_many(people)
    g = org.add_group("Big", people[:30])
    org.push_group(g)
    mark = len(fake.requests)
    org.change_group_members(g, add=people[30:250], remove=people[:30])
    patches = [httpx.Response(200, content=r.content).json()["Operations"] for r in fake.requests[mark:]]
    assert len(patches) == 3  # 250 changes -> 100 + 100 + 50
    first = patches[0]
    assert [op["op"] for op in first] == ["remove"] * 30 + ["add"]
    assert len(first[-1]["value"]) == 70
    assert [len(p[0]["value"]) for p in patches[1:]] == [100, 50]
    assert all(p[0]["op"] == "add" and len(p) == 1 for p in patches[1:])


def test_rename_before_each_membership_patch_is_on_by_default(fake):
    # idp-wire.md, Group Push: Okta's certification runs with "Rename app groups" ON.
    org = OktaOrg(fake.client(), seed=3, batch_size=2)
    assert org.rename_groups is True
    people = org.add_people(4)
    org.assign_many(people)
    g = org.add_group("Team")
    org.push_group(g)
    mark = len(fake.requests)
    org.add_to_group(g, people)
    ops = [httpx.Response(200, content=r.content).json()["Operations"][0] for r in fake.requests[mark:]]
    assert [("value" in op and "path" not in op) for op in ops] == [True, False, True, False]


def test_push_now_rename_and_unlink(fake, test_user):
    org = OktaOrg(fake.client(), seed=1, rename_groups=False)
    test_user = org.add_person(first_name="Test", last_name="User", email="test.user@okta.local")
    org.assign(test_user)
    g = org.add_group("Test SCIMv2", [test_user])
    gid = org.push_group(g)
    mark = len(fake.requests)
    org.remove_from_group(g, [test_user])
    org.push_now(g)
    org.rename_group(g, "Renamed")
    org.unlink_group(g, delete=False)
    assert org.group_scim_id(g) is None
    g2 = org.add_group("Other")
    gid2 = org.push_group(g2)
    org.unlink_group(g2)
    sent = [wire(r) for r in fake.requests[mark:]]
    assert sent[1] == ("PATCH", f"/Groups/{gid}", b"",
                       b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
                       b'"Operations":[{"op":"replace","path":"members","value":[]}]}')
    assert sent[2][3] == (b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":'
                          b'[{"op":"replace","value":{"id":"' + gid.encode() + b'","displayName":"Renamed"}}]}')
    assert sent[-1] == ("DELETE", f"/Groups/{gid2}", b"", b"")
    assert len(sent) == 5  # unlink without delete sends nothing


def test_import_pages_of_100_until_total(fake):
    org = OktaOrg(fake.client(), seed=4)
    for i in range(230):
        fake.users[f"u{i}"] = {"id": f"u{i}", "userName": f"u{i}@x.com"}
    users = org.import_users()
    assert len(users) == 230
    assert [r.url.query for r in fake.requests] == [
        b"startIndex=1&count=100", b"startIndex=101&count=100", b"startIndex=201&count=100"]
    assert org.import_groups() == []


def test_whole_run_never_sends_forbidden_requests(fake):
    org = OktaOrg(fake.client(), seed=5)
    people = org.add_people(5)
    org.test_connection()
    org.assign_many(people)
    org.update_profile(people[0], last_name="Changed")
    for p in people[:2]:
        org.deactivate(p)
        org.reactivate(p)
        org.deprovision(p)
    g = org.add_group("G", people)
    org.push_group(g)
    org.remove_from_group(g, people[:2])
    org.push_now(g)
    org.rename_group(g, "H")
    org.unlink_group(g)
    org.import_users()
    for r in fake.requests:
        path = r.url.path
        assert not (r.method == "DELETE" and "/Users" in path)
        assert not any(x in path for x in ("/Bulk", "/.search", "/Me", "/ServiceProviderConfig"))
    assert len(fake.requests) > 20
