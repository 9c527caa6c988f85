"""The server's own /Schemas turned into JSON Schema, and the `schema` area's checks.

RFC 7643 §7 defines an attribute by name, type, multiValued, required, caseExact, mutability,
returned and uniqueness; a resource of a type follows its core schema plus its extensions
(RFC 7643 §3.3, under the extension's URN). Names are case-insensitive (RFC 7643 §2.1), so a
response's keys are folded to the declared spelling before validation.
"""
from __future__ import annotations

from typing import Any, Iterator

from jsonschema import Draft202012Validator, FormatChecker

from harness.conformance.context import ENTERPRISE_URN, USER_URN, Ctx, abort, dicts, dig
from harness.conformance.discovery import resources
from harness.prober import path_id

TYPES = {"string": {"type": "string"}, "boolean": {"type": "boolean"}, "decimal": {"type": "number"},
         "integer": {"type": "integer"}, "dateTime": {"type": "string", "format": "date-time"},
         "reference": {"type": "string"}, "binary": {"type": "string"}}
MUTABILITY = {"readOnly", "readWrite", "immutable", "writeOnly"}
RETURNED = {"always", "never", "default", "request"}
UNIQUENESS = {"none", "server", "global"}


def _attr_schema(attr: dict[str, Any]) -> dict[str, Any]:
    if attr.get("type") == "complex":
        subs = [s for s in dicts(attr.get("subAttributes")) if isinstance(s.get("name"), str)]
        one: dict[str, Any] = {"type": "object", "properties": {s["name"]: _attr_schema(s) for s in subs},
                               "additionalProperties": False}
    else:
        one = dict(TYPES.get(str(attr.get("type")), {}))
    if attr.get("multiValued") is True:
        return {"type": "array", "items": one}
    return one


def resource_json_schema(core: dict[str, Any], extensions: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON Schema for resources of a type: its declared attributes only, plus the common ones."""
    props: dict[str, Any] = {"schemas": {"type": "array", "items": {"type": "string"}}, "id": {"type": "string"},
                             "externalId": {"type": "string"}, "meta": {"type": "object"}}
    for attr in dicts(core.get("attributes")):
        if isinstance(attr.get("name"), str):
            props[attr["name"]] = _attr_schema(attr)
    for ext in extensions:
        sub = {a["name"]: _attr_schema(a) for a in dicts(ext.get("attributes")) if isinstance(a.get("name"), str)}
        props[ext["id"]] = {"type": "object", "properties": sub, "additionalProperties": False}
    return {"type": "object", "properties": props, "additionalProperties": False}


def fold_keys(doc: Any, schema: dict[str, Any]) -> Any:
    """`doc` with object keys respelled as the schema declares them (names are case-insensitive)."""
    if isinstance(doc, list) and schema.get("type") == "array":
        return [fold_keys(d, schema.get("items", {})) for d in doc]
    if isinstance(doc, dict) and "properties" in schema:
        declared = {k.lower(): k for k in schema["properties"]}
        out = {}
        for k, v in doc.items():
            name = declared.get(k.lower(), k)
            out[name] = fold_keys(v, schema["properties"].get(name, {}))
        return out
    return doc


def validate_resource(doc: Any, schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(type/shape errors, undeclared attributes) of `doc` against a resource_json_schema."""
    folded = fold_keys(doc, schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors, undeclared = [], []
    for e in validator.iter_errors(folded):
        where = e.json_path
        if e.validator == "additionalProperties":
            extra = [k for k in e.instance if k not in e.schema.get("properties", {})] if isinstance(e.instance, dict) else []
            undeclared.extend(f"{where}.{k}".replace("$.", "") for k in extra)
        else:
            errors.append(f"{where}: {e.message[:160]}")
    return errors, undeclared


def walk(attrs: Any, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for a in dicts(attrs):
        path = f"{prefix}{a.get('name', '?')}"
        yield path, a
        if a.get("type") == "complex":
            yield from walk(a.get("subAttributes"), path + ".")


def definition_problems(attr: dict[str, Any]) -> list[str]:
    """What is wrong with one attribute definition (RFC 7643 §7)."""
    out = []
    if not isinstance(attr.get("name"), str) or not attr.get("name"):
        out.append("no name")
    if attr.get("type") not in (*TYPES, "complex"):
        out.append(f"type {attr.get('type')!r}")
    for key in ("multiValued", "required"):
        if not isinstance(attr.get(key), bool):
            out.append(f"{key} {attr.get(key)!r} is not a boolean")
    if "caseExact" in attr and not isinstance(attr["caseExact"], bool):
        out.append("caseExact is not a boolean")
    for key, allowed in (("mutability", MUTABILITY), ("returned", RETURNED), ("uniqueness", UNIQUENESS)):
        if key in attr and not (isinstance(attr[key], str) and attr[key] in allowed):
            out.append(f"{key} {attr[key]!r}")
    if attr.get("type") == "complex" and not isinstance(attr.get("subAttributes"), list):
        out.append("a complex attribute without subAttributes")
    if attr.get("type") != "complex" and attr.get("subAttributes"):
        out.append(f"subAttributes on a {attr.get('type')} attribute")
    return out


def type_schema(ctx: Ctx, name: str) -> dict[str, Any] | None:
    rt = ctx.resource_types.get(name)
    if rt is None or not isinstance(rt.get("schema"), str) or rt["schema"].lower() not in ctx.schemas:
        return None
    exts = [ctx.schemas[e["schema"].lower()] for e in dicts(rt.get("schemaExtensions"))
            if isinstance(e.get("schema"), str) and e["schema"].lower() in ctx.schemas]
    return resource_json_schema(ctx.schemas[rt["schema"].lower()], exts)


def judge_resource(ctx: Ctx, doc: Any, type_name: str, ex: Any, label: str) -> None:
    """resource-conforms, no-undeclared-attributes, schemas-declared, returned-never on one resource."""
    schema = type_schema(ctx, type_name)
    subject = f"{type_name} {label}"
    if schema is None:
        ctx.skip("rfc.schema.resource-conforms", f"/Schemas or /ResourceTypes do not describe {type_name}", subject=subject)
        return
    errors, undeclared = validate_resource(doc, schema)
    ctx.check("rfc.schema.resource-conforms", not errors, "follows the declared attributes" if not errors
              else "; ".join(errors[:4]), ex, subject=subject)
    ctx.check("rfc.schema.no-undeclared-attributes", not undeclared, "no undeclared attribute" if not undeclared
              else f"undeclared attribute(s): {', '.join(undeclared[:6])}", ex, subject=subject)
    rt = ctx.resource_types[type_name]
    allowed = {rt["schema"].lower()} | {str(e.get("schema", "")).lower() for e in dicts(rt.get("schemaExtensions"))}
    listed = [s for s in doc.get("schemas", [])] if isinstance(doc, dict) and isinstance(doc.get("schemas"), list) else []
    extra = [s for s in listed if str(s).lower() not in allowed]
    ok = not extra and rt["schema"].lower() in [str(s).lower() for s in listed]
    ctx.check("rfc.schema.schemas-declared", ok, f"schemas {listed}" + ("" if ok else f"; allowed: {sorted(allowed)}"), ex, subject=subject)
    core = ctx.schemas[rt["schema"].lower()]
    for path, attr in walk(core.get("attributes")):
        if attr.get("returned") == "never" and "." not in path:
            present = isinstance(doc, dict) and any(k.lower() == path.lower() for k in doc)
            ctx.check("rfc.schema.returned-never", not present, f"{path} is " + ("returned" if present else "not returned"),
                      ex, subject=f"{type_name}.{path} {label}")


def run(ctx: Ctx) -> None:
    with ctx.step("attribute definitions in /Schemas"):
        if not ctx.schemas:
            abort("the server published no schemas")
        for urn, sc in ctx.schemas.items():
            short = "Enterprise" if urn == ENTERPRISE_URN.lower() else urn.rsplit(":", 1)[-1]
            for path, attr in walk(sc.get("attributes")):
                problems = definition_problems(attr)
                ctx.check("rfc.schema.attribute-definition", not problems,
                          "well-formed" if not problems else "; ".join(problems), subject=f"{short}:{path}")
        user = ctx.schemas.get(USER_URN.lower())
        if user is not None:
            un = next((a for p, a in walk(user.get("attributes")) if p.lower() == "username"), None)
            ok = un is not None and un.get("required") is True and un.get("uniqueness") in ("server", "global")
            ctx.check("rfc.schema.core-user", ok, "userName is required and unique" if ok else f"userName is declared as {un!r}"[:300])
        group = ctx.schemas.get("urn:ietf:params:scim:schemas:core:2.0:group")
        if group is not None:
            names = {p.lower() for p, _ in walk(group.get("attributes"))}
            ok = {"displayname", "members", "members.value"} <= names
            ctx.check("rfc.schema.core-group", ok, "displayName and members are declared" if ok else f"declared: {sorted(names)}")
    _resources(ctx)


def _resources(ctx: Ctx) -> None:
    with ctx.step("a created user against the server's own schemas"):
        body = ctx.user_body("schema", title="Schema Probe", password="Scimh-Passw0rd!x",
                             id="scimh-client-chosen-id", meta={"created": "2001-01-01T00:00:00Z"})
        has_ext = any(str(e.get("schema", "")).lower() == ENTERPRISE_URN.lower()
                      for e in dicts(dig(ctx.resource_types.get("User"), "schemaExtensions")))
        if has_ext:
            body["schemas"] = [USER_URN, ENTERPRISE_URN]
            body[ENTERPRISE_URN] = {"department": "Scimh Dept", "employeeNumber": "42"}
        ex, doc = ctx.create("Users", body)
        ctx.standard(ex, 201, "User")
        if doc is None:
            abort(f"could not create a user to judge ({ex.status})")
        judge_resource(ctx, doc, "User", ex, "POST")
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        taken = doc.get("id") == "scimh-client-chosen-id" or str(meta.get("created", "")).startswith("2001-01-01")
        ctx.check("rfc.schema.readonly-ignored", not taken, "the client's id and meta.created were ignored" if not taken
                  else f"the server took the client's id/meta.created (id {doc.get('id')!r}, created {meta.get('created')!r})", ex)
        ctx.check("rfc.schema.meta-resource-type", meta.get("resourceType") == "User", f"meta.resourceType is {meta.get('resourceType')!r}", ex)
        if has_ext:
            ext = next((v for k, v in doc.items() if k.lower() == ENTERPRISE_URN.lower()), None)
            listed = [str(s).lower() for s in doc.get("schemas") or []] if isinstance(doc.get("schemas"), list) else []
            ok = isinstance(ext, dict) and ext.get("department") == "Scimh Dept" and ENTERPRISE_URN.lower() in listed
            ctx.check("rfc.schema.extension-container", ok, "department under the enterprise URN, listed in schemas" if ok
                      else f"enterprise extension came back as {ext!r}, schemas {doc.get('schemas')}", ex)
        else:
            ctx.skip("rfc.schema.extension-container", "the User resource type declares no enterprise extension")
        uid = path_id(doc["id"])
        ex2, got = ctx.get_json(f"/Users/{uid}")
        ctx.standard(ex2, 200, "User")
        if isinstance(got, dict):
            judge_resource(ctx, got, "User", ex2, "GET")
        ex3, lst = ctx.query("Users", f'userName eq "{body["userName"]}"')
        if ex3.status == 200 and resources(lst):
            judge_resource(ctx, resources(lst)[0], "User", ex3, "list")
        # RFC 7643 §7: returned "always" comes back whatever `attributes` says.
        ex4, proj = ctx.get_json(f"/Users/{uid}", params={"attributes": "displayName"})
        user = ctx.schemas.get(USER_URN.lower(), {})
        always = ["id"] + [p for p, a in walk(user.get("attributes")) if a.get("returned") == "always" and "." not in p]
        for path in dict.fromkeys(always):
            present = isinstance(proj, dict) and any(k.lower() == path.lower() for k in proj)
            ctx.check("rfc.schema.returned-always", ex4.status == 200 and present,
                      f"{path} is returned with attributes=displayName" if present else f"{path} missing ({ex4.status})", ex4, subject=path)
    with ctx.step("a create without the required userName"):
        ex, doc = ctx.create("Users", {"schemas": [USER_URN], "name": {"givenName": "No", "familyName": "Username"}})
        ctx.standard(ex, 400)
        ctx.check("rfc.schema.required-enforced", ex.status == 400, f"answered {ex.status}" + ("" if ex.status == 400 else ", expected 400"), ex)
