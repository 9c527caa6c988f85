"""Okta's dialects: OIN apps (the default) and App Integration Wizard apps (PUT instead of PATCH).

Every shape here is from ``shared/reference/idp-wire.md`` "Okta (OIN app, SCIM 2.0)".
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mock_okta.dialect import Dialect
from mock_okta.people import OktaGroup, Person
from mock_okta.wire import GROUP_SCHEMA, USER_SCHEMA, Call, Member, Reader, filter_value, group_path, patch, user_path


class OktaDialect(Dialect):
    """Okta OIN app behaviour (the default)."""

    name = "okta"
    # Okta never sends DELETE /Users: de-provisioning deactivates.
    deprovisioning = "deactivating"

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
        return {"schemas": [USER_SCHEMA], **self.profile(p), "password": p.password, "active": True}

    def profile(self, p: Person) -> dict[str, Any]:
        """Okta's mapped profile, in the order of its POST /Users body."""
        return {
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"primary": True, "value": p.email, "type": "work"}],
            "displayName": p.display_name,
            "locale": p.locale,
            "externalId": p.okta_id,
            "groups": [],
        }

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

    def full_user(self, p: Person, scim_id: str, active: bool) -> dict[str, Any]:
        """The full user from Okta's profile (AIW PUTs; inferred from the create shape)."""
        return {"schemas": [USER_SCHEMA], "id": scim_id, **self.profile(p), "active": active}

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

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str) -> list[Call]:
        """PUT of the profile onto the found user, then PATCH active:true when it was inactive."""
        calls = [Call("PUT", user_path(scim_id), self.link_put(found, p), doing="updating")]
        if found.get("active") is False:
            calls.append(self.set_active(p, scim_id, True))
        return calls

    def update_user(self, p: Person, scim_id: str, changed: list[str], read: Reader) -> Call:
        """GET /Users/{id}, then PUT of the received object with the profile applied."""
        received = read(Call("GET", user_path(scim_id), doing="reading"))
        return Call("PUT", user_path(scim_id), self.profile_put(received, p), doing="updating")

    def deprovision(self, p: Person, scim_id: str) -> Call:
        return self.set_active(p, scim_id, False)

    def link_group(self, scim_id: str, name: str, members: list[Member], *, batch_size: int,
                   rename: bool) -> list[Call]:
        """A group found by name gets the members pushed over its own (push now)."""
        return self.push_now(scim_id, name, members, rename=rename)


class AiwDialect(OktaDialect):
    """Okta App Integration Wizard apps: PUT of the full resource instead of every PATCH."""

    name = "okta-aiw"

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str) -> list[Call]:
        """One PUT of the profile onto the found user, with active:true."""
        return [Call("PUT", user_path(scim_id), self.profile_put(found, p), doing="updating")]

    def set_active(self, p: Person, scim_id: str, active: bool) -> Call:
        # Okta AIW apps: a full PUT carrying active instead of the PATCH.
        return Call("PUT", user_path(scim_id), self.full_user(p, scim_id, active),
                    doing="activating" if active else "deactivating")

    def membership(self, scim_id: str, name: str, pushed: list[Member], removes: list[Member],
                   adds: list[Member], *, batch_size: int, rename: bool) -> list[Call]:
        """One PUT of the whole group (no batches, no rename PATCH)."""
        gone = {v for v, _ in removes}
        members = [m for m in pushed if m[0] not in gone] + [m for m in adds if m not in pushed]
        return [self.put_group(scim_id, name, members)]

    def push_now(self, scim_id: str, name: str, members: list[Member], *, rename: bool) -> list[Call]:
        return [self.put_group(scim_id, name, members)]

    def rename(self, scim_id: str, name: str, pushed: list[Member]) -> Call:
        return Call("PUT", group_path(scim_id), self.full_group(scim_id, name, pushed), doing="renaming")

    def put_group(self, scim_id: str, name: str, members: list[Member]) -> Call:
        # idp-wire.md: AIW apps send PUT /Groups/{id} with full displayName and members instead of PATCH.
        return Call("PUT", group_path(scim_id), self.full_group(scim_id, name, members), doing="updating",
                    members=members)


def member_values(members: list[Member]) -> list[dict[str, str]]:
    # idp-wire.md: member values are SCIM user ids, with the user's userName as display, no `type`.
    return [{"value": v, "display": d} for v, d in members]


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
