"""The driver's errors: a failed provisioning task, and an unknown dialect name."""
from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

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


# Okta's task titles, as its admin console shows failed provisioning tasks. idp-wire.md quotes the
# profile push one ("Automatic profile push of user <login> to app <App> failed: Error while trying
# to push profile update for <login>: …"); the others keep Okta's wording with the user's name.
TASK_TITLES = {
    "assign": "Automatic provisioning of user {n} to app {a} failed",
    "update": "Automatic profile push of user {login} to app {a} failed",
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


# What a failing request was doing, in Okta's words, when it is not "Error while <doing> user <login>".
# idp-wire.md, Errors: "Error while trying to push profile update for <login>".
DOING = {("update", "updating"): "Error while trying to push profile update for {login}"}


def user_task(kind: str, p: Person, app: str, doing: str) -> Task:
    """A task on one user; ``kind`` picks Okta's title, ``doing`` what the failing request did."""
    words = DOING.get((kind, doing), "Error while {doing} user {login}")
    return Task(TASK_TITLES[kind].format(n=p.full_name, login=p.login, a=app),
                words.format(doing=doing, login=p.login))


def group_task(g: OktaGroup, app: str, doing: str) -> Task:
    """A Push Groups task on one group."""
    return Task(f"Push of group {g.name} to app {app} failed", f"Error while {doing} group {g.name}")


def transport_error(exc: Exception) -> str:
    """A transport failure in one phrase: its kind, and what it said."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


INVALID_JSON_EXCERPT = 80  # characters of a non-JSON body quoted in "Invalid JSON: …"


def invalid_json(response: httpx.Response) -> str:
    """Okta shows a body that is not JSON as ``Invalid JSON: …`` (idp-wire.md, Errors)."""
    text = " ".join(response.content[:4 * INVALID_JSON_EXCERPT].decode("utf-8", "replace").split())
    return f"Invalid JSON: {text[:INVALID_JSON_EXCERPT]}" + ("…" if len(text) > INVALID_JSON_EXCERPT else "")


def reason_phrase(response: httpx.Response) -> str:
    """The standard reason phrase of the status ("Bad Request", whatever case the server used), else
    the server's own, else the bare code."""
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase or str(response.status_code)


def remote_detail(response: httpx.Response) -> str:
    """The SCIM Error ``detail`` (RFC 7644 §3.12); ``Invalid JSON: …`` for a body that is not
    JSON; the status line for an empty body or an Error without a detail."""
    if not response.content.strip():
        return f"{response.status_code} {response.reason_phrase}".strip()
    try:
        body = response.json()
    except ValueError:
        return invalid_json(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail.strip():
        return detail
    return f"{response.status_code} {response.reason_phrase}".strip()


def remote_failure(response: httpx.Response) -> str:
    """A refused request as Okta words it: the reason phrase, then the server's own detail.

    # idp-wire.md, Errors: "…: Bad Request. Errors reported by remote server: <detail>".
    """
    return f"{reason_phrase(response)}. Errors reported by remote server: {remote_detail(response)}"
