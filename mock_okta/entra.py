"""Microsoft Entra ID's default (non-flagged) SCIM client: capitalised ops, one op per path, DELETE.

Shapes from ``shared/reference/idp-wire.md`` "Microsoft Entra ID".
"""
from __future__ import annotations

import random
import uuid
from typing import Any
from urllib.parse import quote_plus

from mock_okta.dialect import Dialect
from mock_okta.people import ADDRESS_KEYS, CUSTOM_URN, PHONE_TYPES, OktaGroup, Person
from mock_okta.wire import (ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA, Call, Member, Reader, filter_value, group_path, patch,
                            user_path)


class EntraDialect(Dialect):
    """Microsoft Entra ID's default (non-flagged) SCIM client behaviour."""

    name = "entra"
    # Entra does send DELETE /Users/{id} on de-provisioning.
    deprovisioning = "deleting"
    # idp-wire.md "Entra corrections": "not found" MUST be 200 with an empty ListResponse; a 404 on a
    # filter query (or a 401) is a failed operation and a listed cause of quarantine.
    not_found = ()
    # Okta's "Rename app groups" setting has no Entra counterpart: Entra renames only when the name changes.
    renames_groups = False
    # idp-wire.md "Entra corrections": a failed operation is retried in later cycles, then quarantined.
    retries_in_cycles = True
    # idp-wire.md "Entra corrections": before creating a group Entra looks it up by its matching attribute.
    looks_up_groups = True

    # Entra attribute paths, one PATCH op per path (idp-wire.md "Microsoft Entra ID").
    PATHS: dict[str, str] = {
        "login": "userName",
        "first_name": "name.givenName",
        "last_name": "name.familyName",
        "email": 'emails[type eq "work"].value',
        "display_name": "displayName",
        "locale": "preferredLanguage",
        "mail_nickname": "externalId",
        "employee_number": f"{ENTERPRISE}:employeeNumber",
        "department": f"{ENTERPRISE}:department",
        "title": "title",
    }

    # --- headers and queries --------------------------------------------------------
    def headers(self, has_body: bool) -> dict[str, str]:
        # Inferred: Entra's published pages do not give its User-Agent; this is the value
        # commonly reported. Content-Type is application/scim+json without a charset.
        h = {"User-Agent": "Microsoft.AAD.Provisioning/1.0", "Accept": "application/scim+json"}
        if has_body:
            h["Content-Type"] = "application/scim+json"
        return h

    def user_lookup_query(self, user_name: str) -> str:
        # Entra: `eq` only, spaces encoded as '+' (as seen in real Entra traffic), no paging.
        return "filter=" + quote_plus(f"userName eq {filter_value(user_name)}", safe="")

    def group_lookup_query(self, display_name: str) -> str:
        # Entra reads groups with excludedAttributes=members.
        return "excludedAttributes=members&filter=" + quote_plus(f"displayName eq {filter_value(display_name)}", safe="")

    def page_query(self, start_index: int, count: int, groups: bool = False) -> str:
        base = super().page_query(start_index, count)
        return f"excludedAttributes=members&{base}" if groups else base

    # --- user bodies ----------------------------------------------------------------
    def create_user(self, p: Person) -> dict[str, Any]:
        # Entra: roles [] and the enterprise extension on create; externalId from mailNickname.
        # idp-wire.md "Entra corrections": default mappings include title, addresses[type eq "work"],
        # phoneNumbers work/mobile/fax; custom extension attributes go under their URN, which Entra
        # leaves out of schemas[]; Entra never sends nulls (an empty attribute is left out). The
        # manager is not sent here: it is set by a PATCH once checked (``manager_calls``).
        body: dict[str, Any] = {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "externalId": p.mail_nickname,
            "userName": p.login,
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": p.email}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": p.full_name, "familyName": p.last_name, "givenName": p.first_name},
            "displayName": p.display_name,
            "preferredLanguage": p.preferred_language or p.locale,
        }
        if p.title:
            body["title"] = p.title
        if p.phone_numbers:
            body["phoneNumbers"] = [{"type": t, "value": v} for t, v in p.phone_numbers.items() if v]
        if p.address:
            body["addresses"] = [{"type": "work", **{k: v for k, v in p.address.items() if v}}]
        body["roles"] = []
        body[ENTERPRISE] = {k: v for k, v in (("employeeNumber", p.employee_number), ("department", p.department)) if v}
        if p.custom:
            body[CUSTOM_URN] = {k: v for k, v in p.custom.items() if v is not None}
        return body

    def paths_of(self, p: Person, key: str, value: Any) -> list[tuple[str, Any]]:
        """Entra's attribute paths for one Person field holding ``value``, with their values (one op each)."""
        if key == "locale":  # Entra's preferredLanguage comes from preferred_language, else locale
            return [] if p.preferred_language else [("preferredLanguage", value)]
        if key == "preferred_language":
            return [("preferredLanguage", value or p.locale)]
        if key in self.PATHS:
            return [(self.PATHS[key], value)]
        if key == "phone_numbers":
            return [(f'phoneNumbers[type eq "{t}"].value', (value or {}).get(t, "")) for t in PHONE_TYPES]
        if key == "address":
            return [(f'addresses[type eq "work"].{k}', (value or {}).get(k, "")) for k in ADDRESS_KEYS]
        if key == "custom":
            return [(f"{CUSTOM_URN}:{k}", v) for k, v in (value or {}).items()]
        return []

    def profile_ops(self, p: Person, keys: list[str], old: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One op per path of ``keys``; ``old`` holds each path's value before (None: unknown).

        # idp-wire.md "Entra corrections": a single-valued attribute that was empty before gets `Add`,
        # not `Replace`; Entra never sends nulls (an empty value sends nothing). A path whose value did
        # not change sends nothing.
        """
        ops: list[dict[str, Any]] = []
        for key in keys:
            for path, value in self.paths_of(p, key, getattr(p, key)):
                was = None if old is None else old.get(path)
                if value in ("", None) or (old is not None and was == value):
                    continue
                op = "Add" if old is not None and was in ("", None) else "Replace"
                ops.append({"op": op, "path": path, "value": value})
        return ops

    def old_paths(self, p: Person, before: dict[str, Any]) -> dict[str, Any]:
        """Each path's value before an update (``before``: field -> value before)."""
        return {path: v for key, value in before.items() for path, v in self.paths_of(p, key, value)}

    def diff_keys(self, found: dict[str, Any], p: Person) -> list[str]:
        """The mapped attributes whose value on the found resource differs from Entra's."""
        return [k for k in self.PATHS if k != "locale" and read_path(found, self.PATHS[k]) != getattr(p, k)]

    def manager_calls(self, p: Person, scim_id: str) -> tuple[Call, Call] | None:
        """The check of the manager reference (an ``and`` query) and the PATCH that sets it.

        # idp-wire.md "Entra corrections": the enterprise manager is checked with an `and` query and
        # set with `Add` and `[{"$ref":…,"value":…}]`. The query's exact attributes are not quoted:
        # inferred as `id eq "<user>" and manager eq "<manager>"`; `$ref` is null as in Entra's members.
        """
        if not p.manager_id:
            return None
        expr = f"id eq {filter_value(scim_id)} and manager eq {filter_value(p.manager_id)}"
        check = Call("GET", "/Users", query="filter=" + quote_plus(expr, safe=""), lookup=True, doing="reading")
        ops = [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": [{"$ref": None, "value": p.manager_id}]}]
        return check, Call("PATCH", user_path(scim_id), patch(ops), doing="updating")

    def active_body(self, active: bool) -> dict[str, Any]:
        # Entra: a path and the string "False"/"True", capitalised op.
        return patch([self.active_op(active)])

    def active_op(self, active: bool) -> dict[str, Any]:
        return {"op": "Replace", "path": "active", "value": "True" if active else "False"}

    # --- group bodies ---------------------------------------------------------------
    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        # Entra: an externalId, and `"members":[]` (idp-wire.md "Entra corrections": Create Group
        # carries "members":[]); the members follow in a PATCH.
        return {"schemas": [GROUP_SCHEMA], "externalId": g.okta_id, "displayName": g.name, "members": [],
                "meta": {"resourceType": "Group"}}

    def rename_body(self, scim_id: str, name: str) -> dict[str, Any]:
        return patch([{"op": "Replace", "path": "displayName", "value": name}])

    def membership_body(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        ops: list[dict[str, Any]] = []
        if removes:
            ops.append({"op": "Remove", "path": "members", "value": [{"value": v} for v, _ in removes]})
        if adds:
            ops.append({"op": "Add", "path": "members", "value": [{"$ref": None, "value": v} for v, _ in adds]})
        return patch(ops)

    def replace_members_body(self, members: list[Member]) -> dict[str, Any]:
        # Inferred: Entra has no "push now"; a Replace of members in its op style.
        return patch([{"op": "Replace", "path": "members", "value": [{"$ref": None, "value": v} for v, _ in members]}])

    # --- sequences ------------------------------------------------------------------
    def test_connection(self, seed: int) -> list[Call]:
        """A userName lookup of a random GUID, then a read of a random group; both must answer 200
        with an empty ListResponse (a 404 is a failed test connection, a cause of quarantine).

        # idp-wire.md "Entra corrections": test connection filters userName on a random GUID and
        # also reads a random group. How it reads the group is not published: inferred as a
        # displayName lookup of another random GUID, in Entra's group-lookup shape.
        """
        rng = random.Random(seed)
        probe, group = (str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2))
        return [Call("GET", "/Users", query=self.user_lookup_query(probe), lookup=True, retried=False,
                     doing="reading users"),
                Call("GET", "/Groups", query=self.group_lookup_query(group), lookup=True, retried=False,
                     doing="reading groups")]

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        """One PATCH of the paths that differ (+ active "True" when inactive); nothing when none do."""
        keys = self.diff_keys(found, p)
        ops = self.profile_ops(p, keys, {self.PATHS[k]: read_path(found, self.PATHS[k]) for k in keys})
        if found.get("active") is False:
            ops.append(self.active_op(True))
        return [Call("PATCH", user_path(scim_id), patch(ops), doing="updating")] if ops else []

    def update_user(self, p: Person, scim_id: str, changed: dict[str, Any], read: Reader) -> Call:
        """One PATCH, one op per changed path (Add when it was empty, Replace after); nothing is read first."""
        return Call("PATCH", user_path(scim_id), patch(self.profile_ops(p, list(changed), self.old_paths(p, changed))), doing="updating")

    def deprovision(self, p: Person, scim_id: str, read: Reader) -> Call:
        return Call("DELETE", user_path(scim_id), doing=self.deprovisioning)

    def group_read(self, scim_id: str) -> list[Call]:
        # idp-wire.md "Entra corrections": Entra reads GET /Groups/{id}?excludedAttributes=members.
        # When it does is not published: inferred as before each update of a group it did not just create.
        return [Call("GET", group_path(scim_id), query="excludedAttributes=members", doing="reading")]

    def rename_first(self, scim_id: str, name: str, rename: bool) -> list[Call]:
        return []  # no "Rename app groups" PATCH before a membership update (an Okta setting)


def read_path(obj: dict[str, Any], path: str) -> Any:
    """Read one of Entra's attribute paths from a SCIM resource (for diffing)."""
    if path.startswith(ENTERPRISE + ":"):
        ext = obj.get(ENTERPRISE)
        return ext.get(path[len(ENTERPRISE) + 1:]) if isinstance(ext, dict) else None
    if path.startswith("emails["):
        emails = obj.get("emails")
        listed = emails if isinstance(emails, list) else []
        work = [e for e in listed if isinstance(e, dict) and e.get("type") == "work"]
        return work[0].get("value") if work else None
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


class Entra2020Dialect(EntraDialect):
    """Entra with the ``aadOptscim062020`` flag (Microsoft says it becomes the default).

    # idp-wire.md "Entra corrections": lowercase ops, boolean values, a no-path replace whose value
    # object has dotted keys (emails stay a separate op), member removal by a
    # `members[value eq "<id>"]` path. Everything else is Entra's default behaviour.
    """

    name = "entra-2020"

    def active_op(self, active: bool) -> dict[str, Any]:
        # The flag: a lowercase op and a JSON boolean (not the string "False").
        return {"op": "replace", "path": "active", "value": active}

    def profile_ops(self, p: Person, keys: list[str], old: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Entra's per-path ops regrouped: the Replaces in one no-path replace with dotted keys (emails
        stay a separate op); Adds for paths empty before stay one op per path, lowercase (inferred:
        the flag's documentation shows only the grouped replace)."""
        grouped: dict[str, Any] = {}
        ops: list[dict[str, Any]] = []
        for op in super().profile_ops(p, keys, old):
            if op["op"] == "Replace" and not op["path"].startswith("emails["):
                grouped[op["path"]] = op["value"]
            else:
                ops.append({**op, "op": op["op"].lower()})
        return ([{"op": "replace", "value": grouped}] if grouped else []) + ops

    def rename_body(self, scim_id: str, name: str) -> dict[str, Any]:
        return patch([{"op": "replace", "path": "displayName", "value": name}])

    def membership_body(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        # The flag: one remove op per member by a filter path; adds as Entra's, lowercase.
        ops: list[dict[str, Any]] = [{"op": "remove", "path": f"members[value eq {filter_value(v)}]"} for v, _ in removes]
        if adds:
            ops.append({"op": "add", "path": "members", "value": [{"$ref": None, "value": v} for v, _ in adds]})
        return patch(ops)

    def replace_members_body(self, members: list[Member]) -> dict[str, Any]:
        return patch([{"op": "replace", "path": "members", "value": [{"$ref": None, "value": v} for v, _ in members]}])

    def manager_calls(self, p: Person, scim_id: str) -> tuple[Call, Call] | None:
        calls = super().manager_calls(p, scim_id)
        if calls is None:
            return None
        check, set_it = calls
        ops = [{**op, "op": op["op"].lower()} for op in set_it.body["Operations"]]
        return check, Call("PATCH", set_it.path, patch(ops), doing=set_it.doing)
