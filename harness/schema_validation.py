"""The JSON Schemas of `harness/schemas/` (RFC 7643/7644 resources and messages): loading them into one
registry and validating documents against them, with each error described by its JSON path.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.expect import show

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_BASE = "https://schemas.scim-harness.test/"
SCHEMA_NAMES = ("User", "EnterpriseUser", "Group", "ListResponse", "ListResponse:User", "ListResponse:Group",
                "PatchOp", "Error", "ServiceProviderConfig", "ResourceType", "Schema")
SNIPPET = 160

# RFC 7643 §2.3.5: dateTime is an xsd:dateTime with a date and a time (the offset is optional in xsd).
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# --- schemas ---------------------------------------------------------------------------

def _file_for(name: str) -> Path:
    return SCHEMA_DIR / (name.replace(":", "-") + ".json")


@lru_cache(maxsize=1)
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_datetime)
    return checker


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema called `name` (see SCHEMA_NAMES; also "ListResponse:<Name>" for any name)."""
    path = _file_for(name)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    if name.startswith("ListResponse:") and _file_for(name[13:]).is_file():
        item = name[13:]
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"{SCHEMA_BASE}ListResponse-{item}.json", "allOf": [{"$ref": "ListResponse.json"}],
                "properties": {"Resources": {"items": {"$ref": f"{item}.json"}}}}
    raise KeyError(f"unknown schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")


@lru_cache(maxsize=64)
def _validator_for(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), registry=_registry(), format_checker=_format_checker())


def _validator(schema: str | dict[str, Any]) -> Draft202012Validator:
    if isinstance(schema, str):
        return _validator_for(schema)
    inline = copy.deepcopy(schema)
    inline.setdefault("$id", f"{SCHEMA_BASE}inline.json")  # so "$ref": "User.json" resolves
    Draft202012Validator.check_schema(inline)
    return Draft202012Validator(inline, registry=_registry(), format_checker=_format_checker())


def describe_error(error: ValidationError) -> str:
    where = error.json_path
    if error.validator == "contains" and isinstance(error.validator_value, dict) and "const" in error.validator_value:
        return f"{where}: must contain {error.validator_value['const']!r}"
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = [t for t in wanted if t != "null"] or wanted
        return f"{where}: must be {' or '.join(wanted)}, got {show(error.instance)}"
    if error.validator == "enum":
        allowed = [v for v in error.validator_value if v is not None]
        return f"{where}: {show(error.instance)} is not one of {', '.join(map(str, allowed))}"
    if error.validator == "pattern" and isinstance(error.instance, str):
        return f"{where}: {show(error.instance)} does not match {error.validator_value!r}"
    message = error.message if len(error.message) <= SNIPPET else error.message[:SNIPPET] + "…"
    return f"{where}: {message}"


def schema_errors(instance: Any, schema: str | dict[str, Any], relax_required: bool = False) -> list[ValidationError]:
    errors = sorted(_validator(schema).iter_errors(instance), key=lambda e: (list(e.absolute_path), e.message))
    if relax_required:
        # RFC 7644 §3.4.2.5: with attributes/excludedAttributes only the requested attributes come back;
        # id (returned "always") and schemas are still required.
        errors = [e for e in errors if not (e.validator == "required" and not any(
            f"'{k}'" in e.message for k in ("id", "schemas")))]
    return errors


def validate(instance: Any, schema_name: str | dict[str, Any]) -> list[str]:
    """Messages (each with the JSON path of the error) for `instance` against a named or inline schema.

    Raises KeyError for an unknown name and jsonschema.SchemaError for a malformed inline schema.
    """
    return [describe_error(e) for e in schema_errors(instance, schema_name)]
