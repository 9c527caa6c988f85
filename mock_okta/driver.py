"""OktaOrg: an in-memory Okta org whose actions emit Okta's (or Entra's) exact SCIM requests.

Each public method is one IdP action; the HTTP sequence it sends is documented on it and
comes from ``shared/reference/idp-wire.md``. The driver only sends, on the injected ``httpx.Client``;
whoever wants a record of the exchanges gives it a client whose transport records them.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable
from urllib.parse import quote

import httpx

from mock_okta.backoff import Backoff
from mock_okta.dialects import Dialect, Member, dumps, get_dialect, patch
from mock_okta.errors import TASK_TITLES as _TITLES, ProvisioningError, Task as _Task, remote_detail as _detail, transport_error
from mock_okta.people import OktaGroup, PeopleFactory, Person

# Profile attributes an update may change (okta_id and the password placeholder are Okta's own).
CHANGEABLE = ("first_name", "last_name", "email", "login", "display_name", "locale",
              "department", "employee_number", "mail_nickname")
PAGE_SIZE = 100  # Okta imports 100 at a time
MAX_PAGES = 10_000  # stop an import whose server never reaches totalResults


def _at(kind: str, scim_id: str) -> str:
    """/Users/{id} or /Groups/{id}, the id percent-encoded so any server id stays one segment."""
    return f"/{kind}/{quote(scim_id, safe='')}"


class OktaOrg:
    """An Okta org with one SCIM app (the target behind ``client``)."""

    def __init__(self, client: httpx.Client, *, dialect: str = "okta", seed: int = 0, base_path: str = "",
                 sleep: Callable[[float], None] = time.sleep,
                 time_scale: float = 1.0, rename_groups: bool = False, batch_size: int = 100,
                 max_concurrency: int = 4, timeout: float = 60.0, domain: str = "example.com",
                 app_name: str = "Clockwise") -> None:
        self.dialect: Dialect = get_dialect(dialect)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.client = client
        self.seed = seed
        self.base_path = base_path.rstrip("/")
        self.backoff = Backoff(sleep=sleep, time_scale=time_scale)
        self.rename_groups = rename_groups
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.app_name = app_name
        self.people: list[Person] = []
        self.groups: list[OktaGroup] = []
        self._factory = PeopleFactory(seed, domain)
        self._lock = threading.RLock()
        self._assigned: dict[str, str] = {}        # okta_id -> SCIM user id
        self._group_links: dict[str, str] = {}     # Okta group id -> SCIM group id
        self._pushed: dict[str, list[Member]] = {}  # Okta group id -> members last pushed

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
        with self._lock:
            return self._group_links.get(g.okta_id)

    # --- HTTP -----------------------------------------------------------------------------
    def _url(self, path: str, query: str = "") -> str:
        return f"{self.base_path}{path}" + (f"?{query}" if query else "")

    def _request(self, method: str, path: str, task: _Task, *, query: str = "", body: Any = None,
                 ok: Iterable[int] = ()) -> httpx.Response:
        """Send one request (retrying 429s), or raise the task's ProvisioningError.

        A 2xx, or a status listed in ``ok``, is returned; anything else fails the task.
        """
        content = dumps(body) if body is not None else None

        def send() -> httpx.Response:
            request = self.client.build_request(method, self._url(path, query), content=content,
                                                headers=self.dialect.headers(content is not None),
                                                timeout=self.timeout)
            if content is None:
                request.headers.pop("Content-Type", None)
            try:
                return self.client.send(request)
            except httpx.TimeoutException:
                raise task.fail(f"The remote server did not answer within {self.timeout:g} s", request=request) from None
            except httpx.HTTPError as exc:
                raise task.fail(f"Could not reach the remote server ({transport_error(exc)})", request=request) from None

        try:
            response, exhausted = self.backoff.run(send)
        except httpx.InvalidURL as exc:
            raise task.fail(f"Could not reach the remote server ({type(exc).__name__}: {exc})") from None
        if exhausted is not None:
            raise task.fail(f"Errors reported by remote server: rate limit exceeded (429 Too Many Requests) "
                            f"on {exhausted.attempts} attempts", response)
        if not (200 <= response.status_code < 300 or response.status_code in ok):
            raise task.fail(f"Errors reported by remote server: {_detail(response)}", response)
        return response

    def _json(self, response: httpx.Response, task: _Task, *, required: bool) -> Any:
        """The JSON body; an empty (when ``required``) or non-JSON body fails the task."""
        if not response.content:
            if required:
                raise task.fail(f"the remote server answered {response.status_code} with an empty body", response)
            return None
        try:
            return response.json()
        except ValueError:
            raise task.fail(f"the remote server answered {response.status_code} with a body that is not JSON",
                            response) from None

    def _create(self, path: str, body: dict[str, Any], task: _Task) -> str:
        """POST and return the new id; a 2xx without ``id`` is a failed task (Okta)."""
        response = self._request("POST", path, task, body=body)
        data = self._json(response, task, required=True)
        scim_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(scim_id, str) or not scim_id:
            raise task.fail(f"the remote server answered {response.status_code} without an id", response)
        return scim_id

    # --- user tasks -----------------------------------------------------------------------
    def _user_task(self, kind: str, p: Person, doing: str) -> _Task:
        return _Task(_TITLES[kind].format(n=p.full_name, a=self.app_name), f"Error while {doing} user {p.login}")

    def _find(self, path: str, query: str, key: str, value: str, task: _Task) -> dict[str, Any] | None:
        """An `eq` lookup; the resource whose ``key`` equals ``value`` (case-insensitively), or None.

        # idp-wire.md: "not found" is 200 with totalResults 0 / empty Resources, or a 404 Error.
        """
        response = self._request("GET", path, task, query=query, ok=(404,))
        if response.status_code == 404:
            return None
        data = self._json(response, task, required=True)
        resources = data.get("Resources", []) if isinstance(data, dict) else None
        if not isinstance(resources, list):
            raise task.fail("the remote server answered without a Resources list", response)
        for r in resources:
            if isinstance(r, dict) and str(r.get(key, "")).lower() == value.lower():
                if not r.get("id"):
                    raise task.fail(f"the remote server returned {value} without an id", response)
                return r
        return None

    def _lookup_user(self, p: Person, task: _Task) -> dict[str, Any] | None:
        """Okta's existence check before every create: GET /Users?filter=userName eq "…"."""
        search = _Task(task.title, f"Error while searching for user {p.login}")
        return self._find("/Users", self.dialect.user_lookup_query(p.login), "userName", p.login, search)

    def _remember(self, p: Person, scim_id: str) -> None:
        with self._lock:
            self._assigned[p.okta_id] = scim_id

    def _require_id(self, p: Person, task: _Task) -> str:
        scim_id = self.scim_id(p)
        if scim_id is None:
            raise task.fail("the user is not assigned to the app (no SCIM id is known)")
        return scim_id

    def assign(self, p: Person) -> str:
        """Assign ``p`` to the app; returns the SCIM id.

        Lookup by ``userName eq``; not found → POST /Users. Found → link the id and push the
        profile: okta PUT (+ PATCH active:true when inactive), okta-aiw one PUT with
        active:true, entra one PATCH of the differing paths (+ active "True").
        """
        task = self._user_task("assign", p, "creating")
        found = self._lookup_user(p, task)
        if found is None:
            scim_id = self._create("/Users", self.dialect.create_user(p), task)
            self._remember(p, scim_id)
            return scim_id
        scim_id = str(found["id"])
        self._remember(p, scim_id)
        inactive = found.get("active") is False
        task = self._user_task("assign", p, "updating")
        path = _at("Users", scim_id)
        if self.dialect.name == "entra":
            ops = self.dialect.profile_ops(p, self.dialect.diff_keys(found, p))  # type: ignore[attr-defined]
            if inactive:
                ops.append(self.dialect.active_op(True))  # type: ignore[attr-defined]
            if ops:
                self._request("PATCH", path, task, body=patch(ops))
        elif self.dialect.put_instead_of_patch:
            self._request("PUT", path, task, body=self.dialect.profile_put(found, p))
        else:
            self._request("PUT", path, task, body=self.dialect.link_put(found, p))
            if inactive:
                self._request("PATCH", path, self._user_task("assign", p, "activating"),
                              body=self.dialect.set_active(True))
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
        applied, active:true, groups:[]. entra: one PATCH, one Replace op per changed path.
        """
        unknown = set(changes) - set(CHANGEABLE)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}; changeable: {', '.join(CHANGEABLE)}")
        task = self._user_task("update", p, "updating")
        scim_id = self._require_id(p, task)
        if ("first_name" in changes or "last_name" in changes) and "display_name" not in changes \
                and p.display_name == p.full_name:
            changes["display_name"] = f"{changes.get('first_name', p.first_name)} " \
                                      f"{changes.get('last_name', p.last_name)}".strip()
        for key, value in changes.items():
            setattr(p, key, value)
        task = self._user_task("update", p, "updating")  # Okta names the user as it is now
        path = _at("Users", scim_id)
        if self.dialect.name == "entra":
            body: dict[str, Any] = patch(self.dialect.profile_ops(p, list(changes)))  # type: ignore[attr-defined]
        else:
            read = self._user_task("update", p, "reading")
            response = self._request("GET", path, read)
            received = self._json(response, read, required=True)
            if not isinstance(received, dict):
                raise read.fail("the remote server did not return a user object", response)
            body = self.dialect.profile_put(received, p)
        response = self._request("PATCH" if self.dialect.name == "entra" else "PUT", path, task, body=body)
        answer = self._json(response, task, required=False)
        return answer if isinstance(answer, dict) else body

    def _set_active(self, p: Person, scim_id: str, active: bool, task: _Task) -> None:
        path = _at("Users", scim_id)
        if self.dialect.put_instead_of_patch:
            # Okta AIW apps: a full PUT carrying active instead of the PATCH.
            self._request("PUT", path, task, body=self.dialect.full_user(p, scim_id, active))
        else:
            self._request("PATCH", path, task, body=self.dialect.set_active(active))

    def deactivate(self, p: Person) -> None:
        """okta: PATCH no-path {"active":false}; okta-aiw: PUT active:false; entra: "False"."""
        task = self._user_task("deactivate", p, "deactivating")
        self._set_active(p, self._require_id(p, task), False, task)

    def unassign(self, p: Person) -> None:
        """Unassigning from the app deactivates the user in the app (Okta never DELETEs)."""
        self.deactivate(p)

    def reactivate(self, p: Person) -> None:
        """Lookup by userName, then activate the found id (same SCIM id); not found → create."""
        task = self._user_task("reactivate", p, "activating")
        found = self._lookup_user(p, task)
        if found is None:
            self.assign(p)
            return
        scim_id = str(found["id"])
        self._remember(p, scim_id)
        self._set_active(p, scim_id, True, task)

    def deprovision(self, p: Person) -> None:
        """entra: DELETE /Users/{id}; okta dialects: deactivate (Okta never sends DELETE /Users)."""
        if not self.dialect.deletes_users:
            self.deactivate(p)
            return
        task = self._user_task("deactivate", p, "deleting")
        scim_id = self._require_id(p, task)
        self._request("DELETE", _at("Users", scim_id), task)
        with self._lock:
            self._assigned.pop(p.okta_id, None)

    # --- connection and import -------------------------------------------------------------
    def test_connection(self) -> None:
        """okta: GET /Users?startIndex=1&count=2, GET /Groups?startIndex=1&count=100; entra: a
        userName lookup of a random GUID (as Entra's "Test Connection" is reported to do)."""
        task = _Task(f"Test connection to app {self.app_name} failed", "Error while reading users")
        if self.dialect.name == "entra":
            probe = str(uuid.UUID(int=random.Random(self.seed).getrandbits(128), version=4))
            self._request("GET", "/Users", task, query=self.dialect.user_lookup_query(probe), ok=(404,))
            return
        self._request("GET", "/Users", task, query="startIndex=1&count=2")
        self._request("GET", "/Groups", _Task(task.title, "Error while reading groups"),
                      query="startIndex=1&count=100")

    def _import(self, path: str, what: str) -> list[dict[str, Any]]:
        # Okta: startIndex=1&count=100, then startIndex += 100 until totalResults.
        task = _Task(f"Import from app {self.app_name} failed", f"Error while reading {what}")
        out: list[dict[str, Any]] = []
        start = 1
        for _ in range(MAX_PAGES):
            query = self.dialect.page_query(start, PAGE_SIZE, groups=(what == "groups"))
            response = self._request("GET", path, task, query=query)
            data = self._json(response, task, required=True)
            if not isinstance(data, dict):
                raise task.fail("the remote server did not return a ListResponse", response)
            total = data.get("totalResults")
            if not isinstance(total, int) or isinstance(total, bool):
                raise task.fail(f"totalResults is not an integer ({total!r})", response)
            resources = data.get("Resources", [])
            if not isinstance(resources, list):
                raise task.fail("Resources is not a list", response)
            out.extend(r for r in resources if isinstance(r, dict))
            start += PAGE_SIZE
            if not resources or start > total:
                return out
        raise task.fail(f"gave up after {MAX_PAGES} pages without reaching totalResults")

    def import_users(self) -> list[dict[str, Any]]:
        return self._import("/Users", "users")

    def import_groups(self) -> list[dict[str, Any]]:
        return self._import("/Groups", "groups")

    # --- group push ---------------------------------------------------------------------------
    def _group_task(self, g: OktaGroup, doing: str) -> _Task:
        return _Task(f"Push of group {g.name} to app {self.app_name} failed", f"Error while {doing} group {g.name}")

    def _members_of(self, g: OktaGroup) -> list[Member]:
        """The pushed members: the group's people that are assigned to the app (Okta pushes only those)."""
        out: list[Member] = []
        for p in g.members:
            scim_id = self.scim_id(p)
            if scim_id is not None and all(v != scim_id for v, _ in out):
                out.append((scim_id, p.login))
        return out

    def _require_group(self, g: OktaGroup, task: _Task) -> str:
        scim_id = self.group_scim_id(g)
        if scim_id is None:
            raise task.fail("the group is not pushed to the app (no SCIM id is known)")
        return scim_id

    def _rename_if_on(self, g: OktaGroup, scim_id: str) -> None:
        # Okta: with "rename app groups" on, the rename PATCH precedes each membership update.
        if self.rename_groups and not self.dialect.put_instead_of_patch:
            self._request("PATCH", _at("Groups", scim_id), self._group_task(g, "renaming"),
                          body=self.dialect.rename_group(scim_id, g.name))

    def _send_membership(self, g: OktaGroup, scim_id: str, removes: list[Member], adds: list[Member]) -> None:
        """Membership PATCHes of at most ``batch_size`` changes (removes first); AIW: one PUT."""
        task = self._group_task(g, "updating")
        path = _at("Groups", scim_id)
        pushed = list(self._pushed.get(g.okta_id, []))
        if self.dialect.put_instead_of_patch:
            gone = {v for v, _ in removes}
            members = [m for m in pushed if m[0] not in gone] + [m for m in adds if m not in pushed]
            self._request("PUT", path, task, body=self.dialect.full_group(scim_id, g.name, members))
            self._pushed[g.okta_id] = members
            return
        changes = [("remove", m) for m in removes] + [("add", m) for m in adds]
        for i in range(0, len(changes), self.batch_size):
            chunk = changes[i:i + self.batch_size]
            self._rename_if_on(g, scim_id)
            rem = [m for kind, m in chunk if kind == "remove"]
            add = [m for kind, m in chunk if kind == "add"]
            self._request("PATCH", path, task, body=self.dialect.membership(rem, add))
            pushed = [m for m in pushed if m not in rem] + [m for m in add if m not in pushed]
            self._pushed[g.okta_id] = pushed

    def _link_group(self, g: OktaGroup, scim_id: str) -> str:
        with self._lock:
            self._group_links[g.okta_id] = scim_id
            self._pushed[g.okta_id] = []
        return scim_id

    def push_group(self, g: OktaGroup, link_existing: bool = False) -> str:
        """POST /Groups, then add its assigned members. link_existing: GET /Groups?filter=
        displayName eq "…"; if found, link its id and overwrite the members (push now)."""
        if link_existing:
            found = self._find("/Groups", self.dialect.group_lookup_query(g.name), "displayName", g.name,
                               self._group_task(g, "searching for"))
            if found is not None:
                scim_id = self._link_group(g, str(found["id"]))
                if self.dialect.name == "entra":
                    self._send_membership(g, scim_id, [], self._members_of(g))
                else:
                    self.push_now(g)
                return scim_id
        task = self._group_task(g, "creating")
        scim_id = self._link_group(g, self._create("/Groups", self.dialect.create_group(g), task))
        members = self._members_of(g)
        if members:
            self._send_membership(g, scim_id, [], members)
        return scim_id

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
        scim_id = self.group_scim_id(g)
        if scim_id is None:
            return
        pushed = self._pushed.get(g.okta_id, [])
        current = self._members_of(g)
        removes = [m for m in pushed if m[0] not in {v for v, _ in current}]
        adds = [m for m in current if m not in pushed]
        if removes or adds:
            self._send_membership(g, scim_id, removes, adds)

    def add_to_group(self, g: OktaGroup, people: Iterable[Person]) -> None:
        self.change_group_members(g, add=people)

    def remove_from_group(self, g: OktaGroup, people: Iterable[Person]) -> None:
        self.change_group_members(g, remove=people)

    def push_now(self, g: OktaGroup) -> None:
        """Okta "Push now": replace members with the group's assigned members (AIW: PUT)."""
        task = self._group_task(g, "updating")
        scim_id = self._require_group(g, task)
        members = self._members_of(g)
        if self.dialect.put_instead_of_patch:
            self._request("PUT", _at("Groups", scim_id), task, body=self.dialect.full_group(scim_id, g.name, members))
        else:
            self._rename_if_on(g, scim_id)
            self._request("PATCH", _at("Groups", scim_id), task, body=self.dialect.replace_members(members))
        self._pushed[g.okta_id] = members

    def rename_group(self, g: OktaGroup, new_name: str) -> None:
        """Rename in Okta; when pushed: okta PATCH {id, displayName}, AIW PUT, entra Replace displayName."""
        g.name = new_name
        scim_id = self.group_scim_id(g)
        if scim_id is None:
            return
        task = self._group_task(g, "renaming")
        if self.dialect.put_instead_of_patch:
            body = self.dialect.full_group(scim_id, new_name, self._pushed.get(g.okta_id, []))
            self._request("PUT", _at("Groups", scim_id), task, body=body)
        else:
            self._request("PATCH", _at("Groups", scim_id), task, body=self.dialect.rename_group(scim_id, new_name))

    def unlink_group(self, g: OktaGroup, delete: bool = True) -> None:
        """Unlink the push group; with ``delete`` send DELETE /Groups/{id}, else send nothing."""
        scim_id = self.group_scim_id(g)
        if scim_id is None:
            return
        if delete:
            self._request("DELETE", _at("Groups", scim_id), self._group_task(g, "deleting"))
        with self._lock:
            self._group_links.pop(g.okta_id, None)
            self._pushed.pop(g.okta_id, None)
