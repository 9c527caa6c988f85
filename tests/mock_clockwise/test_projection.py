"""projection.py: attributes / excludedAttributes (RFC 7644 §3.9) and sort keys (RFC 7644 §3.4.2.3)."""
from __future__ import annotations

import copy

import pytest

from mock_clockwise.projection import parse_attr_list, project, sort_key
from mock_clockwise.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, GROUP, USER

USER_DOC = {
    "schemas": [CORE_USER, ENTERPRISE_USER], "id": "u1", "userName": "ann", "password": "secret",
    "name": {"givenName": "Ann", "familyName": "Smith"}, "active": True,
    "emails": [{"value": "a@w", "type": "work", "primary": True}, {"value": "a@h", "type": "home"}],
    "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z"},
    ENTERPRISE_USER: {"department": "R&D", "employeeNumber": "7"},
}
GROUP_DOC = {"schemas": [CORE_GROUP], "id": "g1", "displayName": "Eng", "members": [{"value": "u1"}],
             "meta": {"resourceType": "Group"}}


@pytest.mark.parametrize("text,expected", [
    (None, None), ("", None), (" , ", None), ("userName", ["userName"]),
    ("userName, name.givenName ,emails", ["userName", "name.givenName", "emails"]),
])
def test_parse_attr_list(text, expected) -> None:
    assert parse_attr_list(text) == expected


def test_default_drops_password_only() -> None:
    out = project(USER_DOC, USER, None, None)
    assert "password" not in out
    assert out == {k: v for k, v in USER_DOC.items() if k != "password"}
    assert out is not USER_DOC and out["name"] is not USER_DOC["name"]


def test_attributes_keeps_named_plus_always() -> None:
    out = project(USER_DOC, USER, ["USERNAME", "name.givenName", "emails.value", f"{ENTERPRISE_USER}:department"],
                  None)
    assert out == {"schemas": USER_DOC["schemas"], "id": "u1", "userName": "ann", "name": {"givenName": "Ann"},
                   "emails": [{"value": "a@w"}, {"value": "a@h"}], ENTERPRISE_USER: {"department": "R&D"}}


def test_attributes_two_sub_attributes_of_one_multi_valued() -> None:
    out = project(USER_DOC, USER, ["emails.value", "emails.type"], None)
    assert out["emails"] == [{"value": "a@w", "type": "work"}, {"value": "a@h", "type": "home"}]


def test_attributes_whole_extension_and_urn_qualified_core() -> None:
    out = project(USER_DOC, USER, [ENTERPRISE_USER, f"{CORE_USER}:active"], None)
    assert out == {"schemas": USER_DOC["schemas"], "id": "u1", "active": True,
                   ENTERPRISE_USER: USER_DOC[ENTERPRISE_USER]}


def test_password_never_returned_even_if_asked() -> None:
    assert "password" not in project(USER_DOC, USER, ["password", "userName"], None)


def test_excluded() -> None:
    out = project(USER_DOC, USER, None, ["emails", "name.familyName", f"{ENTERPRISE_USER}:employeeNumber",
                                         "id", "schemas", "meta"])
    assert out["id"] == "u1" and out["schemas"] == USER_DOC["schemas"]  # returned always
    assert "emails" not in out and "meta" not in out and "password" not in out
    assert out["name"] == {"givenName": "Ann"}
    assert out[ENTERPRISE_USER] == {"department": "R&D"}
    out = project(USER_DOC, USER, None, [ENTERPRISE_USER])
    assert ENTERPRISE_USER not in out


def test_excluded_members_on_groups() -> None:
    out = project(GROUP_DOC, GROUP, None, ["members"])
    assert out == {"schemas": [CORE_GROUP], "id": "g1", "displayName": "Eng", "meta": {"resourceType": "Group"}}


def test_unknown_names_ignored() -> None:
    assert project(USER_DOC, USER, None, ["nope", "name.nope"]) == project(USER_DOC, USER, None, None)
    assert project(USER_DOC, USER, ["nope"], None) == {"schemas": USER_DOC["schemas"], "id": "u1"}


def test_input_not_mutated() -> None:
    before = copy.deepcopy(USER_DOC)
    project(USER_DOC, USER, ["name.givenName"], ["emails"])
    assert USER_DOC == before


# --- sorting ---------------------------------------------------------------------------------
def _users() -> list[dict]:
    return [
        {"id": "1", "userName": "bob", "meta": {"created": "2024-01-01T10:00:00+02:00"},
         "emails": [{"value": "z@x"}, {"value": "a@x", "primary": True}]},
        {"id": "2", "userName": "Alice", "meta": {"created": "2024-01-01T09:00:00Z"}, "title": "b",
         "emails": [{"value": "m@x"}]},
        {"id": "3", "userName": "carol", "title": "A"},
    ]


def test_sort_by_case_insensitive_string() -> None:
    ids = [u["id"] for u in sorted(_users(), key=lambda u: sort_key(u, USER, "userName"))]
    assert ids == ["2", "1", "3"]


def test_sort_missing_last_ascending() -> None:
    ids = [u["id"] for u in sorted(_users(), key=lambda u: sort_key(u, USER, "title"))]
    assert ids == ["3", "2", "1"]  # "A" < "b" case-folded; the user without a title last


def test_sort_datetime_by_instant() -> None:
    ids = [u["id"] for u in sorted(_users(), key=lambda u: sort_key(u, USER, "meta.created"))]
    assert ids == ["1", "2", "3"]  # 08:00Z before 09:00Z; missing last


def test_sort_multi_valued_uses_primary_then_first() -> None:
    ids = [u["id"] for u in sorted(_users(), key=lambda u: sort_key(u, USER, "emails"))]
    assert ids == ["1", "2", "3"]  # a@x (primary) < m@x (first); no emails last
    ids = [u["id"] for u in sorted(_users(), key=lambda u: sort_key(u, USER, "emails.value"))]
    assert ids == ["1", "2", "3"]


def test_sort_unknown_attribute_keeps_order() -> None:
    users = _users()
    assert sorted(users, key=lambda u: sort_key(u, USER, "nope")) == users


@pytest.mark.parametrize("doc,rtype", [
    (USER_DOC, USER), (GROUP_DOC, GROUP),
    ({**USER_DOC, ENTERPRISE_USER: {}}, USER),
    ({**USER_DOC, ENTERPRISE_USER: "not an object"}, USER),
    ({k: v for k, v in USER_DOC.items() if k != ENTERPRISE_USER} | {ENTERPRISE_USER.upper(): {"department": "x"}},
     USER),
    ({**USER_DOC, "PassWord": "other"}, USER),
])
def test_owned_default_view_equals_the_copying_projection(doc, rtype) -> None:
    # The views' fast path (owned=True, no attributes) must return exactly what project() returns.
    expected = project(copy.deepcopy(doc), rtype, None, None)
    got = project(copy.deepcopy(doc), rtype, None, None, owned=True)
    assert got == expected and list(got) == list(expected)
    assert "password" not in {k.lower() for k in got}


def test_owned_with_attributes_still_projects() -> None:
    out = project(copy.deepcopy(USER_DOC), USER, ["userName"], None, owned=True)
    assert out == {"schemas": USER_DOC["schemas"], "id": "u1", "userName": "ann"}
