"""Dialect: the strategy that decides which requests each IdP action sends, and their bodies.

OktaOrg keeps the state (people, groups, SCIM ids, what each group holds), words the tasks,
backs off and sends; for every action it asks its dialect for the Calls and sends them in
order. A dialect holds no state and sends nothing. The sequences written here are the PATCH
ones that Okta's OIN apps and Entra share; each dialect gives its own headers, queries and
bodies (``okta.py``, ``entra.py``), and Okta's AIW apps replace the PATCHes by PUTs.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from mock_okta.people import OktaGroup, Person
from mock_okta.wire import Call, Member, Reader, group_path, user_path


class Dialect(ABC):
    """What one IdP sends for each action."""

    name: str
    # What de-provisioning does, in the words of Okta's task error ("Error while <it> user …").
    deprovisioning: str
    # The statuses of a lookup that mean "not found" besides 200 with an empty list (Okta: 404 too).
    not_found: tuple[int, ...] = (404,)
    # "Rename app groups to match group name in Okta": on unless the admin turns it off (Okta only).
    renames_groups: bool = True
    # Entra's retry model (later cycles, quarantine) instead of Okta's 429 back-off.
    retries_in_cycles: bool = False
    # Whether Push Groups looks the group up by name before every create (Entra), not only to link.
    looks_up_groups: bool = False
    # Whether re-assigning a known user follows the activation with a profile push (Okta).
    reassign_pushes_profile: bool = False
    # Whether Push Groups matches a group by listing every group (PingFederate), not by a displayName filter.
    lists_groups: bool = False
    # Whether removing the app assignment runs the admin's deprovision action (OneLogin, PingFederate),
    # not a deactivation.
    unassign_deprovisions: bool = False

    # --- headers, queries and bodies: each dialect's own shapes --------------------------
    @abstractmethod
    def headers(self, has_body: bool) -> dict[str, str]:
        """The headers on every request; Content-Type only when there is a body."""

    @abstractmethod
    def user_lookup_query(self, user_name: str) -> str:
        """The query string of the existence check before a create."""

    @abstractmethod
    def group_lookup_query(self, display_name: str) -> str:
        """The query string that finds a group by name."""

    def page_query(self, start_index: int, count: int, groups: bool = False) -> str:
        return f"startIndex={start_index}&count={count}"

    @abstractmethod
    def create_user(self, p: Person) -> dict[str, Any]:
        """The POST /Users body."""

    @abstractmethod
    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        """The POST /Groups body."""

    @abstractmethod
    def active_body(self, active: bool) -> dict[str, Any]:
        """The PATCH that sets ``active``."""

    @abstractmethod
    def rename_body(self, scim_id: str, name: str) -> dict[str, Any]:
        """The PATCH that renames a group."""

    @abstractmethod
    def membership_body(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        """The PATCH that removes, then adds, members."""

    @abstractmethod
    def replace_members_body(self, members: list[Member]) -> dict[str, Any]:
        """The PATCH that overwrites a group's members."""

    # --- user sequences ------------------------------------------------------------------
    @abstractmethod
    def test_connection(self, seed: int) -> list[Call]:
        """What "Test connection" reads (``seed`` draws anything random it sends)."""

    @abstractmethod
    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        """What follows a lookup that found ``p``: the profile pushed onto it (maybe nothing); ``read``
        GETs the user when the dialect reads it first."""

    @abstractmethod
    def update_user(self, p: Person, scim_id: str, changed: dict[str, Any], read: Reader) -> Call:
        """The profile push of the ``changed`` attributes (field -> value before); ``read`` GETs the
        user when the dialect reads first."""

    def set_active(self, p: Person, scim_id: str, active: bool, read: Reader) -> Call:
        """The request that sets ``active`` (``read`` GETs the user when the dialect reads first)."""
        return Call("PATCH", user_path(scim_id), self.active_body(active),
                    doing="activating" if active else "deactivating")

    def manager_calls(self, p: Person, scim_id: str) -> tuple[Call, Call] | None:
        """A dialect that sets the manager apart from the profile: the check, and the call that sets it
        when the check finds nothing (None: the manager travels in the profile bodies)."""
        return None

    def schema_reads(self) -> list[Call]:
        """What the dialect reads to learn the app's schema (Okta's "Import User Schema", Entra's save)."""
        return [Call("GET", "/Schemas", doing="reading the schemas of")]

    def password_push(self, p: Person, scim_id: str, read: Reader) -> Call:
        """The request that pushes ``p.password`` (password sync)."""
        raise ValueError(f"the {self.name} dialect does not push passwords")

    @abstractmethod
    def deprovision(self, p: Person, scim_id: str, read: Reader) -> Call | None:
        """What de-provisioning sends (its ``doing`` is ``deprovisioning``); None: nothing (OneLogin's
        "do nothing")."""

    # --- group sequences -----------------------------------------------------------------
    def group_read(self, scim_id: str) -> list[Call]:
        """What the dialect reads of a pushed group before it updates it (nothing by default)."""
        return []

    def rename_patch(self, scim_id: str, name: str) -> Call:
        return Call("PATCH", group_path(scim_id), self.rename_body(scim_id, name), doing="renaming")

    def rename_first(self, scim_id: str, name: str, rename: bool) -> list[Call]:
        # Okta: with "rename app groups" on, the rename PATCH precedes each membership update.
        return [self.rename_patch(scim_id, name)] if rename else []

    def membership(self, scim_id: str, name: str, pushed: list[Member], removes: list[Member],
                   adds: list[Member], *, batch_size: int, rename: bool) -> list[Call]:
        """Membership PATCHes of at most ``batch_size`` changes (removes first)."""
        changes = [("remove", m) for m in removes] + [("add", m) for m in adds]
        calls: list[Call] = []
        for i in range(0, len(changes), batch_size):
            chunk = changes[i:i + batch_size]
            calls += self.rename_first(scim_id, name, rename)
            rem = [m for kind, m in chunk if kind == "remove"]
            add = [m for kind, m in chunk if kind == "add"]
            pushed = [m for m in pushed if m not in rem] + [m for m in add if m not in pushed]
            calls.append(Call("PATCH", group_path(scim_id), self.membership_body(rem, add), doing="updating",
                              members=pushed))
        return calls

    def push_now(self, scim_id: str, name: str, members: list[Member], *, rename: bool) -> list[Call]:
        """Okta "Push now": the group's members overwrite the target's."""
        return self.rename_first(scim_id, name, rename) + [
            Call("PATCH", group_path(scim_id), self.replace_members_body(members), doing="updating", members=members)]

    def link_group(self, found: dict[str, Any], scim_id: str, name: str, members: list[Member], *,
                   batch_size: int, rename: bool) -> list[Call]:
        """What follows a lookup that found the group by name: its members ADDED to the target's own.

        # idp-wire.md, Group Push: link to an existing group is additive (Okta's test plan C9315,
        # C9322, C9330: the target's old members stay); only "Push now" overwrites.
        """
        return self.membership(scim_id, name, [], [], members, batch_size=batch_size, rename=rename)

    def rename(self, scim_id: str, name: str, pushed: list[Member]) -> Call:
        """The rename of a pushed group (``pushed``: the members it holds)."""
        return self.rename_patch(scim_id, name)
