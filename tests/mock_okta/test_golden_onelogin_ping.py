"""The OneLogin and PingFederate facts of idp-wire.md, asserted literally, and the admin's settings.

(The whole wire of every action in both dialects is golden in golden_wire.json.)
"""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mock_okta import OktaOrg
from mock_okta.dialects import get_dialect


def sent(fake: Any, mark: int = 0) -> list[tuple[str, str, str]]:
    return [(r.method, r.url.path.removeprefix("/scim/v2"), r.url.query.decode()) for r in fake.requests[mark:]]


def test_onelogin_lookup_uses_plus_and_a_trailing_ampersand(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="onelogin")
    org.assign(org.add_person(email="jane.doe@example.com", login="jane.doe@example.com"))
    assert sent(fake)[0] == ("GET", "/Users", 'filter=userName+eq+%22jane.doe%40example.com%22&')
    assert fake.requests[0].url.raw_path.endswith(b"%22&")  # the & reaches the wire


def test_onelogin_sends_an_empty_user_agent(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="onelogin")
    org.assign(org.add_person())
    assert all(r.headers["user-agent"] == "" for r in fake.requests)


def test_onelogin_updates_with_a_full_put(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="onelogin")
    p = org.add_person(first_name="Ann", last_name="Lee")
    scim_id = org.assign(p)
    mark = len(fake.requests)
    org.update_profile(p, last_name="Smith")
    assert sent(fake, mark) == [("PUT", f"/Users/{scim_id}", "")]
    body = json.loads(fake.requests[-1].content)
    assert body["id"] == scim_id and body["name"] == {"givenName": "Ann", "familyName": "Smith"}
    assert body["userName"] == p.login and body["active"] is True


def test_onelogin_schemas_come_from_the_template(fake: Any) -> None:
    urns = ("urn:ietf:params:scim:schemas:core:2.0:User", "urn:scim:my:custom:1.0")
    org = OktaOrg(fake.client(), dialect="onelogin", dialect_options={"schemas": urns})
    scim_id = org.assign(p := org.add_person())
    org.update_profile(p, title="Boss")
    assert json.loads(fake.requests[1].content)["schemas"] == list(urns)  # the POST
    assert json.loads(fake.requests[-1].content)["schemas"] == list(urns)  # the PUT
    assert fake.users[scim_id]["schemas"] == list(urns)


@pytest.mark.parametrize("action, want", [("delete", ["DELETE"]), ("suspend", ["PUT"]), ("nothing", [])])
def test_onelogin_deprovision_is_the_admins_choice(fake: Any, action: str, want: list[str]) -> None:
    org = OktaOrg(fake.client(), dialect="onelogin", dialect_options={"deprovision": action})
    scim_id = org.assign(p := org.add_person())
    mark = len(fake.requests)
    org.unassign(p)  # removing app access runs the deprovision action
    assert [m for m, _, _ in sent(fake, mark)] == want
    if action == "suspend":
        assert json.loads(fake.requests[-1].content)["active"] is False
        assert fake.users[scim_id]["active"] is False
    assert (scim_id in fake.users) is (action != "delete")


def test_onelogin_connection_test_accepts_an_empty_list_or_404(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="onelogin")
    org.test_connection()
    ((method, path, query),) = sent(fake)
    assert (method, path) == ("GET", "/Users") and query.startswith("filter=userName+eq+") and query.endswith("&")
    fake.script.append(fake.error(404, "no such user"))
    org.test_connection()  # a 404 passes too
    fake.script.append(fake.error(500, "boom"))
    with pytest.raises(Exception, match="Test connection"):
        org.test_connection()


def test_onelogin_group_membership_is_a_patch(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="onelogin")
    a, b = org.add_person(), org.add_person()
    org.assign_many([a, b])
    g = org.add_group("Eng", [a])
    gid = org.push_group(g)
    mark = len(fake.requests)
    org.change_group_members(g, add=[b], remove=[a])
    assert sent(fake, mark) == [("PATCH", f"/Groups/{gid}", "")]
    assert [m["value"] for m in fake.groups[gid]["members"]] == [org.scim_id(b)]


def test_pingfederate_connection_check_is_users_0_expecting_404(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="pingfederate")
    org.test_connection()
    assert sent(fake) == [("GET", "/Users/0", "")]
    fake.script.append(httpx.Response(401, json={"detail": "bad token"}))
    with pytest.raises(Exception, match="401|Unauthorized"):
        org.test_connection()


def test_pingfederate_users_go_by_put_only(fake: Any) -> None:
    org = OktaOrg(fake.client(), dialect="pingfederate")
    p = org.add_person()
    org.assign(p)
    mark = len(fake.requests)
    org.update_profile(p, first_name="Zed")
    org.deactivate(p)
    org.reactivate(p)
    assert [m for m, _, _ in sent(fake, mark) if m != "GET"] == ["PUT", "PUT", "PUT"]
    assert not any(r.method == "PATCH" and "/Users" in r.url.path for r in fake.requests)


def test_pingfederate_matches_groups_by_listing_them_all(fake: Any) -> None:
    fake.groups.update({f"g{n}": {"id": f"g{n}", "displayName": f"Other {n}", "members": []} for n in range(150)})
    fake.groups["eng"] = {"id": "eng", "displayName": "Eng", "members": [{"value": "outsider"}]}
    org = OktaOrg(fake.client(), dialect="pingfederate")
    p = org.add_person()
    org.assign(p)
    mark = len(fake.requests)
    assert org.push_group(org.add_group("eng", [p])) == "eng"  # matched case-insensitively on the second page
    assert sent(fake, mark)[:2] == [("GET", "/Groups", "startIndex=1&count=100"), ("GET", "/Groups", "startIndex=101&count=100")]
    assert not any("filter=" in q for _, _, q in sent(fake, mark))
    assert {m["value"] for m in fake.groups["eng"]["members"]} == {"outsider", org.scim_id(p)}  # additive


@pytest.mark.parametrize("group_patch, method", [(False, "PUT"), (True, "PATCH")])
def test_pingfederate_group_patch_is_optional(fake: Any, group_patch: bool, method: str) -> None:
    org = OktaOrg(fake.client(), dialect="pingfederate", dialect_options={"group_patch": group_patch})
    a = org.add_person()
    org.assign(a)
    g = org.add_group("Eng")
    gid = org.push_group(g)
    mark = len(fake.requests)
    org.add_to_group(g, [a])
    assert sent(fake, mark) == [(method, f"/Groups/{gid}", "")]
    assert [m["value"] for m in fake.groups[gid]["members"]] == [org.scim_id(a)]


@pytest.mark.parametrize("action, method", [("disable", "PUT"), ("delete", "DELETE")])
def test_pingfederate_deprovision_disables_or_deletes(fake: Any, action: str, method: str) -> None:
    org = OktaOrg(fake.client(), dialect="pingfederate", dialect_options={"deprovision": action})
    scim_id = org.assign(p := org.add_person())
    mark = len(fake.requests)
    org.deprovision(p)
    assert [m for m, _, _ in sent(fake, mark)] == [method]
    assert (fake.users[scim_id]["active"] is False) if action == "disable" else scim_id not in fake.users


def test_the_default_pingfederate_deprovision_is_disable() -> None:
    assert get_dialect("pingfederate").deprovision_action == "disable"


@pytest.mark.parametrize("dialect, options", [("onelogin", {"deprovision": "erase"}), ("onelogin", {"schemas": []}),
                                              ("pingfederate", {"deprovision": "suspend"}), ("okta", {"deprovision": "delete"})])
def test_a_wrong_setting_is_a_clear_error(dialect: str, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        get_dialect(dialect, **options)
