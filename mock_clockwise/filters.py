"""RFC 7644 §3.4.2.2 filters and RFC 7644 §3.5.2 PATCH paths: parsing (lark, LALR, grammar in
filter.lark) into a small AST, evaluation against stored resources, and index hints for the store."""
from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Union

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from mock_clockwise.errors import InvalidFilter, InvalidPath, ScimError
from mock_clockwise.schema import Attribute, AttrRef, ResourceType, get_ci

MAX_FILTER_LENGTH = 4096
MAX_DEPTH = 32


# --- AST ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    path: str  # attribute path as written (resolved at evaluation time)
    op: str  # eq ne co sw ew gt ge lt le (lower-case)
    value: Any  # str, bool, int, float or None


@dataclass(frozen=True)
class Present:
    path: str


@dataclass(frozen=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    item: Filter


@dataclass(frozen=True)
class ValuePath:
    """`attr[inner]` with an optional trailing sub-attribute test (`attr[inner].sub eq v`)."""

    path: str
    inner: Filter
    then: Compare | Present | None = None  # its path is a sub-attribute name


Filter = Union[Compare, Present, And, Or, Not, ValuePath]


@dataclass(frozen=True)
class PatchPath:
    """A resolved PATCH path: `ref` (attribute and optional sub-attribute) and an optional
    value-selection filter over the attribute's values (RFC 7644 §3.5.2)."""

    ref: AttrRef
    value_filter: Filter | None = None


# --- parsing -----------------------------------------------------------------------------
@v_args(inline=True)
class _ToAst(Transformer):
    def or_expr(self, *items: Any) -> Or:
        return Or(tuple(i for i in items if not isinstance(i, Token)))

    def and_expr(self, *items: Any) -> And:
        return And(tuple(i for i in items if not isinstance(i, Token)))

    def not_expr(self, _tok: Token, item: Filter) -> Not:
        return Not(item)

    def present(self, path: Token, _pr: Token) -> Present:
        return Present(str(path))

    def compare(self, path: Token, op: Token, value: Any) -> Compare:
        return Compare(str(path), str(op).lower(), value)

    def value_path(self, path: Token, inner: Filter, sub: Token | None = None, then: Any = None) -> ValuePath:
        if then is not None and sub is not None:
            then = (Present(str(sub)[1:]) if then[0] == "pr"
                    else Compare(str(sub)[1:], then[1], then[2]))
        return ValuePath(str(path), inner, then)

    def sub_present(self, _pr: Token) -> tuple[str]:
        return ("pr",)

    def sub_compare(self, op: Token, value: Any) -> tuple[str, str, Any]:
        return ("cmp", str(op).lower(), value)

    def string(self, tok: Token) -> str:
        return json.loads(str(tok))

    def number(self, tok: Token) -> int | float:
        text = str(tok)
        return float(text) if any(c in text for c in ".eE") else int(text)

    def true(self, _tok: Token) -> bool:
        return True

    def false(self, _tok: Token) -> bool:
        return False

    def null(self, _tok: Token) -> None:
        return None

    def attr_path(self, path: Token) -> tuple[str, None, None]:
        return (str(path), None, None)

    def value_path_path(self, path: Token, inner: Filter, sub: Token | None = None) -> tuple[str, Filter, str | None]:
        return (str(path), inner, str(sub)[1:] if sub is not None else None)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("filter.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", start=["filter", "path"],
                maybe_placeholders=True)


def _check_limits(text: str, error: type[ScimError], what: str) -> None:
    if len(text) > MAX_FILTER_LENGTH:
        raise error(f"The {what} is too long ({len(text)} characters; at most {MAX_FILTER_LENGTH}).")
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise error(f"The {what} is too deeply nested (more than {MAX_DEPTH} levels of brackets).")
        elif ch in ")]":
            depth -= 1


def _describe(exc: LarkError, text: str, what: str) -> str:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return f"The {what} ends unexpectedly (incomplete expression): {text!r}."
    if isinstance(exc, UnexpectedInput):
        pos = getattr(exc, "column", None)
        col = f" at column {pos}" if isinstance(pos, int) and pos > 0 else ""
        if isinstance(exc, UnexpectedToken):
            got = f"unexpected {exc.token!s:.40}"
        elif isinstance(exc, UnexpectedCharacters):
            got = f"unexpected character {text[exc.pos_in_stream]!r}" if exc.pos_in_stream < len(text) \
                else "unexpected character"
        else:
            got = "unexpected input"
        return f"The {what} is not valid ({got}{col}): {text!r}."
    return f"The {what} is not valid: {text!r}."


def _leaves(flt: Filter) -> list[Compare | Present | ValuePath]:
    """The attribute expressions of `flt` (not looking inside value paths)."""
    if isinstance(flt, (And, Or)):
        return [leaf for item in flt.items for leaf in _leaves(item)]
    if isinstance(flt, Not):
        return _leaves(flt.item)
    return [flt]


def _check_inner(flt: Filter, error: type[ScimError], what: str) -> None:
    """Inside brackets only sub-attribute expressions are allowed (RFC 7644 valFilter)."""
    for leaf in _leaves(flt):
        if isinstance(leaf, ValuePath) and any(isinstance(x, ValuePath) for x in _leaves(leaf.inner)):
            raise error(f"The {what} nests a value filter inside another one ('{leaf.path}[...]').")


def parse_filter(text: str) -> Filter:
    """Parse an RFC 7644 §3.4.2.2 filter; `InvalidFilter` with a clear detail when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidFilter("The filter is empty.")
    _check_limits(text, InvalidFilter, "filter")
    fast = _fast_compare(text)
    if fast is not None:
        return fast
    return _lark_filter(text)


def _lark_filter(text: str) -> Filter:
    try:
        tree = _parser().parse(text, start="filter")
        flt = _ToAst().transform(tree)
    except LarkError as exc:
        raise InvalidFilter(_describe(exc, text, "filter")) from None
    _check_inner(flt, InvalidFilter, "filter")
    return flt


# The shapes IdPs send on nearly every request (`userName eq "x"`, `members[value eq "id"]`, a bare
# attribute path) are recognised by one regular expression; the result is exactly what the
# grammar gives (tests compare the two), and anything else goes through lark.
_WS = "[ \t\r\n]"
_ATTR = r"[A-Za-z$][A-Za-z0-9_$:.\-]*"
_STRING = r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"'
_COMPARE_RE = re.compile(f"{_WS}*({_ATTR}){_WS}+(eq|ne|co|sw|ew|gt|ge|lt|le){_WS}+({_STRING}){_WS}*",
                         re.IGNORECASE | re.ASCII)
_ATTR_RE = re.compile(_ATTR, re.ASCII)
_VALUE_PATH_RE = re.compile(f"({_ATTR})\\[({_ATTR}){_WS}+(eq|ne|co|sw|ew|gt|ge|lt|le){_WS}+({_STRING})\\]"
                            r"(\.[A-Za-z$][A-Za-z0-9_$\-]*)?", re.IGNORECASE | re.ASCII)
# Words the grammar may read as keywords where an attribute could also stand: left to lark.
_KEYWORDS = frozenset({"and", "or", "not", "pr", "true", "false", "null", "eq", "ne", "co", "sw", "ew", "gt", "ge",
                       "lt", "le"})


def _fast_compare(text: str) -> Compare | None:
    m = _COMPARE_RE.fullmatch(text)
    if m is None or m.group(1).lower() in _KEYWORDS:
        return None
    return Compare(m.group(1), m.group(2).lower(), json.loads(m.group(3)))


def _split_path(text: str) -> tuple[str, Filter | None, str | None]:
    """`attrPath` or `attr[sub op "value"]` (+ `.sub`) without lark when it has those shapes."""
    if _ATTR_RE.fullmatch(text) and text.lower() not in _KEYWORDS:
        return (text, None, None)
    m = _VALUE_PATH_RE.fullmatch(text)
    if m is not None and m.group(1).lower() not in _KEYWORDS and m.group(2).lower() not in _KEYWORDS:
        sub = m.group(5)
        return (m.group(1), Compare(m.group(2), m.group(3).lower(), json.loads(m.group(4))),
                sub[1:] if sub else None)
    return _lark_path(text)


def _lark_path(text: str) -> tuple[str, Filter | None, str | None]:
    tree = _parser().parse(text, start="path")
    return _ToAst().transform(tree)  # type: ignore[no-any-return]


def parse_path(text: str, rtype: ResourceType) -> PatchPath:
    """Parse and resolve a PATCH path (RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidPath("The PATCH path is empty.")
    _check_limits(text, InvalidPath, "PATCH path")
    try:
        attr_text, inner, sub = _split_path(text.strip())
    except LarkError as exc:
        raise InvalidPath(_describe(exc, text, "PATCH path")) from None
    ref = rtype.resolve(attr_text)
    if ref is None:
        raise InvalidPath(f"The PATCH path {text!r} names an attribute that is not in the {rtype.name} schema.")
    if inner is None:
        return PatchPath(ref)
    if ref.sub_attribute is not None or not ref.attribute.is_complex or not ref.attribute.multi_valued:
        raise InvalidPath(f"The PATCH path {text!r} filters '{ref.path}', which is not a multi-valued "
                          "complex attribute.")
    if any(isinstance(x, ValuePath) for x in _leaves(inner)):
        raise InvalidPath(f"The PATCH path {text!r} nests a value filter inside another one.")
    sub_attr = None
    if sub is not None:
        sub_attr = ref.attribute.sub(sub)
        if sub_attr is None:
            raise InvalidPath(f"The PATCH path {text!r} names a sub-attribute '{sub}' that "
                              f"'{ref.path}' does not have.")
    resolver = _sub_resolver(ref.attribute)
    for leaf in _leaves(inner):
        if resolver(leaf.path) is None:
            raise InvalidPath(f"The PATCH path {text!r} filters on '{leaf.path}', which is not a "
                              f"sub-attribute of '{ref.path}'.")
    try:
        _compile(inner, resolver)
    except InvalidFilter as exc:
        raise InvalidPath(f"The PATCH path {text!r} has an invalid filter: {exc.detail}") from None
    return PatchPath(AttrRef(ref.schema, ref.attribute, sub_attr, ref.is_extension), inner)


# --- evaluation --------------------------------------------------------------------------
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


def _sub_resolver(attr: Attribute) -> Resolver:
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
        return value.lower()
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


def _compile(flt: Filter, resolver: Resolver) -> Predicate:
    """Turn `flt` into a predicate, resolving attribute paths once (and raising InvalidFilter for
    semantic errors now, before any resource is looked at)."""
    if isinstance(flt, (And, Or)):
        preds = [_compile(i, resolver) for i in flt.items]
        combine = all if isinstance(flt, And) else any
        return lambda obj: combine(p(obj) for p in preds)
    if isinstance(flt, Not):
        inner = _compile(flt.item, resolver)
        return lambda obj: not inner(obj)
    if isinstance(flt, ValuePath):
        found = resolver(flt.path)
        if found is None or not found[0].is_complex:
            return _never
        sub = _sub_resolver(found[0])
        test = _compile(flt.inner, sub)
        then = _compile(flt.then, sub) if flt.then is not None else None
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
    return _compile(flt, _top_resolver(rtype))


def matches(flt: Filter, resource: dict[str, Any], rtype: ResourceType) -> bool:
    """RFC 7644 §3.4.2.2 evaluation of `flt` against a stored resource."""
    return compile_filter(flt, rtype)(resource)


def element_matches(flt: Filter, element: Any, attr: Attribute) -> bool:
    """Evaluate a value-selection filter against one value of the multi-valued complex `attr`."""
    return _compile(flt, _sub_resolver(attr))(element)


# The store indexes these attributes (lower-cased when caseExact is false in the schema:
# userName, and Group displayName per RFC 7643 §8.7.1; externalId and id are caseExact).
_INDEXED = {"User": ("userName", "externalId", "id"), "Group": ("displayName", "externalId", "id")}


def index_hint(flt: Filter, rtype: ResourceType) -> tuple[str, str] | None:
    """(attribute, value) such that every resource matching `flt` has that attribute equal to that
    value (value lower-cased for caseExact=false attributes: userName, Group displayName), or None.
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
    return ref.name, (flt.value if ref.attribute.case_exact else flt.value.lower())
