"""Abusive clients against the mock in-process (issue 17 items 11 and 12): every hostile shape gets a
SCIM Error 4xx (or 507 on a full disk), never a 500, and changes nothing."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
HDR = {"Content-Type": "application/scim+json"}
HUGE = "1" * 4301  # one digit past Python's int-from-text limit


def _error(r: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == str(status)
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body  # type: ignore[no-any-return]


def _total(client: httpx.Client, what: str = "/Users") -> int:
    return int(client.get(what).json()["totalResults"])


@pytest.mark.parametrize("start", [str(2 ** 63), str(2 ** 63 + 5), "9" * 30])
def test_start_index_beyond_64_bits_is_invalid_value(scim_client: httpx.Client, start: str) -> None:
    for path in ("/Users", "/Groups"):
        _error(scim_client.get(path, params={"startIndex": start}), 400, "invalidValue")
    _error(scim_client.get("/Users", params={"startIndex": start, "filter": 'userName eq "a"'}), 400, "invalidValue")


def test_huge_count_is_still_capped_not_refused(scim_client: httpx.Client) -> None:
    assert scim_client.get("/Users", params={"count": str(2 ** 70)}).status_code == 200


@pytest.mark.parametrize("body", [
    '{"schemas":["%s"],"startIndex":1e30}' % SEARCH,
    '{"schemas":["%s"],"count":1e30}' % SEARCH,
    '{"schemas":["%s"],"startIndex":1.5}' % SEARCH,
    '{"schemas":["%s"],"startIndex":Infinity}' % SEARCH,
    '{"schemas":["%s"],"startIndex":-Infinity}' % SEARCH,
    '{"schemas":["%s"],"count":NaN}' % SEARCH,
    '{"schemas":["%s"],"startIndex":%s}' % (SEARCH, 2 ** 63),
    '{"schemas":5}', '{"schemas":"%s"}' % SEARCH, '{"schemas":{"a":1}}', '{"schemas":true}',
])
def test_search_with_hostile_numbers_or_schemas_is_400(scim_client: httpx.Client, body: str) -> None:
    for path in ("/Users/.search", "/Groups/.search"):
        _error(scim_client.post(path, content=body, headers=HDR), 400)


@pytest.mark.parametrize("attr,path", [("userName", "/Users"), ("id", "/Users"), ("externalId", "/Users"),
                                       ("displayName", "/Groups"), ("id", "/Groups"), ("externalId", "/Groups")])
def test_lone_surrogate_in_a_filter_literal_is_invalid_filter(scim_client: httpx.Client, attr: str, path: str) -> None:
    for literal in ('"\\ud800"', '"a\\udfff"', '"\\ud800x"'):
        for op in ("eq", "co", "sw"):
            r = scim_client.get(path, params={"filter": f"{attr} {op} {literal}"})
            _error(r, 400, "invalidFilter")
            assert "surrogate" in r.json()["detail"]
        body = {"schemas": [SEARCH], "filter": f"{attr} eq {literal}"}
        _error(scim_client.post(path + "/.search", json=body), 400, "invalidFilter")
    # A proper pair (U+1F600) is a character like any other.
    assert scim_client.get(path, params={"filter": f'{attr} eq "\\ud83d\\ude00"'}).status_code == 200


def test_lone_surrogate_in_a_patch_value_filter_is_invalid_path(scim_client: httpx.Client) -> None:
    uid = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "s@x.com"}).json()["id"]
    ops = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "remove", "path": 'emails[value eq "\\ud800"]'}]}
    _error(scim_client.patch(f"/Users/{uid}", json=ops), 400, "invalidPath")


def test_a_4301_digit_integer_is_refused_on_every_write_and_the_journal_still_reads(
        scim_client: httpx.Client, admin_client: httpx.Client) -> None:
    uid = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "w@x.com"}).json()["id"]
    gid = scim_client.post("/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                            "displayName": "g"}).json()["id"]
    user = '{"schemas":["%s"],"userName":"big@x.com","x":%s}' % (CORE_USER, HUGE)
    patch = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":%s}]}'
    scim_writes = [("POST", "/Users", user), ("PUT", f"/Users/{uid}", user), ("PATCH", f"/Users/{uid}", patch % HUGE),
                   ("POST", "/Groups", '{"displayName":"h","n":-%s}' % HUGE),
                   ("PUT", f"/Groups/{gid}", '{"displayName":"h","n":%s}' % HUGE),
                   ("PATCH", f"/Groups/{gid}", patch % HUGE),
                   ("POST", "/Users/.search", '{"schemas":["%s"],"count":%s}' % (SEARCH, HUGE))]
    for method, path, body in scim_writes:
        _error(scim_client.request(method, path, content=body, headers=HDR), 400, "invalidValue")
    control = [("POST", "/orgs", '{"name":"o","threshold":%s}' % HUGE),
               ("POST", "/orgs", '{"name":"o","threshold":%d}' % 2 ** 70),
               ("POST", "/orgs/acme/members", '{"email":"m@x.com","n":%s}' % HUGE),
               ("POST", "/orgs/acme/admin-panel/members", '{"email":"m@x.com","n":%s}' % HUGE),
               ("PUT", "/faults", '{"faults":[{"status":503,"count":%s}]}' % HUGE),
               ("PUT", "/faults", '{"faults":[{"status":503,"count":%d}]}' % 2 ** 70)]
    for method, path, body in control:
        _error(admin_client.request(method, path, content=body, headers=HDR), 400, "invalidValue")
    # Nothing changed, and the journal (which holds the refused bodies) still reads.
    assert _total(scim_client) == 1 and _total(scim_client, "/Groups") == 1
    assert [o["name"] for o in admin_client.get("/orgs").json()["data"]] == ["acme"]
    assert admin_client.get("/faults").json() == {"faults": []}
    journal = admin_client.get("/journal")
    assert journal.status_code == 200, journal.text
    assert any(isinstance(e["body"], str) and HUGE in e["body"] for e in journal.json()["data"])


def test_control_plane_numbers_out_of_range(admin_client: httpx.Client) -> None:
    for threshold in ("1e30", "Infinity", "NaN", "10.5"):
        _error(admin_client.post("/orgs", content='{"name":"o","threshold":%s}' % threshold, headers=HDR), 400)
    for count in ("1e30", "Infinity", "-1"):
        _error(admin_client.put("/faults", content='{"faults":[{"status":503,"count":%s}]}' % count, headers=HDR),
               400)
    # The largest integer the decoder takes is a valid threshold / count.
    assert admin_client.post("/orgs", json={"name": "o", "threshold": 2 ** 63 - 1}).status_code == 201
    assert admin_client.put("/faults", json={"faults": [{"status": 503, "count": 2 ** 63 - 1}]}).status_code == 200


def test_shared_journal_serves_a_huge_integer_body(tmp_path: Any) -> None:
    from mock_clockwise.app import create_app

    state = tmp_path / "state"
    state.mkdir()
    app = create_app({"DB_PATH": str(tmp_path / "db.sqlite"), "STATE_DIR": str(state)})
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://t/scim/v2",
                      headers={"Authorization": "Bearer acme-token"}) as scim, \
            httpx.Client(transport=transport, base_url="http://t/_mock",
                         headers={"Authorization": "Bearer admin-token"}) as admin:
        body = '{"schemas":["%s"],"userName":"big@x.com","x":%s}' % (CORE_USER, HUGE)
        _error(scim.post("/Users", content=body, headers=HDR), 400, "invalidValue")
        assert admin.put("/faults", json={"faults": [{"status": 503, "count": 2 ** 63 - 1}]}).status_code == 200
        assert admin.get("/journal").status_code == 200
    app.extensions["mock_clockwise"].close()


# ---------------------------------------------------------------------------- item 12: disk full, page size, Host
def _fill_the_disk(app: Any) -> None:
    """A full disk, for real: SQLite's max_page_count caps the database at its current size, so the
    next write that needs a page fails with SQLITE_FULL ("database or disk is full"), exactly as
    on a full file system (no tmpfs needed)."""
    store = app.extensions["mock_clockwise"].store
    with store._lock:
        conn = store._connection()
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")


def test_disk_full_is_a_scim_507_and_changes_nothing(mock_app: Any, scim_client: httpx.Client,
                                                     admin_client: httpx.Client) -> None:
    uid = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "first@x.com"}).json()["id"]
    _fill_the_disk(mock_app)
    big = "x" * 200_000
    writes = [scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": f"u{i}@x.com", "title": big})
              for i in range(3)]
    writes.append(scim_client.put(f"/Users/{uid}", json={"schemas": [CORE_USER], "userName": "first@x.com",
                                                          "title": big}))
    writes.append(scim_client.patch(f"/Users/{uid}", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "title", "value": big}]}))
    for r in writes:
        body = _error(r, 507)
        assert "storage is full" in body["detail"] and r.headers.get("Retry-After") == "60"
    # Nothing changed, reads still work, and the connection is usable once there is room again.
    assert _total(scim_client) == 1 and "title" not in scim_client.get(f"/Users/{uid}").json()
    store = mock_app.extensions["mock_clockwise"].store
    with store._lock:
        store._connection().execute("PRAGMA max_page_count=1073741823")
    assert scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "later@x.com"}).status_code == 201


def test_disk_full_from_a_file_write_is_507(mock_app: Any, scim_client: httpx.Client,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    store = mock_app.extensions["mock_clockwise"].store

    def no_space(*_a: Any, **_k: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "create_group", no_space)
    r = scim_client.post("/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                          "displayName": "g"})
    _error(r, 507)


def test_a_page_stops_at_the_byte_cap(make_client: Any) -> None:
    from mock_clockwise.app import create_app

    app = create_app({"MAX_PAGE_BYTES": 300_000, "ORGS": [{"name": "acme", "tokens": ["t"]}]})
    transport = httpx.WSGITransport(app=app)
    client = httpx.Client(transport=transport, base_url="http://t/scim/v2", headers={"Authorization": "Bearer t"})
    for i in range(10):
        r = client.post("/Users", json={"schemas": [CORE_USER], "userName": f"big{i}@x.com", "title": "x" * 100_000})
        assert r.status_code == 201
    group = client.post("/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                         "displayName": "g", "title": "y"}).json()["id"]
    assert group
    for params in ({}, {"filter": 'userName sw "big"'}, {"sortBy": "userName"}, {"count": "1000"},
                   {"attributes": "title"}):
        seen, start = [], 1
        while True:
            r = client.get("/Users", params={**params, "startIndex": str(start)})
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(r.content) < 300_000 + 10_000, len(r.content)
            assert page["totalResults"] == 10 and page["itemsPerPage"] == len(page["Resources"]) >= 1
            seen += [u["id"] for u in page["Resources"]]
            start += page["itemsPerPage"]
            if start > page["totalResults"]:
                break
        assert len(seen) == len(set(seen)) == 10, params
    # One resource larger than the cap still comes out (alone), so paging always moves on.
    small = create_app({"MAX_PAGE_BYTES": 10, "ORGS": [{"name": "acme", "tokens": ["t"]}]})
    client = httpx.Client(transport=httpx.WSGITransport(app=small), base_url="http://t/scim/v2",
                          headers={"Authorization": "Bearer t"})
    for i in range(2):
        client.post("/Users", json={"schemas": [CORE_USER], "userName": f"s{i}@x.com"})
    assert client.get("/Users").json()["itemsPerPage"] == 1
    assert client.get("/Users", params={"filter": 'userName sw "s"'}).json()["itemsPerPage"] == 1


@pytest.mark.parametrize("host", ["", " ", "a b", "x/y", "evil@h", "h:99999999", "h:port", "h?x", "h#x", "a_b"])
def test_a_bad_host_header_never_gives_an_empty_authority(scim_client: httpx.Client, admin_client: httpx.Client,
                                                          host: str) -> None:
    r = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "h@x.com"},
                         headers={"Host": host})
    assert r.status_code == 201, r.text
    location = r.json()["meta"]["location"]
    assert location.startswith("http://testserver/scim/v2/Users/") and r.headers["Location"] == location
    listed = scim_client.get("/Users", headers={"Host": host}).json()
    assert listed["Resources"][0]["meta"]["location"] == location
    doc = admin_client.get("/openapi.json", headers={"Host": host}).json()
    assert doc["servers"] == [{"url": "http://testserver"}]


def test_a_good_host_header_is_used(scim_client: httpx.Client) -> None:
    for host in ("example.com:8443", "[::1]:9000", "10.0.0.1", "mock.local"):
        r = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": f"{host}@x.com"},
                             headers={"Host": host})
        assert r.json()["meta"]["location"].startswith(f"http://{host}/scim/v2/Users/"), r.text


def test_an_empty_host_over_real_http_falls_back_to_the_listening_address() -> None:
    import socket
    import threading

    from waitress.server import create_server

    from mock_clockwise.app import create_app

    app = create_app({"ORGS": [{"name": "acme", "tokens": ["t"]}]})
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    port = int(server.effective_port)  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        body = b'{"schemas":["%s"],"userName":"real@x.com"}' % CORE_USER.encode()
        request = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: \r\nAuthorization: Bearer t\r\n"
                   b"Content-Type: application/scim+json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(body), body))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 201"), data[:300]
        import json

        location = json.loads(payload)["meta"]["location"]
        assert "///" not in location and location.startswith("http://"), location
        assert location.split("/")[2] not in ("", ":%d" % port), location
    finally:
        server.close()
        thread.join(timeout=5)
