"""`-k EXPR` for `scim-harness run`, as pytest's: words joined by `and`, `or`, `not` and parentheses;
a word matches an item when it is a case-insensitive substring of one of the item's names (the
scenario's name and dialect label, its file's name, its tags; the rfc suite is `rfc`).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_OPERATORS = ("and", "or", "not")
Matcher = Callable[[Iterable[str]], bool]


class KeywordError(ValueError):
    """A malformed -k expression."""


def _tokens(expr: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:  # only trailing spaces are left
            break
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr, self.tokens, self.pos = expr, _tokens(expr), 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise KeywordError(f"-k {self.expr!r}: unexpected end of the expression")
        self.pos += 1
        return token

    def expression(self) -> Matcher:
        left = self.conjunction()
        while self.peek() == "or":
            self.take()
            left = (lambda a, b: lambda names: a(names) or b(names))(left, self.conjunction())
        return left

    def conjunction(self) -> Matcher:
        left = self.negation()
        while self.peek() == "and":
            self.take()
            left = (lambda a, b: lambda names: a(names) and b(names))(left, self.negation())
        return left

    def negation(self) -> Matcher:
        token = self.take()
        if token == "not":
            inner = self.negation()
            return lambda names: not inner(names)
        if token == "(":
            inner = self.expression()
            if self.take() != ")":
                raise KeywordError(f"-k {self.expr!r}: expected ')'")
            return inner
        if token in _OPERATORS or token == ")":
            raise KeywordError(f"-k {self.expr!r}: unexpected {token!r}")
        word = token.lower()
        return lambda names: any(word in n.lower() for n in names)


def compile_keywords(expr: str) -> Matcher:
    """A matcher for `expr` (KeywordError when it is malformed)."""
    parser = _Parser(expr)
    if not parser.tokens:
        raise KeywordError("-k: empty expression")
    matcher = parser.expression()
    if parser.peek() is not None:
        raise KeywordError(f"-k {expr!r}: unexpected {parser.peek()!r}")
    return matcher
