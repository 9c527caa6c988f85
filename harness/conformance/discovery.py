"""Discovery: /ServiceProviderConfig, /ResourceTypes and /Schemas (RFC 7644 §4; RFC 7643 §5–7)."""
from __future__ import annotations

from typing import Any

from harness.conformance.context import ENTERPRISE_URN, GROUP_URN, USER_URN, Capabilities, Ctx, abort, dicts

FEATURES = ("patch", "bulk", "filter", "changePassword", "sort", "etag")


def resources(doc: Any) -> list[dict[str, Any]]:
    """The Resources of a ListResponse (an absent list is empty)."""
    if isinstance(doc, dict) and isinstance(doc.get("Resources"), list):
        return [r for r in doc["Resources"] if isinstance(r, dict)]
    return []


def run(ctx: Ctx) -> None:
    _service_provider_config(ctx)
    _resource_types(ctx)
    _schemas(ctx)
    _read_only(ctx)


def _service_provider_config(ctx: Ctx) -> None:
    with ctx.step("GET /ServiceProviderConfig"):
        ex, doc = ctx.get_json("/ServiceProviderConfig")
        ctx.standard(ex, 200, "ServiceProviderConfig")
        ok = ex.status == 200 and isinstance(doc, dict)
        ctx.check("rfc.discovery.spc.get", ok, f"answered {ex.status}" + ("" if ok else "; expected 200 with a JSON object"), ex)
        if not ok:
            abort("no ServiceProviderConfig: every optional feature is treated as unsupported")
        ctx.caps = Capabilities.from_document(doc)
        # RFC 7643 §5: each feature is a complex attribute with a REQUIRED boolean "supported".
        bad = [f for f in FEATURES if not (isinstance(doc.get(f), dict) and isinstance(doc[f].get("supported"), bool))]
        ctx.check("rfc.discovery.spc.features", not bad,
                  "every feature carries a boolean 'supported'" if not bad else f"missing or non-boolean 'supported' in: {', '.join(bad)}", ex)
        bulk = doc.get("bulk") if isinstance(doc.get("bulk"), dict) else {}
        bad_bulk = [k for k in ("maxOperations", "maxPayloadSize") if not isinstance(bulk.get(k), int) or isinstance(bulk.get(k), bool)]
        ctx.check("rfc.discovery.spc.bulk-limits", not bad_bulk,
                  "bulk.maxOperations and bulk.maxPayloadSize are integers" if not bad_bulk else f"bulk lacks integer {', '.join(bad_bulk)}", ex)
        flt = doc.get("filter") if isinstance(doc.get("filter"), dict) else {}
        mr = flt.get("maxResults")
        ctx.check("rfc.discovery.spc.filter-max-results", isinstance(mr, int) and not isinstance(mr, bool),
                  f"filter.maxResults is {mr!r}", ex)
        schemes = doc.get("authenticationSchemes")
        ok_schemes = isinstance(schemes, list) and bool(schemes) and all(
            isinstance(s, dict) and all(isinstance(s.get(k), str) and s.get(k) for k in ("type", "name", "description")) for s in schemes)
        ctx.check("rfc.discovery.spc.auth-schemes", ok_schemes,
                  "authenticationSchemes lists complete schemes" if ok_schemes else f"authenticationSchemes is incomplete: {schemes!r}"[:300], ex)
        types = [str(s.get("type", "")).lower() for s in dicts(schemes)]
        types = [t for t in types if t]
        ctx.check("rfc.discovery.spc.bearer-advertised", "oauthbearertoken" in types,
                  f"advertised scheme types: {', '.join(types) or 'none'}", ex)


def _resource_types(ctx: Ctx) -> None:
    with ctx.step("GET /ResourceTypes"):
        ex, doc = ctx.get_json("/ResourceTypes")
        ctx.standard(ex, 200, "ListResponse:ResourceType")
        items = resources(doc)
        ok = ex.status == 200 and bool(items)
        ctx.check("rfc.discovery.rt.list", ok, f"answered {ex.status} with {len(items)} resource type(s)", ex)
        for rt in items:
            if isinstance(rt.get("name"), str):
                ctx.resource_types[rt["name"]] = rt
        for name, endpoint, urn, cid in (("User", "/users", USER_URN, "rfc.discovery.rt.users"),
                                         ("Group", "/groups", GROUP_URN, "rfc.discovery.rt.groups")):
            rt = next((r for r in items if str(r.get("schema", "")).lower() == urn.lower()), None)
            good = rt is not None and str(rt.get("endpoint", "")).rstrip("/").lower().endswith(endpoint)
            ctx.check(cid, good, f"{name} resource type at {rt.get('endpoint') if rt else None!r} with schema {urn}"
                      if rt else f"no resource type with schema {urn}", ex)
        for name in list(ctx.resource_types)[:4]:
            ex1, one = ctx.get_json(f"/ResourceTypes/{name}")
            ok1 = ex1.status == 200 and isinstance(one, dict) and (one.get("name") == name or one.get("id") == name)
            ctx.check("rfc.discovery.rt.by-id", ok1, f"GET /ResourceTypes/{name} answered {ex1.status}", ex1, subject=name)
        ex2 = ctx.send("GET", "/ResourceTypes/ScimhNoSuchType")
        ctx.standard(ex2, 404)
        ctx.check("rfc.discovery.rt.unknown-404", ex2.status == 404, f"answered {ex2.status}", ex2)


def _schemas(ctx: Ctx) -> None:
    with ctx.step("GET /Schemas"):
        ex, doc = ctx.get_json("/Schemas")
        ctx.standard(ex, 200, "ListResponse:Schema")
        items = resources(doc)
        ctx.check("rfc.discovery.schemas.list", ex.status == 200 and bool(items),
                  f"answered {ex.status} with {len(items)} schema(s)", ex)
        for sc in items:
            if isinstance(sc.get("id"), str):
                ctx.schemas[sc["id"].lower()] = sc
        for urn in (USER_URN, ENTERPRISE_URN, GROUP_URN):
            if urn.lower() not in ctx.schemas:
                continue
            ex1, one = ctx.get_json(f"/Schemas/{urn}")
            ok = ex1.status == 200 and isinstance(one, dict) and str(one.get("id", "")).lower() == urn.lower()
            ctx.check("rfc.discovery.schemas.by-id", ok, f"GET /Schemas/{urn} answered {ex1.status}", ex1,
                      subject=urn.rsplit(":", 2)[-2] if urn == ENTERPRISE_URN else urn.rsplit(":", 1)[-1])
        ex2 = ctx.send("GET", "/Schemas/urn:scimh:no:such:schema")
        ctx.standard(ex2, 404)
        ctx.check("rfc.discovery.schemas.unknown-404", ex2.status == 404, f"answered {ex2.status}", ex2)
        for name, rt in ctx.resource_types.items():
            wanted = [rt.get("schema")] + [e.get("schema") for e in dicts(rt.get("schemaExtensions"))]
            missing = [w for w in wanted if not isinstance(w, str) or w.lower() not in ctx.schemas]
            ctx.check("rfc.discovery.rt.schemas-served", not missing,
                      f"{name}: every schema is served" if not missing else f"{name}: /Schemas lacks {missing}", ex, subject=name)


def _read_only(ctx: Ctx) -> None:
    with ctx.step("discovery endpoints refuse writes"):
        for method, path in (("POST", "/ServiceProviderConfig"), ("PUT", "/ResourceTypes/User"),
                             ("POST", "/Schemas"), ("DELETE", f"/Schemas/{USER_URN}")):
            ex = ctx.send(method, path, body={"schemas": [USER_URN]} if method != "DELETE" else None)
            ok = ex.status is not None and 400 <= ex.status < 500 or ex.status == 501
            ctx.check("rfc.discovery.write-refused", ok, f"{method} {path} answered {ex.status}"
                      + ("" if ok else " (a discovery endpoint is read-only: expected 405/501 or another 4xx)"),
                      ex, subject=f"{method} {path.split('/')[1]}")
