"""patch.py: RFC 7644 §3.5.2 PATCH as a pure function, with the exact Okta and Entra bodies
from shared/reference/idp-wire.md."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from mock_clockwise.errors import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget
from mock_clockwise.patch import MAX_OPERATIONS, PATCH_OP, apply_patch
from mock_clockwise.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, GROUP, USER

USER_DOC: dict[str, Any] = {
    "schemas": [CORE_USER], "id": "u-1", "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User", "externalId": "00ujl29u0le5T6Aj10h7", "active": True,
    "groups": [{"value": "g-1", "display": "Eng"}],
    "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "version": 'W/"1"'},
}
GROUP_DOC: dict[str, Any] = {
    "schemas": [CORE_GROUP], "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2",
    "members": [{"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "old@okta.local"},
                {"value": "m-2"}],
    "meta": {"resourceType": "Group", "version": 'W/"3"'},
}


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def patch_user(*operations: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_patch(doc or USER_DOC, ops(*operations), USER)


def patch_group(*operations: dict[str, Any]) -> dict[str, Any]:
    return apply_patch(GROUP_DOC, ops(*operations), GROUP)


# --- Okta bodies ------------------------------------------------------------------------------
def test_okta_deactivate_and_reactivate() -> None:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}]}
    off = apply_patch(USER_DOC, body, USER)
    assert off["active"] is False
    assert {k: v for k, v in off.items() if k != "active"} == {k: v for k, v in USER_DOC.items() if k != "active"}
    on = apply_patch(off, ops({"op": "replace", "value": {"active": True}}), USER)
    assert on["active"] is True and on["id"] == "u-1"


def test_okta_group_rename_with_same_id() -> None:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
                                                       "displayName": "Test SCIMv2 renamed"}}]}
    out = apply_patch(GROUP_DOC, body, GROUP)
    assert out["displayName"] == "Test SCIMv2 renamed"
    assert out["id"] == GROUP_DOC["id"] and out["members"] == GROUP_DOC["members"]


def test_okta_group_rename_with_other_id_is_mutability() -> None:
    with pytest.raises(Mutability):
        patch_group({"op": "replace", "value": {"id": "other", "displayName": "x"}})


def test_okta_membership_change() -> None:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
                           {"op": "add", "path": "members",
                            "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                                       "display": "test.user@okta.local"}]}]}
    out = apply_patch(GROUP_DOC, body, GROUP)
    assert out["members"] == [{"value": "m-2"}, {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                                                 "display": "test.user@okta.local"}]


def test_okta_push_now_replaces_members() -> None:
    out = patch_group({"op": "replace", "path": "members", "value": [{"value": "n-1"}]})
    assert out["members"] == [{"value": "n-1"}]
    emptied = patch_group({"op": "replace", "path": "members", "value": []})
    assert "members" not in emptied  # RFC 7643 §2.5: [] is unassigned


# --- Entra bodies ------------------------------------------------------------------------------
def test_entra_disable_with_string_false() -> None:
    out = patch_user({"op": "Replace", "path": "active", "value": "False"})
    assert out["active"] is False
    out = patch_user({"op": "replace", "path": "active", "value": "TRUE"}, doc=out)
    assert out["active"] is True


def test_entra_one_op_per_path() -> None:
    out = patch_user(
        {"op": "Replace", "path": "name.givenName", "value": "Ann"},
        {"op": "Replace", "path": "externalId", "value": "ext-9"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ann@new.example"},
        {"op": "Add", "path": f"{ENTERPRISE_USER}:employeeNumber", "value": "701984"},
    )
    assert out["name"] == {"givenName": "Ann", "familyName": "User"}
    assert out["externalId"] == "ext-9"
    assert out["emails"] == [{"primary": True, "value": "ann@new.example", "type": "work"}]
    assert out[ENTERPRISE_USER] == {"employeeNumber": "701984"}
    assert out["schemas"] == [CORE_USER, ENTERPRISE_USER]


def test_entra_grouped_no_path_replace_with_dotted_and_urn_keys() -> None:
    out = patch_user({"op": "replace", "value": {
        "name.givenName": "Ann", "name.familyName": "Smith", "active": False,
        f"{ENTERPRISE_USER}:department": "R&D",
        ENTERPRISE_USER: {"costCenter": "4130"},
    }})
    assert out["name"] == {"givenName": "Ann", "familyName": "Smith"}
    assert out["active"] is False
    assert out[ENTERPRISE_USER] == {"department": "R&D", "costCenter": "4130"}


def test_entra_members_add_and_remove_with_value_list() -> None:
    out = patch_group({"op": "Add", "path": "members", "value": [{"$ref": None, "value": "new-1"}]})
    assert out["members"][-1] == {"value": "new-1"}
    out = patch_group({"op": "Remove", "path": "members", "value": [{"value": "m-2"}]})
    assert [m["value"] for m in out["members"]] == ["89bb1940-b905-4575-9e7f-6f887cfb368e"]


def test_entra_work_email_created_when_missing() -> None:
    doc = {k: v for k, v in USER_DOC.items() if k != "emails"}
    out = patch_user({"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@x.example"}, doc=doc)
    assert out["emails"] == [{"type": "work", "value": "w@x.example"}]
    out = patch_user({"op": "add", "path": 'emails[type eq "home"].value', "value": "h@x.example"})
    assert out["emails"][1] == {"type": "home", "value": "h@x.example"}
    assert len(out["emails"]) == 2


# --- RFC forms ---------------------------------------------------------------------------------
def test_add_appends_skipping_duplicates() -> None:
    out = patch_group({"op": "add", "path": "members", "value": [{"value": "m-2"}, {"value": "m-3"}]})
    assert [m["value"] for m in out["members"]] == ["89bb1940-b905-4575-9e7f-6f887cfb368e", "m-2", "m-3"]
    out = patch_group({"op": "add", "path": "members", "value": {"value": "m-4"}})  # single object accepted
    assert out["members"][-1] == {"value": "m-4"}


def test_add_without_path_merges_complex_and_appends_multi() -> None:
    out = patch_user({"op": "add", "value": {"name": {"middleName": "Q"},
                                             "emails": [{"value": "h@x", "type": "home"}], "title": "CTO"}})
    assert out["name"] == {"givenName": "Test", "familyName": "User", "middleName": "Q"}
    assert len(out["emails"]) == 2 and out["title"] == "CTO"


def test_replace_single_complex_keeps_other_sub_attributes() -> None:
    out = patch_user({"op": "replace", "path": "name", "value": {"givenName": "T2"}})
    assert out["name"] == {"givenName": "T2", "familyName": "User"}


def test_replace_multi_valued_replaces_all() -> None:
    out = patch_user({"op": "replace", "path": "emails", "value": [{"value": "only@x", "type": "home"}]})
    assert out["emails"] == [{"value": "only@x", "type": "home"}]


def test_replace_filtered_value_and_sub_attribute() -> None:
    doc = patch_user({"op": "add", "path": "addresses",
                      "value": [{"type": "work", "streetAddress": "1 Main"}, {"type": "home", "locality": "X"}]})
    out = patch_user({"op": "replace", "path": 'addresses[type eq "work"].streetAddress', "value": "2 Side"},
                     doc=doc)
    assert out["addresses"] == [{"type": "work", "streetAddress": "2 Side"}, {"type": "home", "locality": "X"}]
    out = patch_user({"op": "replace", "path": 'addresses[type eq "home"]',
                      "value": {"type": "home", "region": "R"}}, doc=doc)
    assert out["addresses"][1] == {"type": "home", "region": "R"}


def test_remove_forms() -> None:
    assert "title" not in patch_user({"op": "remove", "path": "title"}, doc={**USER_DOC, "title": "x"})
    assert "title" not in patch_user({"op": "remove", "path": "title"})  # unassigned: no change
    out = patch_user({"op": "remove", "path": "name.givenName"})
    assert out["name"] == {"familyName": "User"}
    out = patch_user({"op": "remove", "path": 'emails[type eq "work"]'})
    assert "emails" not in out  # no values left: unassigned
    out = patch_group({"op": "remove", "path": "members"})
    assert "members" not in out
    doc = patch_user({"op": "add", "path": f"{ENTERPRISE_USER}:department", "value": "d"})
    out = patch_user({"op": "remove", "path": f"{ENTERPRISE_USER}:department"}, doc=doc)
    assert ENTERPRISE_USER not in out and out["schemas"] == [CORE_USER]
    out = patch_user({"op": "remove", "path": ENTERPRISE_USER}, doc=doc)
    assert ENTERPRISE_USER not in out


def test_primary_true_clears_other_primaries() -> None:
    out = patch_user({"op": "add", "path": "emails", "value": [{"value": "b@x", "type": "home", "primary": True}]})
    assert [e.get("primary") for e in out["emails"]] == [False, True]
    doc = patch_user({"op": "add", "path": "emails", "value": [{"value": "b@x", "type": "home"}]})
    out = patch_user({"op": "replace", "path": 'emails[type eq "home"].primary', "value": True}, doc=doc)
    assert [e.get("primary") for e in out["emails"]] == [False, True]
    with pytest.raises(InvalidValue, match="primary"):
        patch_user({"op": "replace", "path": "emails",
                    "value": [{"value": "a", "primary": True}, {"value": "b", "primary": True}]})


def test_op_names_are_case_insensitive() -> None:
    assert patch_user({"op": "REPLACE", "path": "title", "value": "x"})["title"] == "x"
    assert patch_user({"OP": "Add", "PATH": "nickName", "VALUE": "n"})["nickName"] == "n"


def test_lowercase_operations_key_and_path_case() -> None:
    out = apply_patch(USER_DOC, {"schemas": [PATCH_OP], "operations": [
        {"op": "replace", "path": "NAME.GIVENNAME", "value": "Z"}]}, USER)
    assert out["name"]["givenName"] == "Z"


def test_meta_and_groups_untouched() -> None:
    out = patch_user({"op": "replace", "path": "title", "value": "x"})
    assert out["meta"] == USER_DOC["meta"] and out["groups"] == USER_DOC["groups"]


# --- errors and atomicity -----------------------------------------------------------------------
def test_atomic_second_operation_fails() -> None:
    before = copy.deepcopy(USER_DOC)
    with pytest.raises(InvalidPath) as info:
        patch_user({"op": "replace", "path": "active", "value": False},
                   {"op": "replace", "path": "nosuchattribute", "value": "x"})
    assert "Operations[1]" in info.value.detail
    assert USER_DOC == before  # the input was not mutated


def test_input_never_mutated_on_success() -> None:
    before = copy.deepcopy(GROUP_DOC)
    patch_group({"op": "remove", "path": 'members[value eq "m-2"]'},
                {"op": "add", "path": "members", "value": [{"value": "z"}]},
                {"op": "replace", "path": 'members[value eq "z"].display', "value": "Z"})
    assert GROUP_DOC == before


@pytest.mark.parametrize("operation,error", [
    ({"op": "remove"}, NoTarget),  # RFC 7644 §3.5.2.2
    ({"op": "remove", "path": 'members[value eq "nobody"]'}, NoTarget),
    ({"op": "replace", "path": 'members[value eq "nobody"]', "value": {"value": "x"}}, NoTarget),
    ({"op": "replace", "path": 'members[display co "x"].display', "value": "y"}, NoTarget),
    ({"op": "remove", "path": "displayName"}, InvalidValue),  # required
    ({"op": "replace", "path": "displayName", "value": None}, InvalidValue),
    ({"op": "replace", "path": "displayName", "value": 5}, InvalidValue),
    ({"op": "replace", "path": "id", "value": "x"}, Mutability),
    ({"op": "replace", "path": "meta.version", "value": "x"}, Mutability),
    ({"op": "replace", "path": 'members[value eq "m-2"].value', "value": "m-9"}, Mutability),  # immutable
    ({"op": "remove", "path": 'members[value eq "m-2"].value'}, Mutability),
    ({"op": "replace", "path": "nope", "value": "x"}, InvalidPath),
    ({"op": "replace", "path": 'members[nope eq "x"]', "value": {}}, InvalidPath),
    ({"op": "replace", "path": "members[", "value": "x"}, InvalidPath),
    ({"op": "replace", "path": 5, "value": "x"}, InvalidPath),
    ({"op": "replace", "value": {"nope": 1}}, InvalidPath),
    ({"op": "replace", "value": "notanobject"}, InvalidValue),
    ({"op": "add", "path": "displayName"}, InvalidValue),  # no value
    ({"op": "move", "path": "displayName", "value": "x"}, InvalidSyntax),
    ({"path": "displayName", "value": "x"}, InvalidSyntax),
    ("notanobject", InvalidSyntax),
    ({"op": "add", "path": "members", "value": ["bare-id"]}, InvalidValue),
    ({"op": "add", "path": "members", "value": [{"display": "no value"}]}, InvalidValue),
])
def test_group_operation_errors(operation: Any, error: type) -> None:
    before = copy.deepcopy(GROUP_DOC)
    with pytest.raises(error) as info:
        apply_patch(GROUP_DOC, ops(operation), GROUP)
    assert info.value.detail and info.value.status == 400
    assert GROUP_DOC == before


@pytest.mark.parametrize("operation,error", [
    ({"op": "replace", "path": "groups", "value": []}, Mutability),  # readOnly
    ({"op": "add", "value": {"groups": [{"value": "g"}]}}, Mutability),
    ({"op": "replace", "value": {"meta": {}}}, Mutability),
    ({"op": "replace", "path": "active", "value": "maybe"}, InvalidValue),
    ({"op": "replace", "path": "name", "value": "string"}, InvalidValue),
    ({"op": "replace", "path": "emails", "value": "x@y"}, InvalidValue),
    ({"op": "remove", "path": "userName"}, InvalidValue),
    ({"op": "replace", "path": "userName", "value": ""}, InvalidValue),
    ({"op": "replace", "path": ENTERPRISE_USER, "value": "x"}, InvalidValue),
    ({"op": "replace", "value": {ENTERPRISE_USER: {"nope": 1}}}, InvalidPath),
])
def test_user_operation_errors(operation: Any, error: type) -> None:
    with pytest.raises(error):
        patch_user(operation)


@pytest.mark.parametrize("body,words", [
    ([], "JSON object"),
    ({"Operations": [{"op": "add", "value": {}}]}, "schemas"),
    ({"schemas": [CORE_USER], "Operations": [{"op": "add", "value": {}}]}, PATCH_OP),
    ({"schemas": [PATCH_OP]}, "Operations"),
    ({"schemas": [PATCH_OP], "Operations": []}, "Operations"),
    ({"schemas": [PATCH_OP], "Operations": {"op": "add"}}, "Operations"),
])
def test_body_errors(body: Any, words: str) -> None:
    with pytest.raises(InvalidSyntax) as info:
        apply_patch(USER_DOC, body, USER)
    assert words in info.value.detail


def test_too_many_operations() -> None:
    body = ops(*[{"op": "replace", "path": "title", "value": str(i)} for i in range(MAX_OPERATIONS + 1)])
    with pytest.raises(InvalidValue, match="at most 1000"):
        apply_patch(USER_DOC, body, USER)
    body["Operations"].pop()
    assert apply_patch(USER_DOC, body, USER)["title"] == str(MAX_OPERATIONS - 1)


def test_immutable_may_be_added_when_unset() -> None:
    doc = copy.deepcopy(GROUP_DOC)
    doc["members"].append({"display": "pending"})  # a stored value without `value` (not via validate)
    out = apply_patch(doc, ops({"op": "replace", "path": 'members[display eq "pending"].value',
                                "value": "m-7"}), GROUP)
    assert out["members"][-1] == {"display": "pending", "value": "m-7"}


def test_entra_manager_as_id_string() -> None:
    out = patch_user({"op": "Add", "path": f"{ENTERPRISE_USER}:manager", "value": "mgr-id"})
    assert out[ENTERPRISE_USER] == {"manager": {"value": "mgr-id"}}
    out = patch_user({"op": "Replace", "path": f"{ENTERPRISE_USER}:manager", "value": "mgr-2"}, doc=out)
    assert out[ENTERPRISE_USER]["manager"] == {"value": "mgr-2"}
    with pytest.raises(InvalidValue):
        patch_user({"op": "replace", "path": "name", "value": "Ann"})  # name has no `value`


# --- robustness: any JSON body gives a result or a ScimError, never another exception ---------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mock_clockwise.errors import ScimError  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["active", "members", "emails", 'emails[type eq "work"].value', "name.givenName",
                       "False", "value", "primary", f"{ENTERPRISE_USER}:manager"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["op", "path", "value", "active", "members", "name", "emails", "primary", "type",
                         "displayName", "id", "name.givenName", ENTERPRISE_USER]), inner, max_size=4),
    max_leaves=12)
_op = st.fixed_dictionaries({"op": st.sampled_from(["add", "Replace", "remove", "bogus"])},
                            optional={"path": _json, "value": _json})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_op, min_size=1, max_size=4), st.booleans())
def test_fuzz_patch_never_crashes(operations: list[dict[str, Any]], group: bool) -> None:
    doc, rtype = (GROUP_DOC, GROUP) if group else (USER_DOC, USER)
    before = copy.deepcopy(doc)
    try:
        out = apply_patch(doc, ops(*operations), rtype)
    except ScimError as exc:
        assert exc.detail and 400 <= exc.status < 500
    else:
        assert out["id"] == doc["id"] and out["schemas"][0] == rtype.schema
    assert doc == before
