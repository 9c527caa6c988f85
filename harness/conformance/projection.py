"""Projection (RFC 7644 §3.4.2.5): attributes and excludedAttributes on a resource, on lists, with a
filter, on sub-attributes and URN-qualified names, and `schemas` kept under projection; judged on the
query areas' population (harness.conformance.query), without needing filter support.
"""
from __future__ import annotations

from typing import Any

from harness.conformance.context import USER_URN, Ctx, wire
from harness.conformance.discovery import resources
from harness.conformance.query import LABELS, Population, population
from harness.prober import path_id


def run_projection(ctx: Ctx) -> None:
    # RFC 7644 §3.4.2.5 does not need filter support: without it the lists are judged unfiltered.
    pop = population(ctx)
    flt = pop.scoped(None) if ctx.caps.filter else None
    uid = path_id(pop.users["alpha"]["id"])

    def has(doc: Any, key: str) -> bool:
        return isinstance(doc, dict) and any(k.lower() == key.lower() for k in doc)

    with ctx.step("attributes and excludedAttributes"):
        ex, doc = ctx.get_json(f"/Users/{uid}", params={"attributes": "userName"})
        ctx.standard(ex, 200, "User")
        ok = ex.status == 200 and has(doc, "userName") and has(doc, "id") and not has(doc, "name") and not has(doc, "emails")
        ctx.check("rfc.projection.attributes-get", ok, f"keys {sorted(doc) if isinstance(doc, dict) else ex.status}", ex)
        want = len(LABELS) if flt else None  # unfiltered: every resource of the page (count=50)
        ex, doc = ctx.query("Users", flt, attributes="userName", count=50)
        items = resources(doc)
        ok = ex.status == 200 and bool(items) and (want is None or len(items) == want) \
            and all(has(r, "userName") and not has(r, "name") for r in items)
        ctx.check("rfc.projection.attributes-list", ok, f"{wire(ex)}: {len(items)} resource(s), keys {[sorted(r) for r in items[:1]]}", ex)
        if ctx.caps.filter:
            ex, doc = ctx.query("Users", f'userName eq "{pop.uname("bravo")}"', attributes="emails")
            items = resources(doc)
            ok = ex.status == 200 and len(items) == 1 and has(items[0], "emails") and not has(items[0], "name")
            ctx.check("rfc.projection.attributes-filter", ok, f"{wire(ex)}: keys {[sorted(r) for r in items]}", ex)
        else:
            ctx.skip("rfc.projection.attributes-filter", "filter.supported is false in /ServiceProviderConfig")
        ex, doc = ctx.get_json(f"/Users/{uid}", params={"excludedAttributes": "name"})
        ok = ex.status == 200 and not has(doc, "name") and has(doc, "userName") and has(doc, "emails")
        ctx.check("rfc.projection.excluded-get", ok, f"keys {sorted(doc) if isinstance(doc, dict) else ex.status}", ex)
        ex, doc = ctx.query("Users", flt, excludedAttributes="emails", count=50)
        items = resources(doc)
        ok = ex.status == 200 and bool(items) and (want is None or len(items) == want) \
            and all(not has(r, "emails") and has(r, "userName") for r in items)
        ctx.check("rfc.projection.excluded-list", ok, f"{len(items)} resource(s), keys {[sorted(r) for r in items[:1]]}", ex)
        ex, doc = ctx.get_json(f"/Users/{uid}", params={"attributes": "name.givenName"})
        name = doc.get("name") if isinstance(doc, dict) else None
        ok = ex.status == 200 and isinstance(name, dict) and set(name) == {"givenName"} and not has(doc, "userName")
        ctx.check("rfc.projection.sub-attribute", ok, f"name is {name!r}", ex)
        ex, doc = ctx.get_json(f"/Users/{uid}", params={"excludedAttributes": "id"})
        ctx.check("rfc.projection.always-returned", ex.status == 200 and has(doc, "id"), "id " + ("returned" if has(doc, "id") else "missing"), ex)
        ex, doc = ctx.get_json(f"/Users/{uid}", params={"attributes": "USERNAME"})
        ok = ex.status == 200 and has(doc, "userName") and not has(doc, "name")
        ctx.check("rfc.projection.name-case", ok, f"keys {sorted(doc) if isinstance(doc, dict) else ex.status}", ex)
        ex, doc = ctx.get_json(f"/Users/{uid}", params={"attributes": f"{USER_URN}:userName"})
        ok = ex.status == 200 and has(doc, "userName") and not has(doc, "name")
        ctx.check("rfc.projection.urn-qualified", ok, f"keys {sorted(doc) if isinstance(doc, dict) else ex.status}", ex)
    with ctx.step("schemas under projection (Users, Groups, lists)"):
        _projection_schemas(ctx, pop, flt, uid)


def _projection_schemas(ctx: Ctx, pop: Population, flt: str | None, uid: str) -> None:
    """RFC 7643 §3: "schemas" is REQUIRED on every resource, so attributes/excludedAttributes never remove
    it; RFC 7644 §3.4.2: nor from the ListResponse itself. Entra reads groups with excludedAttributes=members."""
    group = pop.group
    probes: list[tuple[str, str, dict[str, Any]]] = [
        ("User", f"/Users/{uid}", {"attributes": "userName"}),
        ("Users list", "/Users", {"attributes": "userName", "count": "50", **({"filter": flt} if flt else {})})]
    if group is not None:
        probes += [("Group", f"/Groups/{path_id(group['id'])}", {"excludedAttributes": "members"}),
                   ("Groups list", "/Groups", {"attributes": "displayName", "count": "50"})]
    else:
        ctx.skip("rfc.projection.schemas", "the query group could not be created", subject="Group")
    for subject, path, params in probes:
        ex, doc = ctx.get_json(path, params=params)
        if ex.status != 200 or not isinstance(doc, dict):
            ctx.skip("rfc.projection.schemas", f"{wire(ex)} answered {ex.status}: no projected answer to judge "
                     "(see the other projection checks)", subject=subject)
            continue
        docs = [doc, *resources(doc)] if subject.endswith("list") else [doc]
        bare = [d.get("id", "the list") for d in docs if not (isinstance(d.get("schemas"), list) and d["schemas"])]
        ctx.check("rfc.projection.schemas", not bare, f"{wire(ex)}: " + (
            f"schemas on every one of {len(docs)} document(s)" if not bare else
            f"no schemas on {len(bare)} of {len(docs)} document(s), e.g. {bare[0]!r}"), ex, subject=subject)
