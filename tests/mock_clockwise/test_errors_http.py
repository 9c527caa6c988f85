"""Every error is a SCIM Error body (RFC 7644 §3.12) with `status` a string, the right
scimType, application/scim+json, and no state change; never a traceback."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def assert_error(r: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/scim+json"
    body = r.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType") == scim_type
    assert "Traceback" not in r.text
    return body


def test_unknown_route_and_wrong_method(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    assert "/scim/v2/Widgets" in assert_error(scim_client.get("/Widgets"), 404)["detail"]
    assert_error(admin_client.get("/nothing-here"), 404)
    r = scim_client.delete("/Users")
    assert_error(r, 405)
    assert "POST" in r.headers["Allow"]
    assert_error(scim_client.post("/ServiceProviderConfig", json={}), 405)


def test_unauthenticated_and_wrong_scheme(make_client: Any, mock_tokens: dict[str, str]) -> None:
    for headers in ({}, {"Authorization": "non-token"}, {"Authorization": f"Basic {mock_tokens['scim']}"},
                    {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer "}):
        r = make_client("/scim/v2", None, **headers).get("/Users")
        assert_error(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    # The bearer scheme name is case-insensitive (RFC 6750 / RFC 7235).
    assert make_client("/scim/v2", None, Authorization=f"bearer {mock_tokens['scim']}").get("/Users").status_code == 200


def test_malformed_and_wrong_shape_bodies(scim_client: httpx.Client) -> None:
    hdr = {"Content-Type": "application/scim+json"}
    assert_error(scim_client.post("/Users", content=b'{"userName": ', headers=hdr), 400, "invalidSyntax")
    assert_error(scim_client.post("/Users", content=b"", headers=hdr), 400, "invalidSyntax")
    assert_error(scim_client.post("/Users", content=b"\xff\xfe", headers=hdr), 400, "invalidSyntax")
    assert_error(scim_client.post("/Users", content=b"[1,2]", headers=hdr), 400, "invalidSyntax")
    assert_error(scim_client.post("/Users", json={"schemas": [CORE_USER]}), 400, "invalidValue")
    body = assert_error(scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "a@x.com",
                                                          "active": "maybe"}), 400, "invalidValue")
    assert "active" in body["detail"]
    assert_error(scim_client.post("/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}),
                 400, "invalidValue")
    assert scim_client.get("/Users").json()["totalResults"] == 0


def test_content_types(scim_client: httpx.Client) -> None:
    body = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ct@x.com"}'
    assert_error(scim_client.post("/Users", content=body, headers={"Content-Type": "text/xml"}), 415)
    r = scim_client.post("/Users", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.headers["content-type"] == "application/scim+json"


def test_body_too_large_is_413(scim_client: httpx.Client) -> None:
    big = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' + b"x" * (1024 * 1024) + b'"}'
    body = assert_error(scim_client.post("/Users", content=big, headers={"Content-Type": "application/json"}), 413)
    assert "1048576" in body["detail"]
    assert scim_client.get("/Users").json()["totalResults"] == 0


def test_patch_errors_change_nothing(scim_client: httpx.Client) -> None:
    u = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "p@x.com", "displayName": "P"}).json()
    path = f"/Users/{u['id']}"
    assert_error(scim_client.patch(path, json={"Operations": []}), 400, "invalidSyntax")
    assert_error(scim_client.patch(path, json={"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Q"},
        {"op": "replace", "path": "noSuchAttribute", "value": "x"}]}), 400, "invalidPath")
    assert_error(scim_client.patch(path, json={"schemas": [PATCH_OP], "Operations": [{"op": "remove"}]}),
                 400, "noTarget")
    assert_error(scim_client.patch(path, json={"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"id": "someone-else"}}]}), 400, "mutability")
    after = scim_client.get(path).json()
    assert after == u | {"meta": after["meta"]} and after["meta"]["version"] == 'W/"1"'
    assert_error(scim_client.patch("/Users/ghost", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"active": False}}]}), 404)


def test_not_found_everywhere(scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        kwargs = {"json": {"schemas": [CORE_USER], "userName": "n@x.com"}} if method == "PUT" else {}
        assert_error(scim_client.request(method, "/Users/ghost", **kwargs), 404)
    assert_error(scim_client.get("/Groups/ghost"), 404)
    assert_error(admin_client.get("/orgs/ghost/plan"), 404)
    assert_error(admin_client.get("/orgs/ghost/events"), 404)


def test_unexpected_exception_is_a_scim_500(mock_app: Any, scim_client: httpx.Client,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = mock_app.extensions["mock_clockwise"].store

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated bug with secret acme-scim-test-token")

    monkeypatch.setattr(store, "list_resources", boom)
    monkeypatch.setattr(store, "user_page_text", boom)
    body = assert_error(scim_client.get("/Users"), 500)
    assert "RuntimeError" in body["detail"] and "secret" not in body["detail"]
