"""The Clockwise control plane (`/_mock`, the mock's admin API) as the harness uses it: throwaway orgs,
seeded members, and the control steps a scenario names (plan, events, journal, faults, ...).

Every call goes through the run's transcript, like every SCIM request: the breaker (harness.breaker)
sees its outcome, and the HAR shows it. A request body carrying a secret (a new org's SCIM token) is
recorded with the secret redacted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from harness.breaker import NOT_SENT
from harness.target import redacts_secrets, secret
from harness.transcript import Exchange, Transcript, scrub

CONTROL_ROUTES = {  # control step -> (method, path under /_mock; {org} is the scenario's org)
    "plan": ("GET", "/orgs/{org}/plan"),
    "events": ("GET", "/orgs/{org}/events"),
    "members": ("GET", "/orgs/{org}/members"),
    "journal": ("GET", "/journal"),
    "add_member": ("POST", "/orgs/{org}/members"),
    "admin_panel": ("POST", "/orgs/{org}/admin-panel/members"),
    "faults": ("PUT", "/faults"),
    "clear_faults": ("DELETE", "/faults"),
}
CONTROL_OK = {"GET": 200, "POST": 201, "PUT": 200, "DELETE": 204}


class ControlPlaneError(Exception):
    """A control-plane call did not do what the run needs (not sent, unreachable, another status)."""


@redacts_secrets
@dataclass(frozen=True)
class Org:
    """A throwaway Clockwise org: its name and the SCIM bearer token it was created with."""
    name: str
    token: str = secret()


class ControlPlane:
    """The control plane of one target, on one client carrying the admin token."""

    def __init__(self, client: httpx.Client, transcript: Transcript, secrets: list[str]) -> None:
        self.client = client
        self.transcript = transcript
        self.secrets = secrets  # the run's list: tokens added later are redacted too

    def send(self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None) -> Exchange:
        """One call, recorded (never raises: a transport failure is the exchange's error)."""
        request = self.client.build_request(method, path, params=params, json=body)
        _, exchange = self.transcript.send(self.client, request)
        exchange.request_body = scrub(exchange.request_body, self.secrets)
        return exchange

    def call(self, method: str, path: str, body: Any = None, *, expect: int, what: str) -> Exchange:
        """A call the run depends on: ControlPlaneError("cannot <what>: …") unless it answers `expect`."""
        exchange = self.send(method, path, body=body)
        if exchange.error is not None:
            reason = exchange.error if exchange.error.startswith(NOT_SENT) else f"control plane unreachable ({exchange.error})"
            raise ControlPlaneError(f"cannot {what}: {reason}")
        if exchange.status != expect:
            raise ControlPlaneError(f"cannot {what}: control plane answered {exchange.status} {_detail(exchange)}".strip())
        return exchange

    def create_org(self, org: Org, *, what: str, **settings: Any) -> None:
        """Create `org` with its token (settings: threshold, ...); ControlPlaneError when it is not created."""
        self.call("POST", "/orgs", {"name": org.name, "tokens": [org.token], **settings}, expect=201, what=what)

    def delete_org(self, name: str) -> Exchange:
        """Best effort: the org and everything in it goes (the harness's cleanup)."""
        return self.send("DELETE", f"/orgs/{name}")

    def close(self) -> None:
        self.client.close()


def _detail(exchange: Exchange) -> str:
    doc = exchange.json()
    return str(doc.get("detail", "")) if isinstance(doc, dict) else ""
