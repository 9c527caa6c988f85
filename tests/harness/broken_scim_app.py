"""A deliberately broken SCIM server for the conformance tests: mock_clockwise wrapped in a WSGI
middleware whose switches each break one rule (the request is altered on the way in, or the
answer on the way out). With no switch on it is the correct mock."""
from __future__ import annotations

import io
import json
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

TOKEN = "broken-app-token"
BREAKS = {  # switch -> what it breaks
    "spc-no-auth-schemes", "schemas-unknown-200", "discovery-write-ok", "leak-password", "undeclared-attr",
    "create-200", "no-conflict", "get-unknown-400", "delete-200", "filter-ignored", "or-as-and",
    "invalid-filter-200", "ignore-start-index", "count-ignored", "total-is-page", "sort-ignored",
    "projection-ignored", "patch-noop", "etag-ignored", "no-auth", "error-status-int", "no-meta-location",
    "put-noop", "password-taken-id", "start-zero-empty",
}


def make_app(breaks: Iterable[str] = ()) -> Callable[..., Any]:
    from mock_clockwise.app import create_app

    inner = create_app({"ORGS": [{"name": "acme", "tokens": [TOKEN], "threshold": 10}], "ADMIN_TOKEN": "broken-admin"})
    return Broken(inner, set(breaks))


class Broken:
    def __init__(self, app: Any, breaks: set[str]) -> None:
        unknown = breaks - BREAKS
        assert not unknown, unknown
        self.app, self.b = app, breaks

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        b, method, path = self.b, environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if "filter-ignored" in b:
            query.pop("filter", None)
        if "or-as-and" in b and "filter" in query:
            query["filter"] = query["filter"].replace(" or ", " and ")
        for switch, param in (("ignore-start-index", "startIndex"), ("count-ignored", "count"),
                              ("sort-ignored", "sortBy"), ("projection-ignored", "attributes")):
            if switch in b:
                query.pop(param, None)
        environ["QUERY_STRING"] = urlencode(query)
        if "etag-ignored" in b:
            environ.pop("HTTP_IF_MATCH", None)
            environ.pop("HTTP_IF_NONE_MATCH", None)
        if "no-auth" in b and "HTTP_AUTHORIZATION" not in environ:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
        if "put-noop" in b and method == "PUT" and "/Users/" in path:
            environ["REQUEST_METHOD"] = "GET"
        if "patch-noop" in b and method == "PATCH":
            environ["REQUEST_METHOD"] = "GET"
        if "discovery-write-ok" in b and method != "GET" and path.endswith("/ServiceProviderConfig"):
            environ["REQUEST_METHOD"] = "GET"
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        status, headers = int(captured["status"].split()[0]), list(captured["headers"])
        status, body = self._response(method, path, query, status, body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
        start_response(f"{status} X", headers)
        return [body]

    def _response(self, method: str, path: str, query: dict[str, str], status: int, body: bytes) -> tuple[int, bytes]:
        b = self.b
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            return status, body
        if "spc-no-auth-schemes" in b and path.endswith("/ServiceProviderConfig") and isinstance(doc, dict):
            doc.pop("authenticationSchemes", None)
        if "schemas-unknown-200" in b and "/Schemas/urn:scimh" in path:
            status, doc = 200, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": path.rsplit("/", 1)[-1]}
        users = _users(doc, path)
        for u in users:
            if "leak-password" in b:
                u["password"] = "leaked"
            if "undeclared-attr" in b:
                u["scimhExtra"] = 1
            if "no-meta-location" in b and isinstance(u.get("meta"), dict):
                u["meta"].pop("location", None)
        if "create-200" in b and method == "POST" and status == 201:
            status = 200
        if "no-conflict" in b and status == 409:
            status, doc = 400, {**doc, "status": "400"}
        if "get-unknown-400" in b and method == "GET" and status == 404 and "/Users/" in path:
            status, doc = 400, {**doc, "status": "400"}
        if "delete-200" in b and method == "DELETE" and status == 204:
            status = 200
        if "invalid-filter-200" in b and status == 400 and isinstance(doc, dict) and doc.get("scimType") == "invalidFilter":
            status, doc = 200, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}
        if "total-is-page" in b and isinstance(doc, dict) and "totalResults" in doc:
            doc["totalResults"] = len(doc.get("Resources") or [])
        if "start-zero-empty" in b and query.get("startIndex") == "0" and isinstance(doc, dict) and "Resources" in doc:
            doc["Resources"], doc["itemsPerPage"] = [], 0
        if "error-status-int" in b and status >= 400 and isinstance(doc, dict) and "status" in doc:
            doc["status"] = int(doc["status"])
        if "password-taken-id" in b and method == "POST" and status == 201 and isinstance(doc, dict):
            doc["meta"]["created"] = "2001-01-01T00:00:00Z"
        return status, (json.dumps(doc).encode() if doc is not None else body)


def _users(doc: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or not re.search(r"/Users", path):
        return []
    if isinstance(doc.get("Resources"), list):
        return [r for r in doc["Resources"] if isinstance(r, dict)]
    return [doc] if "userName" in doc else []


__all__ = ["BREAKS", "TOKEN", "make_app", "io"]
