"""The checks applied to every SCIM exchange: transport, status, headers, JSON Schema, expectations.

Every public function returns CheckResults and never raises on a malformed response: an HTML page,
invalid JSON, an empty or huge body all become failed checks with a message a person understands.
The JSON Schemas themselves are loaded and applied by `harness.schema_validation`.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from jsonschema.exceptions import SchemaError

from harness.expect import MISSING, PathMissing, PathSyntaxError, check_value, resolve_path, show
from harness.results import CheckResult, Status, Strength
from harness.rules import rule as get_rule
from harness.schema_validation import SNIPPET, describe_error, schema_errors, validate
from harness.transcript import MAX_RESPONSE_BYTES, Exchange

SCIM_MEDIA_TYPE = "application/scim+json"
# RFC 7644 §3.12 Table 9: the scimType keywords.
SCIM_TYPES = frozenset({"invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath",
                        "noTarget", "invalidValue", "invalidVers", "sensitive"})
URN_TO_SCHEMA = {
    "urn:ietf:params:scim:schemas:core:2.0:user": "User",
    "urn:ietf:params:scim:schemas:core:2.0:group": "Group",
    "urn:ietf:params:scim:api:messages:2.0:listresponse": "ListResponse",
    "urn:ietf:params:scim:api:messages:2.0:error": "Error",
    "urn:ietf:params:scim:api:messages:2.0:patchop": "PatchOp",
    "urn:ietf:params:scim:schemas:core:2.0:serviceproviderconfig": "ServiceProviderConfig",
    "urn:ietf:params:scim:schemas:core:2.0:resourcetype": "ResourceType",
    "urn:ietf:params:scim:schemas:core:2.0:schema": "Schema",
}
ENDPOINT_TO_SCHEMA = {"users": "User", "groups": "Group", "serviceproviderconfig": "ServiceProviderConfig",
                      "resourcetypes": "ResourceType", "schemas": "Schema"}
MAX_ERRORS_SHOWN = 5


# --- results -----------------------------------------------------------------------------

def _result(rule_id: str, status: Status, message: str, exchange: Exchange | None, *,
            check_id: str | None = None, source: str | None = None, strength: Strength | None = None) -> CheckResult:
    r = get_rule(rule_id)
    return CheckResult(check_id or rule_id, status, source or r.source, strength or r.strength, message, exchange)


def _snippet(text: str | None) -> str:
    if not text:
        return "an empty body"
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= SNIPPET else flat[:SNIPPET] + "…")


def _parse(exchange: Exchange) -> tuple[bool, Any]:
    """(parsed, document) for the response body."""
    body = exchange.response_body
    if body is None or not body.strip():
        return False, None
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def _detail(exchange: Exchange) -> str:
    parsed, doc = _parse(exchange)
    if parsed and isinstance(doc, dict) and isinstance(doc.get("detail"), str) and doc["detail"]:
        return doc["detail"] if len(doc["detail"]) <= SNIPPET else doc["detail"][:SNIPPET] + "…"
    return _snippet(exchange.response_body)


def _segments(exchange: Exchange) -> list[str]:
    path = exchange.path
    marker = path.lower().find("/scim/v2")
    if marker != -1:
        path = path[marker + len("/scim/v2"):]
    return [s for s in path.split("/") if s]


def _status_rule(exchange: Exchange, allowed: list[int]) -> str:
    first, method = allowed[0], exchange.method.upper()
    if first >= 400:
        return "http.status.error"
    if first == 201 and method == "POST":
        return "http.status.create"
    if method == "DELETE":
        return "http.status.delete"
    if method == "PATCH":
        return "http.status.patch"
    if method == "PUT":
        return "http.status.put"
    if method == "GET":
        segments = _segments(exchange)
        if len(segments) == 1 and segments[0].lower() in ("users", "groups"):
            return "http.status.query"
        return "http.status.get"
    return "http.status"


def infer_schema(exchange: Exchange, document: Any) -> str | None:
    """Which schema a response body should follow, from its status, `schemas` and the request path."""
    if exchange.status is not None and exchange.status >= 400:
        return "Error"
    name = None
    if isinstance(document, dict) and isinstance(document.get("schemas"), list):
        for urn in document["schemas"]:
            if isinstance(urn, str) and urn.lower() in URN_TO_SCHEMA:
                name = URN_TO_SCHEMA[urn.lower()]
                break
    segments = _segments(exchange)
    by_path = ENDPOINT_TO_SCHEMA.get(segments[0].lower()) if segments else None
    if name is None and by_path is not None:
        is_list = len(segments) == 1 and by_path not in ("ServiceProviderConfig",)
        is_list = is_list or (segments[-1].lower() == ".search")
        name = "ListResponse" if is_list else by_path
    if name == "ListResponse" and by_path in ("User", "Group", "ResourceType", "Schema"):
        name = f"ListResponse:{by_path}"
    return name


def _projection(exchange: Exchange) -> bool:
    query = exchange.query.lower()
    return "attributes=" in query  # also matches excludedattributes=


# --- the standard checks -----------------------------------------------------------------

def check_exchange(exchange: Exchange, *, expect_status: int | list[int] | None = None,
                   resource: str | None = None, rule: str | None = None) -> list[CheckResult]:
    """The standard checks on a SCIM response: transport, the expected status, redirects, the body and its
    media type, the JSON Schema (`resource`, else inferred), and per kind the create, ETag, Error and password
    checks. `rule` overrides the status check's rule (the source of what the response broke)."""
    try:
        return _check_exchange(exchange, expect_status, resource, rule)
    except Exception as exc:  # a bug here must not hide the run's other results
        return [_result("checks.internal", "error", f"the harness could not check this response: {type(exc).__name__}: {exc}",
                        exchange)]


def _check_exchange(exchange: Exchange, expect_status: int | list[int] | None, resource: str | None,
                    rule: str | None) -> list[CheckResult]:
    where = f"{exchange.method} {exchange.path}"
    out = _transport_checks(exchange, where)
    if exchange.error is not None or exchange.status is None or getattr(exchange, "truncated", False):
        return out  # nothing (more) to judge
    status = exchange.status
    if expect_status is not None:
        out.append(_status_check(exchange, status, expect_status, rule, where))
    if 300 <= status < 400 and status != 304:
        # The harness, like an IdP's provisioning client, does not follow redirects: SCIM must answer at its URL.
        location = exchange.header("location") or "(no Location header)"
        out.append(_result("transport", "fail", f"{where} redirected ({status}) to {location}; the harness does not "
                           "follow redirects: configure the URL the server really answers at", exchange,
                           check_id="http.redirect"))
        return out
    body = exchange.response_body
    if body is None or not body.strip():
        out.extend(_empty_body_checks(exchange, status, where))
        return out
    out.append(_media_type_check(exchange, where))
    parsed, doc = _parse(exchange)
    if not parsed:
        out.append(_result("body.json", "fail", f"{where}: the response body is not JSON: {_snippet(body)}", exchange))
        return out
    if not isinstance(doc, dict):
        out.append(_result("body.json", "fail",
                           f"{where}: the response body is a JSON {type(doc).__name__}, not an object: {_snippet(body)}",
                           exchange))
        return out
    out.append(_result("body.json", "pass", f"{where}: the body is a JSON object", exchange))
    out.extend(_document_checks(exchange, doc, status, resource, where))
    return out


def _transport_checks(exchange: Exchange, where: str) -> list[CheckResult]:
    """Did an answer come, whole and within the size the harness reads?"""
    if exchange.error is not None and exchange.status is not None:
        # The status line came, the body did not (a trickle slower than the timeout, a bad encoding).
        return [_result("transport", "fail", f"{where} answered {exchange.status}, but {exchange.error}", exchange)]
    if exchange.error is not None or exchange.status is None:
        return [_result("transport", "fail",
                        f"could not reach the target for {where}: {exchange.error or 'no response'}", exchange)]
    out = [_result("transport", "pass", f"{where} answered {exchange.status}", exchange)]
    if getattr(exchange, "truncated", False):
        # Okta (and the harness) will not read an unbounded body; nothing after the cap is judged.
        out.append(_result("body.json", "fail", f"{where}: the response body is larger than "
                           f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MiB; the harness read only that much and did "
                           "not judge it", exchange))
    return out


def _status_check(exchange: Exchange, status: int, expect_status: int | list[int], rule: str | None,
                  where: str) -> CheckResult:
    allowed = [expect_status] if isinstance(expect_status, int) else list(expect_status)
    rid = _status_rule(exchange, allowed)
    if status in allowed:
        return _result(rid, "pass", f"{where}: status {status} as expected", exchange, check_id="http.status", source=rule)
    wanted = " or ".join(str(s) for s in allowed)
    return _result(rid, "fail", f"{where}: expected status {wanted}, got {status}: {_detail(exchange)}",
                   exchange, check_id="http.status", source=rule)


def _empty_body_checks(exchange: Exchange, status: int, where: str) -> list[CheckResult]:
    method = exchange.method.upper()
    # RFC 7644 §3.5.2 / §3.6: 204 No Content carries no body; a successful DELETE needs none either.
    body_expected = status != 204 and method != "HEAD" and not (method == "DELETE" and status < 300)
    if status == 201:
        return [_result("body.create", "fail", f"{where}: 201 Created with an empty body; "
                        "the created resource (with its id) must be returned", exchange, check_id="body.json")]
    if body_expected:
        what = "a SCIM Error JSON body" if status >= 400 else "a JSON body"
        rid = "schema.Error" if status >= 400 else "body.json"
        return [_result(rid, "fail", f"{where}: {status} with an empty body, expected {what}", exchange,
                        check_id="body.json")]
    return []


def _media_type_check(exchange: Exchange, where: str) -> CheckResult:
    # RFC 7644 §3.8 / §8.1: SCIM responses use application/scim+json.
    content_type = exchange.header("content-type")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    accept = (exchange.request_header("accept") or "").lower()
    if media == SCIM_MEDIA_TYPE:
        return _result("http.content-type", "pass", f"Content-Type is {content_type}", exchange)
    if media == "application/json" and "application/json" in accept and SCIM_MEDIA_TYPE not in accept:
        # RFC 7644 §3.8: the client asked for application/json only, which servers SHOULD support.
        return _result("http.content-type", "pass", f"Content-Type is {content_type}, as the client's "
                       "Accept asked", exchange)
    if content_type is None:
        return _result("http.content-type", "fail", f"{where}: no Content-Type header; expected {SCIM_MEDIA_TYPE}",
                       exchange)
    return _result("http.content-type", "fail", f"{where}: Content-Type is {content_type!r}; expected {SCIM_MEDIA_TYPE}",
                   exchange)


def _document_checks(exchange: Exchange, doc: dict[str, Any], status: int, resource: str | None,
                     where: str) -> list[CheckResult]:
    """A JSON object body: its schema, and what each kind of answer must carry."""
    out: list[CheckResult] = []
    # Which schema: an explicit resource for success responses, otherwise inferred. Errors are always Error.
    inferred = infer_schema(exchange, doc)
    name = resource if (resource and status < 400) else inferred
    if name == "ListResponse" and inferred and inferred.startswith("ListResponse:"):
        name = inferred
    if name is None:
        out.append(_result("schema", "skip", f"{where}: cannot tell which SCIM schema this body follows", exchange))
    else:
        out.append(_schema_check(exchange, doc, name, where))
    if status == 201:
        out.extend(_create_checks(exchange, doc, where))
    if status < 300 and name in ("User", "Group", "ResourceType", "Schema", "ServiceProviderConfig"):
        out.extend(_etag_check(exchange, doc, where))
    if status >= 400:
        out.extend(_error_checks(exchange, doc, status))
    if name in ("User", "ListResponse:User"):
        out.extend(_password_check(exchange, doc, name, where))
    return out


_JUDGED_ERROR_MEMBERS = frozenset({"status", "scimType"})  # an Error's members with a check of their own


def _schema_check(exchange: Exchange, doc: Any, name: str, where: str) -> CheckResult:
    rid = f"schema.{name}"
    try:
        errors = schema_errors(doc, name, relax_required=_projection(exchange))
    except KeyError as exc:
        return _result(rid, "error", str(exc).strip("'\""), exchange)
    if name == "Error":
        # An Error's status and scimType are judged by error.status-string and error.scim-type (_error_checks):
        # here too, one defect (RFC 7644 §3.12: a numeric status) would be two failed checks, two root causes.
        errors = [e for e in errors if not (e.absolute_path and e.absolute_path[0] in _JUDGED_ERROR_MEMBERS)
                  and not (e.validator == "required" and "'status'" in e.message)]
    r = get_rule(rid)
    if not errors:
        return _result(rid, "pass", f"{where}: the body is a valid {name} ({r.source})", exchange)
    shown = "; ".join(describe_error(e) for e in errors[:MAX_ERRORS_SHOWN])
    more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
    return _result(rid, "fail", f"{where}: the body is not a valid {name} ({r.source}): {shown}{more}", exchange)


def _create_checks(exchange: Exchange, doc: dict[str, Any], where: str) -> list[CheckResult]:
    out = []
    if isinstance(doc.get("id"), str) and doc["id"]:
        out.append(_result("body.create", "pass", f"{where}: created with id {doc['id']}", exchange))
    else:
        out.append(_result("body.create", "fail", f"{where}: the 201 body has no id; Okta needs it for later calls",
                           exchange))
    # RFC 7644 §3.3: the URI of the created resource SHALL be in the Location header and in meta.location.
    location = exchange.header("location")
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    meta_location = meta.get("location")
    if not location:
        out.append(_result("header.location", "fail", f"{where}: 201 Created without a Location header", exchange))
    elif not meta_location:
        out.append(_result("header.location", "fail",
                           f"{where}: Location is {location!r} but the body has no meta.location", exchange))
    elif location != meta_location and urljoin(exchange.url, location) != meta_location:
        out.append(_result("header.location", "fail",
                           f"{where}: Location header {location!r} differs from meta.location {meta_location!r}",
                           exchange))
    else:
        out.append(_result("header.location", "pass", f"{where}: Location equals meta.location", exchange))
    return out


def _etag_check(exchange: Exchange, doc: dict[str, Any], where: str) -> list[CheckResult]:
    # RFC 7643 §3.1: meta.version must equal the ETag header; RFC 7644 §3.14: ETags are optional.
    etag = exchange.header("etag")
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    version = meta.get("version")
    if etag is None and version is None:
        return [_result("etag.consistent", "skip",
                        f"{where}: no ETag and no meta.version (versioning is optional, RFC 7644 §3.14)", exchange)]
    if etag is None or version is None:
        missing = "ETag header" if etag is None else "meta.version"
        present = f"meta.version {version!r}" if etag is None else f"ETag {etag!r}"
        return [_result("etag.both", "fail", f"{where}: {present} without the matching {missing}", exchange,
                        check_id="etag.consistent")]
    if etag != version:
        return [_result("etag.consistent", "fail",
                        f"{where}: ETag header {etag!r} differs from meta.version {version!r}", exchange)]
    return [_result("etag.consistent", "pass", f"{where}: ETag equals meta.version ({etag})", exchange)]


def _error_checks(exchange: Exchange, doc: dict[str, Any], status: int) -> list[CheckResult]:
    out = []
    # RFC 7644 §3.12: "status" is the HTTP status code expressed as a JSON string.
    value = doc.get("status", MISSING)
    if value is MISSING:
        out.append(_result("error.status-string", "fail", f"the Error body has no status; expected \"{status}\"",
                           exchange))
    elif not isinstance(value, str):
        out.append(_result("error.status-string", "fail",
                           f"the Error status must be the JSON string \"{status}\", got {show(value)}", exchange))
    elif value.strip() != str(status):
        out.append(_result("error.status-string", "fail",
                           f"the Error status {value!r} differs from the HTTP status {status}", exchange))
    else:
        out.append(_result("error.status-string", "pass", f"the Error status is \"{status}\"", exchange))
    # RFC 7644 §3.12: scimType is OPTIONAL; when present it is a Table 9 keyword.
    scim_type = doc.get("scimType")
    if scim_type is not None:
        if scim_type in SCIM_TYPES:
            out.append(_result("error.scim-type", "pass", f"scimType {scim_type!r} is a Table 9 keyword", exchange))
        else:
            out.append(_result("error.scim-type", "fail", f"scimType {show(scim_type)} is not one of "
                               f"{', '.join(sorted(SCIM_TYPES))}", exchange))
    detail = doc.get("detail")
    if isinstance(detail, str) and detail.strip():
        out.append(_result("error.detail", "pass", f"the Error explains itself: {_detail(exchange)}", exchange))
    else:
        out.append(_result("error.detail", "fail",
                           "the Error has no detail; Okta shows the detail to the admin as the reason", exchange))
    return out


def _password_check(exchange: Exchange, doc: dict[str, Any], name: str, where: str) -> list[CheckResult]:
    users = doc.get("Resources") if name == "ListResponse:User" else [doc]
    if not isinstance(users, list):
        return []
    leaking = [u.get("id", "?") for u in users if isinstance(u, dict) and u.get("password") not in (None, MISSING)]
    if leaking:
        return [_result("user.password-never-returned", "fail",
                        f"{where}: the response returns a password (user {leaking[0]}); it is returned: never",
                        exchange)]
    return [_result("user.password-never-returned", "pass", f"{where}: no password returned", exchange)]


# --- a step's own expectations --------------------------------------------------------------

def check_expectations(exchange: Exchange, expect: dict[str, Any], *, rule: str | None = None,
                       strength: Strength = "MUST") -> list[CheckResult]:
    """A step's expectations: {"json": {PATH: MATCHER}, "headers": {NAME: MATCHER}, "schema": NAME_OR_INLINE}.

    "status" is ignored here (check_exchange's expect_status handles it).
    """
    source = rule or get_rule("expect").source
    if not isinstance(expect, dict):
        return [CheckResult("expect", "error", source, strength,
                            f"expectations must be a mapping, got {show(expect)}", exchange)]
    out: list[CheckResult] = []
    unknown = sorted(k for k in expect if k not in ("json", "headers", "schema", "status"))
    if unknown:
        out.append(CheckResult("expect", "error", source, strength,
                               f"unknown expectation key(s) {unknown}; use json, headers, schema", exchange))
    no_response = exchange.error is not None or exchange.status is None
    parsed, doc = _parse(exchange)

    json_expect = expect.get("json") or {}
    if not isinstance(json_expect, dict):
        out.append(CheckResult("expect.json", "error", source, strength, "'json' must map paths to matchers", exchange))
        json_expect = {}
    for path, matcher in json_expect.items():
        cid = f"expect.json:{path}"
        if no_response or not parsed:
            why = f"no response ({exchange.error})" if no_response else f"the body is not JSON: {_snippet(exchange.response_body)}"
            out.append(CheckResult(cid, "fail", source, strength, f"{path}: {why}", exchange))
            continue
        missing = None
        try:
            actual = resolve_path(doc, str(path))
        except PathMissing as exc:
            actual, missing = MISSING, str(exc)
        except PathSyntaxError as exc:
            out.append(CheckResult(cid, "error", source, strength, f"bad path: {exc}", exchange))
            continue
        out.append(check_value(cid, actual, matcher, rule=source, strength=strength, exchange=exchange,
                               label=str(path), missing=missing))

    headers = expect.get("headers") or {}
    if not isinstance(headers, dict):
        out.append(CheckResult("expect.headers", "error", source, strength, "'headers' must map names to matchers",
                               exchange))
        headers = {}
    for name, matcher in headers.items():
        value = exchange.header(str(name))
        out.append(check_value(f"expect.header:{name}", MISSING if value is None else value, matcher, rule=source,
                               strength=strength, exchange=exchange, label=f"header {name}",
                               missing="no such response header"))

    schema = expect.get("schema")
    if schema is not None:
        out.append(_expect_schema(exchange, schema, parsed, doc, source, strength))
    return out


def _expect_schema(exchange: Exchange, schema: Any, parsed: bool, doc: Any, source: str,
                   strength: Strength) -> CheckResult:
    label = schema if isinstance(schema, str) else "inline schema"
    cid = f"expect.schema:{label}"
    if not isinstance(schema, (str, dict)):
        return CheckResult(cid, "error", source, strength, f"schema must be a name or an object, got {show(schema)}",
                           exchange)
    if not parsed:
        return CheckResult(cid, "fail", source, strength,
                           f"expected a {label} body, got {_snippet(exchange.response_body)}", exchange)
    try:
        errors = validate(doc, schema)
    except KeyError as exc:
        return CheckResult(cid, "error", source, strength, str(exc).strip("'\""), exchange)
    except SchemaError as exc:
        return CheckResult(cid, "error", source, strength, f"the inline schema is invalid: {exc.message}", exchange)
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        return CheckResult(cid, "fail", source, strength, f"the body is not a valid {label}: {shown}", exchange)
    return CheckResult(cid, "pass", source, strength, f"the body is a valid {label}", exchange)
