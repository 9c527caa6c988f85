"""RFC 7644 §3.4.2.2 evaluation of the filter AST (filter_ast.py) against stored resources and
against one value of a multi-valued attribute (PATCH value paths, RFC 7644 §3.5.2), and index hints
for the store. Pure functions: no storage, no web."""
from __future__ import annotations

import operator
from datetime import datetime, timezone
from typing import Any, Callable

from mock_clockwise.errors import InvalidFilter
from mock_clockwise.filter_ast import And, Compare, Filter, Not, Or, Present, ValuePath
from mock_clockwise.names import user_name_key
from mock_clockwise.schema import USER_SCHEMA, Attribute, ResourceType, get_ci

_USER_NAME = USER_SCHEMA.attr("userName")


# A resolver maps a path (as written) to (definition, values getter) or None when unknown.
Getter = Callable[[Any], list[Any]]
Resolver = Callable[[str], "tuple[Attribute, bool, Getter] | None"]


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_SCHEMAS_ATTR = Attribute(name="schemas", type="reference", multi_valued=True)


def _top_resolver(rtype: ResourceType) -> Resolver:
    def resolve(path: str) -> tuple[Attribute, bool, Getter] | None:
        if path.lower() == "schemas":
            # RFC 7644 §3.4.2.2 example: `schemas eq "urn:...:enterprise:2.0:User"`.
            return _SCHEMAS_ATTR, True, lambda resource: _listify(get_ci(resource, "schemas")[1])
        ref = rtype.resolve(path)
        if ref is None:
            return None

        def get(resource: Any) -> list[Any]:
            container = resource
            if ref.is_extension:
                _, container = get_ci(resource, ref.schema)
            if not isinstance(container, dict):
                return []
            _, value = get_ci(container, ref.name)
            if ref.sub_attribute is None:
                return _listify(value)
            return [v for e in _listify(value) if isinstance(e, dict)
                    for v in _listify(get_ci(e, ref.sub_attribute.name)[1])]

        return ref.leaf, ref.sub_attribute is None and ref.attribute.multi_valued, get

    return resolve


def sub_resolver(attr: Attribute) -> Resolver:
    """Resolve paths inside `attr[...]`: sub-attribute names of `attr` (also `attr.sub`)."""

    def resolve(path: str) -> tuple[Attribute, bool, Getter] | None:
        name = path
        if "." in path:
            head, _, name = path.partition(".")
            if head.lower() != attr.name.lower():
                return None
        sub = attr.sub(name)
        if sub is None:
            return None

        def get(element: Any) -> list[Any]:
            if not isinstance(element, dict):
                return []
            return _listify(get_ci(element, sub.name)[1])

        return sub, False, get

    return resolve


def _parse_time(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _check_compare(flt: Compare, attr: Attribute) -> None:
    """Semantic checks that do not depend on the resource (raise InvalidFilter)."""
    op, value = flt.op, flt.value
    if op in ("gt", "ge", "lt", "le"):
        # RFC 7644 §3.4.2.2: gt/ge/lt/le on Boolean or Binary attributes SHALL fail with invalidFilter.
        if attr.type in ("boolean", "binary") or attr.is_complex:
            raise InvalidFilter(f"Operator '{op}' cannot be used on the {attr.type} attribute '{flt.path}'.")
        if value is None or isinstance(value, bool):
            raise InvalidFilter(f"Operator '{op}' needs a string or number to compare '{flt.path}' with.")
        if attr.type == "dateTime" and (not isinstance(value, str) or _parse_time(value) is None):
            raise InvalidFilter(f"'{flt.path}' is a dateTime; {value!r} is not an RFC 3339 date-time.")
    if op in ("co", "sw", "ew") and not isinstance(value, str):
        raise InvalidFilter(f"Operator '{op}' needs a string value (attribute '{flt.path}').")


def validate_filter(flt: Filter, rtype: ResourceType) -> None:
    """Checks that need the schema but not a resource (e.g. `active gt true` → InvalidFilter).
    `index_hint` calls it too, so an empty store still rejects such filters."""
    compile_filter(flt, rtype)


def _value_attr(attr: Attribute) -> Attribute:
    """A complex attribute without sub-attribute compares its `value` sub-attribute."""
    if attr.is_complex:
        sub = attr.sub("value")
        if sub is not None:
            return sub
    return attr


def _fold(attr: Attribute, value: Any) -> Any:
    if isinstance(value, str) and not attr.case_exact:
        # userName compares by the key uniqueness uses (names.py), so `eq` finds the one user a
        # POST would clash with; other caseExact=false strings compare lower-cased.
        return user_name_key(value) if attr is _USER_NAME else value.lower()
    return value


def _compare_one(op: str, attr: Attribute, actual: Any, expected: Any) -> bool:
    if isinstance(actual, (dict, list)) or actual is None:
        return False
    if attr.type == "boolean":
        if isinstance(actual, str) and actual.lower() in ("true", "false"):
            actual = actual.lower() == "true"
        if isinstance(expected, str) and expected.lower() in ("true", "false"):
            expected = expected.lower() == "true"  # Entra-style "True"
        if not isinstance(actual, bool) or not isinstance(expected, bool):
            return False
        return actual == expected if op == "eq" else False
    if attr.type == "dateTime" and op in ("eq", "gt", "ge", "lt", "le") and isinstance(actual, str) \
            and isinstance(expected, str):
        a, e = _parse_time(actual), _parse_time(expected)
        if a is not None and e is not None:
            return _ordered(op, a, e)
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return False
        a, e = _fold(attr, actual), _fold(attr, expected)
        if op == "co":
            return e in a
        if op == "sw":
            return a.startswith(e)
        if op == "ew":
            return a.endswith(e)
        return _ordered(op, a, e)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if isinstance(actual, (int, float)) and not isinstance(actual, bool):
            return _ordered(op, actual, expected)
        return False
    return False


_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}


def _ordered(op: str, a: Any, e: Any) -> bool:
    fn = _ORDERED.get(op)
    return bool(fn(a, e)) if fn is not None else False


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


Predicate = Callable[[Any], bool]


def _never(_obj: Any) -> bool:
    return False


def compile_predicate(flt: Filter, resolver: Resolver) -> Predicate:
    """Turn `flt` into a predicate, resolving attribute paths once (and raising InvalidFilter for
    semantic errors now, before any resource is looked at)."""
    if isinstance(flt, (And, Or)):
        preds = [compile_predicate(i, resolver) for i in flt.items]
        combine = all if isinstance(flt, And) else any
        return lambda obj: combine(p(obj) for p in preds)
    if isinstance(flt, Not):
        inner = compile_predicate(flt.item, resolver)
        return lambda obj: not inner(obj)
    if isinstance(flt, ValuePath):
        found = resolver(flt.path)
        if found is None or not found[0].is_complex:
            return _never
        sub = sub_resolver(found[0])
        test = compile_predicate(flt.inner, sub)
        then = compile_predicate(flt.then, sub) if flt.then is not None else None
        get_values = found[2]
        return lambda obj: any(isinstance(e, dict) and test(e) and (then is None or then(e))
                               for e in get_values(obj))
    if not isinstance(flt, (Compare, Present)):
        raise InvalidFilter("Unsupported filter expression.")
    found = resolver(flt.path)
    if found is None:
        return _never  # unknown attribute: no value, so no match (not an error)
    get = found[2]
    if isinstance(flt, Present):
        # RFC 7644 §3.4.2.2 "pr": a non-empty, non-null value (or an array with one).
        return lambda obj: any(not _is_empty(v) for v in get(obj))
    attr = _value_attr(found[0])
    _check_compare(flt, attr)
    op, expected = flt.op, flt.value
    if found[0].is_complex:
        # A complex attribute without sub-attribute compares its `value` sub-attribute.
        raw = get
        get = lambda obj: [get_ci(v, "value")[1] if isinstance(v, dict) else None for v in raw(obj)]  # noqa: E731

    def compare(obj: Any) -> bool:
        values = [v for v in get(obj) if not _is_empty(v)]
        if expected is None:
            # `attr eq null` holds when unassigned; `ne null` when assigned (RFC 7643 §2.5).
            return (not values) if op == "eq" else (bool(values) if op == "ne" else False)
        if op == "ne":
            # "ne": no value of the attribute equals the comparison value.
            return not any(_compare_one("eq", attr, v, expected) for v in values)
        # Multi-valued attributes match when any value matches (RFC 7644 §3.4.2.2).
        return any(_compare_one(op, attr, v, expected) for v in values)

    return compare


def compile_filter(flt: Filter, rtype: ResourceType) -> Predicate:
    """A predicate `resource -> bool` for `flt`; faster than `matches` in a loop over many resources."""
    return compile_predicate(flt, _top_resolver(rtype))


def matches(flt: Filter, resource: dict[str, Any], rtype: ResourceType) -> bool:
    """RFC 7644 §3.4.2.2 evaluation of `flt` against a stored resource."""
    return compile_filter(flt, rtype)(resource)


def element_matches(flt: Filter, element: Any, attr: Attribute) -> bool:
    """Evaluate a value-selection filter against one value of the multi-valued complex `attr`."""
    return compile_predicate(flt, sub_resolver(attr))(element)


# The store indexes these attributes (lower-cased when caseExact is false in the schema:
# userName, and Group displayName per RFC 7643 §8.7.1; externalId and id are caseExact).
_INDEXED = {"User": ("userName", "externalId", "id"), "Group": ("displayName", "externalId", "id")}


def index_hint(flt: Filter, rtype: ResourceType) -> tuple[str, str] | None:
    """(attribute, value) such that every resource matching `flt` has that attribute equal to that
    value (folded for caseExact=false attributes: userName by names.user_name_key, Group displayName
    lower-cased), or None.
    Looks through top-level `and`. Also runs `validate_filter` (raises InvalidFilter)."""
    validate_filter(flt, rtype)
    return _hint(flt, rtype)


def _hint(flt: Filter, rtype: ResourceType) -> tuple[str, str] | None:
    if isinstance(flt, And):
        for item in flt.items:
            hint = _hint(item, rtype)
            if hint is not None:
                return hint
        return None
    if isinstance(flt, Or) and len(flt.items) == 1:
        return _hint(flt.items[0], rtype)
    if not isinstance(flt, Compare) or flt.op != "eq" or not isinstance(flt.value, str):
        return None
    ref = rtype.resolve(flt.path)
    if ref is None or ref.is_extension or ref.sub_attribute is not None:
        return None
    if ref.name not in _INDEXED.get(rtype.name, ()):
        return None
    return ref.name, _fold(ref.attribute, flt.value)
