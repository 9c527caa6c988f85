"""Request limits (issue 7 §1): each is a clear SCIM Error, nothing is stored, and the advertised
numbers (ServiceProviderConfig, /_mock/openapi.json) are the enforced ones."""
from __future__ import annotations

from typing import Any

import httpx

from mock_clockwise.wire import MAX_JSON_DEPTH
from mock_clockwise.filters import MAX_DEPTH, MAX_FILTER_LENGTH
from mock_clockwise.patch import MAX_OPERATIONS

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
HDR = {"Content-Type": "application/scim+json"}


def _error(r: httpx.Response, status: int, scim_type: str | None, words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == str(status) and body.get("scimType") == scim_type and words in body["detail"]


def _count(client: httpx.Client) -> int:
    return int(client.get("/Users").json()["totalResults"])


def test_body_size_is_413_with_the_limit(scim_client: httpx.Client) -> None:
    big = ('{"schemas":["%s"],"userName":"big@x.com","title":"' % CORE_USER) + "x" * (1024 * 1024) + '"}'
    _error(scim_client.post("/Users", content=big.encode(), headers=HDR), 413, None, "limit 1048576 bytes")
    assert _count(scim_client) == 0


def test_json_nesting_and_lone_surrogates_are_invalid_syntax(scim_client: httpx.Client) -> None:
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    for n in (MAX_JSON_DEPTH, 100_000):
        nested = "[" * n + "]" * n
        body = '{"schemas":["%s"],"userName":"d@x.com","x":%s}' % (CORE_USER, nested)
        _error(scim_client.post("/Users", content=body.encode(), headers=HDR), 400, "invalidSyntax", "nested too deeply")
    _error(scim_client.post("/Users", content=deep.encode(), headers=HDR), 400, "invalidSyntax", "nested too deeply")
    body = '{"schemas":["%s"],"userName":"a\\ud800@x.com"}' % CORE_USER
    _error(scim_client.post("/Users", content=body.encode(), headers=HDR), 400, "invalidSyntax", "surrogate")
    assert _count(scim_client) == 0
    # A body just inside the depth limit is parsed (and then judged on its content).
    ok = '{"schemas":["%s"],"userName":"ok@x.com","externalId":"e"}' % CORE_USER
    assert scim_client.post("/Users", content=ok.encode(), headers=HDR).status_code == 201


def test_filter_length_and_depth(scim_client: httpx.Client) -> None:
    long_filter = 'userName eq "' + "a" * MAX_FILTER_LENGTH + '"'
    _error(scim_client.get("/Users", params={"filter": long_filter}), 400, "invalidFilter", "too long")
    deep = "(" * (MAX_DEPTH + 1) + 'userName eq "a"' + ")" * (MAX_DEPTH + 1)
    _error(scim_client.get("/Users", params={"filter": deep}), 400, "invalidFilter", "too deeply nested")
    fine = "(" * MAX_DEPTH + 'userName eq "a"' + ")" * MAX_DEPTH
    assert scim_client.get("/Users", params={"filter": fine}).status_code == 200


def test_patch_operation_count(scim_client: httpx.Client) -> None:
    uid = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "p@x.com"}).json()["id"]
    ops = [{"op": "replace", "path": "title", "value": str(i)} for i in range(MAX_OPERATIONS + 1)]
    r = scim_client.patch(f"/Users/{uid}", json={"schemas": [PATCH_OP], "Operations": ops})
    _error(r, 400, "invalidValue", str(MAX_OPERATIONS))
    assert "title" not in scim_client.get(f"/Users/{uid}").json()


def test_count_is_capped_at_the_advertised_max_results(make_client: Any, mock_app: Any) -> None:
    mock_app.extensions["mock_clockwise"].max_results = 3  # a small cap to see it bite
    client = make_client("/scim/v2", "acme-scim-test-token")
    for i in range(5):
        client.post("/Users", json={"schemas": [CORE_USER], "userName": f"c{i}@x.com"})
    assert client.get("/ServiceProviderConfig").json()["filter"]["maxResults"] == 3
    page = client.get("/Users", params={"count": 10**30}).json()
    assert page["totalResults"] == 5 and page["itemsPerPage"] == 3 == len(page["Resources"])
    search = client.post("/Users/.search", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                 "count": 1000})
    assert search.json()["itemsPerPage"] == 3
