"""Golden tests for the `entra` and `okta-aiw` dialects."""
from __future__ import annotations

import json

import httpx
import pytest

from mock_okta import DIALECTS, OktaOrg, UnknownDialect

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def body(request: httpx.Request):
    return json.loads(request.content) if request.content else None


def test_unknown_dialect_lists_known_ones(fake):
    with pytest.raises(UnknownDialect) as info:
        OktaOrg(fake.client(), dialect="shibboleth")
    assert isinstance(info.value, ValueError)
    for name in DIALECTS:
        assert name in str(info.value)


@pytest.fixture
def entra(fake):
    return OktaOrg(fake.client(), dialect="entra", seed=7)


def test_entra_headers(entra, fake):
    p = entra.add_person()
    entra.assign(p)
    get, post = fake.requests
    assert post.headers["content-type"] == "application/scim+json"
    assert "content-type" not in get.headers
    assert get.headers["user-agent"] == post.headers["user-agent"] == "Microsoft.AAD.Provisioning/1.0"


def test_entra_assign_lookup_and_create_shape(entra, fake):
    p = entra.add_person(first_name="Test", last_name="User", email="test.user@contoso.com")
    entra.assign(p)
    get, post = fake.requests
    # Entra: eq only, '+' for spaces, no paging parameters on the lookup.
    assert get.url.query == b"filter=userName+eq+%22test.user%40contoso.com%22"
    sent = body(post)
    assert list(sent)[:2] == ["schemas", "externalId"]
    assert sent["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", ENT]
    assert sent["roles"] == [] and sent["externalId"] == "test.user"
    assert sent[ENT] == {"employeeNumber": p.employee_number, "department": p.department}
    assert sent["emails"] == [{"primary": True, "type": "work", "value": "test.user@contoso.com"}]
    assert "password" not in sent


def test_entra_update_is_one_patch_one_op_per_path(entra, fake):
    p = entra.add_person()
    entra.assign(p)
    mark = len(fake.requests)
    entra.update_profile(p, first_name="Ann", email="ann@x.com", employee_number="42", mail_nickname="ann")
    (req,) = fake.requests[mark:]
    assert req.method == "PATCH"
    ops = body(req)["Operations"]
    paths = [op["path"] for op in ops]
    assert paths == ["name.givenName", 'emails[type eq "work"].value', f"{ENT}:employeeNumber", "externalId",
                     "displayName"]
    assert all(op["op"] == "Replace" for op in ops)
    assert ops[0]["value"] == "Ann"


def test_entra_disable_enable_and_delete(entra, fake):
    p = entra.add_person()
    uid = entra.assign(p)
    mark = len(fake.requests)
    entra.deactivate(p)
    entra.reactivate(p)
    entra.deprovision(p)
    dis, look, ena, delete = fake.requests[mark:]
    assert dis.content == (b'{"schemas":["' + PATCH_OP.encode() + b'"],'
                           b'"Operations":[{"op":"Replace","path":"active","value":"False"}]}')
    assert look.method == "GET" and look.url.query.startswith(b"filter=userName+eq+")
    assert body(ena)["Operations"] == [{"op": "Replace", "path": "active", "value": "True"}]
    assert (delete.method, delete.url.path, delete.content) == ("DELETE", f"/scim/v2/Users/{uid}", b"")
    assert entra.scim_id(p) is None


def test_entra_group_shapes(entra, fake):
    a, b = entra.add_people(2)
    ida, idb = entra.assign(a), entra.assign(b)
    g = entra.add_group("Sales", [a])
    mark = len(fake.requests)
    gid = entra.push_group(g)
    entra.change_group_members(g, add=[b], remove=[a])
    entra.rename_group(g, "Sales EU")
    lookup, create, add_a, read1, change, read2, rename = fake.requests[mark:]
    # idp-wire.md "Entra corrections": lookup by displayName (excludedAttributes=members) before the create,
    # reads with GET /Groups/{id}?excludedAttributes=members, "members":[] on create.
    assert lookup.url.query == b"excludedAttributes=members&filter=displayName+eq+%22Sales%22"
    for read in (read1, read2):
        assert (read.method, read.url.path, read.url.query) == ("GET", f"/scim/v2/Groups/{gid}",
                                                                 b"excludedAttributes=members")
    sent = body(create)
    assert sent["externalId"] == g.okta_id and g.okta_id.startswith("00g") and sent["members"] == []
    assert add_a.content == (b'{"schemas":["' + PATCH_OP.encode() + b'"],"Operations":[{"op":"Add","path":"members",'
                             b'"value":[{"$ref":null,"value":"' + ida.encode() + b'"}]}]}')
    assert body(change)["Operations"] == [
        {"op": "Remove", "path": "members", "value": [{"value": ida}]},
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": idb}]},
    ]
    assert body(rename)["Operations"] == [{"op": "Replace", "path": "displayName", "value": "Sales EU"}]
    assert rename.url.path == f"/scim/v2/Groups/{gid}"


def test_entra_group_reads_exclude_members(entra, fake):
    fake.groups["g1"] = {"id": "g1", "displayName": "Ops"}
    g = entra.add_group("Ops")
    entra.push_group(g, link_existing=True)
    entra.import_groups()
    lookup, read, page = fake.requests
    assert read.url.path == "/scim/v2/Groups/g1" and read.url.query == b"excludedAttributes=members"
    assert lookup.url.query == b"excludedAttributes=members&filter=displayName+eq+%22Ops%22"
    assert page.url.query == b"excludedAttributes=members&startIndex=1&count=100"


def test_entra_link_found_user_patches_only_differences(entra, fake):
    p = entra.add_person(first_name="Test", last_name="User", email="t.u@x.com")
    fake.users["u9"] = {"id": "u9", "userName": "t.u@x.com", "name": {"givenName": "Old", "familyName": "User"},
                        "active": False}
    assert entra.assign(p) == "u9"
    ops = body(fake.requests[-1])["Operations"]
    paths = [op["path"] for op in ops]
    assert "name.givenName" in paths and "name.familyName" not in paths and "userName" not in paths
    assert ops[-1] == {"op": "Replace", "path": "active", "value": "True"}


def test_entra_test_connection_probes_a_random_username_and_group(entra, fake):
    entra.test_connection()
    user, group = fake.requests
    assert user.url.query.startswith(b"filter=userName+eq+%22") and user.method == "GET"
    assert group.url.path == "/scim/v2/Groups"
    assert group.url.query.startswith(b"excludedAttributes=members&filter=displayName+eq+%22")


@pytest.fixture
def aiw(fake):
    return OktaOrg(fake.client(), dialect="okta-aiw", seed=8)


def test_aiw_uses_put_for_user_state(aiw, fake):
    p = aiw.add_person()
    uid = aiw.assign(p)
    mark = len(fake.requests)
    fake.users[uid]["nickName"] = "kept by the server"
    aiw.deactivate(p)
    aiw.reactivate(p)
    read1, dis, look, read2, ena = fake.requests[mark:]
    # idp-wire.md, Deactivate: AIW apps GET /Users/{id}, then PUT the object read back with active:false.
    assert (read1.method, read1.url.path) == ("GET", f"/scim/v2/Users/{uid}")
    assert dis.method == "PUT" and body(dis)["active"] is False and body(dis)["id"] == uid
    assert body(dis)["nickName"] == "kept by the server"
    assert look.method == "GET" and read2.url.path == f"/scim/v2/Users/{uid}"
    assert ena.method == "PUT" and body(ena)["active"] is True
    assert dis.headers["content-type"] == "application/scim+json; charset=utf-8"
    assert all(r.method != "PATCH" for r in fake.requests)


def test_aiw_found_inactive_user_is_one_put(aiw, fake):
    p = aiw.add_person()
    fake.users["u1"] = {"id": "u1", "userName": p.login, "active": False}
    aiw.assign(p)
    assert [r.method for r in fake.requests] == ["GET", "GET", "PUT"]
    assert body(fake.requests[2])["active"] is True


def test_aiw_groups_put_full_resource(aiw, fake):
    a, b = aiw.add_people(2)
    ida, idb = aiw.assign(a), aiw.assign(b)
    aiw.rename_groups = True
    g = aiw.add_group("Eng", [a])
    mark = len(fake.requests)
    gid = aiw.push_group(g)
    aiw.add_to_group(g, [b])
    aiw.remove_from_group(g, [a])
    aiw.rename_group(g, "Engineering")
    aiw.push_now(g)
    sent = fake.requests[mark:]
    assert [r.method for r in sent] == ["POST", "PUT", "PUT", "PUT", "PUT", "PUT"]
    assert body(sent[1]) == {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": gid,
                             "displayName": "Eng", "members": [{"value": ida, "display": a.login}]}
    assert [m["value"] for m in body(sent[2])["members"]] == [ida, idb]
    assert [m["value"] for m in body(sent[3])["members"]] == [idb]
    assert body(sent[4])["displayName"] == "Engineering"
    assert body(sent[5])["members"] == [{"value": idb, "display": b.login}]


def test_okta_rename_setting_never_applies_to_entra(fake):
    # "Rename app groups" is Okta's setting; Entra's docs have no rename before a membership update.
    entra = OktaOrg(fake.client(), dialect="entra", seed=9, rename_groups=True)
    assert OktaOrg(fake.client(), dialect="entra").rename_groups is False
    a = entra.add_person()
    entra.assign(a)
    g = entra.add_group("Ops", [a])
    entra.push_group(g)
    entra.remove_from_group(g, [a])
    patches = [body(r)["Operations"] for r in fake.requests if r.method == "PATCH"]
    assert all(op.get("path") != "displayName" for ops in patches for op in ops) and len(patches) == 2
