"""A deliberately broken SCIM server for the conformance tests: mock_clockwise wrapped in a WSGI
middleware whose switches each break one rule — the request is altered on the way in, answered
without reaching the mock, or the answer altered on the way out. With no switch on it is the
correct mock. `Broken.set(switches)` changes the switches of a live app, so one app serves a module.
"""
from __future__ import annotations

import io
import json
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

TOKEN = "broken-app-token"
ADMIN = "broken-admin"
PREFIX = "/scim/v2"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

# switch -> (pattern, replacement) applied to the `filter` query parameter
FILTER_REWRITES: dict[str, tuple[str, str]] = {
    "or-as-and": (r" or ", " and "), "and-as-or": (r" and ", " or "), "ne-as-eq": (r" ne ", " eq "),
    "co-as-sw": (r" co ", " sw "), "sw-as-eq": (r" sw ", " eq "), "ew-as-sw": (r" ew ", " sw "),
    "gt-as-ge": (r" gt ", " ge "), "ge-as-gt": (r" ge ", " gt "), "lt-as-le": (r" lt ", " le "),
    "le-as-lt": (r" le ", " lt "), "not-ignored": (r"\bnot \(", "("),
    "left-to-right": (r"\(([^()]+?) or ([^()]+?) and ", r"((\1 or \2) and "),  # a or b and c == (a or b) and c
    "parens-ignored": (r"\(\(([^()]*)\)", r"(\1"),
    "sub-attr-wrong": (r"name\.familyName", "name.givenName"),
    "value-path-as-pr": (r"(\w+)\[[^\]]*\]", r"\1 pr"),
    "pr-matches-all": (r"\b[\w.:]+ pr\b", "userName pr"),
    "multi-valued-first-only": (r'emails\.value eq ("[^"]*")', r'emails[type eq "work" and value eq \1]'),
    "boolean-inverted": (r"\beq false\b", "eq true"),
    "filter-drops-unknown-clause": (r' and externalId eq "[^"]*"', ""),
    "datetime-as-string": (r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)[+-]\d\d:\d\d"', r'"\1Z"'),
}
# switch -> predicate on a filter: when true, the list answers 400 invalidFilter
FILTER_REFUSALS: dict[str, Callable[[str], bool]] = {
    "urn-filter-400": lambda f: USER_URN + ":" in f,
    "extension-filter-400": lambda f: ENT_URN in f,
    "case-sensitive-names": lambda f: re.search(r"[A-Z]{2,}", re.sub(r'"[^"]*"', '""', f)) is not None,
    "members-filter-400": lambda f: "members[" in f,
    "external-id-filter-400": lambda f: "externalId" in f,
}
# switch -> predicate on one PATCH operation (op lower-cased, path, value): the op is silently dropped
PATCH_DROPS: dict[str, Callable[[str, str, Any], bool]] = {
    "patch-ignores-add-path": lambda op, path, v: op == "add" and bool(path),
    "patch-ignores-remove": lambda op, path, v: op == "remove",
    "patch-ignores-complex-value": lambda op, path, v: op == "replace" and bool(path) and isinstance(v, dict),
    "patch-ignores-no-path": lambda op, path, v: not path,
    "patch-ignores-value-path": lambda op, path, v: "[" in path,
    "patch-ignores-urn-path": lambda op, path, v: path.lower().startswith("urn:"),
    "patch-unknown-op-ignored": lambda op, path, v: op not in ("add", "remove", "replace"),
    "patch-ignores-display-name": lambda op, path, v: path.lower() == "displayname",
}
USER_EDITS = {  # switch -> edit of every User resource in an answer
    "leak-password": lambda u: u.__setitem__("password", "leaked"),
    "undeclared-attr": lambda u: u.__setitem__("scimhExtra", 1),
    "no-meta-location": lambda u: (u.get("meta") or {}).pop("location", None),
    "user-active-string": lambda u: "active" in u and u.__setitem__("active", str(u["active"]).lower()),
    "user-schemas-extra": lambda u: u.__setitem__("schemas", list(u.get("schemas") or []) + ["urn:scimh:bogus"]),
    "enterprise-flattened": lambda u: u.update(u.pop(ENT_URN, None) or {}),
    "meta-resource-type-wrong": lambda u: (u.get("meta") or {}).__setitem__("resourceType", "Users"),
    "user-groups-empty": lambda u: u.pop("groups", None),
}
SCHEMA_EDITS = {  # switch -> edit of the schema documents /Schemas serves
    "schema-bad-definition": lambda s: s["id"] == USER_URN and s["attributes"][0].__setitem__("mutability", "sometimes"),
    "schema-username-not-required": lambda s: [a.__setitem__("required", False) for a in s["attributes"] if a["name"] == "userName"],
    "schema-group-no-members": lambda s: s["id"].endswith(":Group") and s.__setitem__(
        "attributes", [a for a in s["attributes"] if a["name"] != "members"]),
    "group-name-declared-unique": lambda s: [a.__setitem__("uniqueness", "server") for a in s["attributes"]
                                             if s["id"].endswith(":Group") and a["name"] == "displayName"],
}
OTHER = {
    "spc-404", "spc-no-auth-schemes", "spc-basic-scheme", "spc-feature-no-supported", "spc-bulk-limits-strings",
    "spc-no-max-results", "rt-list-empty", "rt-users-wrong-endpoint", "rt-no-groups", "rt-by-id-404", "rt-unknown-200",
    "schemas-list-empty", "schemas-list-no-enterprise", "schemas-by-id-404", "schemas-unknown-200", "discovery-write-ok",
    "forbidden-plain-403", "password-taken-id", "projection-drops-id", "no-username-ok", "create-200",
    "create-echo-minimal", "same-id", "no-conflict", "conflict-no-scim-type", "username-case-sensitive",
    "get-drops-name", "meta-location-wrong", "get-unknown-400", "put-unknown-400", "patch-unknown-400",
    "delete-unknown-204", "put-204", "put-noop", "put-takes-id", "put-keeps-omitted", "last-modified-goes-back",
    "delete-200", "delete-noop", "soft-delete", "members-value-ref", "group-delete-cascades", "filter-ignored",
    "invalid-filter-200", "invalid-filter-no-scim-type", "case-exact-values", "no-match-404", "groups-filter-empty", "search-ignores-filter",
    "ignore-start-index", "start-index-echoed-not-applied", "count-ignored", "count-zero-ignored", "start-negative-400", "count-negative-400",
    "start-zero-empty", "total-is-page", "past-end-404", "paging-strings", "groups-list-needs-filter", "sort-ignored",
    "sort-inverted", "sort-default-descending", "sort-sub-attr-ignored", "sort-paged-ignores-start", "sort-400",
    "projection-ignored", "projection-list-ignored", "excluded-ignored", "projection-sub-attr-whole",
    "projection-case-sensitive", "projection-urn-400", "patch-noop", "patch-refused", "patch-200-empty",
    "patch-sub-attr-replaces-parent", "patch-not-atomic", "no-target-scim-type", "patch-bad-path-500",
    "patch-mutability-204", "patch-op-case-sensitive", "etag-ignored", "if-match-ignored", "if-match-always-412",
    "if-none-match-always-304", "etag-no-header", "etag-meta-version-missing", "etag-constant", "unknown-endpoint-400",
    "invalid-json-500", "invalid-json-no-scim-type", "too-large-500", "collection-delete-ok", "error-status-int",
    "no-auth", "wrong-token-accepted", "basic-accepted", "no-www-authenticate", "unauth-post-creates",
    "drops-declared-title", "items-per-page-echoes-count", "search-ignores-paging", "patch-projection-wipes",
    "malformed-member-500", "sparse-breaks-filters", "sparse-breaks-patch", "last-modified-frozen", "group-no-meta-times",
    "max-results-not-enforced", "projection-drops-schemas", "roles-primary-string-400", "patch-urn-container-400",
    "error-empty-body", "put-projection-wipes", "past-end-restarts",
}
# Bulk (RFC 7644 §3.7): the mock does not offer it, so the app below advertises and performs it itself when
# "bulk" or any of these switches is on; each switch breaks one part of it.
BULK_BREAKS = {"bulk-501", "bulk-put-ignored", "bulk-ids-unresolved", "bulk-ignores-fail-on-errors", "bulk-no-limits"}
OTHER |= BULK_BREAKS
# Features the mock lacks, made correct by the app so that their checks can pass too (not breaks):
# "bulk" (bulk.supported with maxOperations 10, maxPayloadSize 64 KiB), "small-max-results" (filter.maxResults 6, enforced).
# Conditions a correct server can be in, under which no check may fail: "filter-unadvertised" (filter.supported
# false, so paging is judged on every user) and "busy-collection" (another client creates a user before each
# unfiltered list of users is answered, as the other scenarios of a run do).
FEATURES = frozenset({"bulk", "small-max-results", "filter-unadvertised", "busy-collection"})
BULK_LIMITS = {"maxOperations": 10, "maxPayloadSize": 65536}
SMALL_MAX_RESULTS = 6  # more than the 4 query users: the check adds the 3 missing ones
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
BREAKS = frozenset(OTHER | set(FILTER_REWRITES) | set(FILTER_REFUSALS) | set(PATCH_DROPS) | set(USER_EDITS) | set(SCHEMA_EDITS))
ENDPOINTS = ("Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas")


def make_app(breaks: Iterable[str] = ()) -> "Broken":
    from mock_clockwise.app import create_app

    inner = create_app({"ORGS": [{"name": "acme", "tokens": [TOKEN], "threshold": 10}], "ADMIN_TOKEN": ADMIN})
    return Broken(inner, breaks)


def error(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    doc = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status), "detail": detail}
    return {**doc, "scimType": scim_type} if scim_type else doc


class Reply(Exception):
    """Answer now, without the mock."""

    def __init__(self, status: int, doc: Any = None, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(status)
        self.status, self.doc, self.headers = status, doc, headers or []


class Broken:
    def __init__(self, app: Any, breaks: Iterable[str] = ()) -> None:
        self.app = app
        self.set(breaks)

    def set(self, breaks: Iterable[str]) -> None:
        b = set(breaks)
        unknown = b - BREAKS - FEATURES
        assert not unknown, unknown
        self.b = b
        self.aliases: dict[str, str] = {}              # put-takes-id: real id -> the id the client sent
        self.deleted: list[dict[str, Any]] = []        # soft-delete: users still found by filters
        self.busy = 0                                  # busy-collection: the users the other client created

    # --- plumbing ------------------------------------------------------------------------
    def inner(self, environ: dict[str, Any], method: str, sub: str, query: dict[str, str] | None = None,
              body: Any = None) -> tuple[int, list[tuple[str, str]], Any]:
        """One request to the mock itself, authorised, unconditional."""
        data = json.dumps(body).encode() if body is not None else b""
        env = {k: v for k, v in environ.items() if k not in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")}
        env.update({"REQUEST_METHOD": method, "PATH_INFO": PREFIX + sub, "QUERY_STRING": urlencode(query or {}),
                    "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
                    "CONTENT_TYPE": "application/scim+json", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"})
        return self.forward(env)

    def forward(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Any]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        raw = b"".join(self.app(environ, capture))
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw
        return int(captured["status"].split()[0]), list(captured["headers"]), doc

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):  # the control plane is never broken
            return self.app(environ, start_response)
        sub = path[len(PREFIX):]
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        try:
            method, sub, query, body, raw = self._request(environ, method, sub, query, body, raw)
            environ.update({"REQUEST_METHOD": method, "PATH_INFO": PREFIX + sub, "QUERY_STRING": urlencode(query),
                            "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))})
            status, headers, doc = self.forward(environ)
            status, doc = self._response(environ, method, sub, query, body, status, headers, doc)
        except Reply as r:
            status, headers, doc = r.status, r.headers, r.doc
        out = doc if isinstance(doc, bytes) else (json.dumps(doc).encode() if doc is not None else b"")
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(out)))]
        start_response(f"{status} X", headers)
        return [out]

    # --- on the way in -------------------------------------------------------------------
    def _request(self, env: dict[str, Any], method: str, sub: str, query: dict[str, str], body: Any,
                 raw: bytes) -> tuple[str, str, dict[str, str], Any, bytes]:
        b = self.b
        parts = sub.strip("/").split("/")
        coll, item = parts[0], (parts[1] if len(parts) > 1 else None)
        auth = env.get("HTTP_AUTHORIZATION", "")
        if "no-auth" in b and not auth or "wrong-token-accepted" in b and auth.startswith("Bearer ") \
                or "basic-accepted" in b and auth.startswith("Basic "):
            env["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
        if "unauth-post-creates" in b and method == "POST" and not auth:
            self.inner(env, method, sub, query, body)
            raise Reply(401, error(401, "authentication required"), [("WWW-Authenticate", "Bearer")])
        if coll == "Bulk" and self.bulking():
            raise self._bulk(env, method, body, raw)
        self._features(method, coll, item, query, body)
        if method == "GET" and coll == "Users" and item is None:
            self._busy_or_restarting(env, query)
        if coll not in ENDPOINTS and "unknown-endpoint-400" in b:
            raise Reply(400, error(400, "bad request"))
        discovery = coll in ("ServiceProviderConfig", "ResourceTypes", "Schemas")
        if discovery and method != "GET":
            if "discovery-write-ok" in b:
                method = "GET"
            elif "forbidden-plain-403" in b:
                raise Reply(403, b"Forbidden", [("Content-Type", "text/plain")])
        if method == "GET" and ("spc-404" in b and coll == "ServiceProviderConfig" or "rt-by-id-404" in b
                                and coll == "ResourceTypes" and item or "schemas-by-id-404" in b and coll == "Schemas"
                                and item and not item.startswith("urn:scimh")):
            raise Reply(404, error(404, "not found"))
        self._query(method, coll, item, query)
        if "sparse-breaks-filters" in b and method == "GET" and item is None and re.search(
                r"\.familyName|emails\[|emails\.value|members\[", query.get("filter", "")):
            _, _, everyone = self.inner(env, "GET", f"/{coll}", {"count": "1000"})
            needed = ("name", "emails") if coll == "Users" else ("members",)
            if any(not r.get(k) for r in (everyone or {}).get("Resources") or [] for k in needed):
                raise Reply(400, error(400, "attribute missing on a stored resource", "invalidFilter"))
        if "malformed-member-500" in b and coll == "Groups" and "scimh-bad-id" in json.dumps(body):
            raise Reply(500, error(500, "invalid literal for int()"))
        if "if-match-always-412" in b and env.get("HTTP_IF_MATCH"):
            raise Reply(412, error(412, "precondition failed"))
        if "if-none-match-always-304" in b and env.get("HTTP_IF_NONE_MATCH"):
            raise Reply(304)
        if "etag-ignored" in b or "if-match-ignored" in b:
            env.pop("HTTP_IF_MATCH", None)
        if "etag-ignored" in b:
            env.pop("HTTP_IF_NONE_MATCH", None)
        if method == "DELETE":
            if item is None and "collection-delete-ok" in b or item and "delete-noop" in b:
                raise Reply(204)
            if item and coll == "Users" and "soft-delete" in b:
                st, _, doc = self.inner(env, "GET", sub)
                if st == 200:
                    self.deleted.append(doc)
            if item and coll == "Groups" and "group-delete-cascades" in b:
                st, _, doc = self.inner(env, "GET", sub)
                for m in (doc or {}).get("members") or [] if st == 200 else []:
                    self.inner(env, "DELETE", f"/Users/{m['value']}")
        if method == "POST" and coll == "Users" and item is None and isinstance(body, dict):
            if "no-username-ok" in b and "userName" not in body:
                body["userName"] = f"auto-{len(raw)}-{id(body)}"
            name = body.get("userName")
            if "username-case-sensitive" in b and isinstance(name, str) and name != name.lower():
                body["userName"] = name + "-cs"
        if "drops-declared-title" in b and coll == "Users" and method in ("POST", "PUT") and isinstance(body, dict):
            body.pop("title", None)  # declared in /Schemas, never stored
        if "search-ignores-paging" in b and method == "POST" and sub.endswith("/.search") and isinstance(body, dict):
            body.pop("startIndex", None), body.pop("count", None)
        if method == "PUT" and item:
            if "put-noop" in b:
                method = "GET"
            if "put-takes-id" in b and isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"] != item:
                self.aliases[item] = body["id"]
            if "put-keeps-omitted" in b and isinstance(body, dict):
                st, _, cur = self.inner(env, "GET", sub)
                if st == 200:
                    body = {**{k: v for k, v in cur.items() if k not in ("meta", "groups")}, **body}
        if method == "PUT" and "put-projection-wipes" in b and "attributes" in query and isinstance(body, dict):
            body = {k: v for k, v in body.items() if k in ("schemas", "id", "userName")}  # stores what it shows
        if method == "PATCH" and "patch-projection-wipes" in b and "attributes" in query and isinstance(body, dict) \
                and isinstance(body.get("Operations"), list):
            body["Operations"].append({"op": "remove", "path": "emails"})  # the unlisted attributes are lost
        if method == "PATCH" and "sparse-breaks-patch" in b and coll == "Users" and item:
            st, _, cur = self.inner(env, "GET", sub)
            if st == 200 and not (cur or {}).get("name"):
                raise Reply(500, error(500, "'NoneType' object is not subscriptable"))
        if method == "PATCH":
            method, body = self._patch(env, sub, body)
        data = json.dumps(body).encode() if body is not None else raw
        return method, sub, query, body, data

    def _busy_or_restarting(self, env: dict[str, Any], query: dict[str, str]) -> None:
        b = self.b
        if "busy-collection" in b and "filter" not in query:
            self.busy += 1
            self.inner(env, "POST", "/Users", body={"schemas": [USER_URN], "userName": f"other-client-{self.busy}"})
        start = query.get("startIndex", "")
        if "past-end-restarts" in b and start.isdigit():
            _, _, d = self.inner(env, "GET", "/Users", {**query, "startIndex": "1", "count": "0"})
            if int(start) > (d or {}).get("totalResults", 0):
                query["startIndex"] = "1"  # SCIMMY 1.3.5: a page past the end is the list from its start

    def bulking(self) -> bool:
        return "bulk" in self.b or bool(self.b & BULK_BREAKS)

    def _features(self, method: str, coll: str, item: str | None, query: dict[str, str], body: Any) -> None:
        b = self.b
        if "small-max-results" in b and method == "GET" and item is None and coll in ("Users", "Groups"):
            count = query.get("count", "")
            if not count.lstrip("-").isdigit() or int(count) > SMALL_MAX_RESULTS:
                query["count"] = str(SMALL_MAX_RESULTS)  # RFC 7643 §5: at most maxResults per response
        if "roles-primary-string-400" in b and method in ("POST", "PUT", "PATCH") and '"primary": "True"' in json.dumps(body):
            raise Reply(400, error(400, "Attribute 'primary' expected value type 'boolean'", "invalidValue"))
        ops = body.get("Operations") if method == "PATCH" and isinstance(body, dict) else None
        if "patch-urn-container-400" in b and isinstance(ops, list) and any(
                isinstance(o, dict) and str(o.get("path", "")).lower() == ENT_URN.lower() for o in ops):
            raise Reply(400, error(400, f"invalid path {ENT_URN}", "invalidPath"))

    def _bulk(self, env: dict[str, Any], method: str, body: Any, raw: bytes) -> Reply:
        """POST /Bulk performed operation by operation on the mock (RFC 7644 §3.7), less what a switch breaks."""
        b = self.b
        if env.get("HTTP_AUTHORIZATION") != f"Bearer {TOKEN}":
            return Reply(401, error(401, "authentication required"), [("WWW-Authenticate", "Bearer")])
        if "bulk-501" in b or method != "POST":
            return Reply(501, error(501, "Bulk is not implemented"))
        ops = body.get("Operations") if isinstance(body, dict) else None
        if not isinstance(ops, list):
            return Reply(400, error(400, "not a BulkRequest", "invalidSyntax"))
        if "bulk-no-limits" not in b and (len(ops) > BULK_LIMITS["maxOperations"] or len(raw) > BULK_LIMITS["maxPayloadSize"]):
            return Reply(413, error(413, "the BulkRequest exceeds maxOperations or maxPayloadSize"))
        fail_on = body.get("failOnErrors") if "bulk-ignores-fail-on-errors" not in b else None
        ids: dict[str, str] = {}
        out: list[dict[str, Any]] = []
        for op in [o for o in ops if isinstance(o, dict)]:
            verb, text = str(op.get("method", "")).upper(), json.dumps(op["data"]) if "data" in op else None
            if text and "bulk-ids-unresolved" not in b:  # RFC 7644 §3.7.2: "bulkId:<id>" is the created id
                text = re.sub(r'"bulkId:([^"]+)"', lambda m: json.dumps(ids.get(m.group(1), m.group(0)[1:-1])), text)
            if verb == "PUT" and "bulk-put-ignored" in b:
                verb, text = "GET", None
            st, _, doc = self.inner(env, verb, str(op.get("path", "")), body=json.loads(text) if text else None)
            res: dict[str, Any] = {"method": op.get("method"), "status": str(st),
                                   **({"bulkId": op["bulkId"]} if "bulkId" in op else {})}
            if isinstance(doc, dict) and st < 300 and isinstance(doc.get("id"), str):
                res["location"] = (doc.get("meta") or {}).get("location")
                ids.update({op["bulkId"]: doc["id"]} if "bulkId" in op else {})
            if st >= 400:
                res["response"] = doc
            out.append(res)
            if isinstance(fail_on, int) and fail_on > 0 and sum(int(r["status"]) >= 400 for r in out) >= fail_on:
                break
        return Reply(200, {"schemas": [BULK_RESPONSE], "Operations": out}, [("Content-Type", "application/scim+json")])

    def _query(self, method: str, coll: str, item: str | None, query: dict[str, str]) -> None:
        b = self.b
        flt = query.get("filter")
        if flt is not None:
            if "filter-ignored" in b:
                query.pop("filter")
            for switch, (pattern, repl) in FILTER_REWRITES.items():
                if switch in b:
                    query["filter"] = re.sub(pattern, repl, query["filter"])
            for switch, refused in FILTER_REFUSALS.items():
                if switch in b and refused(flt):
                    raise Reply(400, error(400, f"unsupported filter: {flt}", "invalidFilter"))
            if "groups-filter-empty" in b and coll == "Groups":
                raise Reply(200, {"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
        elif "groups-list-needs-filter" in b and coll == "Groups" and item is None and method == "GET":
            raise Reply(400, error(400, "a filter is required", "invalidFilter"))
        if "start-index-echoed-not-applied" in b and "startIndex" in query:
            query["scimhEcho"] = query.pop("startIndex")
        for switch, param in (("ignore-start-index", "startIndex"), ("count-ignored", "count"), ("sort-ignored", "sortBy"),
                              ("projection-ignored", "attributes"), ("excluded-ignored", "excludedAttributes")):
            if switch in b:
                query.pop(param, None)
        if "projection-list-ignored" in b and item is None:
            query.pop("attributes", None)
        if "count-zero-ignored" in b and query.get("count") == "0":
            query.pop("count")
        for switch, param in (("start-negative-400", "startIndex"), ("count-negative-400", "count")):
            if switch in b and query.get(param, "").startswith("-"):
                raise Reply(400, error(400, f"{param} must not be negative", "invalidValue"))
        if "sortBy" in query:
            if "sort-400" in b:
                raise Reply(400, error(400, "sorting is not supported", "invalidValue"))
            order = query.get("sortOrder")
            if "sort-inverted" in b and order:
                query["sortOrder"] = "descending" if order == "ascending" else "ascending"
            if "sort-default-descending" in b and not order:
                query["sortOrder"] = "descending"
            if "sort-sub-attr-ignored" in b and "." in query["sortBy"]:
                query.pop("sortBy")
            if "sort-paged-ignores-start" in b:
                query.pop("startIndex", None)
        attrs = query.get("attributes")
        if attrs is not None:
            if "projection-urn-400" in b and "urn:" in attrs:
                raise Reply(400, error(400, "unknown attribute", "invalidValue"))
            if "projection-sub-attr-whole" in b:
                query["attributes"] = ",".join(a.split(".")[0] for a in attrs.split(","))
            if "projection-case-sensitive" in b and re.search(r"[A-Z]{2,}", attrs):
                query.pop("attributes")

    def _patch(self, env: dict[str, Any], sub: str, body: Any) -> tuple[str, Any]:
        b = self.b
        if "patch-noop" in b:
            return "GET", None
        if "patch-refused" in b:
            raise Reply(501, error(501, "PATCH is not implemented"))
        ops = body.get("Operations") if isinstance(body, dict) else None
        if not isinstance(ops, list):
            return "PATCH", body
        if "patch-op-case-sensitive" in b and any(isinstance(o, dict) and o.get("op") != str(o.get("op")).lower() for o in ops):
            raise Reply(400, error(400, "unknown op", "invalidSyntax"))
        kept = []
        for o in ops:
            if not isinstance(o, dict):
                kept.append(o)
                continue
            op, path, value = str(o.get("op", "")).lower(), str(o.get("path") or ""), o.get("value")
            if any(s in b and drop(op, path, value) for s, drop in PATCH_DROPS.items()):
                continue
            if "patch-sub-attr-replaces-parent" in b and op == "replace" and re.fullmatch(r"\w+\.\w+", path):
                parent, child = path.split(".")  # the siblings are lost: the parent is replaced whole
                kept += [{"op": "remove", "path": parent}, {"op": "add", "path": parent, "value": {child: value}}]
                continue
            kept.append(o)
        if not kept:
            return "GET", None
        if "patch-not-atomic" in b and len(kept) > 1:
            for o in kept[:-1]:
                st, _, doc = self.inner(env, "PATCH", sub, body={**body, "Operations": [o]})
                if st >= 400:
                    raise Reply(st, doc)
            kept = kept[-1:]
        return "PATCH", {**body, "Operations": kept}

    # --- on the way out ------------------------------------------------------------------
    def _response(self, env: dict[str, Any], method: str, sub: str, query: dict[str, str], body: Any, status: int,
                  headers: list[tuple[str, str]], doc: Any) -> tuple[int, Any]:
        b = self.b
        parts = sub.strip("/").split("/")
        coll, item = parts[0], (parts[1] if len(parts) > 1 else None)
        d = doc if isinstance(doc, dict) else {}
        if coll == "ServiceProviderConfig" and status == 200:
            self._spc(d)
        if coll == "ResourceTypes" and item and item.startswith("Scimh") and "rt-unknown-200" in b:
            status, doc = 200, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "name": item}
        if coll == "ResourceTypes" and status == 200 and item is None:
            self._resource_types(d)
        if coll == "Schemas":
            if "schemas-unknown-200" in b and item and item.startswith("urn:scimh"):
                status, doc = 200, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": item}
            if status == 200 and item is None:
                if "schemas-list-empty" in b:
                    d["Resources"], d["totalResults"] = [], 0
                if "schemas-list-no-enterprise" in b:
                    d["Resources"] = [s for s in d.get("Resources") or [] if s.get("id") != ENT_URN]
            for s in (d.get("Resources") or [d]) if status == 200 else []:
                for switch, edit in SCHEMA_EDITS.items():
                    if switch in b and isinstance(s.get("attributes"), list):
                        edit(s)
        if coll in ("Users", "Groups"):
            status, doc = self._resources(env, method, coll, item, query, body, status, headers, doc)
        if "error-status-int" in b and status >= 400 and isinstance(doc, dict) and "status" in doc:
            doc["status"] = int(doc["status"])
        if "no-www-authenticate" in b and status == 401:
            headers[:] = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
        if "error-empty-body" in b and status == 404:
            doc = None
        return status, doc

    def _spc(self, d: dict[str, Any]) -> None:
        b = self.b
        if "spc-no-auth-schemes" in b:
            d.pop("authenticationSchemes", None)
        if "spc-basic-scheme" in b:
            d["authenticationSchemes"] = [{"type": "httpbasic", "name": "Basic", "description": "HTTP Basic"}]
        if "spc-feature-no-supported" in b:
            d["changePassword"] = {}
        if "spc-bulk-limits-strings" in b and isinstance(d.get("bulk"), dict):
            d["bulk"]["maxOperations"] = str(d["bulk"].get("maxOperations"))
        if "spc-no-max-results" in b and isinstance(d.get("filter"), dict):
            d["filter"].pop("maxResults", None)
        if self.bulking():
            d["bulk"] = {"supported": True, **BULK_LIMITS}
        if "filter-unadvertised" in b and isinstance(d.get("filter"), dict):
            d["filter"]["supported"] = False
        if ("small-max-results" in b or "max-results-not-enforced" in b) and isinstance(d.get("filter"), dict):
            d["filter"]["maxResults"] = SMALL_MAX_RESULTS

    def _resource_types(self, d: dict[str, Any]) -> None:
        b = self.b
        if "rt-list-empty" in b:
            d["Resources"], d["totalResults"] = [], 0
        if "rt-no-groups" in b:
            d["Resources"] = [r for r in d.get("Resources") or [] if r.get("name") != "Group"]
        for r in d.get("Resources") or []:
            if "rt-users-wrong-endpoint" in b and r.get("name") == "User":
                r["endpoint"] = "/People"

    def _resources(self, env: dict[str, Any], method: str, coll: str, item: str | None, query: dict[str, str],
                   body: Any, status: int, headers: list[tuple[str, str]], doc: Any) -> tuple[int, Any]:
        b = self.b
        d = doc if isinstance(doc, dict) else {}
        listing = isinstance(d.get("Resources"), list)
        for r in [r for r in d["Resources"] if isinstance(r, dict)] if listing else ([d] if "id" in d else []):
            if coll == "Users":
                for switch, edit in USER_EDITS.items():
                    if switch in b:
                        edit(r)
            if r.get("id") in self.aliases:
                r["id"] = self.aliases[r["id"]]
            meta = r.get("meta") if isinstance(r.get("meta"), dict) else {}
            if "etag-meta-version-missing" in b:
                meta.pop("version", None)
            if "etag-constant" in b and "version" in meta:
                meta["version"] = 'W/"c"'
            if "meta-location-wrong" in b and "location" in meta:
                meta["location"] = meta["location"].rsplit("/", 1)[0] + "/scimh-elsewhere"
            if "last-modified-frozen" in b and "created" in meta:
                meta["lastModified"] = meta["created"]
            if "group-no-meta-times" in b and coll == "Groups":
                meta.pop("created", None), meta.pop("lastModified", None)
            if "last-modified-goes-back" in b and method == "GET" and item and "lastModified" in meta:
                meta["lastModified"] = "2000-01-01T00:00:00Z"
            if "members-value-ref" in b and coll == "Groups":
                for m in r.get("members") or []:
                    m["value"] = f"/Users/{m.get('value')}"
            if "get-drops-name" in b and method == "GET" and item:
                r.pop("userName", None), r.pop("displayName", None)
            if "projection-drops-id" in b and ("attributes" in query or "excludedAttributes" in query):
                r.pop("id", None)
            if "projection-drops-schemas" in b and ("attributes" in query or "excludedAttributes" in query):
                r.pop("schemas", None)
        if "projection-drops-schemas" in b and listing and ("attributes" in query or "excludedAttributes" in query):
            d.pop("schemas", None)
        if "etag-no-header" in b or "etag-constant" in b:
            headers[:] = [(k, 'W/"c"' if k.lower() == "etag" else v) for k, v in headers
                          if k.lower() != "etag" or "etag-constant" in b]
        if method == "POST" and status == 201 and item is None:
            if "create-200" in b:
                status = 200
            if "create-echo-minimal" in b:
                d.pop("name", None)
            if "same-id" in b:
                d["id"] = "scimh-same-id"
            if "password-taken-id" in b and isinstance(d.get("meta"), dict):
                d["meta"]["created"] = "2001-01-01T00:00:00Z"
        if status == 409:
            if "no-conflict" in b:
                status, doc = 400, {**d, "status": "400"}
            if "conflict-no-scim-type" in b:
                d.pop("scimType", None)
        if status == 404 and item:
            for switch, m in (("get-unknown-400", "GET"), ("put-unknown-400", "PUT"), ("patch-unknown-400", "PATCH")):
                if switch in b and method == m:
                    status, doc = 400, {**d, "status": "400"}
            if "delete-unknown-204" in b and method == "DELETE":
                status, doc = 204, None
        if method == "PUT" and status == 200 and "put-204" in b:
            status, doc = 204, None
        if method == "DELETE" and status == 204 and "delete-200" in b:
            status = 200
        if method == "PATCH":
            scim_type = d.get("scimType")
            if status in (200, 204) and "patch-200-empty" in b:
                status, doc = 200, {}
            if status == 400 and scim_type == "noTarget" and "no-target-scim-type" in b:
                d["scimType"] = "invalidValue"
            if status == 400 and scim_type == "invalidPath" and "patch-bad-path-500" in b:
                status, doc = 500, error(500, "internal server error")
            if status == 400 and scim_type == "mutability" and "patch-mutability-204" in b:
                status, doc = 204, None
        if method == "POST" and status == 400 and d.get("scimType") == "invalidSyntax":
            if "invalid-json-500" in b:
                status, doc = 500, error(500, "internal server error")
            if "invalid-json-no-scim-type" in b:
                d.pop("scimType", None)
        if status == 413 and "too-large-500" in b:
            status, doc = 500, error(500, "internal server error")
        if status == 400 and d.get("scimType") == "invalidFilter":
            if "invalid-filter-200" in b:
                status, doc = 200, {"schemas": [LIST_URN], "totalResults": 0, "Resources": []}
            if "invalid-filter-no-scim-type" in b:
                d.pop("scimType", None)
        if listing and status == 200:
            status, doc = self._list(method, query, d)
        return status, doc

    def _list(self, method: str, query: dict[str, str], d: dict[str, Any]) -> tuple[int, Any]:
        b = self.b
        if "soft-delete" in b and "filter" in query:
            for u in self.deleted:
                if f'"{u.get("userName")}"' in query["filter"]:
                    d["Resources"].append(u)
                    d["totalResults"] += 1
        if "case-exact-values" in b and "filter" in query:  # eq compares userName and title case-sensitively
            for attr, value in re.findall(r'\b(userName|title) eq "([^"]*)"', query["filter"]):
                d["Resources"] = [r for r in d["Resources"] if r.get(attr) == value]
            d["totalResults"] = len(d["Resources"])
        if "search-ignores-filter" in b and method == "POST":
            d["Resources"], d["totalResults"] = [], 0
        if "total-is-page" in b:
            d["totalResults"] = len(d["Resources"])
        if "start-zero-empty" in b and query.get("startIndex") == "0":
            d["Resources"], d["itemsPerPage"] = [], 0
        start = query.get("startIndex", "1")
        if "past-end-404" in b and start.isdigit() and int(start) > d.get("totalResults", 0):
            return 404, error(404, "no such page")
        if "no-match-404" in b and "filter" in query and d.get("totalResults") == 0:
            return 404, error(404, "no resource matches")
        if "scimhEcho" in query:
            d["startIndex"] = int(query["scimhEcho"]) if query["scimhEcho"].lstrip("-").isdigit() else 1
        if "items-per-page-echoes-count" in b and query.get("count", "").isdigit():
            d["itemsPerPage"] = int(query["count"])
        if "paging-strings" in b:
            for k in ("totalResults", "startIndex", "itemsPerPage"):
                if k in d:
                    d[k] = str(d[k])
        return 200, d

__all__ = ["ADMIN", "BREAKS", "FEATURES", "TOKEN", "Broken", "make_app"]
