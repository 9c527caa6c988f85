"""Request shapes per dialect: headers, query strings and JSON bodies, byte-exact.

Bodies are built as dicts in the documented key order and serialised compactly by
``dumps`` so the bytes on the wire match ``shared/reference/idp-wire.md`` exactly.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus

from mock_okta.errors import UnknownDialect
from mock_okta.people import OktaGroup, Person

DIALECTS: tuple[str, ...] = ("okta", "okta-aiw", "entra")

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

Member = tuple[str, str]  # (SCIM user id, display = the user's userName)


def dumps(body: Any) -> bytes:
    """Compact JSON, key order kept, UTF-8 (Okta sends charset=utf-8)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def filter_value(value: str) -> str:
    """A string literal for a SCIM filter (RFC 7644 §3.4.2.2: a JSON string)."""
    return json.dumps(value, ensure_ascii=False)


def patch(ops: list[dict[str, Any]]) -> dict[str, Any]:
    # RFC 7644 §3.5.2: a PatchOp message.
    return {"schemas": [PATCH_OP], "Operations": ops}


class Dialect:
    """Okta OIN app behaviour (the default)."""

    name = "okta"
    # AIW apps send PUT of the full resource wherever an OIN app sends PATCH.
    put_instead_of_patch = False
    # Okta never sends DELETE /Users; Entra does on de-provisioning.
    deletes_users = False

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

    def group_read_query(self) -> str:
        return ""

    def page_query(self, start_index: int, count: int, groups: bool = False) -> str:
        return f"startIndex={start_index}&count={count}"

    # --- users ----------------------------------------------------------------------
    def create_user(self, p: Person) -> dict[str, Any]:
        # Okta's POST /Users shape, key for key (idp-wire.md "Assign a user to the app").
        return {
            "schemas": [USER_SCHEMA],
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"primary": True, "value": p.email, "type": "work"}],
            "displayName": p.display_name,
            "locale": p.locale,
            "externalId": p.okta_id,
            "groups": [],
            "password": p.password,
            "active": True,
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
        obj["emails"] = _with_email(obj.get("emails"), p.email)
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
        return {
            "schemas": [USER_SCHEMA],
            "id": scim_id,
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"primary": True, "value": p.email, "type": "work"}],
            "displayName": p.display_name,
            "locale": p.locale,
            "externalId": p.okta_id,
            "groups": [],
            "active": active,
        }

    def set_active(self, active: bool) -> dict[str, Any]:
        # Okta: no path, lowercase op, a value object (reactivation by symmetry, inferred).
        return patch([{"op": "replace", "value": {"active": active}}])

    # --- groups ---------------------------------------------------------------------
    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        return {"schemas": [GROUP_SCHEMA], "displayName": g.name, "members": []}

    def rename_group(self, scim_id: str, name: str) -> dict[str, Any]:
        return patch([{"op": "replace", "value": {"id": scim_id, "displayName": name}}])

    def membership(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        # Okta: one remove op per member (path filter), then one add op with the list.
        ops: list[dict[str, Any]] = [
            {"op": "remove", "path": f"members[value eq {filter_value(v)}]"} for v, _ in removes
        ]
        if adds:
            ops.append({"op": "add", "path": "members", "value": [{"value": v, "display": d} for v, d in adds]})
        return patch(ops)

    def replace_members(self, members: list[Member]) -> dict[str, Any]:
        # Okta "Push now" overwrites the membership.
        return patch([{"op": "replace", "path": "members", "value": [{"value": v, "display": d} for v, d in members]}])

    def full_group(self, scim_id: str, name: str, members: list[Member]) -> dict[str, Any]:
        return {"schemas": [GROUP_SCHEMA], "id": scim_id, "displayName": name,
                "members": [{"value": v, "display": d} for v, d in members]}


class AiwDialect(Dialect):
    """Okta App Integration Wizard apps: PUT of the full resource instead of every PATCH."""

    name = "okta-aiw"
    put_instead_of_patch = True


class EntraDialect(Dialect):
    """Microsoft Entra ID's default (non-flagged) SCIM client behaviour."""

    name = "entra"
    deletes_users = True

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
    }

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

    def group_read_query(self) -> str:
        return "excludedAttributes=members"

    def page_query(self, start_index: int, count: int, groups: bool = False) -> str:
        base = f"startIndex={start_index}&count={count}"
        return f"excludedAttributes=members&{base}" if groups else base

    def create_user(self, p: Person) -> dict[str, Any]:
        # Entra: roles [] and the enterprise extension on create; externalId from mailNickname.
        return {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "externalId": p.mail_nickname,
            "userName": p.login,
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": p.email}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": p.full_name, "familyName": p.last_name, "givenName": p.first_name},
            "displayName": p.display_name,
            "preferredLanguage": p.locale,
            "roles": [],
            ENTERPRISE: {"employeeNumber": p.employee_number, "department": p.department},
        }

    def profile_ops(self, p: Person, keys: list[str]) -> list[dict[str, Any]]:
        return [{"op": "Replace", "path": self.PATHS[k], "value": getattr(p, k)} for k in keys if k in self.PATHS]

    def diff_keys(self, found: dict[str, Any], p: Person) -> list[str]:
        """The mapped attributes whose value on the found resource differs from Entra's."""
        return [k for k in self.PATHS if _read_path(found, self.PATHS[k]) != getattr(p, k)]

    def set_active(self, active: bool) -> dict[str, Any]:
        # Entra: a path and the string "False"/"True", capitalised op.
        return patch([self.active_op(active)])

    def active_op(self, active: bool) -> dict[str, Any]:
        return {"op": "Replace", "path": "active", "value": "True" if active else "False"}

    def create_group(self, g: OktaGroup) -> dict[str, Any]:
        # Entra: no members on create, but an externalId.
        return {"schemas": [GROUP_SCHEMA], "externalId": g.okta_id, "displayName": g.name,
                "meta": {"resourceType": "Group"}}

    def rename_group(self, scim_id: str, name: str) -> dict[str, Any]:
        return patch([{"op": "Replace", "path": "displayName", "value": name}])

    def membership(self, removes: list[Member], adds: list[Member]) -> dict[str, Any]:
        ops: list[dict[str, Any]] = []
        if removes:
            ops.append({"op": "Remove", "path": "members", "value": [{"value": v} for v, _ in removes]})
        if adds:
            ops.append({"op": "Add", "path": "members", "value": [{"$ref": None, "value": v} for v, _ in adds]})
        return patch(ops)

    def replace_members(self, members: list[Member]) -> dict[str, Any]:
        # Inferred: Entra has no "push now"; a Replace of members in its op style.
        return patch([{"op": "Replace", "path": "members", "value": [{"$ref": None, "value": v} for v, _ in members]}])


def _with_email(emails: Any, value: str) -> list[dict[str, Any]]:
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


def _read_path(obj: dict[str, Any], path: str) -> Any:
    """Read one of Entra's attribute paths from a SCIM resource (for diffing)."""
    if path.startswith(ENTERPRISE + ":"):
        ext = obj.get(ENTERPRISE)
        return ext.get(path[len(ENTERPRISE) + 1:]) if isinstance(ext, dict) else None
    if path.startswith("emails["):
        emails = obj.get("emails") if isinstance(obj.get("emails"), list) else []
        work = [e for e in emails if isinstance(e, dict) and e.get("type") == "work"]
        return work[0].get("value") if work else None
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


_BY_NAME: dict[str, type[Dialect]] = {"okta": Dialect, "okta-aiw": AiwDialect, "entra": EntraDialect}


def get_dialect(name: str) -> Dialect:
    try:
        return _BY_NAME[name]()
    except (KeyError, TypeError):
        raise UnknownDialect(str(name), DIALECTS) from None
