"""AppConnection: how the org sends to its app — one Call at a time, with Okta's 429 back-off
(Okta dialects) or Entra's retries in later cycles and quarantine (``entra_retry``).

It sends plainly on the injected ``httpx.Client``; whoever wants a record of the exchanges
gives it a client whose transport records them. Every failure becomes the current task's
ProvisioningError, worded as Okta words it.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

import httpx

from mock_okta.backoff import Backoff
from mock_okta.dialect import Dialect
from mock_okta.entra_retry import EntraJob
from mock_okta.errors import Task, invalid_json, remote_failure, transport_error
from mock_okta.wire import Call, dumps


MAX_PAGES = 10_000  # stop a listing whose server never reaches totalResults


class ConnectionSettings(Protocol):
    """What the connection reads from its org on every request."""

    client: httpx.Client
    dialect: Dialect     # its headers
    base_path: str       # the SCIM base under the client's base URL, without a trailing "/"
    backoff: Backoff
    timeout: float       # seconds (Okta gives up on a request after 60 s)
    entra_job: EntraJob | None  # Entra's retry model; None for Okta's 429 back-off


class AppConnection:
    """The SCIM connection of one app."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    def url(self, path: str, query: str = "") -> str:
        return f"{self.settings.base_path}{path}" + (f"?{query}" if query else "")

    def send(self, call: Call, task: Task) -> httpx.Response:
        """Send one request (retrying as the IdP does), or raise the task's ProvisioningError.

        A 2xx, or a status listed in ``call.ok``, is returned; anything else fails the task.
        """
        content = dumps(call.body) if call.body is not None else None
        job = self.settings.entra_job
        try:
            if job is not None:
                return self.send_entra(job, call, content, task)
            response, exhausted = self.settings.backoff.run(lambda: self.attempt(call, content, task))
        except httpx.InvalidURL as exc:
            raise task.fail(f"Could not reach the remote server ({type(exc).__name__}: {exc})") from None
        if exhausted is not None:
            # Honest about the harness's cap: Okta itself would have waited longer between the attempts.
            capped = (f", each wait capped at {exhausted.capped:g} s, shorter than Okta's"
                      if exhausted.capped is not None else "")
            raise task.fail(f"{remote_failure(response)} (rate limit: 429 on {exhausted.attempts} attempts{capped})",
                            response)
        if not self.accepted(call, response):
            raise task.fail(remote_failure(response), response)
        return response

    @staticmethod
    def accepted(call: Call, response: httpx.Response) -> bool:
        return 200 <= response.status_code < 300 or response.status_code in call.ok

    def send_entra(self, job: EntraJob, call: Call, content: bytes | None, task: Task) -> httpx.Response:
        """Entra: no back-off; a failure is retried in later cycles, then quarantined (entra_retry)."""
        outcome = job.run(lambda: self.attempt(call, content, task), lambda r: self.accepted(call, r), call.lookup,
                          call.retried)
        if outcome.failed:
            raise task.fail(f"{remote_failure(outcome.response).rstrip('.')}. {outcome.note}", outcome.response)
        return outcome.response

    def attempt(self, call: Call, content: bytes | None, task: Task) -> httpx.Response:
        """One try; a transport failure (refused, reset, timed out) fails the task, with the request."""
        s = self.settings
        request = s.client.build_request(call.method, self.url(call.path, call.query), content=content,
                                         headers=s.dialect.headers(content is not None), timeout=s.timeout)
        if content is None:
            request.headers.pop("Content-Type", None)
        try:
            return s.client.send(request)
        except httpx.TimeoutException:
            raise task.fail(f"The remote server did not answer within {s.timeout:g} s", request=request) from None
        except httpx.HTTPError as exc:
            raise task.fail(f"Could not reach the remote server ({transport_error(exc)})", request=request) from None

    def body(self, response: httpx.Response, task: Task, *, required: bool) -> Any:
        """The JSON body; an empty (when ``required``) or non-JSON body fails the task."""
        if not response.content:
            if required:
                raise task.fail(f"the remote server answered {response.status_code} with an empty body", response)
            return None
        try:
            return response.json()
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder recurses
            # idp-wire.md, Errors: a body that is not JSON shows as `Invalid JSON: …`.
            raise task.fail(invalid_json(response), response) from None

    def create(self, path: str, body: dict[str, Any], task: Task) -> str:
        """POST and return the new id; a 2xx without ``id`` is a failed task (Okta)."""
        response = self.send(Call("POST", path, body), task)
        data = self.body(response, task, required=True)
        scim_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(scim_id, str) or not scim_id:
            raise task.fail(f"the remote server answered {response.status_code} without an id", response)
        return scim_id

    def find(self, path: str, query: str, key: str, value: str, task: Task) -> dict[str, Any] | None:
        """An `eq` lookup; the resource whose ``key`` equals ``value`` (case-insensitively), or None.

        # idp-wire.md: "not found" is 200 with totalResults 0 / empty Resources, or (Okta only) a
        # 404 Error; for Entra a 404 is a failed operation that quarantines the job.
        """
        response = self.send(Call("GET", path, query=query, ok=self.settings.dialect.not_found, lookup=True), task)
        if response.status_code == 404:
            return None
        data = self.body(response, task, required=True)
        resources = data.get("Resources", []) if isinstance(data, dict) else None
        if not isinstance(resources, list):
            raise task.fail("the remote server answered without a Resources list", response)
        for r in resources:
            if isinstance(r, dict) and str(r.get(key, "")).lower() == value.lower():
                if not r.get("id"):
                    raise task.fail(f"the remote server returned {value} without an id", response)
                return r
        return None

    def read(self, call: Call, task: Task, what: str) -> dict[str, Any]:
        """GET one resource; a body that is not a JSON object fails the task ("did not return <what>")."""
        response = self.send(call, task)
        received = self.body(response, task, required=True)
        if not isinstance(received, dict):
            raise task.fail(f"the remote server did not return {what}", response)
        return received

    def list_all(self, path: str, page_query: Callable[[int], str], page_size: int, task: Task) -> list[dict[str, Any]]:
        """Every resource of a collection, ``page_size`` at a time (``page_query`` of the startIndex).

        # Okta: startIndex=1&count=100, then startIndex += 100 until totalResults.
        """
        out: list[dict[str, Any]] = []
        start = 1
        for _ in range(MAX_PAGES):
            response = self.send(Call("GET", path, query=page_query(start)), task)
            data = self.body(response, task, required=True)
            if not isinstance(data, dict):
                raise task.fail("the remote server did not return a ListResponse", response)
            total = data.get("totalResults")
            if not isinstance(total, int) or isinstance(total, bool):
                raise task.fail(f"totalResults is not an integer ({total!r})", response)
            resources = data.get("Resources", [])
            if not isinstance(resources, list):
                raise task.fail("Resources is not a list", response)
            out.extend(r for r in resources if isinstance(r, dict))
            start += page_size
            if not resources or start > total:
                return out
        raise task.fail(f"gave up after {MAX_PAGES} pages without reaching totalResults")
