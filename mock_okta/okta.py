"""Okta's dialects: OIN apps (the default) and App Integration Wizard apps (PUT instead of PATCH).

Every shape here is from ``shared/reference/idp-wire.md`` "Okta (OIN app, SCIM 2.0)".
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mock_okta.dialect import Dialect
from mock_okta.people import CUSTOM_URN, OktaGroup, Person
from mock_okta.wire import (ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA, Call, Member, Reader, filter_value, group_path, patch,
                            user_path)


class OktaDialect(Dialect):
    """Okta OIN app behaviour (the default)."""

    name = "okta"
    # Okta never sends DELETE /Users: de-provisioning deactivates.
    deprovisioning = "deactivating"
    # idp-wire.md, Reactivate: "On re-assignment Okta follows the activation with a profile push (GET + PUT)".
    reassign_pushes_profile = True

    # --- headers and queries --------------------------------------------------------
    def headers(self, has_body: bool) -> dict[str, str]:
        # Okta sends these on every request; Content-Type only when there is a body.
        h = {
            "User-Agent": "Okta SCIM Client 1.0.0",
            "Accept": "application/scim+json",
            "Accept-Charset": "utf-8",
            "Accept-Encoding": "gzip,deflate",
        }
        if has_body:
            h["Content-Type"] = "application/scim+json; charset=utf-8"
        return h

    def user_lookup_query(self, user_name: str) -> str:
        # Okta: `eq` on userName, spaces as %20, then startIndex=1&count=100, in that order.
        expr = f"userName eq {filter_value(user_name)}"
        return f"filter={quote(expr, safe='')}&startIndex=1&count=100"

    def group_lookup_query(self, display_name: str) -> str:
        expr = f"displayName eq {filter_value(display_name)}"
        return f"filter={quote(expr, safe='')}&startIndex=1&count=100"

    # --- user bodies ----------------------------------------------------------------
    def create_user(self, p: Person) -> dict[str, Any]:
        # Okta's POST /Users shape, key for key (idp-wire.md "Assign a user to the app").
        return {"schemas": self.schemas(p), **self.profile(p), "password": p.password, "active": True}

    def schemas(self, p: Person) -> list[str]:
        """The core schema, and the extension URNs the person's mapped attributes are sent under."""
        ext = self.extensions(p)
        return [USER_SCHEMA] + list(ext)

    def profile(self, p: Person) -> dict[str, Any]:
        """Okta's mapped profile, in the order of its POST /Users body."""
        return {
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"primary": True, "value": p.email, "type": "work"}],
            "displayName": p.display_name,
            "locale": p.locale,
            "externalId": p.okta_id,
            **self.extras(p),
            **self.extensions(p),
            "groups": [],
        }

    def extras(self, p: Person) -> dict[str, Any]:
        """Core attributes added in Okta's Profile Editor, sent only when mapped (non-empty).

        # idp-wire.md: "Attributes added in Okta's Profile Editor are sent in POST/PUT bodies". Their
        # place in the body and the multi-valued shapes are not published: inferred from RFC 7643 §4.1.2.
        """
        out: dict[str, Any] = {}
        if p.title:
            out["title"] = p.title
        if p.preferred_language:
            out["preferredLanguage"] = p.preferred_language
        if p.phone_numbers:
            out["phoneNumbers"] = [{"value": v, "type": t} for t, v in p.phone_numbers.items() if v]
        if p.address:
            out["addresses"] = [{**p.address, "type": "work"}]
        return out

    def extensions(self, p: Person) -> dict[str, Any]:
        """Enterprise attributes under the enterprise URN (idp-wire.md: e.g. department, employeeNumber,
        manager), sent for a "full" profile or a manager; custom attributes under their URN (inferred:
        Okta's custom namespace shape is unpublished; the URN is listed in schemas[], RFC 7643 §3)."""
        out: dict[str, Any] = {}
        ent: dict[str, Any] = {}
        if p.full:
            ent = {k: v for k, v in (("employeeNumber", p.employee_number), ("department", p.department)) if v}
        if p.manager_id:
            # Inferred: Okta sends its managerId profile value; modelled as the manager's SCIM id.
            ent["manager"] = {"value": p.manager_id}
        if ent:
            out[ENTERPRISE] = ent
        if p.custom:
            out[CUSTOM_URN] = dict(p.custom)
        return out

    def apply_profile(self, received: dict[str, Any], p: Person) -> dict[str, Any]:
        """The received resource with Okta's mapped profile written over it.

        Keys keep the received order (new ones are appended); unmapped attributes, ``id``
        and ``meta`` stay as received.
        """
        obj = dict(received)
        obj["userName"] = p.login
        name = dict(obj.get("name") or {}) if isinstance(obj.get("name"), dict) else {}
        name["givenName"] = p.first_name
        name["familyName"] = p.last_name
        obj["name"] = name
        obj["emails"] = with_email(obj.get("emails"), p.email)
        obj["displayName"] = p.display_name
        obj["locale"] = p.locale
        obj["externalId"] = p.okta_id
        obj.update(self.extras(p))
        for urn, attrs in self.extensions(p).items():
            kept = obj.get(urn) if isinstance(obj.get(urn), dict) else {}
            obj[urn] = {**kept, **attrs}
        listed = obj.get("schemas") if isinstance(obj.get("schemas"), list) else [USER_SCHEMA]
        extra = [u for u in self.schemas(p) if u not in listed]
        if extra:
            obj["schemas"] = listed + extra
        return obj

    def profile_put(self, received: dict[str, Any], p: Person) -> dict[str, Any]:
        # Okta: the whole object with the changes, `active:true`, `groups:[]`, `meta` as received.
        obj = self.apply_profile(received, p)
        obj["active"] = True
        obj["groups"] = []
        return obj

    def link_put(self, received: dict[str, Any], p: Person) -> dict[str, Any]:
        """The PUT that pushes the profile onto a user found by the lookup.

        `active` stays as found: an inactive user is activated by the PATCH that follows.
        """
        obj = self.apply_profile(received, p)
        obj["groups"] = []
        return obj

    def active_body(self, active: bool) -> dict[str, Any]:
        # Okta: no path, lowercase op, a value object (reactivation by symmetry, inferred).
        return patch([{"op": "replace", "value": {"active": active}}])

    # --- group bodies ---------------------------------------------------------------
    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        return {"schemas": [GROUP_SCHEMA], "displayName": g.name, "members": []}

    def rename_body(self, scim_id: str, name: str) -> dict[str, Any]:
        return patch([{"op": "replace", "value": {"id": scim_id, "displayName": name}}])

    def membership_body(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        # Okta: one remove op per member (path filter), then one add op with the list.
        ops: list[dict[str, Any]] = [
            {"op": "remove", "path": f"members[value eq {filter_value(v)}]"} for v, _ in removes
        ]
        if adds:
            ops.append({"op": "add", "path": "members", "value": member_values(adds)})
        return patch(ops)

    def replace_members_body(self, members: list[Member]) -> dict[str, Any]:
        # Okta "Push now" overwrites the membership.
        return patch([{"op": "replace", "path": "members", "value": member_values(members)}])

    def full_group(self, scim_id: str, name: str, members: list[Member]) -> dict[str, Any]:
        return {"schemas": [GROUP_SCHEMA], "id": scim_id, "displayName": name, "members": member_values(members)}

    # --- sequences ------------------------------------------------------------------
    def test_connection(self, seed: int) -> list[Call]:
        # idp-wire.md "Test connection": GET /Users?startIndex=1&count=2 then GET /Groups?startIndex=1&count=100.
        return [Call("GET", "/Users", query="startIndex=1&count=2", doing="reading users"),
                Call("GET", "/Groups", query="startIndex=1&count=100", doing="reading groups")]

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        """GET /Users/{id}, then PUT of the profile onto what was read; then PATCH active:true when
        the user read was inactive.

        # idp-wire.md, Assign 4: captured traffic shows lookup → GET → PUT built on what was read;
        # the extra PATCH active:true for an inactive match is inferred.
        """
        received = read(Call("GET", user_path(scim_id), doing="reading"))
        calls = [Call("PUT", user_path(scim_id), self.link_put(received, p), doing="updating")]
        if received.get("active") is False:
            calls.append(self.set_active(p, scim_id, True, read))
        return calls

    def update_user(self, p: Person, scim_id: str, changed: dict[str, Any], read: Reader) -> Call:
        """GET /Users/{id}, then PUT of the received object with the profile applied."""
        received = read(Call("GET", user_path(scim_id), doing="reading"))
        return Call("PUT", user_path(scim_id), self.profile_put(received, p), doing="updating")

    def deprovision(self, p: Person, scim_id: str, read: Reader) -> Call:
        return self.set_active(p, scim_id, False, read)

    def schema_reads(self) -> list[Call]:
        # idp-wire.md: with "Import User Schema" Okta calls /Schemas and /ResourceTypes.
        return [Call("GET", "/Schemas", doing="reading the schemas of"),
                Call("GET", "/ResourceTypes", doing="reading the resource types of")]

    def password_push(self, p: Person, scim_id: str, read: Reader) -> Call:
        """Password sync, OIN apps: a PATCH (idp-wire.md: "PATCH for OIN apps, PUT for AIW (body
        inferred)"); inferred in Okta's own no-path value-object shape, as its deactivation."""
        return Call("PATCH", user_path(scim_id), patch([{"op": "replace", "value": {"password": p.password}}]),
                    doing="pushing the password of")



class AiwDialect(OktaDialect):
    """Okta App Integration Wizard apps: PUT of the full resource instead of every PATCH."""

    name = "okta-aiw"

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        """GET /Users/{id}, then one PUT of the profile onto what was read, with active:true."""
        # idp-wire.md, Assign 4 (lookup → GET → PUT); AIW apps use PUT for everything.
        received = read(Call("GET", user_path(scim_id), doing="reading"))
        return [Call("PUT", user_path(scim_id), self.profile_put(received, p), doing="updating")]

    def set_active(self, p: Person, scim_id: str, active: bool, read: Reader) -> Call:
        """GET /Users/{id}, then a full PUT of the object read back with ``active`` changed.

        # idp-wire.md, Deactivate: "AIW apps first GET /Users/{id}, then send a full PUT of the
        # object they read back with active:false" (captured traffic); reactivation by symmetry
        # (inferred).
        """
        doing = "activating" if active else "deactivating"
        received = read(Call("GET", user_path(scim_id), doing=doing))
        return Call("PUT", user_path(scim_id), {**received, "active": active}, doing=doing)

    def membership(self, scim_id: str, name: str, pushed: list[Member], removes: list[Member],
                   adds: list[Member], *, batch_size: int, rename: bool) -> list[Call]:
        """One PUT of the whole group (no batches, no rename PATCH)."""
        gone = {v for v, _ in removes}
        members = [m for m in pushed if m[0] not in gone] + [m for m in adds if m not in pushed]
        return [self.put_group(scim_id, name, members)]

    def push_now(self, scim_id: str, name: str, members: list[Member], *, rename: bool) -> list[Call]:
        return [self.put_group(scim_id, name, members)]

    def link_group(self, found: dict[str, Any], scim_id: str, name: str, members: list[Member], *,
                   batch_size: int, rename: bool) -> list[Call]:
        """One PUT of the group with the target's members kept and Okta's added (inferred: link is
        additive, idp-wire.md Group Push, and AIW apps PUT the whole group)."""
        kept = [(str(m["value"]), str(m.get("display", ""))) for m in found.get("members") or []
                if isinstance(m, dict) and m.get("value")]
        own = {v for v, _ in members}
        return [self.put_group(scim_id, name, [m for m in kept if m[0] not in own] + members)]

    def rename(self, scim_id: str, name: str, pushed: list[Member]) -> Call:
        return Call("PUT", group_path(scim_id), self.full_group(scim_id, name, pushed), doing="renaming")

    def password_push(self, p: Person, scim_id: str, read: Reader) -> Call:
        """Password sync, AIW apps: GET /Users/{id}, then a PUT of it with the password (body inferred)."""
        received = read(Call("GET", user_path(scim_id), doing="pushing the password of"))
        return Call("PUT", user_path(scim_id), {**received, "password": p.password}, doing="pushing the password of")

    def put_group(self, scim_id: str, name: str, members: list[Member]) -> Call:
        # idp-wire.md: AIW apps send PUT /Groups/{id} with full displayName and members instead of PATCH.
        return Call("PUT", group_path(scim_id), self.full_group(scim_id, name, members), doing="updating",
                    members=members)


def member_values(members: list[Member]) -> list[dict[str, str]]:
    # idp-wire.md: member values are SCIM user ids, with the user's userName as display, no `type`.
    return [{"value": v, "display": d} if d else {"value": v} for v, d in members]


def with_email(emails: Any, value: str) -> list[dict[str, Any]]:
    """Emails with the primary (else work, else first) entry's value set to ``value``."""
    if not isinstance(emails, list) or not emails:
        return [{"primary": True, "value": value, "type": "work"}]
    out = [dict(e) if isinstance(e, dict) else e for e in emails]
    dicts = [e for e in out if isinstance(e, dict)]
    target = next((e for e in dicts if e.get("primary") is True), None) \
        or next((e for e in dicts if e.get("type") == "work"), None) \
        or (dicts[0] if dicts else None)
    if target is None:
        return [{"primary": True, "value": value, "type": "work"}]
    target["value"] = value
    return out


# Okta's attribute paths for "Support PATCH for User" (RFC 7644 §3.5.2 paths; the body is unpublished).
PATCH_PATHS: dict[str, str] = {
    "login": "userName", "first_name": "name.givenName", "last_name": "name.familyName",
    "email": 'emails[type eq "work"].value', "display_name": "displayName", "locale": "locale",
    "title": "title", "preferred_language": "preferredLanguage", "phone_numbers": "phoneNumbers",
    "address": "addresses", "employee_number": f"{ENTERPRISE}:employeeNumber", "department": f"{ENTERPRISE}:department",
}


class OktaPatchDialect(OktaDialect):
    """An Okta OIN app with "Support PATCH for User" on: profile updates go by PATCH.

    # idp-wire.md: the OIN Wizard offers "Support PATCH for User" (profile updates by PATCH; the
    # body is unpublished — model it as RFC PATCH replace ops and say it is inferred). INFERRED:
    # one lowercase `replace` op per changed attribute, with an RFC 7644 §3.5.2 path; nothing is
    # read first. Everything else is the OIN app's behaviour.
    """

    name = "okta-patch"

    def update_user(self, p: Person, scim_id: str, changed: dict[str, Any], read: Reader) -> Call:
        """One PATCH of replace ops for the changed attributes; with nothing named (re-assignment's
        profile push) the OIN app's GET + PUT of the whole profile."""
        if not changed:
            return super().update_user(p, scim_id, changed, read)
        ops = [op for key in changed for op in self.replace_ops(p, key)]
        return Call("PATCH", user_path(scim_id), patch(ops), doing="updating")

    def replace_ops(self, p: Person, key: str) -> list[dict[str, Any]]:
        if key == "custom":
            return [{"op": "replace", "path": f"{CUSTOM_URN}:{k}", "value": v} for k, v in p.custom.items()]
        if key not in PATCH_PATHS:
            return []  # not an attribute Okta maps (e.g. Entra's mailNickname)
        extras = self.extras(p)
        value = {"phone_numbers": extras.get("phoneNumbers"), "address": extras.get("addresses")}.get(key, getattr(p, key))
        return [] if value in ("", None) else [{"op": "replace", "path": PATCH_PATHS[key], "value": value}]
