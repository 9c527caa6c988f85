"""The filter AST: what `filters` parses RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths into, and
what `filter_eval` evaluates and `patch` applies. Plain frozen dataclasses, no behaviour but a walk."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from mock_clockwise.schema import AttrRef


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


def leaves(flt: Filter) -> list[Compare | Present | ValuePath]:
    """The attribute expressions of `flt` (not looking inside value paths)."""
    if isinstance(flt, (And, Or)):
        return [leaf for item in flt.items for leaf in leaves(item)]
    if isinstance(flt, Not):
        return leaves(flt.item)
    return [flt]
