"""RFC 7644 §3.5.2 PATCH as a pure function: `apply_patch(resource, body, rtype) -> new resource`.

All operations apply to a deep copy; the first error raises and the caller keeps the old resource
(RFC 7644 §3.5.2: "the operations are applied atomically"). The result is validated here, once, with
the POST/PUT rules (validation.py), so the store keeps it as it is. `meta` is left to the store.
Choices (documented here, tested in tests/mock_clockwise/test_patch.py):
- more than MAX_OPERATIONS operations → InvalidValue (tooMany is for filters; 413 is for bytes).
- removing a required attribute → InvalidValue (RFC 7644 Table 9 "invalidValue: a required value
  was missing, or the value specified was not compatible with the operation").
- add/replace on `attr[filter].sub` with no matching value creates one value from the filter's `eq`
  terms (Entra's `emails[type eq "work"].value` on a user without a work email); a filter without
  `eq` terms, or `replace` on `attr[filter]` with no sub-attribute, gives noTarget (RFC 7644 §3.5.2.3).
- unknown attributes in a path or in a no-path value object → InvalidPath.
- the work is bounded (issue 17, item 10: 1,000 value-filter operations on a user with 40,000 emails
  took 161 s): a body whose value-filter operations times the largest multi-valued attribute exceed
  MAX_FILTER_WORK element checks is refused before anything is applied, and applying stops after
  MAX_PATCH_SECONDS; both are 400 tooMany (RFC 7644 Table 9: "more results than the server is willing
  to calculate or process"), nothing changed.
"""
from __future__ import annotations

import copy
import time
from typing import Any

import orjson

from mock_clockwise.errors import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget, ScimError
from mock_clockwise.filter_ast import And, Compare, Filter, PatchPath
from mock_clockwise.filter_eval import element_matches
from mock_clockwise.filters import parse_path
from mock_clockwise.schema import Attribute, AttrRef, ResourceType, get_ci
from mock_clockwise.validation import clean_single, clean_value, validate_resource

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_OPERATIONS = 1000
MAX_FILTER_WORK = 2_000_000  # value-filter operations × values of the largest multi-valued attribute
MAX_PATCH_SECONDS = 10.0
_OPS = ("add", "replace", "remove")


def apply_patch(resource: dict[str, Any], body: Any, rtype: ResourceType) -> dict[str, Any]:
    """Apply a PatchOp body to `resource` and return a NEW resource (input never mutated)."""
    operations = _check_body(body)
    _check_work(resource, operations)
    doc = _json_copy(resource)
    deadline = time.monotonic() + MAX_PATCH_SECONDS
    for index, operation in enumerate(operations):
        if time.monotonic() > deadline:
            raise TooMuchWork(f"The PATCH was stopped after {MAX_PATCH_SECONDS:g} s, at Operations[{index}] of "
                              f"{len(operations)}; nothing was changed. Send fewer operations per request.")
        _apply_operation(doc, operation, index, rtype)
    return _finish(resource, doc, rtype)


def _json_copy(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON document: orjson's round trip (~7x copy.deepcopy) is exact for what it
    writes; what it refuses (an integer beyond 64 bits, a lone surrogate, a key that is no string)
    is copied by copy.deepcopy."""
    try:
        return orjson.loads(orjson.dumps(resource))  # type: ignore[no-any-return]
    except TypeError:  # orjson.JSONEncodeError
        return copy.deepcopy(resource)


class TooMuchWork(ScimError):
    """RFC 7644 Table 9 tooMany (400): more than the server is willing to process in one PATCH."""

    status = 400
    scim_type = "tooMany"


def _largest_multi_valued(resource: dict[str, Any]) -> int:
    """Values in the largest list of the resource, at the top level or in an extension."""
    sizes = [len(v) for v in resource.values() if isinstance(v, list)]
    sizes += [len(v) for ext in resource.values() if isinstance(ext, dict) for v in ext.values() if isinstance(v, list)]
    return max(sizes, default=0)


def _check_work(resource: dict[str, Any], operations: list[Any]) -> None:
    """Refuse, before applying anything, a PATCH whose value filters would check too many values: each
    operation with a filtered path (`emails[value eq "x"]`) evaluates its filter on every value."""
    filtered = 0
    for operation in operations:
        path = get_ci(operation, "path")[1] if isinstance(operation, dict) else None
        if isinstance(path, str) and "[" in path:
            filtered += 1
    work = filtered * _largest_multi_valued(resource)
    if work > MAX_FILTER_WORK:
        raise TooMuchWork(f"The PATCH has {filtered} value-filter operations on a resource with "
                          f"{_largest_multi_valued(resource)} values in one attribute: {work} checks, more than the "
                          f"{MAX_FILTER_WORK} one request may take. Nothing was changed; send fewer operations.")


def _check_body(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        raise InvalidSyntax("The PATCH body must be a JSON object with 'schemas' and 'Operations'.")
    _, schemas = get_ci(body, "schemas")
    # RFC 7644 §3.5.2: the body "MUST" carry the PatchOp schema URI.
    if not isinstance(schemas, list) or not any(isinstance(s, str) and s.lower() == PATCH_OP.lower()
                                                for s in schemas):
        raise InvalidSyntax(f"The PATCH body's 'schemas' must be a list containing '{PATCH_OP}'.")
    _, operations = get_ci(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("The PATCH body needs a non-empty 'Operations' array.")
    if len(operations) > MAX_OPERATIONS:
        raise InvalidValue(f"The PATCH body has {len(operations)} operations; at most {MAX_OPERATIONS} "
                           "are accepted in one request.")
    return operations


def _apply_operation(doc: dict[str, Any], operation: Any, index: int, rtype: ResourceType) -> None:
    where = f"Operations[{index}]"
    if not isinstance(operation, dict):
        raise InvalidSyntax(f"{where} must be a JSON object with 'op', and 'path' and/or 'value'.")
    _, op = get_ci(operation, "op")
    # Entra sends "Add"/"Replace"/"Remove": op is matched case-insensitively.
    if not isinstance(op, str) or op.lower() not in _OPS:
        raise InvalidSyntax(f"{where}: 'op' must be one of add, replace, remove (got {op!r}).")
    op = op.lower()
    _, path = get_ci(operation, "path")
    value_key, value = get_ci(operation, "value")
    has_value = value_key is not None
    if path is not None and not isinstance(path, str):
        raise InvalidPath(f"{where}: 'path' must be a string.")
    if path is None or not path.strip():
        if op == "remove":
            # RFC 7644 §3.5.2.2: "If "path" is unspecified, the operation fails with ... noTarget".
            raise NoTarget(f"{where}: a remove operation needs a 'path'.")
        if not isinstance(value, dict):
            raise InvalidValue(f"{where}: {op} without a 'path' needs a JSON object 'value' of attributes.")
        _apply_object(doc, op, value, rtype, where)
        return
    urn = rtype.extension_urn(path.strip())
    if urn is not None:  # the whole extension as the target
        if op == "remove":
            _pop_ci(doc, urn)
        elif value is None or isinstance(value, dict):
            _apply_object(doc, op, {urn: value}, rtype, where)
        else:
            raise InvalidValue(f"{where}: the value for '{urn}' must be a JSON object.")
        return
    try:
        target = parse_path(path, rtype)
    except InvalidPath as exc:
        raise InvalidPath(f"{where}: {exc.detail}") from None
    if op == "remove":
        _remove(doc, target, value if has_value else None, where, path)
        return
    if not has_value:
        raise InvalidValue(f"{where}: {op} needs a 'value'.")
    _set(doc, op, target, value, where, path)


def _apply_object(doc: dict[str, Any], op: str, obj: dict[str, Any], rtype: ResourceType, where: str) -> None:
    """RFC 7644 §3.5.2.1/§3.5.2.3 with no path: the value's attributes are added/replaced; keys may be
    URN-qualified, dotted (Entra: `name.givenName`) or an extension URN holding an object."""
    for key, value in obj.items():
        if not isinstance(key, str) or key.lower() == "schemas":
            continue
        urn = rtype.extension_urn(key)
        if urn is not None:
            if value is None:
                if op == "replace":
                    _pop_ci(doc, urn)
                continue
            if not isinstance(value, dict):
                raise InvalidValue(f"{where}: the value for '{urn}' must be a JSON object.")
            for sub_key, sub_value in value.items():
                ref = rtype.resolve(f"{urn}:{sub_key}")
                if ref is None:
                    raise InvalidPath(f"{where}: '{sub_key}' is not an attribute of '{urn}'.")
                _set(doc, op, PatchPath(ref), sub_value, where, ref.full_path)
            continue
        ref = rtype.resolve(key)
        if ref is None:
            raise InvalidPath(f"{where}: '{key}' is not an attribute of the {rtype.name} schema.")
        if ref.name == "id" and not ref.is_extension and ref.sub_attribute is None:
            # Okta's group rename repeats the resource's own id: accepted and ignored when equal.
            if value == doc.get("id"):
                continue
            raise Mutability(f"{where}: 'id' is readOnly and cannot be changed.")
        _set(doc, op, PatchPath(ref), value, where, key)


def _container(doc: dict[str, Any], ref: AttrRef, create: bool) -> dict[str, Any] | None:
    if not ref.is_extension:
        return doc
    key, ext = get_ci(doc, ref.schema)
    if isinstance(ext, dict):
        if key != ref.schema:
            doc[ref.schema] = doc.pop(key)
        return ext
    if not create:
        return None
    doc[ref.schema] = {}
    return doc[ref.schema]


def _pop_ci(obj: dict[str, Any], name: str) -> Any:
    key, _ = get_ci(obj, name)
    return obj.pop(key) if key is not None else None


def _check_writable(ref: AttrRef, where: str, path: str) -> None:
    if ref.attribute.mutability == "readOnly" or (ref.sub_attribute and ref.sub_attribute.mutability == "readOnly"):
        # RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability readOnly".
        raise Mutability(f"{where}: '{path}' is readOnly and cannot be modified.")


def _check_immutable(attr: Attribute, current: Any, new: Any, where: str, path: str) -> None:
    # RFC 7644 §3.5.2: an immutable attribute may be added when it had no value, never changed.
    if attr.mutability == "immutable" and current is not None and current != new:
        raise Mutability(f"{where}: '{path}' is immutable and cannot be changed once set.")


def _check_removable(sub: Attribute, item: dict[str, Any], where: str, path: str) -> None:
    if sub.mutability == "immutable" and item.get(sub.name) is not None:
        raise Mutability(f"{where}: '{path}' is immutable and cannot be removed once set.")


def _same_value(attr: Attribute, a: Any, b: Any) -> bool:
    if attr.is_complex and isinstance(a, dict) and isinstance(b, dict):
        if "value" in a or "value" in b:
            return a.get("value") == b.get("value")
    return a == b


def _clear_other_primaries(items: list[Any], winners: list[Any]) -> None:
    # RFC 7644 §3.5.2: setting "primary" true on one value sets it false on the others.
    if not any(isinstance(w, dict) and w.get("primary") is True for w in winners):
        return
    keep = next(w for w in reversed(winners) if isinstance(w, dict) and w.get("primary") is True)
    for item in items:
        if item is not keep and isinstance(item, dict) and item.get("primary") is True:
            item["primary"] = False


def _eq_template(flt: Filter, attr: Attribute) -> dict[str, Any] | None:
    """The sub-attribute values implied by `a eq v [and b eq w]`, or None if not such a filter."""
    terms = flt.items if isinstance(flt, And) else (flt,)
    out: dict[str, Any] = {}
    for term in terms:
        if not isinstance(term, Compare) or term.op != "eq" or term.value is None:
            return None
        sub = attr.sub(term.path.rpartition(".")[2])
        if sub is None:
            return None
        out[sub.name] = term.value
    return out


def _set(doc: dict[str, Any], op: str, target: PatchPath, value: Any, where: str, path: str) -> None:
    """add/replace of one path (RFC 7644 §3.5.2.1, §3.5.2.3)."""
    ref = target.ref
    attr, sub = ref.attribute, ref.sub_attribute
    _check_writable(ref, where, path)
    container = _container(doc, ref, create=value is not None)
    if container is None:
        return
    key, current = get_ci(container, attr.name)
    if key is not None and key != attr.name:
        container[attr.name] = container.pop(key)
    label = ref.full_path if ref.is_extension else ref.path
    if target.value_filter is not None:
        _set_filtered(container, op, target, value, where, path)
    elif sub is not None:
        _set_sub_attribute(container, attr, sub, current, value, where, label)
    elif value is None:  # null is "unassigned" (RFC 7643 §2.5)
        container.pop(attr.name, None)
    elif attr.multi_valued:
        _set_values(container, op, attr, current, value, label)
    elif attr.is_complex:
        container[attr.name] = _merged_complex(attr, current, value, where, label)
    else:
        cleaned = clean_single(attr, value, label)
        _check_immutable(attr, current, cleaned, where, label)
        container[attr.name] = cleaned


def _set_values(container: dict[str, Any], op: str, attr: Attribute, current: Any, value: Any, label: str) -> None:
    """A whole multi-valued attribute: replace sets its values, add appends to them."""
    items = clean_value(attr, value if isinstance(value, list) else [value], label) or []
    existing = current if isinstance(current, list) and op == "add" else []
    merged = list(existing)
    added: list[Any] = []
    for item in items:
        # RFC 7644 §3.5.2.1: add appends; a value already present is not added again.
        if not any(_same_value(attr, item, old) for old in merged):
            merged.append(item)
            added.append(item)
    _clear_other_primaries(merged, added)
    if merged:
        container[attr.name] = merged
    else:
        container.pop(attr.name, None)


def _merged_complex(attr: Attribute, current: Any, value: Any, where: str, label: str) -> dict[str, Any]:
    """A single complex attribute with `value`'s sub-attributes set."""
    if isinstance(value, str) and attr.sub("value") is not None:
        # Entra sends the enterprise `manager` as the manager's id string: {"value": id}.
        value = {"value": value}
    cleaned = clean_single(attr, value, label)
    # RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes not given are left unchanged.
    base = dict(current) if isinstance(current, dict) else {}
    for name, sub_value in cleaned.items():
        _check_immutable(attr.sub(name) or attr, base.get(name), sub_value, where, f"{label}.{name}")
    base.update(cleaned)
    return base


def _set_sub_attribute(container: dict[str, Any], attr: Attribute, sub: Attribute, current: Any, value: Any,
                       where: str, label: str) -> None:
    """`attr.sub`: set on the single complex value, or on every value of a multi-valued one."""
    cleaned = clean_single(sub, value, label)
    if attr.multi_valued:
        items = current if isinstance(current, list) else []
        if not items:
            if cleaned is not None:
                container[attr.name] = [{sub.name: cleaned}]
            return
        for item in items:
            if isinstance(item, dict):
                _put_sub(item, sub, cleaned, where, label)
        if sub.name == "primary" and cleaned is True and len(items) > 1:
            raise InvalidValue(f"{where}: '{label}' would set primary true on more than one value.")
    else:
        base = current if isinstance(current, dict) else {}
        _put_sub(base, sub, cleaned, where, label)
        if base:
            container[attr.name] = base
        else:
            container.pop(attr.name, None)


def _put_sub(item: dict[str, Any], sub: Attribute, value: Any, where: str, label: str) -> None:
    _check_immutable(sub, item.get(sub.name), value, where, label)
    if value is None:
        item.pop(sub.name, None)
    else:
        item[sub.name] = value


def _set_filtered(container: dict[str, Any], op: str, target: PatchPath, value: Any, where: str,
                  path: str) -> None:
    ref = target.ref
    attr, sub = ref.attribute, ref.sub_attribute
    items = container.get(attr.name)
    items = items if isinstance(items, list) else []
    matched = [i for i in items if isinstance(i, dict) and element_matches(target.value_filter, i, attr)]
    label = ref.full_path if ref.is_extension else ref.path
    if sub is None:
        cleaned = clean_single(attr, value, label)
        if not matched:
            template = _eq_template(target.value_filter, attr)
            if op == "replace" or template is None:
                # RFC 7644 §3.5.2.3: a valuePath filter that matches no value → noTarget.
                raise NoTarget(f"{where}: no value of '{attr.name}' matches the path {path!r}.")
            new = {**template, **(cleaned or {})}
            items.append(new)
            _clear_other_primaries(items, [new])
        else:
            for item in matched:
                for name, sub_value in (cleaned or {}).items():
                    _check_immutable(attr.sub(name) or attr, item.get(name), sub_value, where, f"{label}.{name}")
                if op == "replace":
                    item.clear()
                item.update(cleaned or {})
            _clear_other_primaries(items, matched)
    else:
        cleaned = clean_single(sub, value, label)
        if not matched:
            template = _eq_template(target.value_filter, attr)
            if template is None:
                raise NoTarget(f"{where}: no value of '{attr.name}' matches the path {path!r}.")
            if cleaned is None:
                return
            # Entra: `emails[type eq "work"].value` on a user without one creates that value.
            new = clean_single(attr, {**template, sub.name: cleaned}, label)
            items.append(new)
            _clear_other_primaries(items, [new])
        else:
            for item in matched:
                _put_sub(item, sub, cleaned, where, label)
            _clear_other_primaries(items, matched)
    if items:
        container[attr.name] = items
    else:
        container.pop(attr.name, None)


def _remove(doc: dict[str, Any], target: PatchPath, value: Any, where: str, path: str) -> None:
    ref = target.ref
    attr, sub = ref.attribute, ref.sub_attribute
    _check_writable(ref, where, path)
    if attr.required and sub is None and target.value_filter is None:
        raise InvalidValue(f"{where}: '{attr.name}' is required and cannot be removed.")
    container = _container(doc, ref, create=False)
    current = get_ci(container, attr.name)[1] if container is not None else None
    if target.value_filter is not None:
        items = current if isinstance(current, list) else []
        matched = [i for i in items if isinstance(i, dict) and element_matches(target.value_filter, i, attr)]
        if not matched:
            # RFC 7644 Table 9 noTarget: "the specified path ... contains a filter that yields no match".
            raise NoTarget(f"{where}: no value of '{attr.name}' matches the path {path!r}.")
        if sub is None:
            items = [i for i in items if not any(i is m for m in matched)]
        else:
            for item in matched:
                _check_removable(sub, item, where, path)
                item.pop(sub.name, None)
            items = [i for i in items if i]
        _store_list(container, attr, items)
    elif container is None or current is None:
        return  # removing an unassigned attribute changes nothing
    elif sub is None:
        if attr.multi_valued and value is not None:
            # Entra: {"op":"Remove","path":"members","value":[{"value":"<id>"}]} removes just those.
            wanted = value if isinstance(value, list) else [value]
            items = [i for i in (current if isinstance(current, list) else [])
                     if not any(_same_value(attr, i, w) for w in wanted)]
            _store_list(container, attr, items)
        else:
            _pop_ci(container, attr.name)
    elif isinstance(current, list):
        for item in current:
            if isinstance(item, dict):
                _check_removable(sub, item, where, path)
                item.pop(sub.name, None)
        _store_list(container, attr, [i for i in current if i])
    elif isinstance(current, dict):
        current.pop(sub.name, None)
        if not current:
            _pop_ci(container, attr.name)
    if ref.is_extension and container is not None and not container:
        _pop_ci(doc, ref.schema)


def _store_list(container: dict[str, Any] | None, attr: Attribute, items: list[Any]) -> None:
    if container is None:
        return
    _pop_ci(container, attr.name)
    if items:  # RFC 7644 §3.5.2.2: no values left → the attribute is unassigned
        container[attr.name] = items


def _finish(original: dict[str, Any], doc: dict[str, Any], rtype: ResourceType) -> dict[str, Any]:
    """Type-check the result with the POST/PUT rules and put back what PATCH may not touch."""
    body = {k: v for k, v in doc.items() if isinstance(k, str)}
    body["schemas"] = [rtype.schema, *(u for u in rtype.extensions if get_ci(doc, u)[0] is not None)]
    clean = validate_resource(body, rtype)
    out: dict[str, Any] = {"schemas": clean.pop("schemas")}
    if "id" in original:
        out["id"] = original["id"]
    out.update(clean)
    for attr in (*rtype.core.attributes, *rtype.common):
        if attr.mutability == "readOnly" and attr.name != "id" and attr.name in original:
            out[attr.name] = copy.deepcopy(original[attr.name])  # e.g. meta, groups: the store's business
    return out


__all__ = ["apply_patch", "PATCH_OP", "MAX_OPERATIONS"]
