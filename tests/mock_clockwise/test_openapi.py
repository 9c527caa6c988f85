"""/_mock/openapi.json describes exactly the routes the app serves, with the limits it enforces,
and its resource schemas accept what the mock really returns."""
from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from mock_clockwise.filters import MAX_DEPTH, MAX_FILTER_LENGTH
from mock_clockwise.patch import MAX_OPERATIONS
from mock_clockwise.wire import MAX_JSON_DEPTH

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
# Routes that exist only to answer 501 (RFC 7644 §3.7 Bulk, §3.11 /Me, root /.search); documented in prose.
UNDOCUMENTED = {"/scim/v2/Bulk", "/scim/v2/Me", "/scim/v2/.search",
                # The live view, a page for a person (mock_clockwise/live_view.py, the README), not the API.
                "/_mock/ui", "/_mock/ui/login", "/_mock/ui/links", "/_mock/ui/state", "/_mock/ui/state.json"}


@pytest.fixture
def doc(admin_client: httpx.Client) -> dict[str, Any]:
    r = admin_client.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def _flask_routes(app: Any) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z]+)>", lambda m: "{id}" if m.group(1) == "rid" else "{%s}" % m.group(1),
                      rule.rule)
        routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_every_served_route_and_method_is_documented_and_nothing_else(doc: dict[str, Any], mock_app: Any) -> None:
    served = {p: m for p, m in _flask_routes(mock_app).items() if p not in UNDOCUMENTED}
    documented = {p: {m for m in item if m != "parameters"} for p, item in doc["paths"].items()}
    assert documented == served


def test_document_is_openapi_3_with_resolvable_refs_and_security(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": "http://testserver"}]
    text = repr(doc)
    for ref in set(re.findall(r"'\$ref': '#/components/([a-zA-Z]+)/([A-Za-z]+)'", text)):
        assert ref[1] in doc["components"][ref[0]], ref
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            if path == "/oauth2/token":  # RFC 6749 §2.3.1: the client authenticates in the form or by Basic
                assert op["security"] == [] and "401" in op["responses"]
                continue
            scheme = "adminToken" if path.startswith("/_mock") else "scimToken"
            assert op["security"] == [{scheme: []}], (path, method)
            assert "401" in op["responses"], (path, method)
    for name in ("User", "Group", "PatchOp", "Error", "ListResponse", "SearchRequest"):
        Draft202012Validator.check_schema(doc["components"]["schemas"][name])


def test_advertised_limits_are_the_enforced_ones(doc: dict[str, Any], scim_client: httpx.Client) -> None:
    limits = doc["info"]["x-limits"]
    spc = scim_client.get("/ServiceProviderConfig").json()
    assert limits == {"maxBodyBytes": 1024 * 1024, "maxResults": spc["filter"]["maxResults"],
                      "filterLength": MAX_FILTER_LENGTH, "filterDepth": MAX_DEPTH, "patchOperations": MAX_OPERATIONS,
                      "jsonDepth": MAX_JSON_DEPTH}
    params = doc["components"]["parameters"]
    assert params["count"]["schema"]["maximum"] == spc["filter"]["maxResults"]
    assert params["filter"]["schema"]["maxLength"] == MAX_FILTER_LENGTH
    assert doc["components"]["schemas"]["PatchOp"]["properties"]["Operations"]["maxItems"] == MAX_OPERATIONS


def test_resource_schemas_accept_what_the_mock_returns(doc: dict[str, Any], scim_client: httpx.Client) -> None:
    schemas = doc["components"]["schemas"]
    user = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "oa@x.com", "active": True,
                                            "name": {"givenName": "O", "familyName": "A"},
                                            "emails": [{"value": "oa@x.com", "primary": True, "type": "work"}]}).json()
    assert not list(Draft202012Validator(schemas["User"]).iter_errors(user))
    group = scim_client.post("/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                              "displayName": "G", "members": [{"value": user["id"]}]}).json()
    assert not list(Draft202012Validator(schemas["Group"]).iter_errors(group))
    err = scim_client.get("/Users/nope").json()
    assert not list(Draft202012Validator(schemas["Error"]).iter_errors(err))
    # ... and reject what it should: a wrong type where schema.py says string.
    assert list(Draft202012Validator(schemas["User"]).iter_errors({**user, "userName": 5}))


def test_the_document_needs_the_admin_token(make_client: Any, mock_tokens: dict[str, str]) -> None:
    for token in (None, "wrong", mock_tokens["scim"]):
        r = make_client("/_mock", token).get("/openapi.json")
        assert r.status_code == 401 and "paths" not in r.text
