"""An OpenAPI 3.1 description of what this mock serves: the SCIM surface under /scim/v2 and the
control plane under /_mock, with the request limits it enforces (served at /_mock/openapi.json).

The SCIM resource schemas are generated from schema.py (the same definitions the server validates
against), so the document cannot drift from the behaviour. No web imports.
"""
from __future__ import annotations

from typing import Any

from mock_clockwise.filters import MAX_DEPTH as FILTER_DEPTH
from mock_clockwise.names import refused_characters
from mock_clockwise.filters import MAX_FILTER_LENGTH
from mock_clockwise.patch import MAX_OPERATIONS
from mock_clockwise.schema import (ENTERPRISE_SCHEMA, ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA, Attribute,
                                   Schema)

OPENAPI_VERSION = "3.1.0"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# wire.py's JSON decoder refuses integers outside this range (400 invalidValue).
MAX_INT = 2 ** 63 - 1
_INT = {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT}
SCIM_JSON = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
REF = "#/components/schemas/"

# RFC 7643 §2.3 data types → JSON Schema types.
_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"}, "boolean": {"type": "boolean"}, "decimal": {"type": "number"},
    "integer": _INT, "dateTime": {"type": "string", "format": "date-time"},
    "reference": {"type": "string", "format": "uri-reference"}, "binary": {"type": "string", "contentEncoding": "base64"},
}


def attribute_schema(attr: Attribute) -> dict[str, Any]:
    """JSON Schema of one SCIM attribute (RFC 7643 §2.2 characteristics noted where they map).
    Exactly what validation.py accepts, or stricter: a complex value holds only its sub-attributes
    (others would be dropped, a differently-cased duplicate refused) and its required ones."""
    if attr.is_complex:
        one: dict[str, Any] = {"type": "object", "additionalProperties": False,
                               "properties": {s.name: attribute_schema(s) for s in attr.sub_attributes}}
        required = [s.name for s in attr.sub_attributes if s.required]
        if required:
            one["required"] = required
    else:
        one = dict(_TYPES.get(attr.type, {"type": "string"}))
        if attr.canonical_values:
            one["examples"] = list(attr.canonical_values)
    out: dict[str, Any] = {"type": "array", "items": one} if attr.multi_valued else one
    if attr.multi_valued and attr.sub("primary") is not None:
        # RFC 7643 §2.4: the primary value "true" MUST appear no more than once.
        out["not"] = {"contains": {"type": "object", "required": ["primary"],
                                   "properties": {"primary": {"const": True}}}, "minContains": 2}
    if attr.description:
        out["description"] = attr.description
    if attr.mutability == "readOnly":
        out["readOnly"] = True
    if attr.returned == "never" or attr.mutability == "writeOnly":
        out["writeOnly"] = True
    return out


def _name_schema(attr: Attribute, what: str) -> dict[str, Any]:
    """userName / displayName: not blank (validation.py); a userName also without the characters
    names.py refuses (controls, NUL, invisible format characters)."""
    if what == "userName":
        refused = refused_characters()
        # `(?![\s\S])` is the true end in ECMA-262 and Python alike (Python's `$` also matches
        # before a final newline, which is a refused character).
        pattern = f"^[^{refused}]*[^{refused}\\s][^{refused}]*(?![\\s\\S])"
    else:
        pattern = "\\S"  # JSON Schema patterns are unanchored: some non-space character
    return {**attribute_schema(attr), "minLength": 1, "pattern": pattern}


def _urns(urn: str) -> dict[str, Any]:
    # RFC 7643 §3 / RFC 7644 §3.3, §3.4.3, §3.5.2: the body's `schemas` lists the message's URN.
    return {"type": "array", "items": {"type": "string"}, "minItems": 1, "contains": {"const": urn},
            "description": f"must contain {urn}"}


def _schema_object(schema: Schema, urn: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "schemas": _urns(urn),
        "id": {"type": "string", "readOnly": True},
        "externalId": {"type": "string"},
        "meta": {"type": "object", "readOnly": True},
    }
    props.update({a.name: attribute_schema(a) for a in schema.attributes})
    for name in ("userName", "displayName"):
        attr = schema.attr(name)
        if attr is not None and attr.required:
            props[name] = _name_schema(attr, name)
    props.update(extra or {})
    required = ["schemas"] + [a.name for a in schema.attributes if a.required]
    # Other members are dropped by the mock (or refused when they differ from a known one only by
    # case): the document allows none, so what it allows the mock accepts.
    return {"type": "object", "description": schema.description, "properties": props, "required": required,
            "additionalProperties": False}


def _components(max_results: int) -> dict[str, Any]:
    enterprise = {"type": "object", "additionalProperties": False,
                  "properties": {a.name: attribute_schema(a) for a in ENTERPRISE_SCHEMA.attributes}}
    return {
        "securitySchemes": {
            "scimToken": {"type": "http", "scheme": "bearer",
                          "description": "The SCIM bearer token of one organization (RFC 6750); it names the org."},
            "adminToken": {"type": "http", "scheme": "bearer",
                           "description": "The control plane's admin token; refused on /scim/v2."},
        },
        "schemas": {
            "User": _schema_object(USER_SCHEMA, USER_SCHEMA.id, {ENTERPRISE_USER: enterprise}),
            "Group": _schema_object(GROUP_SCHEMA, GROUP_SCHEMA.id),
            **_message_schemas(max_results),
        },
        "parameters": _parameters(max_results),
    }


def _message_schemas(max_results: int) -> dict[str, Any]:
    """The SCIM messages (RFC 7644 §3.5.2 PatchOp, §3.4.3 SearchRequest, §3.4.2 ListResponse, §3.12 Error)
    and the control plane's list."""
    return {
        "PatchOp": {
            "type": "object", "required": ["schemas", "Operations"],
            "properties": {
                "schemas": _urns(PATCH_OP),
                "Operations": {"type": "array", "maxItems": MAX_OPERATIONS, "items": {
                    "type": "object", "required": ["op"],
                    "properties": {"op": {"type": "string", "pattern": "^([aA][dD][dD]|[rR][eE][mM][oO][vV][eE]|"
                                                                          "[rR][eE][pP][lL][aA][cC][eE])$",
                                          "description": "add, remove or replace (case-insensitive)"},
                                   "path": {"type": "string", "maxLength": MAX_FILTER_LENGTH},
                                   "value": {}}}},
            },
        },
        "SearchRequest": {
            "type": "object", "required": ["schemas"],
            "properties": {
                "schemas": _urns(SEARCH_REQUEST),
                "filter": {"type": "string", "maxLength": MAX_FILTER_LENGTH,
                           "description": "an RFC 7644 §3.4.2.2 filter (else 400 invalidFilter)"},
                "startIndex": _INT, "count": {**_INT, "maximum": max_results}, "sortBy": {"type": "string"},
                "sortOrder": {"enum": ["ascending", "descending"]},
                "attributes": {"type": "array", "items": {"type": "string"}},
                "excludedAttributes": {"type": "array", "items": {"type": "string"}},
            },
        },
        "ListResponse": {
            "type": "object", "required": ["schemas", "totalResults", "Resources"],
            "properties": {"schemas": {"type": "array", "items": {"type": "string"}},
                           "totalResults": {"type": "integer"}, "startIndex": {"type": "integer"},
                           "itemsPerPage": {"type": "integer"},
                           "Resources": {"type": "array", "items": {"type": "object"}}},
        },
        "Error": {
            "type": "object", "required": ["schemas", "status"],
            "description": "RFC 7644 §3.12; every error of the mock (SCIM and control plane) has this shape.",
            "properties": {"schemas": {"type": "array", "items": {"const": ERROR_URN}},
                           "status": {"type": "string", "pattern": "^[1-5][0-9][0-9]$"},
                           "scimType": {"type": "string"}, "detail": {"type": "string"}},
        },
        "ControlList": {"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}}}},
    }


def _parameters(max_results: int) -> dict[str, Any]:
    """The path, query and header parameters the operations refer to."""
    return {
        "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        "org": {"name": "org", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}},
        "filter": {"name": "filter", "in": "query", "schema": {"type": "string", "maxLength": MAX_FILTER_LENGTH},
                   "description": f"RFC 7644 §3.4.2.2 filter (at most {MAX_FILTER_LENGTH} characters, "
                                  f"{FILTER_DEPTH} levels of brackets)"},
        "startIndex": {"name": "startIndex", "in": "query", "schema": _INT,
                       "description": "1-based; values below 1 are read as 1 (RFC 7644 §3.4.2.4)"},
        "count": {"name": "count", "in": "query", "schema": {**_INT, "maximum": max_results},
                  "description": f"page size; negative is read as 0, larger than {max_results} as {max_results}"},
        "sortBy": {"name": "sortBy", "in": "query", "schema": {"type": "string"}},
        "sortOrder": {"name": "sortOrder", "in": "query", "schema": {"enum": ["ascending", "descending"]}},
        "attributes": {"name": "attributes", "in": "query", "schema": {"type": "string"},
                       "description": "comma-separated attribute names to return (RFC 7644 §3.4.2.5)"},
        "excludedAttributes": {"name": "excludedAttributes", "in": "query", "schema": {"type": "string"}},
        "ifMatch": {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                    "description": "ETag precondition (RFC 7644 §3.14); a mismatch is 412"},
    }


def _limits(max_results: int, max_content_length: int | None, json_depth: int) -> dict[str, Any]:
    # The very constants the code enforces (filters.py, patch.py, wire.py), so the document cannot lie.
    return {"maxBodyBytes": max_content_length, "maxResults": max_results, "filterLength": MAX_FILTER_LENGTH,
            "filterDepth": FILTER_DEPTH, "patchOperations": MAX_OPERATIONS, "jsonDepth": json_depth}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {SCIM_JSON: {"schema": {"$ref": REF + ref}}}}


def _resp(desc: str, ref: str | None = None, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": desc, **(_json(ref) if ref else {})}
    if headers:
        out["headers"] = headers
    return out


_ERRORS = {"400": _resp("invalid request (scimType says which rule)", "Error"),
           "401": _resp("no or wrong bearer token", "Error"), "404": _resp("no such resource", "Error"),
           "413": _resp("request body too large", "Error"), "415": _resp("unsupported Content-Type", "Error")}


def _op(summary: str, ok: dict[str, dict[str, Any]], *, tag: str, security: str, body: str | None = None,
        params: tuple[str, ...] | list[str] = (), errors: tuple[str, ...] = ("400", "401")) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "security": [{security: []}],
                          "responses": {**ok, **{e: _ERRORS[e] for e in errors}}}
    if params:
        op["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if body:
        op["requestBody"] = {"required": True, "content": {SCIM_JSON: {"schema": {"$ref": REF + body}},
                                                           "application/json": {"schema": {"$ref": REF + body}}}}
    return op


def _resource_paths(kind: str) -> dict[str, Any]:
    scim = dict(tag="SCIM", security="scimToken")
    etag = {"ETag": {"schema": {"type": "string"}}}
    list_params = ["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes"]
    return {
        f"/scim/v2/{kind}s": {
            "get": _op(f"List or filter {kind}s (RFC 7644 §3.4.2)", {"200": _resp("a page", "ListResponse")},
                       params=list_params, **scim),
            "post": _op(f"Create a {kind} (RFC 7644 §3.3)",
                        {"201": _resp("created", kind, {**etag, "Location": {"schema": {"type": "string"}}}),
                         "409": _resp("uniqueness: the userName (Users) is taken", "Error")},
                        body=kind, params=["attributes", "excludedAttributes"],
                        errors=("400", "401", "413", "415"), **scim),
        },
        f"/scim/v2/{kind}s/.search": {
            "post": _op(f"Search {kind}s with a SearchRequest (RFC 7644 §3.4.3)",
                        {"200": _resp("a page", "ListResponse")}, body="SearchRequest",
                        errors=("400", "401", "413", "415"), **scim)},
        f"/scim/v2/{kind}s/{{id}}": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": _op(f"Get one {kind} (RFC 7644 §3.4.1)", {"200": _resp("the resource", kind, etag),
                                                            "304": {"description": "If-None-Match matched"}},
                       params=["attributes", "excludedAttributes"], errors=("400", "401", "404"), **scim),
            "put": _op(f"Replace a {kind} (RFC 7644 §3.5.1)", {"200": _resp("the new state", kind, etag)},
                       body=kind, params=["ifMatch"], errors=("400", "401", "404", "413", "415"), **scim),
            "patch": _op(f"Modify a {kind} (RFC 7644 §3.5.2)", {"200": _resp("the new state", kind, etag)},
                         body="PatchOp", params=["ifMatch"], errors=("400", "401", "404", "413", "415"), **scim),
            "delete": _op(f"Delete a {kind} (RFC 7644 §3.6)", {"204": {"description": "deleted"}},
                          params=["ifMatch"], errors=("401", "404"), **scim),
        },
    }


def _control_paths() -> dict[str, Any]:
    ctl = dict(tag="control plane", security="adminToken")
    org = [{"$ref": "#/components/parameters/org"}]
    ok = {"200": _resp("ok", "ControlList")}
    obj = {"201": {"description": "created", "content": {SCIM_JSON: {"schema": {"type": "object"}}}}}
    gone = {"204": {"description": "done"}}
    return {
        "/_mock/openapi.json": {"get": _op("This document", {"200": {"description": "OpenAPI 3.1"}}, errors=("401",),
                                           **ctl)},
        "/_mock/orgs": {"get": _op("List orgs", ok, errors=("401",), **ctl),
                        "post": _op("Create an org {name, tokens[<=2], threshold}", obj, **ctl) | {
                            "requestBody": {"required": True, "content": {SCIM_JSON: {"schema": {"type": "object"}}}}}},
        "/_mock/orgs/{org}": {"parameters": org, "get": _op("One org", {"200": _resp("the org")}, **ctl),
                              "delete": _op("Delete an org and its data", gone, errors=("401", "404"), **ctl)},
        "/_mock/orgs/{org}/members": {"parameters": org, "get": _op("Org members", ok, **ctl),
                                      "post": _op("Seed a member {email, plan, admin}", obj, **ctl)},
        "/_mock/orgs/{org}/plan": {"parameters": org, "get": _op("Plan state (mode, paid, free, admins)",
                                                                 {"200": _resp("plan")}, **ctl)},
        "/_mock/orgs/{org}/admin-panel/members": {"parameters": org, "post": _op(
            "Simulated admin panel: add a member (403 once SCIM has provisioned)", obj, **ctl)},
        "/_mock/orgs/{org}/events": {"parameters": org, "get": _op("WorkOS-style events, oldest first", ok, **ctl)},
        "/_mock/journal": {"get": _op("Request journal of every worker process, oldest first (credentials "
                                      "redacted)", ok, **ctl) | {"parameters": [
            {"name": "org", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}}]}},
        "/_mock/faults": {"get": _op("Active faults", {"200": _resp("faults")}, errors=("401",), **ctl),
                          "put": _op("Replace the faults {faults: [...]}; they apply in every worker process, a "
                                     "count across all of them", {"200": _resp("faults")}, **ctl),
                          "delete": _op("Clear the faults", gone, errors=("401",), **ctl)},
        "/_mock/reset": {"post": _op("Back to the start state (every worker's journal and faults cleared)", gone,
                                     errors=("401",), **ctl)},
        "/_mock/orgs/{org}/auth": {"parameters": org, "put": _op(
            "The org's SCIM auth mode {mode: bearer|basic|header|oauth2-client-credentials|oauth2-refresh, secret, "
            "username, header, client_id, lifetime}", {"200": _resp("the mode (no secret)")}, **ctl)},
        "/_mock/orgs/{org}/auth/expire": {"parameters": org, "post": _op(
            "Every OAuth access token of the org expires now", {"200": _resp("how many")}, **ctl)},
    }


def _oauth_paths() -> dict[str, Any]:
    form = {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "grant_type": {"enum": ["client_credentials", "refresh_token"]}, "refresh_token": {"type": "string"},
        "scope": {"type": "string"}, "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}
    error = {"description": "RFC 6749 §5.2 error {error, error_description}",
             "content": {"application/json": {"schema": {"type": "object"}}}}
    return {"/oauth2/token": {"post": {
        "summary": "OAuth 2 token endpoint: client credentials (RFC 6749 §4.4) and refresh (§6) grants; the "
                   "client authenticates by HTTP Basic or the form (§2.3.1)", "tags": ["OAuth"], "security": [],
        "requestBody": {"required": True, "content": form},
        "responses": {"200": {"description": "access_token, token_type, expires_in (refresh_token: rotated)",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      "400": error, "401": error}}}}


def _discovery_paths() -> dict[str, Any]:
    scim = dict(tag="SCIM discovery", security="scimToken")
    doc = {"200": {"description": "RFC 7644 §4 document", "content": {SCIM_JSON: {"schema": {"type": "object"}}}}}
    one = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "/scim/v2/ServiceProviderConfig": {"get": _op("Service provider configuration (RFC 7643 §5)", doc,
                                                      errors=("401",), **scim)},
        "/scim/v2/ResourceTypes": {"get": _op("Resource types (RFC 7643 §6)", doc, errors=("401",), **scim)},
        "/scim/v2/ResourceTypes/{id}": {"parameters": one, "get": _op("One resource type", doc,
                                                                      errors=("401", "404"), **scim)},
        "/scim/v2/Schemas": {"get": _op("Schemas (RFC 7643 §7)", doc, errors=("401",), **scim)},
        "/scim/v2/Schemas/{id}": {"parameters": one, "get": _op("One schema (by URN)", doc, errors=("401", "404"),
                                                                **scim)},
    }


def openapi_document(server_url: str, *, max_results: int, max_content_length: int | None,
                     json_depth: int) -> dict[str, Any]:
    """The whole document; `server_url` is the mock's root (scheme://host:port)."""
    limits = _limits(max_results, max_content_length, json_depth)
    body = f"{max_content_length} bytes" if max_content_length else "unlimited"
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Mock Clockwise SCIM 2.0 service provider",
            "version": "1.0",
            "description": (
                "SCIM 2.0 (RFC 7643/7644) under /scim/v2, authenticated by an org's bearer token; the mock's "
                "control plane under /_mock, authenticated by the admin token. Every error is a SCIM Error body "
                "(application/scim+json). Limits: request body "
                f"{body} (413); JSON nesting {limits['jsonDepth']} levels; filter and PATCH path "
                f"{limits['filterLength']} characters and {limits['filterDepth']} levels of brackets; "
                f"{limits['patchOperations']} PATCH operations; count at most {max_results}. Bulk, /Me and "
                "root-level /.search answer 501."),
            "x-limits": limits,
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "paths": {**_resource_paths("User"), **_resource_paths("Group"), **_discovery_paths(), **_control_paths(),
                  **_oauth_paths()},
        "components": _components(max_results),
    }
