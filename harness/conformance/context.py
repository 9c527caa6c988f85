"""The conformance run's context: the suite's prober (harness.prober: sending, recording, the run
prefix and the ledger of what the suite created, removed at the end whatever happens), the server's
advertised capabilities and schemas, and the result sink.

Each area of the `rfc` suite becomes one ScenarioResult; each probe inside it one StepResult holding
the CheckResults it produced and the exchanges it judged, so every reporter shows them unchanged.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote_plus

import httpx

from harness import checks
from harness.conformance.areas import recorded_by
from harness.prober import Prober
from harness.results import CheckResult, ScenarioResult, StepResult
from harness.rules import base_id, rule
from harness.transcript import Exchange

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@dataclass
class Capabilities:
    """What /ServiceProviderConfig advertises (RFC 7643 §5) of the features the suite's areas depend on;
    unknown features count as unsupported."""
    patch: bool = False
    filter: bool = False
    sort: bool = False
    etag: bool = False
    bulk: bool = False
    max_results: int | None = None          # filter.maxResults, when a positive integer
    bulk_max_operations: int | None = None  # bulk.maxOperations, when a positive integer
    bulk_max_payload: int | None = None     # bulk.maxPayloadSize (bytes), when a positive integer

    @classmethod
    def from_document(cls, doc: Any) -> "Capabilities":
        if not isinstance(doc, dict):
            return cls()

        def supported(key: str) -> bool:
            part = doc.get(key)
            return isinstance(part, dict) and part.get("supported") is True

        def limit(key: str, name: str) -> int | None:
            value = doc[key].get(name) if isinstance(doc.get(key), dict) else None
            return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

        return cls(patch=supported("patch"), filter=supported("filter"), sort=supported("sort"), etag=supported("etag"),
                   bulk=supported("bulk"), max_results=limit("filter", "maxResults"),
                   bulk_max_operations=limit("bulk", "maxOperations"), bulk_max_payload=limit("bulk", "maxPayloadSize"))


class Ctx:
    """Everything a check needs; `area()` and `step()` decide where results go."""

    def __init__(self, prober: Prober, *, run_id: str) -> None:
        self.prober = prober  # sends, records, names with the run prefix, keeps the ledger for the cleanup
        self.run_id = run_id
        self.caps = Capabilities()
        self.schemas: dict[str, dict[str, Any]] = {}          # lower-case URN -> schema document
        self.resource_types: dict[str, dict[str, Any]] = {}   # name -> ResourceType document
        self.areas: list[ScenarioResult] = []
        self.scenario: ScenarioResult | None = None
        self.current: StepResult | None = None
        self.shared: dict[str, Any] = {}                      # fixtures shared between areas

    def name(self, label: str) -> str:
        """A unique name carrying the run prefix: `scimh-<run>-<label>-<n>`."""
        return self.prober.name(label)

    # --- results -----------------------------------------------------------------------
    @contextmanager
    def step(self, name: str, action: str = "probe", *, needed: bool = False) -> Iterator[StepResult]:
        """One probe. An abort ends it (its reason is the step's error); when the rest of the area
        `needed` this step, the abort also stops the area and its remaining checks are skipped."""
        assert self.scenario is not None, "step() outside an area"
        sr = StepResult(name=name, action=action)
        previous, self.current = self.current, sr
        stop: str | None = None
        try:
            yield sr
        except StepAbort as exc:
            if exc.reason:
                sr.error = exc.reason
            if needed:
                stop = f"step {name!r} failed: {exc.reason or 'see its checks'}"
        finally:
            self.current = previous
            self.scenario.steps.append(sr)
        if stop is not None:
            raise AreaStop(stop)

    def skip_rest(self, area: str, reason: str, *, always: bool = True) -> None:
        """Skip, with `reason`, every catalogued check this area records that it has not recorded yet
        (with `always` False, only when there is one)."""
        assert self.scenario is not None, "skip_rest() outside an area"
        done = {base_id(c.check_id) for st in self.scenario.steps for c in st.checks}
        todo = [cid for cid in recorded_by(area) if cid not in done]
        sr = StepResult(name="the checks that depend on it", action="skipped", skipped=reason)
        for cid in todo:
            d = rule(cid)
            sr.checks.append(CheckResult(cid, "skip", d.source, d.strength, reason, None))
        if todo or always:
            self.scenario.steps.append(sr)

    def check(self, check_id: str, ok: bool, message: str, exchange: Exchange | None = None, *,
              subject: str | None = None) -> bool:
        """Record one catalogued check. An informational check (can_fail False: the RFC allows every
        behaviour it observes) reports "skip" with the message instead of failing."""
        d = rule(check_id)
        status = "pass" if ok else ("fail" if d.can_fail else "skip")
        self._add(CheckResult(_cid(check_id, subject), status, d.source, d.strength, message, exchange))  # type: ignore[arg-type]
        return ok

    def status_of(self, check_id: str) -> str | None:
        """The status this area recorded for `check_id` (its first result), or None: what a later
        check's precondition reads instead of assuming the earlier behaviour held."""
        assert self.scenario is not None, "status_of() outside an area"
        steps = [*self.scenario.steps, *([self.current] if self.current is not None else [])]
        return next((c.status for st in steps for c in st.checks if c.check_id == check_id), None)

    def skip(self, check_id: str, reason: str, *, subject: str | None = None) -> None:
        d = rule(check_id)
        self._add(CheckResult(_cid(check_id, subject), "skip", d.source, d.strength, reason, None))

    def standard(self, ex: Exchange, expect_status: int | list[int] | None = None, resource: str | None = None) -> None:
        """The harness's standard per-exchange checks (transport, media type, RFC JSON Schemas, errors)."""
        projected = "attributes=" in ex.query.lower()
        for c in checks.check_exchange(ex, expect_status=expect_status, resource=resource):
            if c.status == "skip" and c.check_id in ("etag.consistent", "schema"):
                continue  # an unversioned server, or no schema to judge: not a finding, and not worth a row per response
            if projected and c.check_id == "etag.consistent":
                continue  # RFC 7644 §3.4.2.5: meta may be projected away while the ETag header stays
            self._add(c)

    def _add(self, result: CheckResult) -> None:
        assert self.current is not None, "check outside a step"
        self.current.checks.append(result)
        if result.exchange is not None and result.exchange not in self.current.exchanges:
            self.current.exchanges.append(result.exchange)

    # --- HTTP --------------------------------------------------------------------------
    def send(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, auth: str = "default", raw: bytes | None = None) -> Exchange:
        """One request, recorded. `auth`: default | none | wrong | basic. A transport failure aborts the
        step; once the target stopped answering (harness.breaker), nothing is sent and the area stops."""
        why = self.prober.stopped
        if why is not None:
            raise AreaStop(why)
        content = raw
        if body is not None and raw is None:
            content = json.dumps(body).encode()
        try:
            req = self.prober.build(method, path, params=params, headers=headers, content=content, auth=auth)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:  # e.g. a Location header that is no URL
            raise StepAbort(f"cannot send {method} {str(path)[:200]!r}: {exc}") from None
        if not self.prober.same_origin(str(req.url)):
            # The token goes only to the target's own origin, whatever a Location or meta.location says.
            raise StepAbort(f"not sent: {str(req.url)[:200]} is on another origin than the SCIM base URL")
        ex = self.prober.send(req)
        if self.current is not None and ex not in self.current.exchanges:
            self.current.exchanges.append(ex)
        if ex.error:
            if self.current is not None:
                self.standard(ex)  # the failed transport check, with its rule
            raise StepAbort(f"could not reach the target: {ex.error}")
        return ex

    def get_json(self, path: str, **kw: Any) -> tuple[Exchange, Any]:
        ex = self.send("GET", path, **kw)
        return ex, ex.json()

    def query(self, coll: str, flt: str | None = None, **params: Any) -> tuple[Exchange, Any]:
        if flt is not None:
            params["filter"] = flt
        return self.get_json(f"/{coll}", params={k: str(v) for k, v in params.items()})

    # --- resources ---------------------------------------------------------------------
    def create(self, coll: str, body: dict[str, Any]) -> tuple[Exchange, dict[str, Any] | None]:
        """POST and remember the id for cleanup (also when the server answered oddly but gave an id)."""
        ex = self.send("POST", f"/{coll}", body=body)
        doc = ex.json()
        if ex.status is not None and ex.status < 300 and self.prober.remember_resource(coll, doc):
            return ex, doc
        location = ex.header("location")
        if ex.status == 201 and location and not isinstance(doc, dict):
            # RFC 7644 §3.3: the body only SHOULD hold the resource, the Location header SHALL: read it there.
            got = self.send("GET", location)
            doc = got.json()
            if got.status == 200 and self.prober.remember_resource(coll, doc):
                return ex, doc
        return ex, None

    def user_body(self, label: str, **attrs: Any) -> dict[str, Any]:
        user = self.name(label)
        body: dict[str, Any] = {"schemas": [USER_URN], "userName": user,
                                "name": {"givenName": label.capitalize(), "familyName": "Scimh"},
                                "emails": [{"value": f"{user}@example.com", "type": "work", "primary": True}],
                                "active": True}
        body.update(attrs)
        return body


def wire(ex: Exchange) -> str:
    """The request line as sent, its query decoded for reading: `GET /scim/v2/Users?filter=… `."""
    url = httpx.URL(ex.url)
    query = unquote_plus(url.query.decode("ascii", "replace"))
    return f"{ex.method} {url.path}" + (f"?{query}" if query else "")


class StepAbort(Exception):
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class AreaStop(Exception):
    """The rest of the area cannot run (what it depends on failed); its checks are skipped with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def stop_area(reason: str) -> None:
    """Stop the current area: every check it has not recorded yet is skipped with `reason`."""
    raise AreaStop(reason)


def dig(doc: Any, *keys: str) -> Any:
    """doc[k1][k2]… when every level is a JSON object, else None (a target may answer any shape)."""
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON array (anything else is empty)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def abort(reason: str = "") -> None:
    """Stop the current step (the rest of it depends on something that failed)."""
    raise StepAbort(reason)


def _cid(check_id: str, subject: str | None) -> str:
    return f"{check_id}[{subject}]" if subject else check_id


__all__ = ["AreaStop", "Capabilities", "Ctx", "abort", "dicts", "dig", "stop_area", "wire"]
