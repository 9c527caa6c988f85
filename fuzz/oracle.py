"""The fuzz oracle: one in-process mock with seeded data, a request sender, and the invariants.

For every request:
- never a 5xx (but 501, RFC 7644's answer for the unsupported Bulk, /Me and root /.search);
- a 4xx is a SCIM Error body (RFC 7644 §3.12: schemas, status as a string equal to the HTTP
  status, a detail) served as application/scim+json;
- a rejected request (4xx) leaves the stored state exactly as it was (users, groups, members,
  plan, events, orgs of every tenant, read through the SCIM API and the control plane);
- no response reflects an injected header, carries CR/LF in a header value, or contains a token.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import httpx

from fuzz.strategies import CORE_GROUP, CORE_USER, INJECTED, FuzzRequest
from fuzz.transport import RawWSGITransport

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
TOKENS = {"scim": "fuzz-acme-token-0123456789", "other": "fuzz-globex-token-9876543210",
          "admin": "fuzz-admin-token-ABCDEFGHIJ"}
ORGS = ("acme", "globex")


class InvariantBroken(AssertionError):
    """A request broke one of the invariants; the message names the request and the rule."""


class FuzzTarget:
    """A fresh mock (in-memory SQLite) with two tenants, a few users, groups and seeded members."""

    def __init__(self) -> None:
        from mock_clockwise.app import create_app  # the fuzz drives the mock; the harness never imports it

        self.app = create_app({"ORGS": [{"name": "acme", "tokens": [TOKENS["scim"]], "threshold": 3},
                                        {"name": "globex", "tokens": [TOKENS["other"]], "threshold": 10}],
                               "ADMIN_TOKEN": TOKENS["admin"], "FAULT_SEED": 7})
        self.client = httpx.Client(transport=RawWSGITransport(self.app), base_url="http://testserver")
        self.stats: Counter[str] = Counter()
        self.ids: dict[str, str] = {}
        self.seed()
        self.state = self.snapshot()

    # --- data ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, token: str, body: Any = None) -> httpx.Response:
        return self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {TOKENS[token]}"})

    def seed(self) -> None:
        """Back to a known start: both orgs with members, users (one deactivated), a group."""
        assert self._call("POST", "/_mock/reset", "admin").status_code == 204
        for email, admin in (("boss@acme.test", True), ("old@acme.test", False)):
            self._call("POST", "/_mock/orgs/acme/members", "admin", {"email": email, "admin": admin})
        users = []
        for i, name in enumerate(("u1@acme.test", "boss@acme.test", "u3@acme.test")):
            r = self._call("POST", "/scim/v2/Users", "scim", {"schemas": [CORE_USER], "userName": name,
                                                              "active": i != 2,
                                                              "emails": [{"value": name, "primary": True}]})
            users.append(r.json()["id"])
        r = self._call("POST", "/scim/v2/Groups", "scim", {"schemas": [CORE_GROUP], "displayName": "Eng",
                                                           "members": [{"value": users[0]}]})
        gone = self._call("POST", "/scim/v2/Users", "scim", {"schemas": [CORE_USER], "userName": "gone@acme.test"})
        self._call("DELETE", f"/scim/v2/Users/{gone.json()['id']}", "scim")
        other = self._call("POST", "/scim/v2/Users", "other", {"schemas": [CORE_USER], "userName": "g1@globex.test"})
        self.ids = {"{user}": users[0], "{group}": r.json()["id"], "{other-user}": other.json()["id"],
                    "{deleted}": gone.json()["id"], "{admin-user}": users[1]}

    def snapshot(self) -> dict[str, Any]:
        """Everything a request could change, per tenant (minus the journal, which records every request)."""
        snap: dict[str, Any] = {"orgs": self._call("GET", "/_mock/orgs", "admin").json()}
        for org, token in zip(ORGS, ("scim", "other")):
            if not any(o["name"] == org for o in snap["orgs"]["data"]):
                continue
            for coll in ("Users", "Groups"):
                snap[f"{org}/{coll}"] = self._call("GET", f"/scim/v2/{coll}?count=1000", token).json()
            for what in ("members", "plan", "events"):
                snap[f"{org}/{what}"] = self._call("GET", f"/_mock/orgs/{org}/{what}", "admin").json()
        snap["faults"] = self._call("GET", "/_mock/faults", "admin").json()
        return snap

    # --- one request --------------------------------------------------------------------
    def _fill(self, data: str) -> str:
        for key, value in self.ids.items():
            data = data.replace(key, value)
        return data

    def send(self, req: FuzzRequest) -> httpx.Response:
        path = self._fill(req.path)
        body = req.body
        if body is not None and b"{" in body and len(body) < 100_000:
            body = self._fill(body.decode("latin-1")).encode("latin-1")
        target = path.replace("?", "%3F").encode("utf-8", "replace")
        if req.query:
            target += b"?" + req.query.encode("utf-8", "replace")
        request = httpx.Request(req.method, "http://testserver/", headers=req.headers, content=body,
                                extensions={"raw_target": target})
        return self.client.send(request)

    def check(self, req: FuzzRequest) -> httpx.Response:
        """Send `req` and enforce every invariant; raises InvariantBroken."""
        resp = self.send(req)
        status = resp.status_code
        self.stats["requests"] += 1
        self.stats["status 501 (documented)" if status == 501 else f"status {status // 100}xx"] += 1
        self.stats[f"family {req.family}"] += 1
        where = f"{req.describe()} -> {status} {resp.text[:300]!r}"
        # RFC 7644 §3.7/§3.11: 501 is the documented answer for Bulk, /Me and root /.search.
        if status >= 500 and status != 501:
            raise InvariantBroken(f"5xx from the mock: {where}")
        for name, value in resp.headers.raw:
            if name.lower().startswith(INJECTED.encode()) or b"\r" in value or b"\n" in value:
                raise InvariantBroken(f"header injection reflected ({name!r}: {value!r}): {where}")
        text = resp.content.decode("utf-8", "replace")
        for token in TOKENS.values():
            if token in text or token in str(resp.headers):
                raise InvariantBroken(f"a token appears in the response: {where}")
        oauth = req.path.split("?")[0] == "/oauth2/token"  # RFC 6749 §5.2: its errors are JSON {error}, not SCIM
        if status >= 400 and req.method.upper() != "HEAD" and not oauth:  # RFC 9110 §9.3.2: HEAD has no body
            self._check_error_body(resp, where)
        control = req.path.startswith("/_mock")
        if status >= 400:
            after = self.snapshot()
            if after != self.state:
                changed = sorted(k for k in set(after) | set(self.state) if after.get(k) != self.state.get(k))
                raise InvariantBroken(f"a rejected request changed the stored state ({', '.join(changed)}): {where}")
            self.stats["rejected, state unchanged"] += 1
        else:
            self.stats["accepted"] += 1
            if control and req.method.upper() in ("PUT",) and "faults" in req.path:
                # An accepted fault makes later answers 5xx on purpose; the fuzz keeps faults off.
                self._call("DELETE", "/_mock/faults", "admin")
            if control and req.method.upper() in ("DELETE", "POST") and ("reset" in req.path or "DELETE" == req.method.upper()):
                self.seed()
                self.stats["re-seeded"] += 1
            elif req.method.upper() == "DELETE" and self._fill(req.path).endswith(tuple(self.ids.values())):
                self.seed()
                self.stats["re-seeded"] += 1
            self.state = self.snapshot()
        return resp

    @staticmethod
    def _check_error_body(resp: httpx.Response, where: str) -> None:
        media = resp.headers.get("content-type", "").split(";")[0].strip()
        if media != "application/scim+json":
            raise InvariantBroken(f"an error with Content-Type {media!r}, not application/scim+json: {where}")
        try:
            doc = json.loads(resp.content)
        except ValueError:
            raise InvariantBroken(f"an error body that is not JSON: {where}") from None
        ok = (isinstance(doc, dict) and doc.get("schemas") == [ERROR_URN] and doc.get("status") == str(resp.status_code)
              and isinstance(doc.get("detail"), str) and doc["detail"].strip())
        if not ok:
            raise InvariantBroken(f"not a SCIM Error body (RFC 7644 §3.12): {where}")
        if resp.status_code == 401 and ("Resources" in doc or "userName" in resp.text):
            raise InvariantBroken(f"a 401 that carries data: {where}")

    def close(self) -> None:
        self.client.close()


def summary(stats: Counter[str], elapsed: float) -> str:
    lines = [f"{stats['requests']} requests in {elapsed:.1f} s ({stats['requests'] / max(elapsed, 1e-9):.0f}/s)"]
    lines += [f"  {key}: {value}" for key, value in sorted(stats.items()) if key != "requests"]
    return "\n".join(lines)


def now() -> float:
    return time.perf_counter()
