"""The mock's SCIM resources, users and groups, on SQLite (moto's "backend": no web imports),
on top of the org side (org_store.py) and the connections and transactions (store_base.py).

Storage: `:memory:` by default, one connection used under an RLock; a WAL-mode file with `--db`
(or the temporary file the worker processes share), one connection per thread (store_base.py).
Each write runs in its own `BEGIN IMMEDIATE` transaction, so a failing operation (any ScimError)
changes nothing. Resource JSON is stored as text next to the indexed columns that filters and
uniqueness need.

Resources come out WITHOUT `meta.location`, member `$ref`s or a user's `groups[].$ref`:
those are absolute URLs that depend on the request's host, so the views add them
(representation.decorate).
"""
from __future__ import annotations

import sqlite3
import uuid
from typing import Any, Callable, Iterable, TypeVar

from . import plan
from .errors import Forbidden, InvalidValue, Uniqueness
from .filter_eval import compile_filter, index_hint
from .names import user_name_key
from .org_store import OrgStore
from .patch import apply_patch
from .projection import sort_key
from .representation import attach_groups, from_json, resource_from_row, stored_form, stored_text, wire_form
from .schema import GROUP, USER, ResourceType
from .store_base import BLOCK_BITS, check_if_match, groups_by_user, missing, now_iso
from .validation import validate_resource

PATCH_ATTEMPTS = 3  # optimistic tries of a user PATCH outside the write lock before one under it

# The indexed column behind each `index_hint` attribute, per table.
_HINT_COLUMNS = {
    # userName: the hint is already names.user_name_key (filter_eval.index_hint), not to be folded again.
    "users": {"username": ("user_name_key", False), "externalid": ("external_id", False), "id": ("id", False)},
    "groups": {"displayname": ("display_name_lower", True), "externalid": ("external_id", False),
               "id": ("id", False)},
}

# What a group's member costs in a page beyond the stored JSON (value, display, type, $ref).
_MEMBER_BYTES = 160

# A user's `groups` as JSON text, built by SQLite inside the page's one statement: the values of
# representation.group_value in the order of representation.attach_groups (the groups' creation order),
# without the host-dependent `$ref` (the views add it); NULL when the user is in no group.
_GROUPS_JSON = ("(SELECT '[' || group_concat(value, ',') || ']' FROM (SELECT json_object('value', g.id, "
                "'display', g.display_name, 'type', 'direct') AS value FROM group_members gm JOIN groups g "
                "ON g.id = gm.group_id WHERE gm.user_id = users.id ORDER BY g.seq))")

T = TypeVar("T")


def _within(items: Iterable[T], size: Callable[[T], int], max_bytes: int | None) -> list[T]:
    """The leading items whose sizes add up to at most `max_bytes` (at least one, so a client
    paging by startIndex always moves on); all of them when max_bytes is None."""
    out: list[T] = []
    used = 0
    for item in items:
        used += size(item)
        if out and max_bytes is not None and used > max_bytes:
            break
        out.append(item)
    return out


def _stored_size(row: sqlite3.Row, resource: dict[str, Any]) -> int:
    return len(row["data"]) + _MEMBER_BYTES * len(resource.get("members") or ())


class Store(OrgStore):
    """All orgs, tokens, members, users, groups and events of one mock."""

    # ------------------------------------------------------------------ reads
    def get_user(self, org: str, uid: str) -> dict[str, Any]:
        # One statement, its own snapshot: the user with its groups (no BEGIN/COMMIT around two).
        row = self._read_one(f"SELECT data, created, last_modified, version, {_GROUPS_JSON} AS groups_json "
                             "FROM users WHERE org=? AND id=?", (org, uid))
        if row is None:
            raise missing("users", uid)
        user = resource_from_row("User", row)
        return attach_groups([user], {user["id"]: from_json(row["groups_json"]) if row["groups_json"] else []})[0]

    def get_group(self, org: str, gid: str) -> dict[str, Any]:
        with self._read() as c:
            return self._group_out(c, self._row(c, "groups", org, gid))

    def list_resources(self, org: str, rtype: ResourceType, flt: Any = None, start_index: int = 1,
                       count: int = 100, sort_by: str | None = None, descending: bool = False,
                       max_bytes: int | None = None) -> tuple[int, list[dict[str, Any]]]:
        """RFC 7644 §3.4.2: (totalResults, the page). `start_index` is 1-based and ≥ 1. The page
        holds at most `count` resources and stops early once their stored size passes `max_bytes`
        (always at least one; RFC 7644 §3.4.2.4 lets a page hold fewer than `count`)."""
        table = "users" if rtype is USER else "groups"
        with self._read() as c:
            org_row = self._org_row(c, org)
            if flt is None and not sort_by:
                # No filter: the org's maintained count and one page in creation order.
                total = org_row[f"{table}_count"]
                page = [self._out(c, table, r) for r in self._page_rows(c, table, org, start_index, count,
                                                                         "*", max_bytes)]
            else:
                total, page = self._filtered(c, table, org, rtype, flt, start_index, count, sort_by, descending,
                                             max_bytes)
            if table == "users":
                self._with_groups(c, [u for u in page if "groups" not in u])
        return total, page

    def _filtered(self, c: sqlite3.Connection, table: str, org: str, rtype: ResourceType, flt: Any,
                  start_index: int, count: int, sort_by: str | None, descending: bool,
                  max_bytes: int | None) -> tuple[int, list[dict[str, Any]]]:
        """(total, page) of a filtered and/or sorted list. The candidates are read in batches, and
        without a sort only the page is kept, so a large org costs one batch of memory."""
        # A user's read-only `groups` is computed, not stored: attach it when asked about.
        with_groups = table == "users" and "groups" in repr((flt, sort_by)).lower()
        test = compile_filter(flt, rtype) if flt is not None else None
        cursor = self._candidates(c, table, org, rtype, flt)
        total, kept = 0, []
        end = start_index - 1 + max(count, 0)
        while batch := cursor.fetchmany(32):  # small: a stored user may be ~1 MiB
            resources = [self._out(c, table, r) for r in batch]
            if with_groups:
                self._with_groups(c, resources)
            for row, resource in zip(batch, resources):
                if test is not None and not test(resource):
                    continue
                total += 1
                if sort_by or start_index <= total <= end:
                    kept.append((_stored_size(row, resource), resource))
        if sort_by:
            # RFC 7644 §3.4.2.3; sort() is stable, so ties keep creation order.
            kept.sort(key=lambda k: sort_key(k[1], rtype, sort_by), reverse=descending)
            kept = kept[start_index - 1:end]
        return total, [r for _, r in _within(kept, lambda k: k[0], max_bytes)]

    def user_page_text(self, org: str, start_index: int, count: int, max_bytes: int | None = None
                       ) -> tuple[int, list[tuple[Any, ...]], dict[str, list[dict[str, Any]]]]:
        """The unfiltered, unsorted page of users as stored: (totalResults, rows, groups), each row a
        tuple (id, JSON text, created, lastModified, version, ...), `groups` each user's `groups`
        (representation.group_value) by id, for the users in any; `max_bytes` as in list_resources.

        The stored text is already the user's default view (validate_resource canonicalises
        it; `password` and `groups` are never stored), so the views can answer Okta's import
        pages (RFC 7644 §3.4.2.4) without parsing and re-serialising every user. One statement
        reads the page, as plain tuples (no sqlite3.Row per user); the users' groups come from one
        statement more when the org has few memberships, else with the page (a probe per user)."""
        with self._read() as c:
            org_row = self._org_row(c, org)
            cursor = c.cursor()
            cursor.row_factory = None
            groups = self._few_memberships(cursor, org, count)
            if groups is not None:
                rows = self._page_rows(cursor, "users", org, start_index, count,
                                       "id, data, created, last_modified, version", max_bytes, 1)
            else:
                rows = self._page_rows(cursor, "users", org, start_index, count,
                                       f"id, data, created, last_modified, version, {_GROUPS_JSON}", max_bytes, 1)
                groups = {row[0]: from_json(row[5]) for row in rows if row[5]}
        return org_row["users_count"], rows, groups

    @staticmethod
    def _few_memberships(c: sqlite3.Cursor, org: str, limit: int) -> dict[str, list[dict[str, Any]]] | None:
        """Each user's groups (representation.group_value, in the groups' creation order, as attach_groups
        gives them) when the org has at most `limit` memberships in all (one statement, where a page
        probes group_members once per user: ~4 µs per user of a page); None when it has more."""
        rows = c.execute("SELECT gm.user_id, g.id, g.display_name FROM groups g JOIN group_members gm "
                         "ON gm.group_id = g.id WHERE g.org=? ORDER BY g.seq LIMIT ?", (org, limit + 1)).fetchall()
        return None if len(rows) > limit else groups_by_user(rows, {})

    @staticmethod
    def _page_rows(c: sqlite3.Connection | sqlite3.Cursor, table: str, org: str, start_index: int, count: int,
                   columns: str = "*", max_bytes: int | None = None, data: int | str = "data") -> list[Any]:
        """One page of the org's rows in creation order (stable across pages, RFC 7644 §3.4.2.4).
        A deep page starts from the block of `seq` values that holds position `start_index`
        (page_blocks, store_base.py), so the OFFSET walks at most one block of the covering
        (org, seq) index, never the whole org before it. Rows are read one by one up to `max_bytes`
        of stored JSON (`row[data]`, the column `data`), so a page of huge users is never all read."""
        if count <= 0:
            return []
        low, offset = 0, start_index - 1
        if offset >= 1 << BLOCK_BITS:
            found = c.execute("SELECT block, cum - n FROM (SELECT block, n, SUM(n) OVER (ORDER BY block) AS cum "
                              "FROM page_blocks WHERE tbl=? AND org=?) WHERE cum >= ? LIMIT 1",
                              (table, org, start_index)).fetchone()
            if found is None:
                return []  # past the last row
            low, offset = found[0] << BLOCK_BITS, offset - found[1]
        cursor = c.execute(f"SELECT {columns} FROM {table} WHERE seq IN (SELECT seq FROM {table} WHERE org=? "
                           f"AND seq >= ? ORDER BY seq LIMIT ? OFFSET ?) ORDER BY seq", (org, low, count, offset))
        if max_bytes is None:
            return cursor.fetchall()
        return _within(cursor, lambda row: len(row[data]), max_bytes)

    def _out(self, c: sqlite3.Connection, table: str, row: sqlite3.Row) -> dict[str, Any]:
        return resource_from_row("User", row) if table == "users" else self._group_out(c, row)

    def _candidates(self, c: sqlite3.Connection, table: str, org: str, rtype: ResourceType,
                    flt: Any) -> sqlite3.Cursor:
        hint = index_hint(flt, rtype) if flt is not None else None
        if hint is not None:
            column = _HINT_COLUMNS[table].get(str(hint[0]).lower())
            if column is not None:
                # Indexed lookup of a superset; `matches` decides the exact result.
                name, fold = column
                value = str(hint[1]).lower() if fold else str(hint[1])
                return c.execute(f"SELECT * FROM {table} WHERE org=? AND {name}=? ORDER BY seq", (org, value))
        return c.execute(f"SELECT * FROM {table} WHERE org=? ORDER BY seq", (org,))

    # ------------------------------------------------------------------ users
    def create_user(self, org: str, body: Any) -> dict[str, Any]:
        uid = str(uuid.uuid4())
        data = stored_form(uid, validate_resource(body, USER), "groups")
        with self._tx() as c:
            org_row = self._org_row(c, org)
            self._check_user_name(c, org, data["userName"], None)
            email = plan.user_email(data)
            member = c.execute("SELECT * FROM members WHERE org=? AND email=?", (org, email)).fetchone()
            if member is not None and member["scim_user_id"]:
                raise Uniqueness(f"member {email!r} is already linked to SCIM user {member['scim_user_id']!r}")
            if member is not None and member["admin"] and member["unlinked_data"]:
                # Clockwise's admin rule holds across relinking: an admin whose SCIM user was deleted
                # comes back with the attributes it had (DELETE then POST must not edit an admin).
                changed = plan.admin_changes(from_json(member["unlinked_data"]), data)
                if changed:
                    raise Forbidden(plan.admin_refusal_detail(data["userName"], changed))
            active = plan.is_active(data)
            now = now_iso()
            c.execute("INSERT INTO users (id, org, user_name, user_name_key, external_id, email_lower, active, "
                      "version, created, last_modified, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (uid, org, data["userName"], user_name_key(data["userName"]), data.get("externalId"), email,
                       int(active), 1, now, now, stored_text(data)))
            # Clockwise: a SCIM user links to the org member with the same e-mail, else becomes one.
            if member is not None:
                c.execute("UPDATE members SET scim_user_id=?, plan=?, unlinked_data=NULL WHERE seq=?",
                          (uid, plan.scim_member_plan(active), member["seq"]))
            else:
                c.execute("INSERT INTO members (org, email, plan, admin, scim_user_id, source) VALUES (?,?,?,?,?,?)",
                          (org, email, plan.scim_member_plan(active), 0, uid, "scim"))
            c.execute("UPDATE orgs SET provisioned=1, users_count=users_count+1 WHERE name=?", (org,))
            self._refresh_mode(c, org, org_row)
            # What was just written, without reading it back.
            out = wire_form("User", data, now, now, 1)
            self._event(c, org, "dsync.user.created", out, now)
        return out

    def _check_user_name(self, c: sqlite3.Connection, org: str, user_name: str, uid: str | None) -> None:
        # RFC 7643 §4.1.1: userName is unique (server) and caseExact false → compare by the Unicode
        # comparison key (names.py), the indexed column.
        row = c.execute("SELECT id FROM users WHERE org=? AND user_name_key=?", (org, user_name_key(user_name))).fetchone()
        if row is not None and row["id"] != uid:
            raise Uniqueness(f"userName {user_name!r} is already taken in this organization")

    def replace_user(self, org: str, uid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        # RFC 7644 §3.5.1: PUT replaces; readOnly attributes (id, meta, groups) in the body are ignored.
        after = stored_form(uid, validate_resource(body, USER), "groups")
        with self._tx() as c:
            row = self._row(c, "users", org, uid)
            check_if_match(row["version"], if_match)
            if "active" not in after:
                # RFC 7644 §3.5.1 lets a PUT clear or keep what it omits; the mock KEEPS `active` as
                # stored, so a PUT without it never reactivates a user (nor gives back a paid seat).
                before_active = from_json(row["data"]).get("active")
                if before_active is not None:
                    after["active"] = before_active
            return self._change_user(c, org, row, after)

    def patch_user(self, org: str, uid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        # The PATCH is applied outside the write lock (it may take seconds on a large user: every tenant's
        # writes would wait), on a snapshot; the write transaction stores it only when the user is still
        # the version it was applied to, else it is applied again (issue 17, item 10).
        for _ in range(PATCH_ATTEMPTS):
            with self._read() as c:
                row = self._row(c, "users", org, uid)
            check_if_match(row["version"], if_match)
            # apply_patch validates its result (patch.py): it is stored as it comes.
            after = stored_form(uid, apply_patch(from_json(row["data"]), body, USER), "groups")
            with self._tx() as c:
                now = self._row(c, "users", org, uid)
                if now["version"] == row["version"]:
                    return self._change_user(c, org, now, after)
        with self._tx() as c:  # still racing: under the lock, once (apply_patch bounds its own work)
            row = self._row(c, "users", org, uid)
            check_if_match(row["version"], if_match)
            return self._change_user(c, org, row, stored_form(uid, apply_patch(from_json(row["data"]), body, USER),
                                                              "groups"))

    def _change_user(self, c: sqlite3.Connection, org: str, row: sqlite3.Row,
                     after: dict[str, Any]) -> dict[str, Any]:
        uid = row["id"]
        before = from_json(row["data"])
        if after == before:
            return self._with_groups(c, [resource_from_row("User", row)])[0]
        member = c.execute("SELECT * FROM members WHERE scim_user_id=?", (uid,)).fetchone()
        if member is not None and member["admin"]:
            changed = plan.admin_changes(before, after)
            if changed:
                raise Forbidden(plan.admin_refusal_detail(before.get("userName", uid), changed))
        if user_name_key(after["userName"]) != user_name_key(before.get("userName", "")):
            self._check_user_name(c, org, after["userName"], uid)
        email = plan.user_email(after)
        active = plan.is_active(after)
        if member is not None:
            if email != member["email"]:
                if c.execute("SELECT 1 FROM members WHERE org=? AND email=?", (org, email)).fetchone():
                    raise Uniqueness(f"another member of this organization already has the e-mail {email!r}")
            # Both modes: deactivation → free, reactivation → paid.
            new_plan = plan.scim_member_plan(active)
            if (email, new_plan) != (member["email"], member["plan"]):
                c.execute("UPDATE members SET email=?, plan=? WHERE seq=?", (email, new_plan, member["seq"]))
        now = now_iso()
        columns = {"user_name": after["userName"], "user_name_key": user_name_key(after["userName"]),
                   "external_id": after.get("externalId"), "email_lower": email, "active": int(active)}
        # Only the columns that change: SQLite rewrites the index entries of every indexed column SET,
        # changed or not (a PATCH of `active` would rewrite four indexes; ~40% of the UPDATE's cost).
        changed = {k: v for k, v in columns.items() if row[k] != v}
        c.execute(f"UPDATE users SET {''.join(f'{k}=?, ' for k in changed)}version=?, last_modified=?, data=? "
                  "WHERE id=?", (*changed.values(), row["version"] + 1, now, stored_text(after), uid))
        if active and not plan.is_active(before):
            self._refresh_mode(c, org)  # only a (re)activation adds an active user
        out = wire_form("User", after, row["created"], now, row["version"] + 1)
        self._event(c, org, "dsync.user.updated", out, now)
        return self._with_groups(c, [out])[0]

    def delete_user(self, org: str, uid: str, if_match: list[str] | None = None) -> None:
        with self._tx() as c:
            row = self._row(c, "users", org, uid)
            check_if_match(row["version"], if_match)
            user = resource_from_row("User", row)
            for g in c.execute("SELECT g.* FROM group_members gm JOIN groups g ON g.id = gm.group_id "
                               "WHERE gm.user_id=? ORDER BY g.seq", (uid,)).fetchall():
                self._event(c, org, "dsync.group.user_removed", {"user": user, "group": resource_from_row("Group", g)})
                c.execute("UPDATE groups SET version=version+1, last_modified=? WHERE id=?", (now_iso(), g["id"]))
            c.execute("DELETE FROM group_members WHERE user_id=?", (uid,))
            c.execute("DELETE FROM users WHERE id=?", (uid,))
            c.execute("UPDATE orgs SET users_count=users_count-1 WHERE name=?", (org,))
            # Clockwise (Entra deletes users): the member stays in the org, unlinked, on free.
            # An admin's last attributes are kept with the member: a later POST relinking it is held to them.
            c.execute("UPDATE members SET scim_user_id=NULL, plan=?, unlinked_data=CASE WHEN admin THEN ? END "
                      "WHERE scim_user_id=?", (plan.FREE, row["data"], uid))
            self._event(c, org, "dsync.user.deleted", user)

    def bulk_insert_users(self, org: str, resources: Iterable[dict[str, Any]]) -> int:
        """Fast path for benchmarks and fixtures: validated users, linked members, no events."""
        now = now_iso()
        user_rows, member_rows = [], []
        for body in resources:
            uid = str(uuid.uuid4())
            data = stored_form(uid, validate_resource(body, USER), "groups")
            email, active = plan.user_email(data), plan.is_active(data)
            user_rows.append((uid, org, data["userName"], user_name_key(data["userName"]), data.get("externalId"), email,
                              int(active), 1, now, now, stored_text(data)))
            member_rows.append((org, email, plan.scim_member_plan(active), 0, uid, "scim"))
        with self._tx() as c:
            self._org_row(c, org)
            try:
                c.executemany("INSERT INTO users (id, org, user_name, user_name_key, external_id, email_lower, "
                              "active, version, created, last_modified, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                              user_rows)
                c.executemany("INSERT INTO members (org, email, plan, admin, scim_user_id, source) "
                              "VALUES (?,?,?,?,?,?)", member_rows)
            except sqlite3.IntegrityError as exc:
                raise Uniqueness(f"bulk insert clashes with existing users or members: {exc}") from exc
            c.execute("UPDATE orgs SET provisioned=1, users_count=users_count+? WHERE name=?", (len(user_rows), org))
            self._refresh_mode(c, org)
        return len(user_rows)

    # ------------------------------------------------------------------ groups
    def _resolve_members(self, c: sqlite3.Connection, org: str, members: Any) -> dict[str, str | None]:
        """{user id: display} in request order; every member must be a user of this org."""
        if members is None:
            return {}
        if not isinstance(members, list):
            raise InvalidValue("members must be a list")
        out: dict[str, str | None] = {}
        for m in members:
            if not isinstance(m, dict) or not isinstance(m.get("value"), str) or not m["value"]:
                raise InvalidValue("each member needs a 'value' (the id of a User)")
            if str(m.get("type") or "User").lower() != "user":
                raise InvalidValue(f"member {m['value']!r}: only Users can be members (nested groups unsupported)")
            display = m.get("display")
            out[m["value"]] = display if isinstance(display, str) else None
        known = {r["id"] for r in self._users_by_id(c, org, list(out), "id")}
        for uid in out:
            if uid not in known:
                raise InvalidValue(f"member {uid!r} is not a User of this organization")
        return out

    @staticmethod
    def _users_by_id(c: sqlite3.Connection, org: str, ids: list[str], columns: str = "*") -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = []
        for i in range(0, len(ids), 500):  # well under SQLite's bound-parameter limit
            chunk = ids[i:i + 500]
            rows += c.execute(f"SELECT {columns} FROM users WHERE +org=? AND id IN ({','.join('?' * len(chunk))})",
                              (org, *chunk)).fetchall()
        return rows

    def create_group(self, org: str, body: Any) -> dict[str, Any]:
        resource = validate_resource(body, GROUP)
        members = resource.pop("members", None)
        gid = str(uuid.uuid4())
        with self._tx() as c:
            self._org_row(c, org)
            wanted = self._resolve_members(c, org, members)
            data = stored_form(gid, resource)
            now = now_iso()
            c.execute("INSERT INTO groups (id, org, display_name, display_name_lower, external_id, version, created, "
                      "last_modified, data) VALUES (?,?,?,?,?,?,?,?,?)",
                      (gid, org, data["displayName"], data["displayName"].lower(), data.get("externalId"), 1, now,
                       now, stored_text(data)))
            c.execute("UPDATE orgs SET provisioned=1, groups_count=groups_count+1 WHERE name=?", (org,))
            brief = wire_form("Group", data, now, now, 1)
            self._event(c, org, "dsync.group.created", brief)
            self._apply_membership(c, org, gid, brief, {}, wanted)
            # What was just written, without reading it back (adding members keeps version 1).
            return wire_form("Group", data, now, now, 1, self._members_of(c, gid))

    def replace_group(self, org: str, gid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        resource = validate_resource(body, GROUP)
        members = resource.pop("members", None)
        with self._tx() as c:
            row = self._row(c, "groups", org, gid)
            check_if_match(row["version"], if_match)
            return self._change_group(c, org, row, stored_form(gid, resource), members, self._current_members(c, gid))

    def patch_group(self, org: str, gid: str, body: Any, if_match: list[str] | None = None) -> dict[str, Any]:
        with self._tx() as c:
            row = self._row(c, "groups", org, gid)
            check_if_match(row["version"], if_match)
            current_members = self._current_members(c, gid)
            current = from_json(row["data"])
            current["members"] = [{"value": uid, **({"display": d} if d else {})} for uid, d in current_members.items()]
            resource = apply_patch(current, body, GROUP)  # validated there (patch.py)
            members = resource.pop("members", None)
            return self._change_group(c, org, row, stored_form(gid, resource), members, current_members)

    @staticmethod
    def _current_members(c: sqlite3.Connection, gid: str) -> dict[str, str | None]:
        return {r["user_id"]: r["display"] for r in
                c.execute("SELECT user_id, display FROM group_members WHERE group_id=? ORDER BY seq", (gid,))}

    def _change_group(self, c: sqlite3.Connection, org: str, row: sqlite3.Row, after: dict[str, Any],
                      members: Any, current: dict[str, str | None]) -> dict[str, Any]:
        gid = row["id"]
        wanted = self._resolve_members(c, org, members)
        attrs_changed = after != from_json(row["data"])
        if attrs_changed:
            c.execute("UPDATE groups SET display_name=?, display_name_lower=?, external_id=?, data=? WHERE id=?",
                      (after["displayName"], after["displayName"].lower(), after.get("externalId"),
                       stored_text(after), gid))
        # Membership events carry the group as it is now, before its version moves on.
        brief = wire_form("Group", after, row["created"], row["last_modified"], row["version"])
        members_changed = self._apply_membership(c, org, gid, brief, current, wanted)
        version, modified = row["version"], row["last_modified"]
        if attrs_changed or members_changed:
            version, modified = version + 1, now_iso()
            c.execute("UPDATE groups SET version=?, last_modified=? WHERE id=?", (version, modified, gid))
        if attrs_changed:
            self._event(c, org, "dsync.group.updated", wire_form("Group", after, row["created"], modified, version))
        return wire_form("Group", after, row["created"], modified, version, self._members_of(c, gid))

    def _apply_membership(self, c: sqlite3.Connection, org: str, gid: str, brief: dict[str, Any],
                          current: dict[str, str | None], wanted: dict[str, str | None]) -> bool:
        """Bring the group's members from `current` to `wanted`, one WorkOS event per member
        removed or added (in that order). Group membership does not change plans (Clockwise)."""
        removed = [u for u in current if u not in wanted]
        added = [(u, d) for u, d in wanted.items() if u not in current]
        renamed = [(d, gid, u) for u, d in wanted.items() if u in current and d is not None and d != current[u]]
        if removed:
            c.executemany("DELETE FROM group_members WHERE group_id=? AND user_id=?", [(gid, u) for u in removed])
        if added:
            c.executemany("INSERT INTO group_members (group_id, user_id, display) VALUES (?,?,?)",
                          [(gid, u, d) for u, d in added])
        if renamed:
            c.executemany("UPDATE group_members SET display=? WHERE group_id=? AND user_id=?", renamed)
        if removed or added:
            users = {r["id"]: r for r in self._users_by_id(c, org, removed + [u for u, _ in added])}
            self._events(c, org, [("dsync.group.user_removed", {"user": resource_from_row("User", users[u]), "group": brief})
                                  for u in removed] +
                         [("dsync.group.user_added", {"user": resource_from_row("User", users[u]), "group": brief})
                          for u, _ in added])
        return bool(removed or added or renamed)

    def delete_group(self, org: str, gid: str, if_match: list[str] | None = None) -> None:
        with self._tx() as c:
            row = self._row(c, "groups", org, gid)
            check_if_match(row["version"], if_match)
            brief = resource_from_row("Group", row)
            c.execute("DELETE FROM group_members WHERE group_id=?", (gid,))
            c.execute("DELETE FROM groups WHERE id=?", (gid,))
            c.execute("UPDATE orgs SET groups_count=groups_count-1 WHERE name=?", (org,))
            self._event(c, org, "dsync.group.deleted", brief)

