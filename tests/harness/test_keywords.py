"""`run -k EXPR`: pytest's keyword expressions over scenario names, dialects, files and tags."""
from __future__ import annotations

import pytest

from harness.keywords import KeywordError, compile_keywords

ITEMS = {"create-users": ["create-users", "okta", "users.scim.yaml", "users"],
         "create-users[entra]": ["create-users[entra]", "entra", "users.scim.yaml", "users"],
         "group-push": ["group-push", "okta", "groups.scim.yaml", "groups"], "rfc": ["rfc"]}


@pytest.mark.parametrize(("expr", "selected"), [
    ("users", {"create-users", "create-users[entra]"}),
    ("USERS and not entra", {"create-users"}),
    ("not (users or groups)", {"rfc"}),
    ("groups or rfc", {"group-push", "rfc"}),
    ("push and okta", {"group-push"}),
])
def test_selection(expr: str, selected: set[str]) -> None:
    match = compile_keywords(expr)
    assert {name for name, words in ITEMS.items() if match(words)} == selected


@pytest.mark.parametrize("expr", ["", "users and", "(users", "users)", "and users", "users users"])
def test_malformed_expressions(expr: str) -> None:
    with pytest.raises(KeywordError):
        compile_keywords(expr)
