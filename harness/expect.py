"""Paths into JSON documents and the matchers a scenario step uses to state expectations.

Path syntax (see `resolve_path`):
    Resources[0].name.givenName
    emails[type=work].value                      first element whose key equals the value
    urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department
    $                                            the whole document ($.a.b also accepted)
    length(Resources)                            the length of what the inner path selects

Matchers (see `match`): a plain value (equality), or a dict of operators, all of which must hold:
    eq ne exists contains not_contains len type matches icase gt lt ge le one_of same_as
"""
from __future__ import annotations

import json
import re
from typing import Any

from harness.results import CheckResult, Strength
from harness.transcript import Exchange

MAX_SHOWN = 200  # characters of a value shown in a message


class PathMissing(LookupError):
    """The path does not select anything in the document."""


class PathSyntaxError(ValueError):
    """The path itself is malformed."""


class MatcherError(ValueError):
    """The matcher itself is malformed (unknown operator, bad regex…)."""


class _Missing:
    """The value at a path that does not exist (distinct from JSON null)."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


# --- paths ---------------------------------------------------------------------------

def _split(path: str) -> list[tuple[str, list[str]]]:
    """Split a path into (key, [bracket selectors]) segments.

    A segment that starts with ``urn:`` is taken whole up to the first '.' after its last
    ':' (so ``…:enterprise:2.0:User.department`` keeps ``2.0`` inside the URN).
    """
    segments: list[tuple[str, list[str]]] = []
    i, n = 0, len(path)
    while i < n:
        if path.startswith("urn:", i) or path[i:i + 4].lower() == "urn:":
            # The URN ends at the first '.' (or '[') following its last ':' (brackets excluded).
            bracket = path.find("[", i)
            limit = bracket if bracket != -1 else n
            last_colon = path.rfind(":", i, limit)
            dot = path.find(".", last_colon)
            end = min(x for x in (dot if dot != -1 else n, limit) if x >= 0)
            key = path[i:end]
            i = end
        else:
            j = i
            while j < n and path[j] not in ".[":
                j += 1
            key = path[i:j]
            i = j
        selectors: list[str] = []
        while i < n and path[i] == "[":
            close = path.find("]", i)
            if close == -1:
                raise PathSyntaxError(f"unclosed '[' in path {path!r}")
            selectors.append(path[i + 1:close].strip())
            i = close + 1
        if i < n:
            if path[i] != ".":
                raise PathSyntaxError(f"unexpected {path[i]!r} at position {i} in path {path!r}")
            i += 1
            if i == n:
                raise PathSyntaxError(f"path {path!r} ends with '.'")
        if not key and not selectors:
            raise PathSyntaxError(f"empty segment in path {path!r}")
        segments.append((key, selectors))
    return segments


def _get_key(node: Any, key: str, done: str) -> Any:
    if not isinstance(node, dict):
        raise PathMissing(f"{done or '$'} is {_type_name(node)}, not an object, so it has no {key!r}")
    if key in node:
        return node[key]
    # RFC 7643 §2.1: attribute names are case-insensitive.
    for k, v in node.items():
        if isinstance(k, str) and k.lower() == key.lower():
            return v
    # Entra writes extension attributes as `urn:…:User:employeeNumber`.
    if key.lower().startswith("urn:") and ":" in key:
        urn, _, attr = key.rpartition(":")
        for k, v in node.items():
            if isinstance(k, str) and k.lower() == urn.lower() and isinstance(v, dict):
                return _get_key(v, attr, f"{done}.{k}" if done else k)
    raise PathMissing(f"no {key!r} in {done or 'the document'}")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _select(node: Any, selector: str, done: str) -> Any:
    if not isinstance(node, list):
        raise PathMissing(f"{done or '$'} is {_type_name(node)}, not an array, so [{selector}] selects nothing")
    if re.fullmatch(r"-?\d+", selector):
        index = int(selector)
        if -len(node) <= index < len(node):
            return node[index]
        raise PathMissing(f"{done}[{index}] is out of range ({len(node)} element(s))")
    m = re.fullmatch(r"""\s*([^=\s]+)\s*(?:=|\s+eq\s+)\s*(?:"(.*)"|'(.*)'|(.*?))\s*""", selector)
    if not m:
        raise PathSyntaxError(f"bad selector [{selector}]: use [N] or [key=value]")
    key = m.group(1)
    want = next(g for g in (m.group(2), m.group(3), m.group(4)) if g is not None)
    for element in node:
        if not isinstance(element, dict):
            continue
        for k, v in element.items():
            # RFC 7643 §2.1: attribute names are case-insensitive.
            if k.lower() == key.lower() and _scalar_text(v) == want:
                return element
    raise PathMissing(f"no element of {done} has {key} = {want!r}")


def resolve_path(document: Any, path: str) -> Any:
    """The value `path` selects in `document`; raises PathMissing or PathSyntaxError."""
    path = path.strip()
    m = re.fullmatch(r"length\((.*)\)", path)
    if m:
        value = resolve_path(document, m.group(1))
        if isinstance(value, (list, dict, str)):
            return len(value)
        raise PathMissing(f"{m.group(1)} is {_type_name(value)}, which has no length")
    if path in ("", "$"):
        return document
    if path.startswith("$."):
        path = path[2:]
    elif path.startswith("$["):
        path = path[1:]
    node = document
    done = ""
    for key, selectors in _split(path):
        if key:
            node = _get_key(node, key, done)
            done = f"{done}.{key}" if done else key
        for selector in selectors:
            node = _select(node, selector, done)
            done = f"{done}[{selector}]"
    return node


def lookup(document: Any, path: str) -> Any:
    """Like resolve_path, but MISSING instead of PathMissing."""
    try:
        return resolve_path(document, path)
    except PathMissing:
        return MISSING


# --- matchers --------------------------------------------------------------------------

OPERATORS = frozenset({"eq", "ne", "exists", "contains", "not_contains", "len", "type", "matches", "icase",
                       "gt", "lt", "ge", "le", "one_of", "same_as"})
JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}


def is_operator_matcher(matcher: Any) -> bool:
    return isinstance(matcher, dict) and bool(matcher) and all(k in OPERATORS for k in matcher)


def _type_name(value: Any) -> str:
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show(value: Any) -> str:
    """A short JSON rendering of a value for messages."""
    if value is MISSING:
        return "<missing>"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, and 1 equals 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if a is MISSING or b is MISSING:
        return a is b
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


def _subset(want: Any, have: Any) -> bool:
    """`want` is contained in `have`: object keys recursively, else equality."""
    if isinstance(want, dict) and isinstance(have, dict):
        return all(k in have and _subset(v, have[k]) for k, v in want.items())
    return _equal(want, have)


def _contains(actual: Any, want: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(want, str) and want in actual
    if isinstance(actual, list):
        return any(_subset(want, element) for element in actual)
    if isinstance(actual, dict):
        return isinstance(want, dict) and _subset(want, actual)
    return False


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _one(op: str, arg: Any, actual: Any) -> tuple[bool, str]:
    """Apply one operator: (ok, what was expected)."""
    if op in ("eq", "same_as"):
        return _equal(actual, arg), f"equal to {show(arg)}"
    if op == "ne":
        return not _equal(actual, arg), f"not equal to {show(arg)}"
    if op == "exists":
        if not isinstance(arg, bool):
            raise MatcherError(f"'exists' takes true or false, not {show(arg)}")
        return (actual is not MISSING) == arg, "present" if arg else "absent"
    if op == "contains":
        return _contains(actual, arg), f"containing {show(arg)}"
    if op == "not_contains":
        return actual is not MISSING and not _contains(actual, arg), f"not containing {show(arg)}"
    if op == "len":
        if not isinstance(actual, (str, list, dict)):
            return False, f"with length {show(arg)}"
        if isinstance(arg, int) and not isinstance(arg, bool):
            return len(actual) == arg, f"with length {arg}"
        if is_operator_matcher(arg):
            ok, what = match(len(actual), arg)
            return ok, f"with length {what}"
        raise MatcherError(f"'len' takes an integer or a matcher, not {show(arg)}")
    if op == "type":
        names = arg if isinstance(arg, list) else [arg]
        bad = [n for n in names if n not in JSON_TYPES]
        if bad:
            raise MatcherError(f"unknown type {bad[0]!r}; use one of {', '.join(sorted(JSON_TYPES))}")
        have = _type_name(actual)
        ok = have in names or ("number" in names and have == "integer")
        return ok, f"of type {' or '.join(names)}"
    if op == "matches":
        if not isinstance(arg, str):
            raise MatcherError(f"'matches' takes a regular expression string, not {show(arg)}")
        try:
            pattern = re.compile(arg)
        except re.error as exc:
            raise MatcherError(f"bad regular expression {arg!r}: {exc}") from None
        return isinstance(actual, str) and pattern.search(actual) is not None, f"matching /{arg}/"
    if op == "icase":
        if not isinstance(arg, str):
            raise MatcherError(f"'icase' takes a string, not {show(arg)}")
        return isinstance(actual, str) and actual.casefold() == arg.casefold(), f"equal to {show(arg)} ignoring case"
    if op in ("gt", "lt", "ge", "le"):
        if not _number(arg):
            raise MatcherError(f"'{op}' takes a number, not {show(arg)}")
        sign = {"gt": ">", "lt": "<", "ge": ">=", "le": "<="}[op]
        if not _number(actual):
            return False, f"a number {sign} {arg}"
        ok = {"gt": actual > arg, "lt": actual < arg, "ge": actual >= arg, "le": actual <= arg}[op]
        return ok, f"{sign} {arg}"
    if op == "one_of":
        if not isinstance(arg, list):
            raise MatcherError(f"'one_of' takes a list, not {show(arg)}")
        return any(_equal(actual, a) for a in arg), f"one of {show(arg)}"
    raise MatcherError(f"unknown matcher {op!r}; use one of {', '.join(sorted(OPERATORS))}")


def match(actual: Any, matcher: Any) -> tuple[bool, str]:
    """Whether `actual` satisfies `matcher`, and a description of what was expected.

    Raises MatcherError when the matcher itself is malformed.
    """
    if is_operator_matcher(matcher):
        results = [_one(op, arg, actual) for op, arg in matcher.items()]
        return all(ok for ok, _ in results), " and ".join(what for _, what in results)
    # A plain value (including an object with any non-operator key): equality, strings
    # compared exactly, case included. Wrap an all-operator-keyed object in {"eq": …}.
    return _equal(actual, matcher), f"equal to {show(matcher)}"


def check_value(check_id: str, actual: Any, matcher: Any, *, rule: str, strength: Strength,
                exchange: Exchange | None = None, label: str, missing: str | None = None) -> CheckResult:
    """One expectation: `actual` (MISSING when absent) against `matcher`."""
    try:
        ok, expected = match(actual, matcher)
    except MatcherError as exc:
        return CheckResult(check_id, "error", rule, strength, f"{label}: bad matcher: {exc}", exchange)
    if ok:
        return CheckResult(check_id, "pass", rule, strength, f"{label} is {show(actual)}", exchange)
    got = f"nothing ({missing})" if actual is MISSING and missing else show(actual)
    return CheckResult(check_id, "fail", rule, strength, f"{label}: expected {expected}, got {got}", exchange)
