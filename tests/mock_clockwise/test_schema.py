"""schema.py: resolution of attribute paths and POST/PUT body validation (RFC 7643, RFC 7644 §3.3)."""
from __future__ import annotations

import pytest

from mock_clockwise.errors import InvalidSyntax, InvalidValue
from mock_clockwise.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, GROUP, USER
from mock_clockwise.validation import validate_resource

OKTA_CREATE = {"schemas": [CORE_USER], "userName": "test.user@okta.local",
               "name": {"givenName": "Test", "familyName": "User"},
               "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
               "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
               "groups": [], "password": "1mz050nq", "active": True}


@pytest.mark.parametrize("path,schema,name,sub", [
    ("userName", CORE_USER, "userName", None),
    ("USERNAME", CORE_USER, "userName", None),
    ("name.givenName", CORE_USER, "name", "givenName"),
    ("NAME.GIVENNAME", CORE_USER, "name", "givenName"),
    ("emails.value", CORE_USER, "emails", "value"),
    ("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", CORE_USER, "name", "givenName"),
    ("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName", CORE_USER, "userName", None),
    (f"{ENTERPRISE_USER}:employeeNumber", ENTERPRISE_USER, "employeeNumber", None),
    (f"{ENTERPRISE_USER}:manager.value", ENTERPRISE_USER, "manager", "value"),
    ("meta.lastModified", CORE_USER, "meta", "lastModified"),
    ("id", CORE_USER, "id", None),
    ("externalId", CORE_USER, "externalId", None),
    ("members.$ref", None, "members", "$ref"),
])
def test_resolve_known_paths(path: str, schema: str | None, name: str, sub: str | None) -> None:
    rtype = GROUP if name == "members" else USER
    ref = rtype.resolve(path)
    assert ref is not None
    assert ref.schema == (schema or CORE_GROUP)
    assert ref.name == name
    assert ref.sub_name == sub
    assert ref.is_extension == (schema == ENTERPRISE_USER)


@pytest.mark.parametrize("path", ["nope", "name.nope", "name.givenName.x", "employeeNumber",
                                  "urn:unknown:schema:attr", f"{ENTERPRISE_USER}:nope", "", "name.",
                                  "members"])
def test_resolve_unknown_is_none(path: str) -> None:
    assert USER.resolve(path) is None


def test_case_exact_characteristics() -> None:
    assert USER.resolve("userName").leaf.case_exact is False
    assert USER.resolve("emails.value").leaf.case_exact is False
    assert USER.resolve("id").leaf.case_exact is True
    assert USER.resolve("externalId").leaf.case_exact is True
    assert GROUP.resolve("displayName").leaf.case_exact is False
    assert USER.resolve("password").leaf.returned == "never"
    assert USER.resolve("groups").attribute.mutability == "readOnly"


def test_validate_okta_create_body() -> None:
    out = validate_resource(OKTA_CREATE, USER)
    assert out is not OKTA_CREATE
    assert out["userName"] == "test.user@okta.local"
    assert out["password"] == "1mz050nq"  # kept; the store decides
    assert "groups" not in out  # readOnly, ignored (RFC 7644 §3.3)
    assert out["emails"] == [{"primary": True, "value": "test.user@okta.local", "type": "work"}]
    assert out["schemas"] == [CORE_USER]
    assert OKTA_CREATE["groups"] == []  # input untouched


def test_validate_canonicalises_names_and_drops_unknown_and_readonly() -> None:
    body = {"SCHEMAS": [CORE_USER], "USERNAME": "Ann", "Name": {"GIVENNAME": "A", "bogus": 1},
            "id": "client-id", "meta": {"created": "x"}, "whatever": 3, "ACTIVE": "False"}
    out = validate_resource(body, USER)
    assert out == {"schemas": [CORE_USER], "userName": "Ann", "name": {"givenName": "A"}, "active": False}


def test_validate_extension_kept_and_schema_added() -> None:
    body = {"schemas": [CORE_USER], "userName": "a",
            ENTERPRISE_USER.upper(): {"DEPARTMENT": "R&D", "manager": {"value": "m1"}}}
    out = validate_resource(body, USER)
    assert out["schemas"] == [CORE_USER, ENTERPRISE_USER]
    assert out[ENTERPRISE_USER] == {"department": "R&D", "manager": {"value": "m1"}}


def test_validate_urn_qualified_top_level_key() -> None:
    out = validate_resource({"schemas": [CORE_USER], "userName": "a",
                             f"{ENTERPRISE_USER}:employeeNumber": "42"}, USER)
    assert out[ENTERPRISE_USER] == {"employeeNumber": "42"}


def test_validate_empty_extension_not_listed() -> None:
    out = validate_resource({"schemas": [CORE_USER, ENTERPRISE_USER], "userName": "a", ENTERPRISE_USER: {}}, USER)
    assert out["schemas"] == [CORE_USER]
    assert ENTERPRISE_USER not in out


def test_validate_group() -> None:
    body = {"schemas": [CORE_GROUP], "displayName": "Eng", "members": [{"value": "u1", "$ref": None}],
            "externalId": "e1"}
    assert validate_resource(body, GROUP) == {"schemas": [CORE_GROUP], "displayName": "Eng",
                                              "members": [{"value": "u1"}], "externalId": "e1"}


@pytest.mark.parametrize("body,error,words", [
    ([], InvalidSyntax, "JSON object"),
    ("x", InvalidSyntax, "JSON object"),
    ({"userName": "a"}, InvalidSyntax, "schemas"),
    ({"schemas": CORE_USER, "userName": "a"}, InvalidSyntax, "array"),
    ({"schemas": [CORE_GROUP], "userName": "a"}, InvalidSyntax, CORE_USER),
    ({"schemas": [CORE_USER]}, InvalidValue, "userName"),
    ({"schemas": [CORE_USER], "userName": "  "}, InvalidValue, "userName"),
    ({"schemas": [CORE_USER], "userName": 5}, InvalidValue, "userName"),
    ({"schemas": [CORE_USER], "userName": "a", "active": "yes"}, InvalidValue, "active"),
    ({"schemas": [CORE_USER], "userName": "a", "active": 1}, InvalidValue, "active"),
    ({"schemas": [CORE_USER], "userName": "a", "name": "Ann"}, InvalidValue, "name"),
    ({"schemas": [CORE_USER], "userName": "a", "emails": {"value": "x"}}, InvalidValue, "emails"),
    ({"schemas": [CORE_USER], "userName": "a", "emails": ["x@y"]}, InvalidValue, "emails"),
    ({"schemas": [CORE_USER], "userName": "a", "title": ["x"]}, InvalidValue, "title"),
    ({"schemas": [CORE_USER], "userName": "a", "name": {"givenName": 3}}, InvalidValue, "name.givenName"),
    ({"schemas": [CORE_USER], "userName": "a", "emails": [{"value": "a", "primary": True},
                                                          {"value": "b", "primary": True}]},
     InvalidValue, "primary"),
    ({"schemas": [CORE_USER], "userName": "a", ENTERPRISE_USER: "x"}, InvalidValue, ENTERPRISE_USER),
    ({"schemas": [CORE_USER], "userName": "a", "USERNAME": "b"}, InvalidSyntax, "twice"),
    ({"schemas": [CORE_GROUP]}, InvalidValue, "displayName"),
    ({"schemas": [CORE_GROUP], "displayName": "g", "members": [{"display": "no value"}]}, InvalidValue,
     "members.value"),
])
def test_validate_errors(body: object, error: type, words: str) -> None:
    rtype = GROUP if isinstance(body, dict) and CORE_GROUP in body.get("schemas", []) and \
        "userName" not in body else USER
    with pytest.raises(error) as info:
        validate_resource(body, rtype)
    assert words.lower() in info.value.detail.lower()


def test_null_and_empty_are_unassigned() -> None:
    out = validate_resource({"schemas": [CORE_USER], "userName": "a", "title": None, "emails": [],
                             "name": None}, USER)
    assert out == {"schemas": [CORE_USER], "userName": "a"}


# --- robustness: any JSON body validates or raises a ScimError, never another exception -------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mock_clockwise.errors import ScimError  # noqa: E402

_keys = st.sampled_from(["schemas", "userName", "name", "givenName", "emails", "value", "primary", "active",
                         "members", "displayName", "groups", "id", "meta", ENTERPRISE_USER, "manager", "x"])
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                     | st.sampled_from([CORE_USER, CORE_GROUP, "True"]),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
                     max_leaves=15)


@settings(max_examples=300, deadline=None)
@given(_json, st.booleans())
def test_fuzz_validate_never_crashes(body: object, group: bool) -> None:
    rtype = GROUP if group else USER
    if isinstance(body, dict) and body.get("schemas") is None:
        body = {**body, "schemas": [rtype.schema]}
    try:
        out = validate_resource(body, rtype)
    except ScimError as exc:
        assert exc.detail and exc.status == 400
    else:
        assert out["schemas"][0] == rtype.schema and "id" not in out and "meta" not in out
        assert validate_resource(out, rtype) == out  # idempotent
