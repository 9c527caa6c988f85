"""RFC 7644 §3.4.2.2 filters and RFC 7644 §3.5.2 PATCH paths: parsing (lark, LALR, grammar in
filter.lark, with a regular-expression fast path for the shapes IdPs send) into the AST of
filter_ast.py, which filter_eval.py evaluates."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from mock_clockwise.errors import InvalidFilter, InvalidPath, ScimError
from mock_clockwise.filter_ast import And, Compare, Filter, Not, Or, PatchPath, Present, ValuePath, leaves
from mock_clockwise.filter_eval import compile_predicate, sub_resolver
from mock_clockwise.schema import AttrRef, ResourceType

MAX_FILTER_LENGTH = 4096
MAX_DEPTH = 32


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
    if text.count("(") + text.count("[") <= MAX_DEPTH:
        return  # too few brackets to nest too deeply: the walk below is for the texts that have enough
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


def _check_inner(flt: Filter, error: type[ScimError], what: str) -> None:
    """Inside brackets only sub-attribute expressions are allowed (RFC 7644 valFilter)."""
    for leaf in leaves(flt):
        if isinstance(leaf, ValuePath) and any(isinstance(x, ValuePath) for x in leaves(leaf.inner)):
            raise error(f"The {what} nests a value filter inside another one ('{leaf.path}[...]').")


def _check_literals(flt: Filter, error: type[ScimError], what: str) -> None:
    """RFC 8259 §8.2: a string literal written `"\ud800"` (a lone UTF-16 surrogate) is no Unicode
    text; it could be neither compared in SQLite nor echoed as UTF-8, so it is refused like the
    same escape in a request body (wire.py)."""
    for leaf in leaves(flt):
        if isinstance(leaf, ValuePath):
            _check_literals(leaf.inner, error, what)
            leaf = leaf.then  # type: ignore[assignment]
        if isinstance(leaf, Compare) and isinstance(leaf.value, str):
            try:
                leaf.value.encode("utf-8")
            except UnicodeEncodeError:
                raise error(f"The {what} contains an unpaired UTF-16 surrogate escape (such as \\ud800) "
                            "in a string.") from None


def parse_filter(text: str) -> Filter:
    """Parse an RFC 7644 §3.4.2.2 filter; `InvalidFilter` with a clear detail when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidFilter("The filter is empty.")
    _check_limits(text, InvalidFilter, "filter")
    flt = _fast_compare(text) or _lark_filter(text)
    _check_literals(flt, InvalidFilter, "filter")
    return flt


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
    _check_literals(inner, InvalidPath, "PATCH path")
    if ref.sub_attribute is not None or not ref.attribute.is_complex or not ref.attribute.multi_valued:
        raise InvalidPath(f"The PATCH path {text!r} filters '{ref.path}', which is not a multi-valued "
                          "complex attribute.")
    if any(isinstance(x, ValuePath) for x in leaves(inner)):
        raise InvalidPath(f"The PATCH path {text!r} nests a value filter inside another one.")
    sub_attr = None
    if sub is not None:
        sub_attr = ref.attribute.sub(sub)
        if sub_attr is None:
            raise InvalidPath(f"The PATCH path {text!r} names a sub-attribute '{sub}' that "
                              f"'{ref.path}' does not have.")
    resolver = sub_resolver(ref.attribute)
    for leaf in leaves(inner):
        if resolver(leaf.path) is None:
            raise InvalidPath(f"The PATCH path {text!r} filters on '{leaf.path}', which is not a "
                              f"sub-attribute of '{ref.path}'.")
    try:
        compile_predicate(inner, resolver)
    except InvalidFilter as exc:
        raise InvalidPath(f"The PATCH path {text!r} has an invalid filter: {exc.detail}") from None
    return PatchPath(AttrRef(ref.schema, ref.attribute, sub_attr, ref.is_extension), inner)
