"""Users and Groups: create, read, replace, delete, and the meta attributes (RFC 7644 §3.3–3.6; RFC 7643 §3.1)."""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from harness.conformance.context import GROUP_URN, USER_URN, Ctx, abort, dicts, dig
from harness.conformance.discovery import resources
from harness.conformance.stored import Stored, stored
from harness.prober import path_id


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def unknown_id() -> str:
    return f"scimh-missing-{secrets.token_hex(8)}"


def meta_of(doc: Any) -> dict[str, Any]:
    return doc.get("meta") if isinstance(doc, dict) and isinstance(doc.get("meta"), dict) else {}


def run_users(ctx: Ctx) -> None:
    body = ctx.user_body("crud", title="Original Title", nickName="Nick")
    doc = _create_user(ctx, body)
    uid = path_id(doc["id"])
    _second_user_and_conflicts(ctx, body, doc)
    _read_back(ctx, body, doc, uid)
    _stores_declared(ctx)
    _entra_roles(ctx)
    _replace(ctx, body, doc, uid)
    _delete(ctx, body, doc, uid)


def _create_user(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    with ctx.step("create a user", needed=True):
        ex, doc = ctx.create("Users", body)
        ctx.standard(ex, 201, "User")
        # RFC 7644 §3.3: 201 SHALL; the body (and so the id in it) only SHOULD be the resource.
        ctx.check("rfc.users.create.201", ex.status == 201, f"answered {ex.status}", ex)
        if doc is None:
            abort(f"no user id in the {ex.status} answer; the rest of this area depends on it")
        sent = (body["userName"], body["name"]["givenName"], body["emails"][0]["value"], True)
        answer = ex.json()  # the 201 body itself, not a read-back
        emails = dicts(dig(answer, "emails"))
        got = (dig(answer, "userName"), dig(answer, "name", "givenName"), emails[0].get("value") if emails else None,
               dig(answer, "active"))
        ctx.check("rfc.users.create.returns-attributes", sent == got, "the 201 body holds what was sent" if sent == got
                  else f"sent {sent}, the body has {got}", ex)
        meta = meta_of(doc)
        problems = [k for k in ("created", "lastModified") if parse_time(meta.get(k)) is None]
        if not isinstance(meta.get("location"), str) or not meta.get("location"):
            problems.append("location")
        ctx.check("rfc.users.create.meta", not problems, "meta.created, lastModified and location are set" if not problems
                  else f"meta lacks a valid {', '.join(problems)}: {meta}", ex)
    assert doc is not None  # the step stops the area otherwise
    return doc


def _second_user_and_conflicts(ctx: Ctx, body: dict[str, Any], doc: dict[str, Any]) -> None:
    with ctx.step("a second user gets another id; duplicates conflict"):
        ex2, doc2 = ctx.create("Users", ctx.user_body("crud2"))
        ctx.standard(ex2, 201, "User")
        ok = doc2 is not None and doc2.get("id") != doc["id"]
        ctx.check("rfc.users.create.unique-ids", ok, f"ids {doc['id']} and {doc2.get('id') if doc2 else None}", ex2)
        # Only userName may clash: other emails, so a server unique on email cannot pass for the wrong reason.
        ex3, dup = ctx.create("Users", {**body, "emails": [{"value": f"{body['userName']}-dup@example.org", "type": "work"}]})
        ctx.standard(ex3, 409)
        scim_type = (ex3.json() or {}).get("scimType") if isinstance(ex3.json(), dict) else None
        ctx.check("rfc.users.create.conflict-409", ex3.status == 409, f"a duplicate userName answered {ex3.status}", ex3)
        ctx.check("rfc.errors.conflict-scim-type", ex3.status != 409 or scim_type == "uniqueness",
                  f"scimType {scim_type!r}", ex3)
        ex4, dup2 = ctx.create("Users", {**body, "userName": body["userName"].upper(),
                                         "emails": [{"value": f"{body['userName']}-case@example.org", "type": "work"}]})
        ctx.check("rfc.users.create.conflict-case-insensitive", ex4.status == 409,
                  f"the upper-case userName answered {ex4.status}" + ("" if ex4.status == 409 else " (userName is caseExact: false)"), ex4)


def _read_back(ctx: Ctx, body: dict[str, Any], doc: dict[str, Any], uid: str) -> None:
    with ctx.step("read it back"):
        ex, got = ctx.get_json(f"/Users/{uid}")
        ctx.standard(ex, 200, "User")
        ok = ex.status == 200 and isinstance(got, dict) and got.get("id") == doc["id"] and got.get("userName") == body["userName"]
        ctx.check("rfc.users.get.200", ok, f"answered {ex.status}" + ("" if ok else f" with {str(got)[:200]}"), ex)
        location = meta_of(doc).get("location")
        if isinstance(location, str) and location.startswith(("http://", "https://")) and not ctx.prober.same_origin(location):
            ctx.skip("rfc.users.get.location", f"meta.location {location[:200]!r} is on another origin than the SCIM "
                     "base URL (a proxy?); not followed, the token goes to the target only")
        elif isinstance(location, str) and location.startswith(("http://", "https://")):
            exl = ctx.send("GET", location)
            same = exl.status == 200 and isinstance(exl.json(), dict) and exl.json().get("id") == doc["id"]
            ctx.check("rfc.users.get.location", same, f"GET {location} answered {exl.status}", exl)
        else:
            ctx.check("rfc.users.get.location", False, f"meta.location {location!r} is not an absolute URI", ex)
        ex404 = ctx.send("GET", f"/Users/{unknown_id()}")
        ctx.standard(ex404, 404)
        ctx.check("rfc.users.get.unknown-404", ex404.status == 404, f"answered {ex404.status}", ex404)


def _stores_declared(ctx: Ctx) -> None:
    with ctx.step("the optional attributes it declares are stored"):
        kept = stored(ctx)
        if not kept.known:
            ctx.skip("rfc.users.create.stores-declared", "the probe user could not be created and read back")
            return
        dropped = sorted(kept.declared - kept.kept)
        ctx.check("rfc.users.create.stores-declared", not dropped,
                  f"declared and stored: {sorted(kept.declared & kept.kept)}" if not dropped else
                  f"declared in /Schemas, sent on create, absent on read-back: {dropped}", kept.exchange)


def _entra_roles(ctx: Ctx) -> None:
    with ctx.step('Entra\'s roles shape (primary "True", a string)'):
        core = ctx.schemas.get(USER_URN.lower()) or {}
        if not any(str(a.get("name", "")).lower() == "roles" for a in dicts(core.get("attributes"))):
            ctx.skip("rfc.users.create.entra-roles", "the User schema in /Schemas declares no roles attribute")
            return
        # The RFC form first (primary a boolean): the check judges Entra's shape, not whether roles are kept at all.
        rfc_role = {"primary": True, "value": "ScimhRfcRole"}
        _, kept = _create_with_roles(ctx, "roles-rfc", rfc_role)
        if kept is None or "ScimhRfcRole" not in kept:
            ctx.skip("rfc.users.create.entra-roles", f"roles {json.dumps([rfc_role])} (RFC form) were not stored "
                     f"(read back: {kept!r}): Entra's form is not judged")
            return
        # Entra's app role provisioning sends primary as the string "True" (not in idp-wire.md: inferred).
        role = {"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "ScimhRole"}
        ex, values = _create_with_roles(ctx, "roles", role)
        sent = f"POST /Users with roles {json.dumps([role])}"
        ok = values is not None and "ScimhRole" in values
        ctx.check("rfc.users.create.entra-roles", ok, f"{sent} answered {ex.status}" + (
            f"; read back, roles values {values}" if values is not None else f": {str(ex.json())[:200]}"), ex)


def _create_with_roles(ctx: Ctx, label: str, role: dict[str, Any]) -> tuple[Any, list[Any] | None]:
    """Create a user with this role; (the create's exchange, the role values read back, or None)."""
    ex, doc = ctx.create("Users", ctx.user_body(label, roles=[role]))
    if doc is None:
        return ex, None
    ctx.standard(ex, 201, "User")
    _, got = ctx.get_json(f"/Users/{path_id(doc['id'])}")
    return ex, [r.get("value") for r in dicts(dig(got, "roles"))]


def _replace(ctx: Ctx, body: dict[str, Any], doc: dict[str, Any], uid: str) -> None:
    with ctx.step("replace it with PUT"):
        kept = stored(ctx)
        replacement = {k: v for k, v in body.items() if k not in ("title",)}
        replacement = {**replacement, "id": "scimh-other-id", "name": {"givenName": "Replaced", "familyName": "Scimh"},
                       "nickName": "Renamed"}
        ex = ctx.send("PUT", f"/Users/{uid}", body=replacement)
        ctx.standard(ex, 200, "User")
        ctx.check("rfc.users.put.200", ex.status == 200, f"answered {ex.status}", ex)
        if ex.status is None or ex.status >= 300:  # RFC 7644 §3.5.1: what the PUT did is judged only when it succeeded
            for cid in ("rfc.users.put.replaces", "rfc.users.put.omitted", "rfc.users.put.readonly-ignored",
                        "rfc.users.meta.last-modified"):
                ctx.skip(cid, f"the PUT answered {ex.status} (see rfc.users.put.200): nothing was replaced to judge")
        else:
            _judge_replaced(ctx, doc, uid, kept)
        _put_projection(ctx, replacement, uid)
        ex404 = ctx.send("PUT", f"/Users/{unknown_id()}", body={**replacement, "userName": ctx.name("ghost")})
        ctx.standard(ex404, 404)
        ctx.check("rfc.users.put.unknown-404", ex404.status == 404, f"answered {ex404.status}", ex404)


def _put_projection(ctx: Ctx, replacement: dict[str, Any], uid: str) -> None:
    """RFC 7644 §3.9: attributes/excludedAttributes shape the response only; a PUT stores its whole body."""
    cid = "rfc.users.put.projection-keeps-unlisted"
    if ctx.status_of("rfc.users.put.replaces") != "pass":
        ctx.skip(cid, "the same PUT without ?attributes did not hold (see rfc.users.put.replaces)")
        return
    body = {**replacement, "name": {"givenName": "ProjectedPut", "familyName": "Scimh"}}
    ex = ctx.send("PUT", f"/Users/{uid}", body=body, params={"attributes": "userName"})
    exg, after = ctx.get_json(f"/Users/{uid}")
    sent_emails = sorted(str(e.get("value")) for e in dicts(body.get("emails")))
    got_emails = sorted(str(e.get("value")) for e in dicts(dig(after, "emails")))
    lost = [k for k, ok in (("name.givenName", dig(after, "name", "givenName") == "ProjectedPut"),
                            ("emails", got_emails == sent_emails), ("active", dig(after, "active") is True)) if not ok]
    ctx.check(cid, ex.status == 200 and not lost, f"PUT /Users/{{id}}?attributes=userName answered {ex.status}; read back, "
              + (f"not as sent: {lost}" if lost else "every attribute sent is stored"), exg if ex.status == 200 else ex)


def _judge_replaced(ctx: Ctx, doc: dict[str, Any], uid: str, kept: Stored) -> None:
    exg, after = ctx.get_json(f"/Users/{uid}")
    if not isinstance(after, dict):
        abort(f"cannot read the user after PUT ({exg.status})")
    # Judged only on what the server stores (name always; nickName when kept: harness.conformance.stored).
    ok = dig(after, "name", "givenName") == "Replaced" and (not kept.keeps("nickName") or after.get("nickName") == "Renamed")
    shown = f"name {after.get('name')}" + (f", nickName {after.get('nickName')!r}" if kept.keeps("nickName") else "")
    ctx.check("rfc.users.put.replaces", ok, ("the PUT values are stored: " if ok else "after the PUT: ") + shown, exg)
    if not kept.keeps("title"):
        ctx.skip("rfc.users.put.omitted", kept.why_not("title"))
    else:
        cleared = "title" not in after or after.get("title") in (None, "")
        ctx.check("rfc.users.put.omitted", cleared, "the omitted title was cleared" if cleared else
                  f"the omitted title was kept ({after.get('title')!r}); RFC 7644 §3.5.1 allows either", exg)
    ctx.check("rfc.users.put.readonly-ignored", after.get("id") == doc["id"], f"id is {after.get('id')!r}", exg)
    m0, m1 = meta_of(doc), meta_of(after)
    c0, c1 = parse_time(m0.get("created")), parse_time(m1.get("created"))
    l0, l1 = parse_time(m0.get("lastModified")), parse_time(m1.get("lastModified"))
    ok = c0 is not None and c0 == c1 and l0 is not None and l1 is not None and l1 >= l0 and l1 >= c1
    ctx.check("rfc.users.meta.last-modified", ok, f"created {m0.get('created')} -> {m1.get('created')}, "
              f"lastModified {m0.get('lastModified')} -> {m1.get('lastModified')}", exg)
    last_modified_changes(ctx, "rfc.users.meta.last-modified-changes", m0, m1, exg)


def last_modified_changes(ctx: Ctx, cid: str, m0: dict[str, Any], m1: dict[str, Any], ex: Any, *, verb: str = "PUT",
                          subject: str | None = None) -> None:
    """RFC 7643 §3.1: lastModified is "the most recent DateTime that the details of this resource were
    updated": a successful write (PUT, PATCH) moves it (staying equal is a failure, unless whole-second
    stamps cannot tell the two writes apart)."""
    l0, l1 = parse_time(m0.get("lastModified")), parse_time(m1.get("lastModified"))
    shown = f"lastModified {m0.get('lastModified')} -> {m1.get('lastModified')} after a successful {verb}"
    if l0 is None or l1 is None:
        ctx.skip(cid, f"{shown}: not dateTimes (see the meta checks)", subject=subject)
    elif l1 == l0 and l0.microsecond == 0 and "." not in str(m0.get("lastModified")):
        ctx.skip(cid, f"{shown}: whole-second timestamps, the write may have been within the same second", subject=subject)
    else:
        ctx.check(cid, l1 > l0, shown, ex, subject=subject)


def _delete(ctx: Ctx, body: dict[str, Any], doc: dict[str, Any], uid: str) -> None:
    with ctx.step("delete it"):
        ex = ctx.send("DELETE", f"/Users/{uid}")
        ctx.standard(ex, 204)
        ctx.check("rfc.users.delete.204", ex.status == 204, f"answered {ex.status}", ex)
        if ex.status in (200, 204):
            ctx.prober.forget("Users", doc["id"])
        else:  # RFC 7644 §3.6: what a delete leaves is judged only after a delete that succeeded
            for cid in ("rfc.users.delete.then-404", "rfc.users.delete.omitted-from-queries"):
                ctx.skip(cid, f"the DELETE answered {ex.status} (see rfc.users.delete.204)")
            _delete_unknown(ctx)
            return
        ex2 = ctx.send("GET", f"/Users/{uid}")
        ctx.standard(ex2, 404)
        ctx.check("rfc.users.delete.then-404", ex2.status == 404, f"GET after DELETE answered {ex2.status}", ex2)
        flt = f'userName eq "{body["userName"]}"'
        ex3, lst = ctx.query("Users", flt)
        # RFC 7644 §3.6: judged by id — the upper-case duplicate this area tried to create may exist
        # (a server whose userName is case-sensitive), and it rightly matches the caseExact=false filter.
        ids = [r.get("id") for r in resources(lst)]
        ctx.check("rfc.users.delete.omitted-from-queries", ex3.status == 200 and doc["id"] not in ids,
                  f"filter {flt!r} answered {ex3.status}" + (f" with ids {ids}" if ex3.status == 200 else "")
                  + (f"; the deleted id {doc['id']!r} is among them" if doc["id"] in ids else ""), ex3)
        _delete_unknown(ctx)


def _delete_unknown(ctx: Ctx) -> None:
    ex4 = ctx.send("DELETE", f"/Users/{unknown_id()}")
    ctx.standard(ex4, 404)
    ctx.check("rfc.users.delete.unknown-404", ex4.status == 404, f"answered {ex4.status}", ex4)


def member_ids(doc: Any) -> list[Any]:
    return [m.get("value") for m in dicts(dig(doc, "members"))]


def run_groups(ctx: Ctx) -> None:
    user, user2, grp, name = _create_group(ctx)
    gid = path_id(grp["id"])
    _read_group(ctx, gid, name, user, grp)
    _replace_group(ctx, gid, user2)
    _malformed_member(ctx, gid)
    _delete_group(ctx, user2)


def _create_group(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
    with ctx.step("create a group with a member", needed=True):
        exu, user = ctx.create("Users", ctx.user_body("member"))
        exu2, user2 = ctx.create("Users", ctx.user_body("member2"))
        if user is None or user2 is None:
            abort(f"could not create the member users ({exu.status}, {exu2.status})")
        name = ctx.name("group")
        body = {"schemas": [GROUP_URN], "displayName": name, "members": [{"value": user["id"]}]}
        ex, grp = ctx.create("Groups", body)
        ctx.standard(ex, 201, "Group")
        ctx.check("rfc.groups.create.201", ex.status == 201, f"answered {ex.status}", ex)
        if grp is None:
            abort(f"no group id in the {ex.status} answer")
        meta = meta_of(grp)
        problems = [k for k in ("created", "lastModified") if parse_time(meta.get(k)) is None]
        ctx.check("rfc.groups.create.meta", not problems, "meta.created and lastModified are set" if not problems
                  else f"meta lacks a valid {', '.join(problems)}: {meta}", ex)
        unique = _displayname_unique(ctx)
        ex2, dup = ctx.create("Groups", {"schemas": [GROUP_URN], "displayName": name})
        if unique:
            ctx.standard(ex2, 409)
            ctx.check("rfc.groups.create.conflict-409", ex2.status == 409, f"a duplicate displayName answered {ex2.status}", ex2)
        else:
            ctx.skip("rfc.groups.create.conflict-409", "Group.displayName is not declared unique in /Schemas")
    assert user is not None and user2 is not None and grp is not None  # else the step stopped the area
    return user, user2, grp, name


def _read_group(ctx: Ctx, gid: str, name: str, user: dict[str, Any], grp: dict[str, Any]) -> None:
    with ctx.step("read the group"):
        ex, got = ctx.get_json(f"/Groups/{gid}")
        ctx.standard(ex, 200, "Group")
        ctx.check("rfc.groups.get.200", ex.status == 200 and isinstance(got, dict) and got.get("displayName") == name,
                  f"answered {ex.status}", ex)
        ctx.check("rfc.groups.members.value", member_ids(got) == [user["id"]], f"members {member_ids(got)}", ex)
        ex404 = ctx.send("GET", f"/Groups/{unknown_id()}")
        ctx.standard(ex404, 404)
        ctx.check("rfc.groups.get.unknown-404", ex404.status == 404, f"answered {ex404.status}", ex404)
        declares_groups = any(str(a.get("name", "")).lower() == "groups"
                              for a in dicts(dig(ctx.schemas.get(USER_URN.lower()), "attributes")))
        if declares_groups:
            exu3, u = ctx.get_json(f"/Users/{path_id(user['id'])}")
            values = [g.get("value") for g in dicts(dig(u, "groups"))]
            ctx.check("rfc.groups.user.groups", grp["id"] in values, f"User.groups holds {values}", exu3)
        else:
            ctx.skip("rfc.groups.user.groups", "the User schema does not declare groups")


def _replace_group(ctx: Ctx, gid: str, user2: dict[str, Any]) -> None:
    with ctx.step("replace the group with PUT"):
        ex0, before = ctx.get_json(f"/Groups/{gid}")
        new_name = ctx.name("group-renamed")
        ex = ctx.send("PUT", f"/Groups/{gid}", body={"schemas": [GROUP_URN], "displayName": new_name,
                                                      "members": [{"value": user2["id"]}]})
        ctx.standard(ex, 200, "Group")
        exg, got = ctx.get_json(f"/Groups/{gid}")
        ok = ex.status == 200 and isinstance(got, dict) and got.get("displayName") == new_name and member_ids(got) == [user2["id"]]
        ctx.check("rfc.groups.put.200", ok, f"answered {ex.status}; now {got.get('displayName') if isinstance(got, dict) else None!r} "
                  f"with members {member_ids(got)}", exg)
        if ex.status is None or ex.status >= 300 or not isinstance(before, dict):
            ctx.skip("rfc.groups.meta.last-modified-changes", f"the PUT answered {ex.status} (see rfc.groups.put.200)")
        else:
            last_modified_changes(ctx, "rfc.groups.meta.last-modified-changes", meta_of(before), meta_of(got), exg)


def _malformed_member(ctx: Ctx, gid: str) -> None:
    with ctx.step("a malformed member id is a client error"):
        bad = "scimh-bad-id-%"
        ex, grp = ctx.create("Groups", {"schemas": [GROUP_URN], "displayName": ctx.name("badmember"), "members": [{"value": bad}]})
        # RFC 7644 §3.12: a request the server cannot accept is a 4xx (400 invalidValue), never a 5xx. Accepting
        # it is not judged: no MUST makes a server check that member values reference existing resources.
        kept = grp is not None and bad in member_ids(grp)
        ok = ex.status is not None and ex.status < 500
        ctx.check("rfc.groups.members.malformed-id", ok, f"POST /Groups with members [{{value: {bad!r}}}] answered {ex.status}"
                  + ("; accepted, the member kept" if kept else ""), ex)


def _delete_group(ctx: Ctx, user2: dict[str, Any]) -> None:
    with ctx.step("delete a group, keep its users"):
        exg, tmp = ctx.create("Groups", {"schemas": [GROUP_URN], "displayName": ctx.name("doomed"),
                                         "members": [{"value": user2["id"]}]})
        if tmp is None:
            abort(f"could not create the group to delete ({exg.status})")
        ex = ctx.send("DELETE", f"/Groups/{path_id(tmp['id'])}")
        ctx.standard(ex, 204)
        if ex.status in (200, 204):
            ctx.prober.forget("Groups", tmp["id"])
        ex2 = ctx.send("GET", f"/Groups/{path_id(tmp['id'])}")
        ctx.check("rfc.groups.delete.204", ex.status == 204 and ex2.status == 404, f"DELETE {ex.status}, then GET {ex2.status}", ex)
        ex3 = ctx.send("GET", f"/Users/{path_id(user2['id'])}")
        ctx.check("rfc.groups.delete.keeps-users", ex3.status == 200, f"the member answered {ex3.status}", ex3)


def _displayname_unique(ctx: Ctx) -> bool:
    group = ctx.schemas.get(GROUP_URN.lower()) or {}
    for a in dicts(group.get("attributes")):
        if str(a.get("name", "")).lower() == "displayname":
            return a.get("uniqueness") in ("server", "global")
    return False
