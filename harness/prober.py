"""The prober: how a scenario run and the rfc suite alike send SCIM requests and keep track of what
they created.

A prober sends on one SCIM client, records every exchange in the run's transcript (so the breaker of
harness.breaker sees it), names what it creates with the run prefix, and keeps the ledger of the
resources created, so that they are deleted at the end whatever happened in between.
"""
from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import httpx

from harness.breaker import stopped
from harness.transcript import NO_AUTH, Exchange, Transcript

SCIM_JSON = "application/scim+json; charset=utf-8"
# A credential of another scheme than Bearer (Okta's OIN SPEC test sends one; RFC 7644 §2: 401).
BASIC_CREDENTIAL = "Basic c2NpbWg6bm90LWEtdG9rZW4="


def path_id(rid: str) -> str:
    """A resource id as one URL path segment (ids are the server's: any character may occur)."""
    return quote(rid, safe="")


class Prober:
    """Sends SCIM requests through the transcript and keeps the ledger of created resources."""

    def __init__(self, client: httpx.Client, transcript: Transcript, *, prefix: str = "") -> None:
        self.client = client
        self.transcript = transcript
        self.prefix = prefix  # every name the prober makes starts with it ("" in an org of its own)
        self.created: list[tuple[str, str]] = []  # (collection, id), creation order
        self._n = 0

    @property
    def stopped(self) -> str | None:
        """Why nothing is sent any more (the target stopped answering), or None."""
        return stopped(self.transcript)

    def name(self, label: str) -> str:
        """A unique name carrying the run prefix: `<prefix><label>-<n>`."""
        self._n += 1
        return f"{self.prefix}{label}-{self._n}"

    # --- sending ------------------------------------------------------------------------
    def build(self, method: str, path: str, *, params: dict[str, str] | None = None,
              headers: dict[str, str] | None = None, content: bytes | None = None,
              auth: str = "default") -> httpx.Request:
        """A request on the SCIM base URL. `auth`: default (the client's token), none (no Authorization
        unless `headers` gives one), wrong (a token the target does not know), basic (a Basic credential).
        Raises httpx.InvalidURL / UnsupportedProtocol / ValueError for a path that is no URL."""
        hdrs = dict(headers or {})
        if content is not None:
            hdrs.setdefault("Content-Type", SCIM_JSON)
        request = self.client.build_request(method, path, params=params or None, headers=hdrs, content=content)
        if auth != "default":  # its own credential (or none), not the target's auth mode's
            request.extensions[NO_AUTH] = True
        if auth == "none" and "authorization" not in {k.lower() for k in hdrs}:
            request.headers.pop("Authorization", None)
        elif auth == "wrong":
            request.headers["Authorization"] = f"Bearer scimh-wrong-{secrets.token_hex(8)}"
        elif auth == "basic":
            request.headers["Authorization"] = BASIC_CREDENTIAL
        return request

    def send(self, request: httpx.Request) -> Exchange:
        """Send and record (never raises: a transport failure is the exchange's error)."""
        _, exchange = self.transcript.send(self.client, request)
        return exchange

    def request(self, method: str, path: str, **build: Any) -> Exchange:
        """build() then send()."""
        return self.send(self.build(method, path, **build))

    def same_origin(self, url: str) -> bool:
        """Is `url` (absolute, or relative to the SCIM base) on the target's own origin?"""
        base = self.client.base_url
        try:
            full = base.join(url)
        except (httpx.InvalidURL, ValueError):
            return False
        return full.scheme == base.scheme and full.netloc == base.netloc

    # --- the ledger ---------------------------------------------------------------------
    def remember(self, coll: str, rid: str) -> None:
        if (coll, rid) not in self.created:
            self.created.append((coll, rid))

    def remember_resource(self, coll: str, doc: Any) -> bool:
        """Remember a resource document's id (False when `doc` carries none)."""
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            self.remember(coll, doc["id"])
            return True
        return False

    def forget(self, coll: str, rid: str) -> None:
        if (coll, rid) in self.created:
            self.created.remove((coll, rid))

    def doomed(self) -> list[tuple[str, str]]:
        """What cleanup() deletes, in its order: groups first (their members are users), then the rest."""
        return [c for c in self.created if c[0] == "Groups"] + [c for c in self.created if c[0] != "Groups"]

    def cleanup(self) -> list[Exchange]:
        """DELETE everything remembered (nothing once the target stopped answering); what the target
        confirms gone (200, 204, 404) is forgotten. Never raises; returns the exchanges."""
        out: list[Exchange] = []
        if self.stopped is not None:
            return out
        for coll, rid in self.doomed():
            exchange = self.request("DELETE", f"/{coll}/{path_id(rid)}")
            out.append(exchange)
            if exchange.status in (200, 204, 404):
                self.forget(coll, rid)
        return out
