"""OktaOrg: an in-memory Okta org whose actions emit Okta's (or Entra's) exact SCIM requests.

Each public method is one IdP action; the HTTP sequence it sends is documented on it and
comes from ``shared/reference/idp-wire.md``. The org keeps the state (people, groups, the
SCIM ids it was given) and words the tasks; its dialect decides the requests and bodies; its
AppConnection sends them on the injected ``httpx.Client``, with Okta's 429 back-off. Whoever
wants a record of the exchanges gives it a client whose transport records them.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

import httpx

from mock_okta.backoff import Backoff
from mock_okta.connection import AppConnection
from mock_okta.dialect import Dialect
from mock_okta.dialects import get_dialect
from mock_okta.entra_retry import EntraJob
from mock_okta.errors import ProvisioningError, Task, group_task, user_task
from mock_okta.group_push import GroupPush
from mock_okta.people import OktaGroup, PeopleFactory, Person
from mock_okta.wire import Call, Reader

# Profile attributes an update may change (okta_id and the password placeholder are Okta's own).
CHANGEABLE = ("first_name", "last_name", "email", "login", "display_name", "locale",
              "department", "employee_number", "mail_nickname", "title", "preferred_language",
              "phone_numbers", "address", "custom")
PAGE_SIZE = 100  # Okta imports 100 at a time


class OktaOrg:
    """An Okta org with one SCIM app (the target behind ``client``)."""

    def __init__(self, client: httpx.Client, *, dialect: str = "okta", seed: int = 0, base_path: str = "",
                 sleep: Callable[[float], None] = time.sleep,
                 time_scale: float = 1.0, rename_groups: bool | None = None, batch_size: int = 100,
                 max_concurrency: int = 4, timeout: float = 60.0, domain: str = "example.com",
                 app_name: str = "Clockwise", entra_job: EntraJob | None = None,
                 dialect_options: dict[str, Any] | None = None) -> None:
        self.dialect: Dialect = get_dialect(dialect, **(dialect_options or {}))
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.client = client
        self.seed = seed
        self.base_path = base_path.rstrip("/")
        self.backoff = Backoff(sleep=sleep, time_scale=time_scale)
        # Okta's certification runs group push with "Rename app groups" ON (idp-wire.md, Group Push):
        # the dialect's default unless the admin says otherwise.
        self.rename_groups = self.dialect.renames_groups if rename_groups is None else rename_groups
        # Entra's retry model (entra_retry) instead of Okta's 429 back-off.
        self.entra_job = (entra_job or EntraJob()) if self.dialect.retries_in_cycles else None
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.app_name = app_name
        self.people: list[Person] = []
        self.groups: list[OktaGroup] = []
        self.connection = AppConnection(self)  # reads client, base_path, backoff, timeout, dialect from here
        self.group_push = GroupPush(self.connection, self.dialect, self, scim_id_of=self.scim_id,
                                    task=self._group_task)  # reads rename_groups and batch_size from here
        self._factory = PeopleFactory(seed, domain)
        self._lock = threading.RLock()
        self._assigned: dict[str, str] = {}        # okta_id -> SCIM user id

    # --- the org model --------------------------------------------------------------------
    def add_person(self, **overrides: Any) -> Person:
        p = self._factory.make_person(**overrides)
        with self._lock:
            self.people.append(p)
        return p

    def add_people(self, n: int) -> list[Person]:
        return [self.add_person() for _ in range(n)]

    def add_group(self, name: str, members: Iterable[Person] = ()) -> OktaGroup:
        g = OktaGroup(okta_id=self._factory.make_group_id(), name=name, members=[])
        for p in members:
            if p not in g.members:
                g.members.append(p)
        with self._lock:
            self.groups.append(g)
        return g

    def scim_id(self, p: Person) -> str | None:
        with self._lock:
            return self._assigned.get(p.okta_id)

    def group_scim_id(self, g: OktaGroup) -> str | None:
        return self.group_push.scim_id(g)

    # --- user tasks -----------------------------------------------------------------------
    def _user_task(self, kind: str, p: Person, doing: str) -> Task:
        return user_task(kind, p, self.app_name, doing)

    def _group_task(self, g: OktaGroup, doing: str) -> Task:
        return group_task(g, self.app_name, doing)

    def _send(self, kind: str, p: Person, calls: Iterable[Call]) -> None:
        """Send the dialect's calls for a task on ``p``, in order."""
        for call in calls:
            self.connection.send(call, self._user_task(kind, p, call.doing))

    def _reader(self, kind: str, p: Person) -> Reader:
        """How a dialect reads ``p`` in the middle of a task (the GET fails the task like any call)."""
        def read(call: Call) -> dict[str, Any]:
            return self.connection.read(call, self._user_task(kind, p, call.doing), "a user object")
        return read

    def _lookup_user(self, p: Person, kind: str) -> dict[str, Any] | None:
        """Okta's existence check before every create: GET /Users?filter=userName eq "…"."""
        return self.connection.find("/Users", self.dialect.user_lookup_query(p.login), "userName", p.login,
                                    self._user_task(kind, p, "searching for"))

    def _resolve(self, p: Person) -> None:
        """The manager's SCIM id, as it is when the task starts (empty while the manager is not assigned)."""
        p.manager_id = (self.scim_id(p.manager) or "") if p.manager is not None else ""

    def _push_manager(self, kind: str, p: Person, scim_id: str) -> None:
        """Entra sets the manager apart: an `and` query, then an Add when it finds nothing."""
        calls = self.dialect.manager_calls(p, scim_id)
        if calls is None:
            return
        check, set_it = calls
        task = self._user_task(kind, p, check.doing)
        data = self.connection.body(self.connection.send(check, task), task, required=True)
        if not (isinstance(data, dict) and data.get("Resources")):
            self._send(kind, p, [set_it])

    def _remember(self, p: Person, scim_id: str) -> None:
        with self._lock:
            self._assigned[p.okta_id] = scim_id

    def _require_id(self, p: Person, task: Task) -> str:
        scim_id = self.scim_id(p)
        if scim_id is None:
            raise task.fail("the user is not assigned to the app (no SCIM id is known)")
        return scim_id

    def assign(self, p: Person) -> str:
        """Assign ``p`` to the app; returns the SCIM id.

        Lookup by ``userName eq``; not found → POST /Users. Found → link the id and push the
        profile: okta GET /Users/{id} + PUT built on it (+ PATCH active:true when inactive),
        okta-aiw GET + one PUT with active:true, entra one PATCH of the differing paths (+ active "True").
        """
        self._resolve(p)
        found = self._lookup_user(p, "assign")
        if found is None:
            scim_id = self.connection.create("/Users", self.dialect.create_user(p),
                                             self._user_task("assign", p, "creating"))
            self._remember(p, scim_id)
        else:
            scim_id = str(found["id"])
            self._remember(p, scim_id)
            self._send("assign", p, self.dialect.link_user(found, p, scim_id, self._reader("assign", p)))
        self._push_manager("assign", p, scim_id)
        return scim_id

    def assign_many(self, people: Iterable[Person]) -> dict[str, str]:
        """Assign many people with at most ``max_concurrency`` requests in flight.

        Every person is attempted; if any failed, a ProvisioningError lists them, with
        ``failures`` (okta_id -> error) and ``partial`` (the ids that were assigned).
        """
        people = list(people)
        results: dict[str, str] = {}
        failures: dict[str, ProvisioningError] = {}

        def one(p: Person) -> None:
            try:
                results[p.okta_id] = self.assign(p)
            except ProvisioningError as exc:
                failures[p.okta_id] = exc

        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="okta-push") as pool:
            list(pool.map(one, people))
        if failures:
            first = next(iter(failures.values()))
            raise ProvisioningError(f"{len(failures)} of {len(people)} assignments failed; first: {first.message}",
                                    first.response, request=first.request, failures=failures, partial=results)
        return {p.okta_id: results[p.okta_id] for p in people}

    def update_profile(self, p: Person, **changes: Any) -> dict[str, Any]:
        """Change ``p`` in Okta and push it; returns the server's answer (else the body sent).

        okta / okta-aiw: GET /Users/{id}, then PUT of the received object with the profile
        applied, active:true, groups:[]. entra: one PATCH, one op per changed path (Add for a
        path that was empty, Replace after); nothing when no mapped value changed.
        """
        unknown = set(changes) - set(CHANGEABLE)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}; changeable: {', '.join(CHANGEABLE)}")
        scim_id = self._require_id(p, self._user_task("update", p, "updating"))
        if ("first_name" in changes or "last_name" in changes) and "display_name" not in changes \
                and p.display_name == p.full_name:
            changes["display_name"] = f"{changes.get('first_name', p.first_name)} " \
                                      f"{changes.get('last_name', p.last_name)}".strip()
        before = {key: getattr(p, key) for key in changes}
        for key, value in changes.items():
            setattr(p, key, value)
        self._resolve(p)
        call = self.dialect.update_user(p, scim_id, before, self._reader("update", p))
        if call.method == "PATCH" and not call.body.get("Operations"):
            return call.body  # Entra sends no PATCH when no mapped path changed
        task = self._user_task("update", p, call.doing)  # Okta names the user as it is now
        answer = self.connection.body(self.connection.send(call, task), task, required=False)
        return answer if isinstance(answer, dict) else call.body

    def deactivate(self, p: Person) -> None:
        """okta: PATCH no-path {"active":false}; okta-aiw: GET, then PUT of it with active:false; entra: "False"."""
        scim_id = self._require_id(p, self._user_task("deactivate", p, "deactivating"))
        self._send("deactivate", p, [self.dialect.set_active(p, scim_id, False, self._reader("deactivate", p))])

    def unassign(self, p: Person) -> None:
        """Unassigning from the app deactivates the user in the app (Okta never DELETEs); OneLogin and
        PingFederate run the admin's deprovision action instead."""
        if self.dialect.unassign_deprovisions:
            self.deprovision(p)
        else:
            self.deactivate(p)

    def reactivate(self, p: Person) -> None:
        """Lookup by userName, then activate the found id (same SCIM id); not found → create."""
        found = self._lookup_user(p, "reactivate")
        if found is None:
            self.assign(p)
            return
        scim_id = str(found["id"])
        self._remember(p, scim_id)
        self._send("reactivate", p, [self.dialect.set_active(p, scim_id, True, self._reader("reactivate", p))])

    def reassign(self, p: Person) -> None:
        """Re-assign a user the app knows: okta dialects activate, then push the profile (GET + PUT);
        entra activates (the user is back in scope)."""
        scim_id = self._require_id(p, self._user_task("reactivate", p, "activating"))
        self._resolve(p)
        self._send("reactivate", p, [self.dialect.set_active(p, scim_id, True, self._reader("reactivate", p))])
        if self.dialect.reassign_pushes_profile:  # built after the activation went out: it reads first
            self._send("update", p, [self.dialect.update_user(p, scim_id, {}, self._reader("update", p))])

    def sync_password(self, p: Person, password: str | None = None) -> None:
        """Password sync: okta PATCH, okta-aiw GET + PUT (bodies inferred); Entra pushes no passwords."""
        scim_id = self._require_id(p, self._user_task("update", p, "pushing the password of"))
        old = p.password
        p.password = password if password is not None else self._factory.make_password()
        try:
            call = self.dialect.password_push(p, scim_id, self._reader("update", p))
        except ValueError:
            p.password = old
            raise
        self._send("update", p, [call])

    def import_schema(self) -> list[dict[str, Any]]:
        """Okta's "Import User Schema": GET /Schemas, then GET /ResourceTypes (entra: GET /Schemas, as
        when provisioning settings are saved); returns the documents read."""
        out: list[dict[str, Any]] = []
        for call in self.dialect.schema_reads():
            task = Task(f"Import of the user schema from app {self.app_name} failed", f"Error while {call.doing} the app")
            out.append(self.connection.read(call, task, "a ListResponse"))
        return out

    def deprovision(self, p: Person) -> None:
        """entra: the hard delete, DELETE /Users/{id} (idp-wire.md: only 30 days after the soft delete,
        or on permanent deletion; unassign/deactivate are the soft PATCH active false); okta dialects:
        deactivate (Okta never sends DELETE /Users); onelogin: DELETE, suspend or nothing, pingfederate:
        disable or DELETE (the admin's choice, ``dialect_options``)."""
        scim_id = self._require_id(p, self._user_task("deactivate", p, self.dialect.deprovisioning))
        call = self.dialect.deprovision(p, scim_id, self._reader("deactivate", p))
        if call is None:  # OneLogin's "do nothing": the user stays as it is in the app
            return
        self._send("deactivate", p, [call])
        if call.method == "DELETE":  # the user is gone from the app: its id means nothing any more
            with self._lock:
                self._assigned.pop(p.okta_id, None)

    # --- connection and import -------------------------------------------------------------
    def test_connection(self) -> None:
        """okta: GET /Users?startIndex=1&count=2, GET /Groups?startIndex=1&count=100; entra: a
        userName lookup of a random GUID and a lookup of a random group (a 404 fails it)."""
        for call in self.dialect.test_connection(self.seed):
            self.connection.send(call, Task(f"Test connection to app {self.app_name} failed",
                                            f"Error while {call.doing}"))

    def _import(self, path: str, what: str) -> list[dict[str, Any]]:
        task = Task(f"Import from app {self.app_name} failed", f"Error while reading {what}")
        groups = what == "groups"
        return self.connection.list_all(path, lambda start: self.dialect.page_query(start, PAGE_SIZE, groups=groups),
                                        PAGE_SIZE, task)

    def import_users(self) -> list[dict[str, Any]]:
        return self._import("/Users", "users")

    def import_groups(self) -> list[dict[str, Any]]:
        return self._import("/Groups", "groups")

    # --- group push ---------------------------------------------------------------------------
    def push_group(self, g: OktaGroup, link_existing: bool = False) -> str:
        """POST /Groups, then add its assigned members. link_existing: GET /Groups?filter=
        displayName eq "…" (entra: before every create); if found, link its id and ADD the
        members to the target's own (only push now overwrites)."""
        return self.group_push.push(g, link_existing)

    def change_group_members(self, g: OktaGroup, add: Iterable[Person] = (), remove: Iterable[Person] = ()) -> None:
        """Change the group in Okta; when pushed, send one membership update (removes, then adds).

        Only people assigned to the app are pushed; the update is split into PATCHes of at
        most ``batch_size`` changes.
        """
        remove = list(remove)
        g.members = [m for m in g.members if m not in remove]
        for p in add:
            if p not in g.members:
                g.members.append(p)
        self.group_push.send_changes(g)

    def add_to_group(self, g: OktaGroup, people: Iterable[Person]) -> None:
        self.change_group_members(g, add=people)

    def remove_from_group(self, g: OktaGroup, people: Iterable[Person]) -> None:
        self.change_group_members(g, remove=people)

    def push_now(self, g: OktaGroup) -> None:
        """Okta "Push now": replace members with the group's assigned members (AIW: PUT)."""
        self.group_push.push_now(g)

    def rename_group(self, g: OktaGroup, new_name: str) -> None:
        """Rename in Okta; when pushed: okta PATCH {id, displayName}, AIW PUT, entra Replace displayName."""
        g.name = new_name
        self.group_push.send_name(g)

    def unlink_group(self, g: OktaGroup, delete: bool = True) -> None:
        """Unlink the push group; with ``delete`` send DELETE /Groups/{id}, else send nothing."""
        self.group_push.unlink(g, delete)
