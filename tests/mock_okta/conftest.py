"""A tiny in-memory SCIM responder for httpx.MockTransport (no dependency on mock_clockwise).

Just enough server behaviour to drive every driver action: eq filters on userName and
displayName, paging, POST/GET/PUT/PATCH/DELETE, and scripted responses for fault tests.
"""
from __future__ import annotations

import sys
from pathlib import Path

# pytest puts tests/ on sys.path (a rootdir conftest without __init__.py), where the folder
# tests/mock_okta would shadow the real mock_okta package as an empty namespace package.
# Put the project root first so the real packages win. (Proper fix: `pythonpath = ["."]`
# under [tool.pytest.ini_options].)
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
for _name in ("mock_okta", "mock_clockwise", "harness"):
    if _name in sys.modules and getattr(sys.modules[_name], "__file__", None) is None:
        del sys.modules[_name]  # a namespace shadow imported before this ran

import json  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
from typing import Any, Callable  # noqa: E402
from urllib.parse import parse_qsl  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402

from harness.transcript import Transcript  # noqa: E402

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
TOKEN = "s3cret-token-value"


def error(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"schemas": [ERROR], "status": str(status), "detail": detail})


class FakeScim:
    TOKEN = TOKEN
    error = staticmethod(error)

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.transcript = Transcript()
        self.next_id = 1
        self._lock = threading.Lock()  # the driver's bulk assignment calls in from threads
        self.preset_ids: list[str] = []  # ids handed out first, in order
        # Scripted answers: popped first-in first-out before normal handling.
        self.script: list[httpx.Response | Callable[[httpx.Request], httpx.Response | None]] = []

    def client(self, base_url: str = "http://testserver/scim/v2") -> httpx.Client:
        """A client on this fake whose exchanges are recorded in ``self.transcript`` (as the harness does)."""
        return httpx.Client(transport=self.transcript.transport(httpx.MockTransport(self.handle)), base_url=base_url,
                            headers={"Authorization": f"Bearer {TOKEN}"})

    def _id(self, prefix: str) -> str:
        if self.preset_ids:
            return self.preset_ids.pop(0)
        self.next_id += 1
        return f"{prefix}-{self.next_id - 1:04d}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            scripted = self.script.pop(0)
            answer = scripted(request) if callable(scripted) else scripted
            if answer is not None:
                return answer
        path = request.url.path.removeprefix("/scim/v2")
        query = dict(parse_qsl(request.url.query.decode()))
        body = json.loads(request.content) if request.content else None
        m = re.fullmatch(r"/(Users|Groups)(?:/([^/]+))?", path)
        if not m:
            return error(404, f"no route {path}")
        store = self.users if m.group(1) == "Users" else self.groups
        rid = m.group(2)
        if rid is None and request.method == "GET":
            return self._list(store, query)
        if rid is None and request.method == "POST":
            return self._create(store, body, m.group(1))
        if rid not in store:
            return error(404, f"{rid} not found")
        if request.method == "GET":
            return httpx.Response(200, json=store[rid])
        if request.method == "PUT":
            body = dict(body)
            body["id"] = rid
            store[rid] = body
            return httpx.Response(200, json=body)
        if request.method == "PATCH":
            self._patch(store[rid], body)
            return httpx.Response(200, json=store[rid]) if store is self.users else httpx.Response(204)
        if request.method == "DELETE":
            del store[rid]
            return httpx.Response(204)
        return error(405, "method not allowed")

    def _list(self, store: dict[str, dict[str, Any]], query: dict[str, str]) -> httpx.Response:
        items = list(store.values())
        flt = query.get("filter")
        if flt:
            m = re.fullmatch(r'(\w+) eq "(.*)"', flt)
            if not m:
                return error(400, "bad filter")
            attr, value = m.groups()
            items = [r for r in items if str(r.get(attr, "")).lower() == value.lower()]
        start = int(query.get("startIndex", 1))
        count = int(query.get("count", 100))
        page = items[start - 1:start - 1 + count]
        return httpx.Response(200, json={"schemas": [LIST], "totalResults": len(items), "startIndex": start,
                                         "itemsPerPage": len(page), "Resources": page})

    def _create(self, store: dict[str, dict[str, Any]], body: dict[str, Any], kind: str) -> httpx.Response:
        key = "userName" if kind == "Users" else "displayName"
        if any(str(r.get(key, "")).lower() == str(body.get(key, "")).lower() for r in store.values()):
            return error(409, f"{key} already exists")
        rid = self._id("u" if kind == "Users" else "g")
        resource = {"id": rid, **{k: v for k, v in body.items() if k != "password"},
                    "meta": {"resourceType": kind[:-1], "location": f"/{kind}/{rid}"}}
        store[rid] = resource
        return httpx.Response(201, json=resource)

    def _patch(self, resource: dict[str, Any], body: dict[str, Any]) -> None:
        for op in body["Operations"]:
            kind, path, value = op["op"].lower(), op.get("path"), op.get("value")
            if path is None and isinstance(value, dict):
                resource.update({k: v for k, v in value.items() if k != "id"})
            elif path == "active":
                resource["active"] = value in (True, "True", "true")
            elif path == "members":
                members = resource.setdefault("members", [])
                if kind == "replace":
                    resource["members"] = [{"value": v["value"]} for v in value]
                elif kind == "add":
                    members.extend({"value": v["value"]} for v in value)
                else:
                    gone = {v["value"] for v in value}
                    resource["members"] = [x for x in members if x["value"] not in gone]
            elif path and path.startswith("members[value eq "):
                gone = path.split('"')[1]
                resource["members"] = [x for x in resource.get("members", []) if x["value"] != gone]
            elif path == "displayName":
                resource["displayName"] = value


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake() -> FakeScim:
    return FakeScim()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()
