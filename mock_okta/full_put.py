"""FullPutDialect: the shapes shared by the IdPs that push every user change as a full PUT and speak
RFC 7644's own PATCH shapes for groups (OneLogin, PingFederate: ``onelogin.py``, ``pingfederate.py``).

idp-wire.md documents their requests, not most of their bodies: what is INFERRED here says so, and each
subclass gives its own user body, lookups and deprovision choices.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any

from mock_okta.dialect import Dialect
from mock_okta.people import OktaGroup, Person
from mock_okta.wire import GROUP_SCHEMA, Call, Member, Reader, filter_value, patch, user_path


class FullPutDialect(Dialect):
    """Users by full PUT (RFC 7644 §3.5.1); group PATCHes in RFC 7644 §3.5.2's lowercase shapes."""

    # The IdP's name in messages ("OneLogin").
    title: str
    # The task words of setting `active` to (True, False): "activating"/"suspending", "enabling"/"disabling".
    active_words: tuple[str, str]
    # The deprovision action (the admin's choice): "delete" sends DELETE /Users/{id}, "nothing" nothing,
    # anything else the full PUT with active:false.
    deprovision_action: str

    @abstractmethod
    def user_body(self, p: Person, active: bool = True) -> dict[str, Any]:
        """The full user body, on POST and on every PUT."""

    def headers(self, has_body: bool) -> dict[str, str]:
        # INFERRED: SCIM's media type (RFC 7644 §3.1) for Accept and Content-Type.
        h = {"Accept": "application/scim+json"}
        if has_body:
            h["Content-Type"] = "application/scim+json"
        return h

    # --- bodies -----------------------------------------------------------------------
    def create_user(self, p: Person) -> dict[str, Any]:
        return self.user_body(p)

    def put_user(self, p: Person, scim_id: str, active: bool, doing: str) -> Call:
        # idp-wire.md: full PUT for every user change — the whole body with the id (RFC 7644 §3.5.1).
        return Call("PUT", user_path(scim_id), {**self.user_body(p, active), "id": scim_id}, doing=doing)

    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        # INFERRED: a plain RFC 7643 §4.2 Group; members follow as updates.
        return {"schemas": [GROUP_SCHEMA], "displayName": g.name, "members": []}

    def active_body(self, active: bool) -> dict[str, Any]:
        # Not sent: `active` goes in the full PUT (``set_active``); the RFC replace for completeness.
        return patch([{"op": "replace", "path": "active", "value": active}])

    def rename_body(self, scim_id: str, name: str) -> dict[str, Any]:
        # INFERRED: RFC 7644 §3.5.2.3 replace of displayName, lowercase.
        return patch([{"op": "replace", "path": "displayName", "value": name}])

    def membership_body(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        # INFERRED: RFC 7644 §3.5.2's own examples: remove by a `members[value eq "<id>"]` path, add a list of {value}.
        ops: list[dict[str, Any]] = [{"op": "remove", "path": f"members[value eq {filter_value(v)}]"} for v, _ in removes]
        if adds:
            ops.append({"op": "add", "path": "members", "value": [{"value": v} for v, _ in adds]})
        return patch(ops)

    def replace_members_body(self, members: list[Member]) -> dict[str, Any]:
        # INFERRED: no "push now" is documented; an RFC replace of members.
        return patch([{"op": "replace", "path": "members", "value": [{"value": v} for v, _ in members]}])

    # --- sequences ------------------------------------------------------------------
    def update_user(self, p: Person, scim_id: str, changed: dict[str, Any], read: Reader) -> Call:
        # idp-wire.md: full PUT for updates (INFERRED: of the IdP's own body, nothing read first).
        return self.put_user(p, scim_id, True, "updating")

    def set_active(self, p: Person, scim_id: str, active: bool, read: Reader) -> Call:
        # INFERRED where idp-wire.md is silent: (de)activation is a profile update like any other, the full PUT.
        return self.put_user(p, scim_id, active, self.active_words[0] if active else self.active_words[1])

    def deprovision(self, p: Person, scim_id: str, read: Reader) -> Call | None:
        """The admin's choice (idp-wire.md): DELETE /Users/{id}, the full PUT with active:false, or nothing."""
        if self.deprovision_action == "delete":
            return Call("DELETE", user_path(scim_id), doing=self.deprovisioning)
        if self.deprovision_action == "nothing":
            return None
        return self.set_active(p, scim_id, False, read)

    def schema_reads(self) -> list[Call]:
        raise ValueError(f"the {self.name} dialect reads no schemas (idp-wire.md documents no {self.title} schema discovery)")

    def rename_first(self, scim_id: str, name: str, rename: bool) -> list[Call]:
        return []
