"""The driver's errors: a failed provisioning task, and an unknown dialect name."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

from mock_okta.people import OktaGroup, Person


class ProvisioningError(Exception):
    """A provisioning task failed, as Okta would show it in its task list.

    ``message`` reads like Okta's task error (``Automatic provisioning of user … to app …
    failed: Error while creating user …: Errors reported by remote server: <detail>``);
    ``request`` is the request that made it fail (None when nothing was sent) and ``response`` its
    answer (None when none came: refused, reset, timed out).
    """

    def __init__(self, message: str, response: httpx.Response | None = None, *,
                 request: httpx.Request | None = None,
                 failures: "dict[str, ProvisioningError] | None" = None,
                 partial: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.request = request if request is not None or response is None else response.request
        # Only for bulk actions (assign_many): per-person failures and the ids that did succeed.
        self.failures: dict[str, ProvisioningError] = failures or {}
        self.partial: dict[str, str] = partial or {}

    def __str__(self) -> str:
        return self.message


class UnknownDialect(ValueError):
    """The dialect name is not one the driver speaks."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown dialect {name!r}; known dialects: {', '.join(known)}")
        self.name = name
        self.known = known


# Okta's task titles, as its admin console shows failed provisioning tasks.
TASK_TITLES = {
    "assign": "Automatic provisioning of user {n} to app {a} failed",
    "update": "Automatic profile push of user {n} to app {a} failed",
    "deactivate": "Automatic deprovisioning of user {n} in app {a} failed",
    "reactivate": "Automatic reactivation of user {n} in app {a} failed",
}


@dataclass(frozen=True)
class Task:
    """How a failure of the current task reads: Okta's task title and what it was doing.

    # Okta shows `<task title>: Error while <doing>: Errors reported by remote server: <detail>`.
    """

    title: str
    doing: str

    def fail(self, reason: str, response: httpx.Response | None = None, *,
             request: httpx.Request | None = None) -> ProvisioningError:
        return ProvisioningError(f"{self.title}: {self.doing}: {reason}", response, request=request)


def user_task(kind: str, p: Person, app: str, doing: str) -> Task:
    """A task on one user; ``kind`` picks Okta's title, ``doing`` what the failing request did."""
    return Task(TASK_TITLES[kind].format(n=p.full_name, a=app), f"Error while {doing} user {p.login}")


def group_task(g: OktaGroup, app: str, doing: str) -> Task:
    """A Push Groups task on one group."""
    return Task(f"Push of group {g.name} to app {app} failed", f"Error while {doing} group {g.name}")


def transport_error(exc: Exception) -> str:
    """A transport failure in one phrase: its kind, and what it said."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def remote_detail(response: httpx.Response) -> str:
    """The SCIM Error ``detail`` (RFC 7644 §3.12), else the status line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail.strip():
        return detail
    return f"{response.status_code} {response.reason_phrase}".strip()
