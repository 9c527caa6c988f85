"""RFC 7643 value checking against the attribute definitions of schema.py: one value (type,
multi-valued, sub-attributes; shared with patch.py) and a whole POST/PUT body (`validate_resource`,
which the store calls, and patch.py for the result of a PATCH). No web imports."""
from __future__ import annotations

from typing import Any

from mock_clockwise.errors import InvalidSyntax, InvalidValue
from mock_clockwise.names import user_name_problem
from mock_clockwise.schema import SCHEMAS, Attribute, ResourceType, get_ci

_TRUE_STRINGS = {"true": True, "false": False}


def clean_value(attr: Attribute, value: Any, path: str) -> Any:
    """Check `value` against `attr` (type, multi-valued, sub-attributes) and return a cleaned copy
    with canonical sub-attribute names. None means "unassigned" (RFC 7643 §2.5)."""
    if value is None:
        return None
    if attr.multi_valued:
        if not isinstance(value, list):
            raise InvalidValue(f"Attribute '{path}' is multi-valued and must be a JSON array.")
        items = [clean_single(attr, item, path) for item in value]
        items = [i for i in items if i is not None and i != {}]
        if attr.is_complex:
            primaries = sum(1 for i in items if isinstance(i, dict) and i.get("primary") is True)
            if primaries > 1:
                # RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once.
                raise InvalidValue(f"Attribute '{path}' has more than one value with primary true.")
        # RFC 7643 §2.5: an empty array is equivalent to unassigned.
        return items or None
    return clean_single(attr, value, path)


def clean_single(attr: Attribute, value: Any, path: str) -> Any:
    """Check one (non-list) value of `attr`."""
    if value is None:
        return None
    if attr.is_complex:
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            # Entra sets the enterprise manager as [{"$ref":…,"value":…}] (idp-wire.md, Entra
            # corrections); Clockwise's receiver is lenient and takes the one object.
            value = value[0]
        if not isinstance(value, dict):
            raise InvalidValue(f"Attribute '{path}' is complex and must be a JSON object.")
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            sub = attr.sub(key) if isinstance(key, str) else None
            if sub is None:
                continue  # unknown sub-attributes are ignored, like unknown attributes
            cleaned = clean_single(sub, sub_value, f"{path}.{sub.name}")
            if cleaned is not None:
                out[sub.name] = cleaned
        for sub in attr.sub_attributes:
            if sub.required and out and sub.name not in out:
                raise InvalidValue(f"Attribute '{path}.{sub.name}' is required in each '{path}' value.")
        return out
    return _check_scalar(attr, value, path)


def _check_scalar(attr: Attribute, value: Any, path: str) -> Any:
    kind = attr.type
    if isinstance(value, (dict, list)):
        raise InvalidValue(f"Attribute '{path}' must be a single {kind} value, not a JSON "
                           f"{'object' if isinstance(value, dict) else 'array'}.")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        # Entra sends "True"/"False" as strings; accept them for boolean attributes.
        if isinstance(value, str) and value.strip().lower() in _TRUE_STRINGS:
            return _TRUE_STRINGS[value.strip().lower()]
        raise InvalidValue(f"Attribute '{path}' must be a boolean (true or false).")
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise InvalidValue(f"Attribute '{path}' must be an integer.")
    if kind == "decimal":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise InvalidValue(f"Attribute '{path}' must be a number.")
    # string, reference, dateTime, binary: JSON strings (RFC 7643 §2.3).
    if not isinstance(value, str):
        raise InvalidValue(f"Attribute '{path}' must be a string.")
    return value


def _clean_attrs(src: dict[str, Any], lookup: Any, prefix: str, out: dict[str, Any]) -> None:
    """Copy the known, writable attributes of `src` into `out` under their canonical names."""
    seen: dict[str, str] = {}
    for key, value in src.items():
        attr = lookup(key) if isinstance(key, str) and "." not in key else None
        if attr is None:
            continue  # unknown attributes are dropped
        if attr.name in seen:
            raise InvalidSyntax(f"Attribute '{attr.name}' is given twice ('{seen[attr.name]}' and '{key}').")
        seen[attr.name] = key
        if attr.mutability == "readOnly":
            continue  # RFC 7644 §3.3: readOnly values in a request "SHALL be ignored"
        cleaned = clean_value(attr, value, prefix + attr.name)
        if cleaned is not None:
            out[attr.name] = cleaned


def check_schemas_list(body: dict[str, Any], rtype: ResourceType) -> list[str]:
    """The `schemas` member of a POST/PUT body (RFC 7643 §3): a list of URNs with the core URN."""
    _, schemas = get_ci(body, "schemas")
    if schemas is None:
        raise InvalidSyntax(f"The 'schemas' attribute is required and must list '{rtype.schema}'.")
    if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
        raise InvalidSyntax("The 'schemas' attribute must be a JSON array of schema URN strings.")
    if not any(s.lower() == rtype.schema.lower() for s in schemas):
        raise InvalidSyntax(f"The 'schemas' attribute must include '{rtype.schema}' for a {rtype.name}.")
    return schemas


def validate_resource(body: Any, rtype: ResourceType) -> dict[str, Any]:
    """Validate and normalise a POST/PUT body; returns a NEW dict (password kept, readOnly dropped)."""
    if not isinstance(body, dict):
        raise InvalidSyntax(f"The request body must be a JSON object representing a {rtype.name}.")
    check_schemas_list(body, rtype)
    out: dict[str, Any] = {"schemas": [rtype.schema]}
    core: dict[str, Any] = {}
    ext_data: dict[str, dict[str, Any]] = {}
    plain: dict[str, Any] = {}
    for key, value in body.items():
        if not isinstance(key, str) or key.lower() == "schemas":
            continue
        urn = rtype.extension_urn(key)
        if urn is not None:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise InvalidValue(f"Extension '{urn}' must be a JSON object.")
            _clean_attrs(value, SCHEMAS[urn].attr, f"{urn}:", ext_data.setdefault(urn, {}))
        elif key.lower().startswith("urn:"):
            # A URN-qualified attribute name at the top level (RFC 7644 §3.10 notation).
            ref = rtype.resolve(key)
            if ref is None or ref.sub_attribute is not None:
                continue
            target = ext_data.setdefault(ref.schema, {}) if ref.is_extension else core
            _clean_attrs({ref.name: value}, lambda _n, a=ref.attribute: a, f"{ref.schema}:", target)
        else:
            plain[key] = value
    _clean_attrs(plain, rtype.top_attr, "", core)
    core.pop("id", None)
    out.update(core)
    for attr in rtype.required_attributes():
        value = out.get(attr.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidValue(f"Attribute '{attr.name}' is required and must not be empty.")
    problem = user_name_problem(out["userName"]) if rtype.name == "User" else None
    if problem:
        # names.py: controls (NUL) and invisible characters cannot tell users apart; RFC 7644 §3.12.
        raise InvalidValue(f"Attribute 'userName' {problem}.")
    for urn in rtype.extensions:
        data = ext_data.get(urn)
        if data:
            # RFC 7643 §3: "schemas" lists the extension when its attributes are present.
            out["schemas"].append(urn)
            out[urn] = data
    return out

