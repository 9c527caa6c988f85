"""The standard checks and expectations (harness/checks.py), on hand-built exchanges: no server needed."""
from __future__ import annotations

import json

import pytest

from harness.checks import check_exchange, check_expectations, infer_schema
from harness.expect import MISSING, check_value
from harness.transcript import Exchange

BASE = "https://sp.example.com/scim/v2"
SCIM = {"Content-Type": "application/scim+json; charset=utf-8"}
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def user(**over) -> dict:
    doc = {"schemas": [USER_URN], "id": "u1", "userName": "bjensen@example.com", "active": True,
           "name": {"givenName": "Barbara", "familyName": "Jensen"},
           "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
           "meta": {"resourceType": "User", "created": "2011-08-01T21:32:44.882Z",
                    "lastModified": "2011-08-01T21:32:44.882Z", "location": f"{BASE}/Users/u1",
                    "version": 'W/"e180ee84f0671b1"'}}
    doc.update(over)
    return doc


def ex(method="GET", path="/Users/u1", status=200, body=None, headers=None, *, raw=None, error=None) -> Exchange:
    text = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return Exchange(method=method, url=BASE + path, request_headers={"Authorization": "Bearer [REDACTED]"},
                    request_body=None, status=None if error else status,
                    response_headers=dict(SCIM if headers is None else headers), response_body=text, error=error)


def by_id(results, check_id):
    found = [r for r in results if r.check_id == check_id]
    assert found, f"no {check_id} in {[r.check_id for r in results]}"
    return found[0]


def statuses(results) -> dict[str, str]:
    return {r.check_id: r.status for r in results}


def etag(value='W/"e180ee84f0671b1"') -> dict:
    return {**SCIM, "ETag": value}


# --- transport and status -------------------------------------------------------------------

def test_transport_error_fails_and_stops():
    results = check_exchange(ex(error="ConnectError: [Errno 111] Connection refused"), expect_status=200)
    assert len(results) == 1
    r = results[0]
    assert (r.check_id, r.status, r.strength) == ("transport", "fail", "MUST")
    assert r.message.startswith("could not reach") and "Connection refused" in r.message


def test_status_pass_and_fail_with_detail():
    ok = by_id(check_exchange(ex(body=user(), headers=etag()), expect_status=200), "http.status")
    assert ok.status == "pass" and ok.rule == "RFC 7644 §3.4.1"
    err = {"schemas": [ERROR_URN], "status": "400", "scimType": "invalidValue", "detail": "emails is malformed"}
    bad = by_id(check_exchange(ex("POST", "/Users", 400, err), expect_status=201), "http.status")
    assert bad.status == "fail" and bad.rule == "RFC 7644 §3.3" and bad.strength == "MUST"
    assert bad.message == "POST /scim/v2/Users: expected status 201, got 400: emails is malformed"


def test_status_list_means_any_of_and_patch_204_is_fine():
    # RFC 7644 §3.5.2: PATCH may answer 204 No Content.
    results = check_exchange(ex("PATCH", "/Users/u1", 204), expect_status=[200, 204])
    assert statuses(results) == {"transport": "pass", "http.status": "pass"}
    assert by_id(results, "http.status").rule == "RFC 7644 §3.5.2"
    fail = by_id(check_exchange(ex("PATCH", "/Users/u1", 202), expect_status=[200, 204]), "http.status")
    assert fail.status == "fail" and "expected status 200 or 204, got 202" in fail.message


def test_status_rule_override():
    r = by_id(check_exchange(ex("GET", "/Users/x", 500, raw=""), expect_status=404, rule="Okta: OIN SPEC test 4"),
              "http.status")
    assert r.status == "fail" and r.rule == "Okta: OIN SPEC test 4"


def test_delete_204_without_body_passes():
    assert statuses(check_exchange(ex("DELETE", "/Groups/g1", 204, headers={}), expect_status=204)) == {
        "transport": "pass", "http.status": "pass"}


def test_query_rule_for_collection_get():
    body = {"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0}
    r = by_id(check_exchange(ex("GET", "/Users?filter=userName%20eq%20%22x%22", 200, body), expect_status=200),
              "http.status")
    assert r.rule == "RFC 7644 §3.4.2"


# --- content type and JSON body ---------------------------------------------------------------

def test_content_type_scim_json_passes_with_charset():
    r = by_id(check_exchange(ex(body=user(), headers=etag())), "http.content-type")
    assert r.status == "pass"


@pytest.mark.parametrize("headers, fragment", [
    ({"Content-Type": "application/json"}, "Content-Type is 'application/json'; expected application/scim+json"),
    ({}, "no Content-Type header"),
])
def test_content_type_failures(headers, fragment):
    r = by_id(check_exchange(ex(body=user(), headers=headers)), "http.content-type")
    assert r.status == "fail" and fragment in r.message
    assert r.strength == "SHOULD" and r.rule.startswith("RFC 7644 §3.8")


def test_application_json_is_fine_when_the_client_asked_for_it():
    exchange = ex(body=user(), headers={"Content-Type": "application/json"})
    exchange.request_headers["Accept"] = "application/json"
    assert by_id(check_exchange(exchange), "http.content-type").status == "pass"
    exchange.request_headers["Accept"] = "application/scim+json"
    assert by_id(check_exchange(exchange), "http.content-type").status == "fail"


@pytest.mark.parametrize("raw, fragment", [
    ("<html><body>Bad Gateway</body></html>", "not JSON: '<html><body>Bad Gateway</body></html>'"),
    ('{"schemas": [', "not JSON"),
    ("[1, 2]", "a JSON list, not an object"),
    ("x" * 100_000, "…"),  # huge: the message shows a truncated snippet
])
def test_malformed_bodies_fail_body_json(raw, fragment):
    results = check_exchange(ex(raw=raw), expect_status=200)
    r = by_id(results, "body.json")
    assert r.status == "fail" and fragment in r.message and r.rule == "RFC 7644 §3.8"
    assert len(r.message) < 400
    assert not [x for x in results if x.check_id.startswith("schema")]


def test_empty_body_where_one_is_expected():
    r = by_id(check_exchange(ex("PUT", "/Users/u1", 200, raw=""), expect_status=200), "body.json")
    assert r.status == "fail" and "200 with an empty body, expected a JSON body" in r.message
    err = by_id(check_exchange(ex("GET", "/Users/x", 404, raw=""), expect_status=404), "body.json")
    assert err.status == "fail" and "SCIM Error JSON body" in err.message and err.rule == "RFC 7644 §3.12"


def test_deeply_nested_json_does_not_crash():
    results = check_exchange(ex(raw="[" * 100_000 + "]" * 100_000), expect_status=200)
    assert by_id(results, "body.json").status == "fail"


# --- schemas ---------------------------------------------------------------------------------

def test_schema_inferred_from_schemas_and_path():
    assert by_id(check_exchange(ex(body=user(), headers=etag())), "schema.User").status == "pass"
    lst = {"schemas": [LIST_URN], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [user()]}
    assert by_id(check_exchange(ex("GET", "/Users", 200, lst)), "schema.ListResponse:User").status == "pass"
    assert infer_schema(ex("GET", "/Groups?startIndex=1&count=100"), {"schemas": [LIST_URN]}) == "ListResponse:Group"
    assert infer_schema(ex("GET", "/ServiceProviderConfig"), {}) == "ServiceProviderConfig"
    assert infer_schema(ex("GET", "/Users/u1", 404), {}) == "Error"


def test_schema_failure_names_rule_and_path():
    r = by_id(check_exchange(ex(body=user(active="true"), headers=etag()), resource="User"), "schema.User")
    assert r.status == "fail" and r.rule == "RFC 7643 §4.1" and r.strength == "MUST"
    assert "$.active: must be boolean, got \"true\"" in r.message


def test_typed_list_checks_each_resource():
    lst = {"schemas": [LIST_URN], "totalResults": 1, "startIndex": "1", "itemsPerPage": 1,
           "Resources": [user(emails=[{"value": "x", "primary": "true"}])]}
    r = by_id(check_exchange(ex("GET", "/Users", 200, lst), resource="ListResponse"), "schema.ListResponse:User")
    assert r.status == "fail"
    assert "$.startIndex: must be integer" in r.message and "$.Resources[0].emails[0].primary" in r.message


def test_empty_list_without_resources_passes():
    # RFC 7644 §3.4.2: Resources is required only when totalResults is non-zero.
    body = {"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0}
    assert by_id(check_exchange(ex("GET", "/Users?filter=x", 200, body)), "schema.ListResponse:User").status == "pass"


def test_projection_relaxes_required_attributes_but_not_id():
    # RFC 7644 §3.4.2.5: attributes= returns only what was asked (id is returned always).
    body = {"schemas": [USER_URN], "id": "u1"}
    assert by_id(check_exchange(ex("GET", "/Users/u1?attributes=id", 200, body)), "schema.User").status == "pass"
    assert by_id(check_exchange(ex("GET", "/Users/u1", 200, body)), "schema.User").status == "fail"
    no_id = by_id(check_exchange(ex("GET", "/Users/u1?attributes=userName", 200, {"schemas": [USER_URN]})),
                  "schema.User")
    assert no_id.status == "fail" and "'id' is a required property" in no_id.message


def test_explicit_resource_ignored_for_error_status():
    err = {"schemas": [ERROR_URN], "status": "404", "detail": "User x not found"}
    results = check_exchange(ex("GET", "/Users/x", 404, err), expect_status=404, resource="User")
    assert by_id(results, "schema.Error").status == "pass"
    assert not [r for r in results if r.check_id == "schema.User"]


def test_unknown_schema_body_is_skipped():
    r = by_id(check_exchange(ex("GET", "/Widgets/1", 200, {"a": 1})), "schema")
    assert r.status == "skip" and "cannot tell" in r.message


# --- create: Location and body -------------------------------------------------------------------

def created(body, headers) -> list:
    return check_exchange(ex("POST", "/Users", 201, body, headers), expect_status=201, resource="User")


def test_location_equal_to_meta_location_passes():
    results = created(user(), {**etag(), "Location": f"{BASE}/Users/u1"})
    assert by_id(results, "header.location").status == "pass"
    assert by_id(results, "body.create").status == "pass"


@pytest.mark.parametrize("headers, body, fragment", [
    (etag(), user(), "201 Created without a Location header"),
    ({**etag(), "Location": f"{BASE}/Users/other"}, user(), f"differs from meta.location '{BASE}/Users/u1'"),
    ({**etag(), "Location": f"{BASE}/Users/u1"}, user(meta={"version": 'W/"e180ee84f0671b1"'}), "no meta.location"),
])
def test_location_failures(headers, body, fragment):
    r = by_id(created(body, headers), "header.location")
    assert r.status == "fail" and fragment in r.message and r.rule == "RFC 7644 §3.3" and r.strength == "MUST"


def test_relative_location_resolving_to_meta_location_passes():
    assert by_id(created(user(), {**etag(), "Location": "/scim/v2/Users/u1"}), "header.location").status == "pass"


def test_201_with_empty_body_fails_for_okta():
    r = by_id(check_exchange(ex("POST", "/Users", 201, raw=""), expect_status=201), "body.json")
    assert r.status == "fail" and "201 Created with an empty body" in r.message and "Okta" in r.rule


def test_201_without_id_fails():
    body = user()
    del body["id"]
    r = by_id(created(body, {**etag(), "Location": f"{BASE}/Users/u1"}), "body.create")
    assert r.status == "fail" and "no id" in r.message


# --- ETag ------------------------------------------------------------------------------------------

def test_etag_consistent_pass_skip_and_fail():
    assert by_id(check_exchange(ex(body=user(), headers=etag())), "etag.consistent").status == "pass"
    no_version = user(meta={"resourceType": "User"})
    assert by_id(check_exchange(ex(body=no_version)), "etag.consistent").status == "skip"
    r = by_id(check_exchange(ex(body=user(), headers=etag('W/"other"'))), "etag.consistent")
    assert r.status == "fail" and r.strength == "MUST" and "RFC 7643 §3.1" in r.rule
    assert "ETag header 'W/\"other\"' differs from meta.version 'W/\"e180ee84f0671b1\"'" in r.message


def test_etag_only_one_side_is_a_should():
    r = by_id(check_exchange(ex(body=user())), "etag.consistent")
    assert r.status == "fail" and r.strength == "SHOULD" and "without the matching ETag header" in r.message


# --- Error bodies ------------------------------------------------------------------------------------

def error(http_status: int, **body) -> Exchange:
    return ex("GET", "/Users/nope", http_status, {"schemas": [ERROR_URN], **body})


def test_good_error_passes_everything():
    results = check_exchange(error(409, status="409", scimType="uniqueness", detail="userName taken"),
                             expect_status=409)
    assert {r.status for r in results} == {"pass"}
    assert {"error.status-string", "error.scim-type", "error.detail", "schema.Error"} <= set(statuses(results))


def test_error_status_as_number_fails():
    r = by_id(check_exchange(error(404, status=404, detail="x")), "error.status-string")
    assert r.status == "fail" and r.rule == "RFC 7644 §3.12"
    assert r.message == 'the Error status must be the JSON string "404", got 404'


def test_error_status_mismatch_and_missing():
    r = by_id(check_exchange(error(404, status="400", detail="x")), "error.status-string")
    assert r.status == "fail" and "differs from the HTTP status 404" in r.message
    r = by_id(check_exchange(error(404, detail="x")), "error.status-string")
    assert r.status == "fail" and "no status" in r.message


def test_scim_type_absent_is_fine_and_unknown_fails():
    results = check_exchange(error(404, status="404", detail="not found"))
    assert "error.scim-type" not in statuses(results)
    r = by_id(check_exchange(error(400, status="400", scimType="badRequest", detail="x")), "error.scim-type")
    assert r.status == "fail" and "\"badRequest\" is not one of" in r.message


def test_error_without_detail_is_a_should_for_okta():
    r = by_id(check_exchange(error(401, status="401")), "error.detail")
    assert r.status == "fail" and r.strength == "SHOULD" and r.rule.startswith("Okta")


def test_error_schema_requires_error_urn():
    r = by_id(check_exchange(ex("GET", "/Users/x", 404, {"schemas": [USER_URN], "status": "404", "detail": "x"})),
              "schema.Error")
    assert r.status == "fail" and "must contain 'urn:ietf:params:scim:api:messages:2.0:Error'" in r.message


# --- password --------------------------------------------------------------------------------------

def test_password_is_never_returned():
    r = by_id(check_exchange(ex(body=user(password="s3cret"), headers=etag())), "user.password-never-returned")
    assert r.status == "fail" and r.rule == "RFC 7643 §4.1.1, §7"
    assert by_id(check_exchange(ex(body=user(), headers=etag())), "user.password-never-returned").status == "pass"


def test_check_exchange_never_raises_on_odd_exchanges():
    odd = [ex(body=user(meta="nope")), ex("POST", "/Users", 201, {"id": 5, "meta": [1]}),
           ex(raw="null"), ex(raw="\x00\xff"), ex("GET", "/", 200, {"schemas": "x"})]
    for exchange in odd:
        results = check_exchange(exchange, expect_status=200)
        assert results and all(r.status in ("pass", "fail", "skip", "error") for r in results)


# --- expectations --------------------------------------------------------------------------------------

LIST = {"schemas": [LIST_URN], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [user()]}


def test_expectations_pass():
    results = check_expectations(ex("GET", "/Users", 200, LIST), {
        "json": {"totalResults": 1, "Resources[0].active": True,
                 "Resources[0].emails[type=work].value": {"icase": "BJENSEN@example.com"},
                 "Resources[0].nickName": {"exists": False}},
        "headers": {"Content-Type": {"contains": "application/scim+json"}},
        "schema": "ListResponse:User"})
    assert [r.status for r in results] == ["pass"] * 6
    assert results[0].check_id == "expect.json:totalResults"
    assert results[4].check_id == "expect.header:Content-Type"
    assert results[5].check_id == "expect.schema:ListResponse:User"


def test_expectation_failure_messages():
    results = check_expectations(ex("GET", "/Users", 200, LIST), {
        "json": {"Resources[0].active": False, "Resources[0].title": "Boss", "totalResults": {"gt": 5}},
        "headers": {"ETag": {"exists": True}}})
    msgs = {r.check_id: r.message for r in results if r.status == "fail"}
    assert msgs["expect.json:Resources[0].active"] == "Resources[0].active: expected equal to false, got true"
    assert msgs["expect.json:Resources[0].title"] == (
        "Resources[0].title: expected equal to \"Boss\", got nothing (no 'title' in Resources[0])")
    assert msgs["expect.json:totalResults"] == "totalResults: expected > 5, got 1"
    assert msgs["expect.header:ETag"] == "header ETag: expected present, got nothing (no such response header)"
    assert all(r.rule == "Scenario expectation" and r.strength == "MUST" for r in results)


def test_expectation_rule_and_strength_override():
    r = check_expectations(ex(body=user()), {"json": {"active": True}}, rule="Okta: CRUD test", strength="SHOULD")[0]
    assert (r.rule, r.strength, r.status) == ("Okta: CRUD test", "SHOULD", "pass")


def test_expectations_on_non_json_and_transport_error():
    r = check_expectations(ex(raw="<html>"), {"json": {"id": "u1"}})[0]
    assert r.status == "fail" and "the body is not JSON" in r.message
    r = check_expectations(ex(error="ReadTimeout"), {"json": {"id": "u1"}})[0]
    assert r.status == "fail" and "no response (ReadTimeout)" in r.message


def test_bad_expectations_are_errors_not_exceptions():
    results = check_expectations(ex(body=user()), {"json": {"id": {"matches": "("}, "a[": 1},
                                                   "schema": "Nope", "bogus": 1})
    by = {r.check_id: r for r in results}
    assert by["expect"].status == "error" and "bogus" in by["expect"].message
    assert by["expect.json:id"].status == "error" and "bad regular expression" in by["expect.json:id"].message
    assert by["expect.json:a["].status == "error" and "bad path" in by["expect.json:a["].message
    assert by["expect.schema:Nope"].status == "error" and "unknown schema" in by["expect.schema:Nope"].message
    assert check_expectations(ex(body=user()), "nope")[0].status == "error"  # type: ignore[arg-type]


def test_inline_schema_expectation():
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "pattern": "^u"}}}
    assert check_expectations(ex(body=user()), {"schema": schema})[0].status == "pass"
    r = check_expectations(ex(body=user(id="x1")), {"schema": schema})[0]
    assert r.status == "fail" and r.check_id == "expect.schema:inline schema" and "$.id" in r.message
    bad = check_expectations(ex(body=user()), {"schema": {"type": 12}})[0]
    assert bad.status == "error" and "inline schema is invalid" in bad.message


def test_check_value_directly():
    r = check_value("plan.paid", ["a@x.com"], {"contains": "b@x.com"}, rule="Clockwise: synced mode",
                    strength="MUST", label="paid")
    assert r.status == "fail" and r.message == 'paid: expected containing "b@x.com", got ["a@x.com"]'
    assert r.rule == "Clockwise: synced mode" and r.exchange is None
    assert check_value("x", MISSING, {"exists": False}, rule="r", strength="MAY", label="x").status == "pass"


def test_an_error_defect_with_a_check_of_its_own_fails_once_not_twice_with_the_schema():
    # django-scim2 answers "status": 501: error.status-string fails; the Error schema leaves that member to it.
    results = check_exchange(error(501, status=501, detail="x"))
    assert [r.check_id for r in results if r.status == "fail"] == ["error.status-string"]
    assert by_id(results, "schema.Error").status == "pass"
    results = check_exchange(error(400, status="400", scimType="badRequest", detail="x"))
    assert [r.check_id for r in results if r.status == "fail"] == ["error.scim-type"]
    results = check_exchange(error(404, detail="x"))  # no status: error.status-string says so
    assert [r.check_id for r in results if r.status == "fail"] == ["error.status-string"]
    # What no other check judges still fails the schema: a detail that is not a string.
    r = by_id(check_exchange(error(404, status="404", detail=["x"])), "schema.Error")
    assert r.status == "fail" and "detail" in r.message
