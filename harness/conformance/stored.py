"""Which optional User attributes the server keeps: probe only with what it stores.

A server may support only part of the core User schema (RFC 7643 §4.1: most attributes are
OPTIONAL), so a PUT, PATCH or filter check judged with `title` or `nickName` on a server that never
stores them fails for the wrong reason. Once per run the suite writes each of them on one user and
reads the user back; checks probe with an attribute that came back. An attribute the server declares
in /Schemas yet drops on write is its own finding (`rfc.users.create.stores-declared`), recorded
once by the users area, never a cascade of failures elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.conformance.context import USER_URN, Ctx, dicts
from harness.prober import path_id
from harness.transcript import Exchange

# Simple, readWrite string attributes of the core User schema (RFC 7643 §4.1.1) the checks probe with.
OPTIONAL = ("title", "nickName", "displayName")
VALUE = "Scimh Stored"


@dataclass
class Stored:
    kept: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)
    known: bool = False                       # False: the probe user could not be written or read back
    exchange: Exchange | None = None          # the read-back judged

    def keeps(self, attr: str) -> bool:
        """Does the server store `attr`? Unknown (the probe failed) counts as yes: judged as before."""
        return not self.known or attr in self.kept

    def first(self, *attrs: str, default: str | None = None) -> str | None:
        """The first of `attrs` the server stores, else `default` (a core attribute every user of the suite has)."""
        return next((a for a in attrs if self.keeps(a)), default)

    def why_not(self, attr: str) -> str:
        declared = "declares it in /Schemas but " if attr in self.declared else "does not declare it and "
        return (f"the server {declared}did not store {attr} (written on create, absent on read-back; "
                "see rfc.users.create.stores-declared): the check needs a stored attribute")


def declared(ctx: Ctx) -> set[str]:
    core = ctx.schemas.get(USER_URN.lower()) or {}
    names = {str(a.get("name", "")).lower(): a for a in dicts(core.get("attributes"))}
    return {a for a in OPTIONAL if a.lower() in names and names[a.lower()].get("mutability", "readWrite") == "readWrite"}


def stored(ctx: Ctx) -> Stored:
    """What the server keeps, probed once per run (the exchanges go to the current step)."""
    found = ctx.shared.get("stored")
    if isinstance(found, Stored):
        return found
    result = Stored(declared=declared(ctx))
    ctx.shared["stored"] = result
    body = ctx.user_body("stored", **{a: f"{VALUE} {a}" for a in OPTIONAL})
    ex, doc = ctx.create("Users", body)
    if doc is None:
        return result
    exg, got = ctx.get_json(f"/Users/{path_id(doc['id'])}")
    if exg.status != 200 or not isinstance(got, dict):
        return result
    lower = {k.lower(): v for k, v in got.items()}
    result.kept = {a for a in OPTIONAL if lower.get(a.lower()) == f"{VALUE} {a}"}
    result.known, result.exchange = True, exg
    return result


def stored_value(doc: object, attr: str) -> object:
    """`doc[attr]` for an attribute or a `parent.sub` path, names compared case-insensitively (RFC 7643 §2.1)."""
    for part in attr.split("."):
        if not isinstance(doc, dict):
            return None
        doc = next((v for k, v in doc.items() if k.lower() == part.lower()), None)
    return doc


__all__ = ["OPTIONAL", "Stored", "declared", "stored", "stored_value"]
