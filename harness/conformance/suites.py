"""Suites: which checks and scenarios `scim-harness run --suite …` runs.

- rfc: the conformance checks of this package (any SCIM 2.0 server).
- okta: the shipped scenarios in the okta and okta-aiw dialects (the OIN SPEC/CRUD tests included),
  except the Clockwise business rules.
- entra: the shipped scenarios in the entra dialects, except the Clockwise business rules.
- onelogin, pingfederate: the shipped scenarios in that dialect, except the Clockwise business rules.
- clockwise: the scenarios that need the Clockwise control plane (every dialect they list).
- all: every suite; against an external target only those whose requirements it meets
  (clockwise needs the control plane).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from harness.suggest import did_you_mean

SUITES = ("rfc", "okta", "entra", "onelogin", "pingfederate", "clockwise")
SUITE_CHOICES = (*SUITES, "all")
OKTA_DIALECTS = ("okta", "okta-aiw", "okta-patch")


class _Scenario(Protocol):
    requires: list[str]
    dialects: list[str]


class SuiteError(ValueError):
    """An unknown suite name."""


def parse_suites(values: Iterable[str] | None) -> list[str] | None:
    """`--suite` values (repeatable, comma lists) -> suite names in order; None when none were given."""
    if not values:
        return None
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part not in SUITE_CHOICES:
                raise SuiteError(f"--suite: unknown suite {part!r}{did_you_mean(part, SUITE_CHOICES)}; "
                                 f"choose among {', '.join(SUITE_CHOICES)}")
            names.append(part)
    if not names:
        raise SuiteError("--suite: no suite named")
    return list(dict.fromkeys(names))


@dataclass
class Plan:
    suites: list[str]
    rfc: bool
    skipped: dict[str, str] = field(default_factory=dict)  # suite -> why it does not run


def resolve(names: list[str] | None, *, has_control_plane: bool, explicit_selection: bool) -> Plan:
    """The suites to run. Without --suite: `all`, or only the chosen scenarios when --scenarios/--tags
    were given (so those keep their meaning). `all` leaves out clockwise on a target without the
    control plane; naming clockwise explicitly runs it and its scenarios skip with the reason."""
    if names is None:
        names = ["okta", "entra", "onelogin", "pingfederate", "clockwise"] if explicit_selection else ["all"]
    skipped: dict[str, str] = {}
    if "all" in names:
        expanded = list(SUITES)
        if not has_control_plane:
            expanded.remove("clockwise")
            skipped["clockwise"] = "the target has no Clockwise control plane (/_mock)"
        names = list(dict.fromkeys([n for n in names if n != "all"] + expanded))
    return Plan(suites=[s for s in SUITES if s in names], rfc="rfc" in names, skipped=skipped)


def in_suites(scenario: _Scenario, dialect: str, suites: list[str]) -> bool:
    """Does (scenario, dialect) belong to one of `suites`?"""
    if "clockwise" in scenario.requires:
        return "clockwise" in suites
    if dialect in OKTA_DIALECTS:
        return "okta" in suites
    if dialect in ("entra", "entra-2020"):
        return "entra" in suites
    if dialect in ("onelogin", "pingfederate"):
        return dialect in suites
    return False
