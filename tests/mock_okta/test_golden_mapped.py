"""Golden tests: the attributes a real tenant maps, byte for byte in each dialect (idp-wire.md: Okta's
Profile Editor attributes and the enterprise extension; Entra's default mappings and corrections)."""
from __future__ import annotations

import json

import httpx
import pytest

from mock_okta import OktaOrg

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:clockwise:2.0:User"
BOSS_ID = "6c2b4a1e-0000-4000-8000-000000000001"
USER_ID = "23a35c27-23d3-4c03-b4c5-6443c09e7173"
ATTRS = dict(first_name="Test", last_name="User", email="test.user@okta.local", okta_id="00ujl29u0le5T6Aj10h7",
             password="1mz050nq", title="Engineer", preferred_language="fr-FR", department="Engineering",
             employee_number="000042", phone_numbers={"work": "+1 555 0100", "mobile": "+1 555 0101"},
             address={"streetAddress": "1 Main St", "locality": "Paris", "postalCode": "75001", "country": "FR"},
             custom={"costCenter": "CC-7"}, profile="full")

OKTA_POST = (
    b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",'
    b'"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",'
    b'"urn:ietf:params:scim:schemas:extension:clockwise:2.0:User"],'
    b'"userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"User"},'
    b'"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],'
    b'"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",'
    b'"title":"Engineer","preferredLanguage":"fr-FR",'
    b'"phoneNumbers":[{"value":"+1 555 0100","type":"work"},{"value":"+1 555 0101","type":"mobile"}],'
    b'"addresses":[{"streetAddress":"1 Main St","locality":"Paris","postalCode":"75001","country":"FR","type":"work"}],'
    b'"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"000042",'
    b'"department":"Engineering","manager":{"value":"6c2b4a1e-0000-4000-8000-000000000001"}},'
    b'"urn:ietf:params:scim:schemas:extension:clockwise:2.0:User":{"costCenter":"CC-7"},'
    b'"groups":[],"password":"1mz050nq","active":true}')

ENTRA_POST = (
    b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",'
    b'"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],'
    b'"externalId":"test.user","userName":"test.user@okta.local","active":true,'
    b'"emails":[{"primary":true,"type":"work","value":"test.user@okta.local"}],"meta":{"resourceType":"User"},'
    b'"name":{"formatted":"Test User","familyName":"User","givenName":"Test"},"displayName":"Test User",'
    b'"preferredLanguage":"fr-FR","title":"Engineer",'
    b'"phoneNumbers":[{"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],'
    b'"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"Paris","postalCode":"75001","country":"FR"}],'
    b'"roles":[],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"000042",'
    b'"department":"Engineering"},"urn:ietf:params:scim:schemas:extension:clockwise:2.0:User":{"costCenter":"CC-7"}}')


def org_with_manager(fake, dialect: str):
    org = OktaOrg(fake.client(), dialect=dialect, seed=1)
    boss = org.add_person(first_name="Big", last_name="Boss", email="boss@okta.local")
    fake.preset_ids = [BOSS_ID, USER_ID]
    org.assign(boss)
    person = org.add_person(manager=boss, **ATTRS)
    return org, person


def test_okta_post_carries_the_mapped_profile_and_extensions(fake):
    org, p = org_with_manager(fake, "okta")
    mark = len(fake.requests)
    org.assign(p)
    lookup, post = fake.requests[mark:]
    assert post.content == OKTA_POST


def test_okta_put_writes_the_mapped_profile_over_what_it_read(fake):
    org, p = org_with_manager(fake, "okta")
    org.assign(p)
    fake.users[USER_ID][ENT]["costCenter"] = "kept"  # an attribute of the target's own, under the extension
    mark = len(fake.requests)
    org.update_profile(p, title="Lead")
    get, put = fake.requests[mark:]
    body = json.loads(put.content)
    assert body["title"] == "Lead" and body["schemas"][1:] == [ENT, CUSTOM]
    assert body[ENT] == {"employeeNumber": "000042", "department": "Engineering", "manager": {"value": BOSS_ID},
                         "costCenter": "kept"}


def test_okta_basic_profile_sends_no_enterprise_attributes(fake):
    org = OktaOrg(fake.client(), seed=2)
    p = org.add_person()
    org.assign(p)
    body = json.loads(fake.requests[-1].content)
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"] and ENT not in body
    assert not {"title", "phoneNumbers", "addresses", "preferredLanguage"} & set(body)


def test_entra_create_then_manager_check_and_add(fake):
    org, p = org_with_manager(fake, "entra")
    mark = len(fake.requests)
    org.assign(p)
    lookup, post, check, add = fake.requests[mark:]
    assert post.content == ENTRA_POST  # custom URN not in schemas[], no manager, no null
    assert check.method == "GET" and check.url.query == (
        b"filter=id+eq+%2223a35c27-23d3-4c03-b4c5-6443c09e7173%22+and+manager+eq+"
        b"%226c2b4a1e-0000-4000-8000-000000000001%22")
    assert add.content == (
        b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add",'
        b'"path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",'
        b'"value":[{"$ref":null,"value":"6c2b4a1e-0000-4000-8000-000000000001"}]}]}')


def test_entra_manager_already_set_sends_no_add(fake):
    org, p = org_with_manager(fake, "entra")
    found = httpx.Response(200, json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                                      "totalResults": 1, "Resources": [{"id": USER_ID}]})
    fake.script[:] = [None, None, lambda r: found if b"manager" in r.url.query else None]
    mark = len(fake.requests)
    org.assign(p)
    assert [r.method for r in fake.requests[mark:]] == ["GET", "POST", "GET"]  # the check found it: no Add


def test_entra_add_when_empty_before_replace_after(fake):
    org = OktaOrg(fake.client(), dialect="entra", seed=3)
    p = org.add_person(first_name="Ann", last_name="Lee", email="ann@okta.local")
    fake.preset_ids = [USER_ID]
    org.assign(p)
    mark = len(fake.requests)
    org.update_profile(p, title="Analyst", phone_numbers={"work": "+1 555 0100"},
                       custom={"costCenter": "CC-1"})
    org.update_profile(p, title="Lead", phone_numbers={"work": "+1 555 0100", "fax": "+1 555 0199"})
    org.update_profile(p, locale="en-US")  # nothing mapped changed: Entra sends nothing
    first, second = fake.requests[mark:]
    assert first.content == (
        b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        b'{"op":"Add","path":"title","value":"Analyst"},'
        b'{"op":"Add","path":"phoneNumbers[type eq \\"work\\"].value","value":"+1 555 0100"},'
        b'{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:clockwise:2.0:User:costCenter","value":"CC-1"}]}')
    assert second.content == (
        b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
        b'{"op":"Replace","path":"title","value":"Lead"},'
        b'{"op":"Add","path":"phoneNumbers[type eq \\"fax\\"].value","value":"+1 555 0199"}]}')


@pytest.mark.parametrize("profile", ["gold", "FULL"])
def test_unknown_profile_is_refused(fake, profile):
    with pytest.raises(TypeError, match="unknown profile"):
        OktaOrg(fake.client()).add_person(profile=profile)
