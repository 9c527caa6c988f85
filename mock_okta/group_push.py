"""GroupPush: Okta's Push Groups for one app — which Okta group is linked to which SCIM group.

It remembers the members each linked group was last sent, so a change in Okta pushes only
the difference; which requests carry it is the dialect's choice.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Protocol

from mock_okta.connection import AppConnection
from mock_okta.dialect import Dialect
from mock_okta.errors import Task
from mock_okta.people import OktaGroup, Person
from mock_okta.wire import Call, Member, group_path

LIST_PAGE = 100  # groups per page when a dialect lists them all (INFERRED for PingFederate: Okta's page size)


class PushSettings(Protocol):
    """Okta's Push Groups settings, read as each push is sent (an admin may change them at any time)."""

    rename_groups: bool  # "Rename app groups to match group name in Okta"
    batch_size: int      # at most this many membership changes per PATCH


class GroupPush:
    """The push-group links of one app, and what each linked group was last sent."""

    def __init__(self, connection: AppConnection, dialect: Dialect, settings: PushSettings, *,
                 scim_id_of: Callable[[Person], str | None], task: Callable[[OktaGroup, str], Task]) -> None:
        self.connection = connection
        self.dialect = dialect
        self.settings = settings
        self.scim_id_of = scim_id_of  # the SCIM id of a person assigned to the app, else None
        self.task = task              # the org words the task of a group and what it was doing
        self._lock = threading.Lock()
        self._links: dict[str, str] = {}           # Okta group id -> SCIM group id
        self._pushed: dict[str, list[Member]] = {}  # Okta group id -> members last pushed

    def scim_id(self, g: OktaGroup) -> str | None:
        with self._lock:
            return self._links.get(g.okta_id)

    def members_of(self, g: OktaGroup) -> list[Member]:
        """The pushed members: the group's people that are assigned to the app (Okta pushes only those)."""
        out: list[Member] = []
        for p in g.members:
            scim_id = self.scim_id_of(p)
            if scim_id is not None and all(v != scim_id for v, _ in out):
                out.append((scim_id, p.login))
        return out

    def push(self, g: OktaGroup, link_existing: bool) -> str:
        """Link ``g`` to the group found by name (``link_existing``, and always for a dialect that looks
        groups up before creating them), else create it; then send its members."""
        if link_existing or self.dialect.looks_up_groups:
            found = self._match(g)
            if found is not None:
                scim_id = self._link(g, str(found["id"]))
                self._send(g, self.dialect.group_read(scim_id) + self.dialect.link_group(
                    found, scim_id, g.name, self.members_of(g), batch_size=self.settings.batch_size,
                    rename=self.settings.rename_groups))
                return scim_id
        scim_id = self._link(g, self.connection.create("/Groups", self.dialect.create_group(g),
                                                       self.task(g, "creating")))
        members = self.members_of(g)
        if members:
            self._send_membership(g, scim_id, [], members, read=False)
        return scim_id

    def _match(self, g: OktaGroup) -> dict[str, Any] | None:
        """The target's group named like ``g``: by a displayName filter, or (PingFederate: idp-wire.md,
        "groups matched by fetching all groups") by listing every group."""
        task = self.task(g, "searching for")
        if not self.dialect.lists_groups:
            return self.connection.find("/Groups", self.dialect.group_lookup_query(g.name), "displayName", g.name, task)
        groups = self.connection.list_all("/Groups", lambda start: self.dialect.page_query(start, LIST_PAGE, groups=True),
                                          LIST_PAGE, task)
        found = next((r for r in groups if str(r.get("displayName", "")).lower() == g.name.lower()), None)
        if found is not None and not found.get("id"):
            raise task.fail(f"the remote server returned the group {g.name} without an id")
        return found

    def send_changes(self, g: OktaGroup) -> None:
        """When ``g`` is pushed: one membership update from what it was last sent to its members now."""
        scim_id = self.scim_id(g)
        if scim_id is None:
            return
        pushed = self._pushed.get(g.okta_id, [])
        current = self.members_of(g)
        removes = [m for m in pushed if m[0] not in {v for v, _ in current}]
        adds = [m for m in current if m not in pushed]
        if removes or adds:
            self._send_membership(g, scim_id, removes, adds)

    def push_now(self, g: OktaGroup) -> None:
        task = self.task(g, "updating")
        scim_id = self.scim_id(g)
        if scim_id is None:
            raise task.fail("the group is not pushed to the app (no SCIM id is known)")
        self._send(g, self.dialect.group_read(scim_id) + self.dialect.push_now(
            scim_id, g.name, self.members_of(g), rename=self.settings.rename_groups))

    def send_name(self, g: OktaGroup) -> None:
        """When ``g`` is pushed: its (new) name."""
        scim_id = self.scim_id(g)
        if scim_id is not None:
            self._send(g, self.dialect.group_read(scim_id) +
                       [self.dialect.rename(scim_id, g.name, self._pushed.get(g.okta_id, []))])

    def unlink(self, g: OktaGroup, delete: bool) -> None:
        scim_id = self.scim_id(g)
        if scim_id is None:
            return
        if delete:
            self.connection.send(Call("DELETE", group_path(scim_id)), self.task(g, "deleting"))
        with self._lock:
            self._links.pop(g.okta_id, None)
            self._pushed.pop(g.okta_id, None)

    def _link(self, g: OktaGroup, scim_id: str) -> str:
        with self._lock:
            self._links[g.okta_id] = scim_id
            self._pushed[g.okta_id] = []
        return scim_id

    def _send_membership(self, g: OktaGroup, scim_id: str, removes: list[Member], adds: list[Member], *,
                         read: bool = True) -> None:
        """The membership update; ``read``: the dialect's read of the group first (not after a create)."""
        pushed = list(self._pushed.get(g.okta_id, []))
        self._send(g, (self.dialect.group_read(scim_id) if read else []) + self.dialect.membership(scim_id, g.name, pushed, removes, adds,
                                              batch_size=self.settings.batch_size,
                                              rename=self.settings.rename_groups))

    def _send(self, g: OktaGroup, calls: list[Call]) -> None:
        """Send in order; after each, remember the membership the call leaves on the target."""
        for call in calls:
            self.connection.send(call, self.task(g, call.doing))
            if call.members is not None:
                self._pushed[g.okta_id] = call.members
