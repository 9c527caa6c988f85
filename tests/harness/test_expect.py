"""Paths and matchers (harness/expect.py)."""
from __future__ import annotations

import pytest

from harness.expect import MISSING, MatcherError, PathMissing, PathSyntaxError, lookup, match, resolve_path

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DOC = {
    "totalResults": 2,
    "Resources": [
        {
            "id": "u1",
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "home@x.com", "type": "home"}, {"value": "b.j@x.com", "type": "work", "primary": True}],
            "active": True,
            ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m1"}},
        },
        {"id": "u2", "userName": "other", "active": False},
    ],
}


@pytest.mark.parametrize("path, expected", [
    ("totalResults", 2),
    ("Resources[0].name.givenName", "Barbara"),
    ("Resources[1].id", "u2"),
    ("Resources[-1].id", "u2"),
    ("Resources[0].emails[type=work].value", "b.j@x.com"),
    ('Resources[0].emails[type eq "work"].value', "b.j@x.com"),
    ("Resources[0].emails[primary=true].type", "work"),
    ("Resources[0].emails[value=home@x.com].type", "home"),
    (f"Resources[0].{ENTERPRISE}.department", "Tour Operations"),
    (f"Resources[0].{ENTERPRISE}.manager.value", "m1"),
    (f"Resources[0].{ENTERPRISE}:department", "Tour Operations"),  # Entra's spelling
    ("resources[0].USERNAME", "bjensen@example.com"),  # RFC 7643 §2.1: names are case-insensitive
    ("length(Resources)", 2),
    ("length(Resources[0].emails)", 2),
    ("$.totalResults", 2),
])
def test_resolve_path(path, expected):
    assert resolve_path(DOC, path) == expected


def test_dollar_is_whole_document():
    assert resolve_path(DOC, "$") is DOC


def test_urn_at_top_level():
    doc = {ENTERPRISE: {"employeeNumber": "701984"}}
    assert resolve_path(doc, f"{ENTERPRISE}.employeeNumber") == "701984"
    assert resolve_path(doc, ENTERPRISE) == {"employeeNumber": "701984"}


@pytest.mark.parametrize("path, fragment", [
    ("nope", "no 'nope'"),
    ("Resources[5].id", "out of range"),
    ("Resources[0].emails[type=other].value", "has type = 'other'"),
    ("totalResults.x", "not an object"),
    ("Resources[0].name[0]", "not an array"),
    ("Resources[1].name.givenName", "no 'name' in Resources[1]"),
])
def test_missing_paths_explain_why(path, fragment):
    with pytest.raises(PathMissing) as info:
        resolve_path(DOC, path)
    assert fragment in str(info.value)
    assert lookup(DOC, path) is MISSING


@pytest.mark.parametrize("path", ["Resources[0", "a..b", "a.", "Resources[x y]"])
def test_bad_path_syntax(path):
    with pytest.raises(PathSyntaxError):
        resolve_path(DOC, path)


@pytest.mark.parametrize("actual, matcher, ok", [
    ("abc", "abc", True),
    ("abc", "ABC", False),  # plain strings are compared exactly
    (True, 1, False),  # JSON: true is not 1
    (1, 1.0, True),
    ({"a": 1, "b": 2}, {"a": 1, "b": 2}, True),
    ({"type": "work", "value": "x"}, {"type": "work", "value": "x"}, True),  # not mistaken for a matcher
    ("abc", {"eq": "abc"}, True),
    ("abc", {"ne": "abc"}, False),
    (MISSING, {"exists": False}, True),
    (None, {"exists": True}, True),  # null is present
    (MISSING, {"exists": True}, False),
    ("hello world", {"contains": "lo w"}, True),
    ([1, 2, 3], {"contains": 2}, True),
    ([{"value": "a", "type": "work"}], {"contains": {"type": "work"}}, True),
    ([{"value": "a", "type": "home"}], {"contains": {"type": "work"}}, False),
    ([{"value": "a"}], {"not_contains": {"value": "b"}}, True),
    ([{"value": "a"}], {"not_contains": {"value": "a"}}, False),
    ([1, 2], {"len": 2}, True),
    ("abc", {"len": {"gt": 5}}, False),
    (5, {"len": 1}, False),
    (3, {"type": "integer"}, True),
    (True, {"type": "integer"}, False),
    (3, {"type": "number"}, True),
    ("x", {"type": ["string", "null"]}, True),
    ("2011-08-01T21:32:44.882Z", {"matches": r"^\d{4}-"}, True),
    (7, {"matches": "7"}, False),
    ("BJensen", {"icase": "bjensen"}, True),
    (3, {"gt": 2, "lt": 4}, True),
    (3, {"gt": 3}, False),
    ("3", {"gt": 1}, False),
    (3, {"ge": 3, "le": 3}, True),
    ("b", {"one_of": ["a", "b"]}, True),
    ("c", {"one_of": ["a", "b"]}, False),
    ("id-1", {"same_as": "id-1"}, True),
])
def test_matchers(actual, matcher, ok):
    assert match(actual, matcher)[0] is ok


def test_match_describes_expectation():
    ok, expected = match(7, {"gt": 10})
    assert not ok and expected == "> 10"


@pytest.mark.parametrize("matcher, fragment", [
    ({"matches": "("}, "bad regular expression"),
    ({"type": "str"}, "unknown type"),
    ({"exists": "yes"}, "true or false"),
    ({"gt": "1"}, "takes a number"),
    ({"one_of": "ab"}, "takes a list"),
    ({"len": "2"}, "integer or a matcher"),
])
def test_bad_matchers_raise_matcher_error(matcher, fragment):
    with pytest.raises(MatcherError) as info:
        match("abc", matcher)
    assert fragment in str(info.value)
