"""OneLogin's SCIM provisioner: lookup with `+` and a trailing `&`, full PUT updates, group PATCH,
the admin's deprovision action, `schemas` from the admin's SCIM JSON template, an empty User-Agent.

Facts from ``shared/reference/idp-wire.md`` "Other IdPs with documented wire behaviour" (OneLogin).
That section gives the requests, not their bodies: every body shape below is INFERRED (the default
SCIM 2.0 template's attributes, RFC 7643 §4.1) and says so where it is built.
"""
from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote_plus

from mock_okta.dialect import Dialect
from mock_okta.people import OktaGroup, Person
from mock_okta.wire import GROUP_SCHEMA, USER_SCHEMA, Call, Member, Reader, filter_value, patch, user_path

DEPROVISION_ACTIONS = ("delete", "suspend", "nothing")


class OneLoginDialect(Dialect):
    """OneLogin's SCIM provisioner (SCIM 2.0)."""

    name = "onelogin"
    # idp-wire.md: the connection test accepts "empty list or 404" for a name known not to exist.
    not_found = (404,)
    unassign_deprovisions = True  # idp-wire.md: removing app access runs the deprovision action
    renames_groups = False  # Okta's "Rename app groups" has no OneLogin counterpart

    def __init__(self, deprovision: str = "suspend", schemas: tuple[str, ...] = (USER_SCHEMA,)) -> None:
        # idp-wire.md: "DELETE or suspend or nothing on deprovision (admin's choice)". Which one is
        # OneLogin's default is not given: INFERRED "suspend" (it loses no data).
        if deprovision not in DEPROVISION_ACTIONS:
            raise ValueError(f"deprovision must be one of {', '.join(DEPROVISION_ACTIONS)}, not {deprovision!r}")
        if not schemas or not all(isinstance(s, str) and s for s in schemas):
            raise ValueError("schemas must be a non-empty list of URNs (the SCIM JSON template's schemas)")
        self.deprovision_action = deprovision
        # idp-wire.md: the body's `schemas` come from an admin-edited "SCIM JSON template" (non-standard
        # URNs seen): sent as the admin wrote them, whatever they are.
        self.template_schemas = list(schemas)
        self.deprovisioning = {"delete": "deleting", "suspend": "suspending", "nothing": "deprovisioning"}[deprovision]

    # --- headers and queries --------------------------------------------------------
    def headers(self, has_body: bool) -> dict[str, str]:
        # idp-wire.md: OneLogin sends an empty User-Agent. Accept and Content-Type: INFERRED (SCIM's
        # media type, RFC 7644 §3.1).
        h = {"User-Agent": "", "Accept": "application/scim+json"}
        if has_body:
            h["Content-Type"] = "application/scim+json"
        return h

    def user_lookup_query(self, user_name: str) -> str:
        # idp-wire.md: `GET /Users?filter=userName+eq+"…"` with `+` for spaces and a trailing `&` seen in traffic.
        return "filter=" + quote_plus(f"userName eq {filter_value(user_name)}", safe="") + "&"

    def group_lookup_query(self, display_name: str) -> str:
        # INFERRED: idp-wire.md gives no group lookup for OneLogin; the user lookup's shape on displayName.
        return "filter=" + quote_plus(f"displayName eq {filter_value(display_name)}", safe="") + "&"

    # --- bodies -----------------------------------------------------------------------
    def user_body(self, p: Person, active: bool = True) -> dict[str, Any]:
        """The body the SCIM JSON template renders for ``p`` (POST and every PUT).

        # INFERRED: idp-wire.md quotes no OneLogin body; the attributes of the default SCIM 2.0
        # template (userName, name, emails) with `active`, under the template's `schemas`.
        """
        return {
            "schemas": list(self.template_schemas),
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"value": p.email, "type": "work", "primary": True}],
            "displayName": p.display_name,
            "active": active,
        }

    def create_user(self, p: Person) -> dict[str, Any]:
        return self.user_body(p)

    def put_user(self, p: Person, scim_id: str, active: bool, doing: str) -> Call:
        # idp-wire.md: "full PUT for updates" — the whole template body with the id (RFC 7644 §3.5.1).
        return Call("PUT", user_path(scim_id), {**self.user_body(p, active), "id": scim_id}, doing=doing)

    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        # INFERRED: idp-wire.md gives only the membership PATCH; a plain RFC 7643 §4.2 Group.
        return {"schemas": [GROUP_SCHEMA], "displayName": g.name, "members": []}

    def active_body(self, active: bool) -> dict[str, Any]:
        # Not sent: OneLogin sets `active` with a full PUT (``set_active``); the RFC replace for completeness.
        return patch([{"op": "replace", "path": "active", "value": active}])

    def rename_body(self, scim_id: str, name: str) -> dict[str, Any]:
        # INFERRED: RFC 7644 §3.5.2.3 replace of displayName, lowercase.
        return patch([{"op": "replace", "path": "displayName", "value": name}])

    def membership_body(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        # idp-wire.md: `PATCH /Groups/{id}` for membership. The ops are INFERRED as RFC 7644 §3.5.2's own
        # examples: remove by a `members[value eq "<id>"]` path, add with a list of {value}.
        ops: list[dict[str, Any]] = [{"op": "remove", "path": f"members[value eq {filter_value(v)}]"} for v, _ in removes]
        if adds:
            ops.append({"op": "add", "path": "members", "value": [{"value": v} for v, _ in adds]})
        return patch(ops)

    def replace_members_body(self, members: list[Member]) -> dict[str, Any]:
        # INFERRED: OneLogin has no "push now"; an RFC replace of members.
        return patch([{"op": "replace", "path": "members", "value": [{"value": v} for v, _ in members]}])

    # --- sequences ------------------------------------------------------------------
    def test_connection(self, seed: int) -> list[Call]:
        """A lookup of a user name known not to exist; an empty list or a 404 passes (idp-wire.md).

        # INFERRED: the name is not published; a random one from ``seed`` that no directory holds.
        """
        probe = f"onelogin-connection-test-{random.Random(seed).getrandbits(64):016x}@example.invalid"
        return [Call("GET", "/Users", query=self.user_lookup_query(probe), ok=(404,), lookup=True,
                     doing="searching for users")]

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        """GET /Users/{id}, then the full PUT of OneLogin's profile (active:true).

        # idp-wire.md lists lookup, create, `GET /Users/{id}` and full PUT; when OneLogin reads the user
        # is not said: INFERRED here, after a lookup that found the user, before the PUT.
        """
        read(Call("GET", user_path(scim_id), doing="reading"))
        return [self.put_user(p, scim_id, True, "updating")]

    def update_user(self, p: Person, scim_id: str, changed: dict[str, Any], read: Reader) -> Call:
        # idp-wire.md: full PUT for updates (INFERRED: of OneLogin's own template, nothing read first).
        return self.put_user(p, scim_id, True, "updating")

    def set_active(self, p: Person, scim_id: str, active: bool, read: Reader) -> Call:
        # INFERRED: suspend/reactivate is a profile update like any other, so the same full PUT with `active`.
        return self.put_user(p, scim_id, active, "activating" if active else "suspending")

    def deprovision(self, p: Person, scim_id: str, read: Reader) -> Call | None:
        """The admin's choice (idp-wire.md): DELETE /Users/{id}, suspend (PUT active:false), or nothing."""
        if self.deprovision_action == "delete":
            return Call("DELETE", user_path(scim_id), doing=self.deprovisioning)
        if self.deprovision_action == "suspend":
            return self.set_active(p, scim_id, False, read)
        return None

    def schema_reads(self) -> list[Call]:
        raise ValueError("the onelogin dialect reads no schemas (idp-wire.md documents no OneLogin schema discovery)")

    def rename_first(self, scim_id: str, name: str, rename: bool) -> list[Call]:
        return []
