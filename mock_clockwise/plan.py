"""Clockwise's own rules (DESIGN.md, "what Clockwise does"), as pure functions.

No storage and no web imports: the store (org_store.py, store.py) calls these inside its write
transactions, so the rules can be unit-tested on plain values.
"""
from __future__ import annotations

from typing import Any, Iterable

PAID = "paid"
FREE = "free"
PLANS = (PAID, FREE)

TRIAL = "trial"
SYNCED = "synced"

DEFAULT_THRESHOLD = 10

# Clockwise: the (simulated) admin panel is switched off once an IdP directory provisions.
ADMIN_PANEL_DETAIL = (
    "This organization's members are managed by its identity provider (SCIM); "
    "add people in the identity provider instead."
)

# Attributes the admin rule ignores when it compares a user before and after a change:
# `active` may change (deactivation/reactivation), `meta` is the server's, `password` is
# write-only (RFC 7643 §4.1.1, returned "never") and `groups` is read-only (RFC 7643 §4.1.2).
_ADMIN_IGNORED = frozenset({"meta", "active", "password", "groups", "schemas", "id"})


def user_email(resource: dict[str, Any]) -> str:
    """The e-mail Clockwise knows a SCIM user by: the primary email, else the first email,
    else the userName; lower-cased (e-mail addresses compare case-insensitively)."""
    emails = resource.get("emails")
    if isinstance(emails, list):
        values = [e for e in emails if isinstance(e, dict) and isinstance(e.get("value"), str) and e["value"]]
        for entry in values:
            if entry.get("primary") is True:
                return entry["value"].strip().lower()
        if values:
            return values[0]["value"].strip().lower()
    user_name = resource.get("userName")
    return user_name.strip().lower() if isinstance(user_name, str) else ""


def is_active(resource: dict[str, Any]) -> bool:
    """A SCIM user counts as active unless `active` is false. RFC 7643 §4.1.1 leaves the
    default to the provider; Clockwise treats a user created without `active` as active."""
    return resource.get("active") is not False


def scim_member_plan(active: bool) -> str:
    """Both modes: an active SCIM user's member is on the paid plan, a deactivated one's on free."""
    return PAID if active else FREE


def mode_after(mode: str, threshold: int, active_scim_users: int) -> str:
    """The 9-versus-10 rule: the org switches to synced mode when the number of active SCIM
    users reaches the threshold, and synced mode latches (it never goes back to trial)."""
    if mode == SYNCED or active_scim_users >= threshold:
        return SYNCED
    return TRIAL


def seeded_member_plan(mode: str, requested: str) -> str:
    """A member added outside SCIM keeps its requested plan in trial mode; in synced mode the
    paid plan is exactly the active SCIM users, so it lands on free."""
    return FREE if mode == SYNCED else requested


def synced_plans(members: Iterable[tuple[str, bool]]) -> dict[str, str]:
    """Synced mode: paid = exactly the members linked to active SCIM users; all others free.
    `members` yields (email, linked_to_an_active_scim_user)."""
    return {email: (PAID if linked_active else FREE) for email, linked_active in members}


def admin_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The attributes (top level, sorted) a PUT/PATCH would change on a user, ignoring
    `active` and server-managed/write-only/read-only attributes."""
    keys = (set(before) | set(after)) - _ADMIN_IGNORED
    changed = sorted(k for k in keys if _normal(before.get(k)) != _normal(after.get(k)))
    return changed


def _normal(value: Any) -> Any:
    # An absent attribute, null and an empty list/object are all "unassigned"
    # (RFC 7643 §2.5), so dropping an empty `groups: []`-style value is not a change.
    if value in (None, [], {}, ""):
        return None
    return value


def admin_refusal_detail(user_name: str, changed: list[str]) -> str:
    """The 403 detail for the admin rule. Okta shows it to the admin as the task's failure
    reason ("Errors reported by remote server: <detail>"), so it says why."""
    names = ", ".join(changed) if changed else "attributes"
    return (
        "Attributes of admin users cannot be changed through SCIM: "
        f"{user_name!r} is a Clockwise plan admin, so only 'active' may change "
        f"(refused change to: {names}). Edit the admin's profile in Clockwise instead."
    )


def plan_summary(mode: str, threshold: int, members: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The control plane's plan view: sorted lower-case e-mails per plan, plus the admins."""
    paid: list[str] = []
    free: list[str] = []
    admins: list[str] = []
    for member in members:
        email = str(member["email"]).lower()
        (paid if member["plan"] == PAID else free).append(email)
        if member.get("admin"):
            admins.append(email)
    return {"mode": mode, "threshold": threshold, "paid": sorted(paid), "free": sorted(free),
            "admins": sorted(admins)}
