"""Where the rfc suite judges each of its rules: the area a rule is catalogued in (`rfc.<area>.…`,
harness.rules), or, for the few that need another area's fixtures, the area whose run records it.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from harness.rules import CATALOGUE, rule

# Checks recorded by another area's run than the one they are catalogued in (they need its fixtures).
RECORDED_IN: Mapping[str, str] = MappingProxyType({
    "rfc.discovery.advertised.filter": "filters", "rfc.discovery.advertised.patch": "patch",
    "rfc.discovery.advertised.sort": "sort", "rfc.discovery.advertised.etag": "etag",
    "rfc.discovery.advertised.bulk": "bulk", "rfc.errors.conflict-scim-type": "users",
})


def recording_area(check_id: str) -> str:
    """The area whose run records this catalogued check (KeyError for an unknown id)."""
    found = rule(check_id)
    if found.area is None:
        raise KeyError(check_id)
    return RECORDED_IN.get(found.id, found.area)


def recorded_by(area: str) -> list[str]:
    """The catalogued checks the run of `area` records, in catalogue order."""
    return [cid for cid in CATALOGUE if recording_area(cid) == area]


def areas_for(check_ids: list[str]) -> list[str]:
    """The areas to run so that these checks are judged (discovery and safety always run)."""
    return list(dict.fromkeys(recording_area(cid) for cid in check_ids))
