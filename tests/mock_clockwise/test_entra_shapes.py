"""The mock (Clockwise's lenient receiver) accepts what Entra's default mappings send (issue 12):
the enterprise manager as a one-element list, and Add to paths that were empty."""
from __future__ import annotations

from typing import Any

import pytest

from mock_clockwise.errors import InvalidValue
from mock_clockwise.patch import PATCH_OP, apply_patch
from mock_clockwise.schema import CORE_USER, ENTERPRISE_USER, USER
from mock_clockwise.validation import validate_resource

DOC: dict[str, Any] = {"schemas": [CORE_USER, ENTERPRISE_USER], "id": "u-1", "userName": "a@x.test", "active": True,
                       "meta": {"resourceType": "User"}}


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return apply_patch(DOC, {"schemas": [PATCH_OP], "Operations": list(operations)}, USER)


def test_entra_manager_add_as_a_one_element_list() -> None:
    out = patch({"op": "Add", "path": f"{ENTERPRISE_USER}:manager", "value": [{"$ref": None, "value": "m-1"}]})
    assert out[ENTERPRISE_USER]["manager"] == {"value": "m-1"}


def test_entra_add_to_empty_paths() -> None:
    out = patch({"op": "Add", "path": "title", "value": "Analyst"},
                {"op": "Add", "path": 'phoneNumbers[type eq "work"].value', "value": "+1 555 0100"},
                {"op": "Add", "path": 'addresses[type eq "work"].locality', "value": "Paris"})
    assert out["title"] == "Analyst"
    assert out["phoneNumbers"] == [{"type": "work", "value": "+1 555 0100"}]
    assert out["addresses"][0]["locality"] == "Paris"


def test_a_list_of_two_managers_is_still_refused() -> None:
    body = {"schemas": [CORE_USER, ENTERPRISE_USER], "userName": "a@x.test",
            ENTERPRISE_USER: {"manager": [{"value": "m-1"}, {"value": "m-2"}]}}
    with pytest.raises(InvalidValue, match="complex and must be a JSON object"):
        validate_resource(body, USER)
