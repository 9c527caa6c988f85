"""A resource's representations, built here and nowhere else:

- the stored form (`stored_form`, `stored_text`): what the store keeps as JSON text. It is already
  the resource's default view (validation.py canonicalises it; `password`, `groups` and `meta` are
  never stored), which is what lets the import page be spliced from it;
- the wire form (`wire_form`, `resource_from_row`): the stored data, a group's `members`, then
  `meta` with the version as a weak ETag; a user's read-only `groups` (`attach_groups`); and the
  host-dependent URLs, meta.location and the `$ref`s (`decorate`);
- the default view (`default_view`), the ListResponse (`list_response`) and Okta's import page
  spliced from stored text (`import_page_text`), byte for byte what serialising the decorated
  resources would give.

No storage and no web imports: the store and the views call these.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import orjson

from mock_clockwise.schema import ResourceType

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


# ---------------------------------------------------------------------------- stored form
def stored_form(rid: str, resource: dict[str, Any], *drop: str) -> dict[str, Any]:
    """A validated resource as the store keeps it: `schemas`, `id`, then the rest in order (meta
    is added on the way out). `password` is write-only (RFC 7643 §4.1.1, returned "never"): the
    mock keeps none; `drop` names further attributes that are not stored (a user's `groups`)."""
    out: dict[str, Any] = {"schemas": resource.get("schemas", []), "id": rid}
    out.update((k, v) for k, v in resource.items() if k not in ("schemas", "id", "meta", "password", *drop))
    return out


def to_json(data: Any) -> str:
    """JSON text of a document the mock built (a stored resource, an event): compact, non-ASCII
    as UTF-8 (RFC 8259 §8.1), by orjson (~10x json.dumps). What orjson refuses (an integer beyond
    64 bits, a lone surrogate; neither passes the request decoder) takes json's way instead."""
    try:
        return orjson.dumps(data).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(data)


def from_json(text: str | bytes) -> Any:
    """A document from JSON text the mock wrote itself (stored resources, events). Never for
    request bodies: orjson reads an integer beyond 64 bits as a float, where wire.decode_json
    answers 400 (RFC 7644 §3.12)."""
    return orjson.loads(text)


def stored_text(data: dict[str, Any]) -> str:
    """The JSON text of a stored resource (import_page_text splices it as it is)."""
    return to_json(data)


# ---------------------------------------------------------------------------- wire form
def etag(version: int) -> str:
    # RFC 7644 §3.14: versions are (weak) entity tags; meta.version equals the ETag header.
    return f'W/"{version}"'


def meta(kind: str, created: str, last_modified: str, version: int) -> dict[str, Any]:
    """RFC 7643 §3.1 `meta`, without `location` (that depends on the request's host: `decorate`)."""
    return {"resourceType": kind, "created": created, "lastModified": last_modified, "version": etag(version)}


def wire_form(kind: str, data: dict[str, Any], created: str, last_modified: str, version: int,
              members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A resource as it is answered: its stored data, a group's members, then meta (kept last)."""
    out = dict(data)
    if members is not None:
        out["members"] = members
    out["meta"] = meta(kind, created, last_modified, version)
    return out


def resource_from_row(kind: str, row: Mapping[str, Any], members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The wire form of a stored row (columns data, created, last_modified, version)."""
    return wire_form(kind, from_json(row["data"]), row["created"], row["last_modified"], row["version"], members)


def member_value(user_id: str, display: str) -> dict[str, Any]:
    """One value of a group's `members` (RFC 7643 §4.2); only Users are members."""
    return {"value": user_id, "display": display, "type": "User"}


def group_value(group_id: str, display: str) -> dict[str, Any]:
    # RFC 7643 §4.1.2: a user's `groups` is read-only and reflects direct memberships.
    return {"value": group_id, "display": display, "type": "direct"}


def attach_groups(users: list[dict[str, Any]], groups: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Put each user's `groups` (when it has any) before its meta, in place; returns `users`."""
    for user in users:
        if groups[user["id"]]:
            user_meta = user.pop("meta", None)
            user["groups"] = groups[user["id"]]
            if user_meta is not None:
                user["meta"] = user_meta  # keep meta last
    return users


def _url(base: str, endpoint: str, rid: str) -> str:
    return f"{base}{endpoint}/{rid}"


def decorate(resource: dict[str, Any], rtype: ResourceType, base: str) -> dict[str, Any]:
    """Add the host-dependent parts, in place: meta.location, members[].$ref, groups[].$ref."""
    resource["meta"] = {**resource.get("meta", {}), "location": _url(base, rtype.endpoint, resource["id"])}
    if rtype.name == "Group":
        for m in resource.get("members") or []:
            m["$ref"] = _url(base, "/Users", m["value"])
    else:
        for grp in resource.get("groups") or []:
            grp["$ref"] = _url(base, "/Groups", grp["value"])
    return resource


def default_view(resource: dict[str, Any], rtype: ResourceType) -> dict[str, Any]:
    """What `projection.project(resource, rtype, None, None)` returns, sharing the values (no copies):
    RFC 7643 §2.2 `returned: never` (password) left out, extensions under their canonical URN."""
    never = rtype.never_returned
    out: dict[str, Any] = {}
    for key, value in resource.items():
        # Extension URNs contain ':'; plain names skip the URN lookup (`schemas`/`id` are never "never").
        urn = rtype.extension_urn(key) if ":" in key else None
        if urn is None:
            if key.lower() not in never:
                out[key] = value
        elif isinstance(value, dict) and value:
            # An extension object is returned under its canonical URN; empty or non-object → omitted.
            out[urn] = value
    return out


# ---------------------------------------------------------------------------- list responses
def _list_head(total: int, start: int, items: int) -> dict[str, Any]:
    # RFC 7644 §3.4.2: integers; Resources always present ([] when empty — Okta expects an array).
    return {"schemas": [LIST_RESPONSE], "totalResults": total, "startIndex": start, "itemsPerPage": items}


def list_response(total: int, start: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 7644 §3.4.2 ListResponse of one page."""
    return {**_list_head(total, start, len(resources)), "Resources": resources}


def import_page_text(total: int, start: int, rows: list[tuple[Any, ...]], groups: Mapping[str, list[dict[str, Any]]],
                     base: str) -> str:
    """Okta's import page (no filter, sort or projection, RFC 7644 §3.4.2.4) as JSON text, spliced
    from the stored text of each user (`rows` and `groups` from Store.user_page_text: id, stored text,
    created, lastModified, version; each user's groups by id). The stored text is the default view (see the
    module doc); it is closed here after the `groups` and `meta` that attach_groups, wire_form and decorate would add.
    Ids are the store's UUIDs and the dates its own ISO strings, so only the base URL and the groups
    need JSON escaping."""
    users = to_json(f"{base}/Users/")[:-1]
    items = []
    for uid, text, created, modified, version, *_ in rows:
        extra = ""
        user_groups = groups.get(uid)
        if user_groups:
            for grp in user_groups:
                grp["$ref"] = _url(base, "/Groups", grp["value"])
            extra = f'"groups":{to_json(user_groups)},'
        items.append(f'{text[:-1]},{extra}"meta":{{"resourceType":"User","created":"{created}",'
                     f'"lastModified":"{modified}","version":"W/\\"{version}\\"","location":{users}{uid}"}}}}')
    head = to_json(_list_head(total, start, len(items)))
    return f'{head[:-1]},"Resources":[{",".join(items)}]}}'
