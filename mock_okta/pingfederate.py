"""PingFederate's SCIM provisioner (SCIM 2.0): users by PUT only, groups matched by listing them all,
group PATCH when the admin enables it, the connection check `GET /Users/0` expecting 404, and
deprovision by disabling (the default) or deleting.

Facts from ``shared/reference/idp-wire.md`` "Other IdPs with documented wire behaviour"
(PingFederate SCIM provisioner). Bodies, headers and the lookup before a create are not given there:
each is INFERRED and says so where it is built. SCIM 1.1 is not modelled.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mock_okta.full_put import FullPutDialect
from mock_okta.people import Person
from mock_okta.wire import GROUP_SCHEMA, USER_SCHEMA, Call, Member, Reader, filter_value, group_path, user_path

DEPROVISION_ACTIONS = ("disable", "delete")


class PingFederateDialect(FullPutDialect):
    """PingFederate's SCIM 2.0 provisioner."""

    name = "pingfederate"
    title = "PingFederate"
    # idp-wire.md: users by PUT only, so disabling (and enabling: INFERRED) is a full PUT with `active`.
    active_words = ("enabling", "disabling")
    unassign_deprovisions = True  # idp-wire.md: removing app access runs the deprovision action
    renames_groups = False  # Okta's "Rename app groups" has no PingFederate counterpart
    # idp-wire.md: "groups matched by fetching all groups" — before every create, by listing /Groups.
    looks_up_groups = True
    lists_groups = True

    def __init__(self, deprovision: str = "disable", group_patch: bool = False) -> None:
        # idp-wire.md: "deprovision = disable (default) or delete".
        if deprovision not in DEPROVISION_ACTIONS:
            raise ValueError(f"deprovision must be one of {', '.join(DEPROVISION_ACTIONS)}, not {deprovision!r}")
        self.deprovision_action = deprovision
        self.deprovisioning = "disabling" if deprovision == "disable" else "deleting"
        # idp-wire.md: "groups by PATCH when enabled". Off by default and a full PUT of the group
        # otherwise: INFERRED (the text implies a setting; the non-PATCH request is not given).
        self.group_patch = group_patch

    # --- queries (headers: FullPutDialect's; INFERRED: PingFederate's User-Agent is not documented, so
    # none is set and the client's own goes out) ----------------------------------------------------------
    def user_lookup_query(self, user_name: str) -> str:
        # INFERRED: idp-wire.md gives no PingFederate user lookup; an RFC 7644 §3.4.2.2 `eq` on userName, %20.
        return "filter=" + quote(f"userName eq {filter_value(user_name)}", safe="")

    def group_lookup_query(self, display_name: str) -> str:
        # Not sent: PingFederate matches groups by listing them all (``lists_groups``).
        return "filter=" + quote(f"displayName eq {filter_value(display_name)}", safe="")

    # --- bodies -----------------------------------------------------------------------
    def user_body(self, p: Person, active: bool = True) -> dict[str, Any]:
        """INFERRED: the attributes of a default attribute mapping (RFC 7643 §4.1 core User)."""
        return {
            "schemas": [USER_SCHEMA],
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"value": p.email, "type": "work", "primary": True}],
            "displayName": p.display_name,
            "externalId": p.okta_id,
            "active": active,
        }

    def full_group(self, scim_id: str, name: str, members: list[Member]) -> dict[str, Any]:
        return {"schemas": [GROUP_SCHEMA], "id": scim_id, "displayName": name,
                "members": [{"value": v} for v, _ in members]}

    # --- sequences ------------------------------------------------------------------
    def test_connection(self, seed: int) -> list[Call]:
        # idp-wire.md (Ping): the connection check is `GET /Users/0`, expecting 404.
        return [Call("GET", user_path("0"), ok=(404,), doing="checking the connection with")]

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        # INFERRED: a user found by the lookup gets the same full PUT as any update (users by PUT only).
        return [self.put_user(p, scim_id, True, "updating")]

    # --- groups -----------------------------------------------------------------------
    def membership(self, scim_id: str, name: str, pushed: list[Member], removes: list[Member],
                   adds: list[Member], *, batch_size: int, rename: bool) -> list[Call]:
        """PATCHes when group PATCH is enabled, else one full PUT of the group (INFERRED)."""
        if self.group_patch:
            return super().membership(scim_id, name, pushed, removes, adds, batch_size=batch_size, rename=rename)
        gone = {v for v, _ in removes}
        members = [m for m in pushed if m[0] not in gone] + [m for m in adds if m not in pushed]
        return [self.put_group(scim_id, name, members)]

    def push_now(self, scim_id: str, name: str, members: list[Member], *, rename: bool) -> list[Call]:
        if self.group_patch:
            return super().push_now(scim_id, name, members, rename=rename)
        return [self.put_group(scim_id, name, members)]

    def link_group(self, found: dict[str, Any], scim_id: str, name: str, members: list[Member], *,
                   batch_size: int, rename: bool) -> list[Call]:
        """INFERRED: a matched group gets PingFederate's members; with PUT the target's own are kept too
        (the listing returned them), as a link to an existing group is additive elsewhere (idp-wire.md)."""
        if self.group_patch:
            return super().link_group(found, scim_id, name, members, batch_size=batch_size, rename=rename)
        kept = [(str(m["value"]), "") for m in found.get("members") or [] if isinstance(m, dict) and m.get("value")]
        own = {v for v, _ in members}
        return [self.put_group(scim_id, name, [m for m in kept if m[0] not in own] + members)]

    def rename(self, scim_id: str, name: str, pushed: list[Member]) -> Call:
        if self.group_patch:
            return self.rename_patch(scim_id, name)
        return Call("PUT", group_path(scim_id), self.full_group(scim_id, name, pushed), doing="renaming")

    def put_group(self, scim_id: str, name: str, members: list[Member]) -> Call:
        return Call("PUT", group_path(scim_id), self.full_group(scim_id, name, members), doing="updating",
                    members=members)
