"""Issue 7 §2, races: concurrent requests against a real server process on loopback, in both
serving models (one process with threads, and several worker processes sharing one SQLite
file). Every client has its own connection, so requests spread over the worker processes.

Each race releases all of its requests together from a barrier; what must hold is decided
inside the database's write transactions (BEGIN IMMEDIATE), never by in-process locks.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import httpx
import pytest

from tests.conftest import tls_context

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses fork and POSIX signals")

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TOKEN, ADMIN = "race-scim-token", "race-admin-token"

SERVING = [pytest.param(["--workers", "1"], id="threads"), pytest.param(["--workers", "3"], id="3-workers")]


def together(n: int, request: Callable[[int, httpx.Client], Any], base: str, token: str = TOKEN) -> list[Any]:
    """Run request(i, client) for i in 0..n-1 on n threads with one connection each, released
    at the same instant once every connection is open."""
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"},
                          verify=tls_context()) as client:
            client.get("/ServiceProviderConfig")  # open the connection before the race starts
            barrier.wait(timeout=60)
            return request(i, client)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def user(name: str, active: bool = True) -> dict[str, Any]:
    return {"schemas": [CORE_USER], "userName": name, "active": active,
            "emails": [{"value": name, "primary": True, "type": "work"}]}


@pytest.mark.parametrize("serving", SERVING)
def test_50_concurrent_posts_of_one_username_make_exactly_one_user(mock_process: Callable[..., Any],
                                                                   serving: list[str]) -> None:
    srv = mock_process("--token", TOKEN, "--admin-token", ADMIN, *serving)
    responses = together(50, lambda i, c: c.post("/Users", json=user("Same.Person@example.com")), srv.base)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 49
    for r in responses:
        if r.status_code == 409:  # RFC 7644 §3.3: a clash is 409 with scimType uniqueness
            assert r.json()["scimType"] == "uniqueness"
    created = next(r.json() for r in responses if r.status_code == 201)
    with srv.client(TOKEN) as c:
        found = c.get('/Users?filter=userName eq "same.person@example.com"').json()
        assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]
        assert c.get("/Users?count=0").json()["totalResults"] == 1  # the maintained count agrees
    with srv.client(ADMIN, control=True) as a:
        events = [e["event"] for e in a.get("/orgs/acme/events").json()["data"]]
        assert events == ["dsync.user.created"]
        members = a.get("/orgs/acme/members").json()["data"]
        assert [(m["email"], m["scim_user_id"]) for m in members] == [("same.person@example.com", created["id"])]
    assert srv.stop() == 0


@pytest.mark.parametrize("serving", SERVING)
def test_concurrent_member_patches_lose_no_member(mock_process: Callable[..., Any], serving: list[str]) -> None:
    srv = mock_process("--token", TOKEN, "--admin-token", ADMIN, *serving)
    with srv.client(TOKEN) as c:
        ids = [c.post("/Users", json=user(f"m{i}@example.com")).json()["id"] for i in range(30)]
        gid = c.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "Engineering"}).json()["id"]

    def add(i: int, client: httpx.Client) -> int:
        # Okta's group push: one PATCH per added member.
        return client.patch(f"/Groups/{gid}", json={"schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": ids[i]}]}]}).status_code

    assert set(together(30, add, srv.base)) <= {200, 204}
    with srv.client(TOKEN) as c:
        members = {m["value"] for m in c.get(f"/Groups/{gid}").json()["members"]}
    assert members == set(ids)

    # Removals of the even members race with re-adds of the odd ones (no-ops): exactly the odd stay.
    def mixed(i: int, client: httpx.Client) -> int:
        op = ({"op": "remove", "path": f'members[value eq "{ids[i]}"]'} if i % 2 == 0
              else {"op": "add", "path": "members", "value": [{"value": ids[i]}]})
        return client.patch(f"/Groups/{gid}", json={"schemas": [PATCH_OP], "Operations": [op]}).status_code

    assert set(together(30, mixed, srv.base)) <= {200, 204}
    with srv.client(TOKEN) as c:
        group = c.get(f"/Groups/{gid}").json()
    assert {m["value"] for m in group["members"]} == set(ids[1::2])
    with srv.client(ADMIN, control=True) as a:
        events = [e["event"] for e in a.get("/orgs/acme/events").json()["data"]]
    assert events.count("dsync.group.user_added") == 30 and events.count("dsync.group.user_removed") == 15
    assert srv.stop() == 0


@pytest.mark.parametrize("serving", SERVING)
def test_threshold_switches_exactly_once_when_the_10th_user_arrives(mock_process: Callable[..., Any],
                                                                    serving: list[str]) -> None:
    srv = mock_process("--token", TOKEN, "--admin-token", ADMIN, "--threshold", "10", *serving)
    with srv.client(ADMIN, control=True) as a:
        # A member from before SCIM, on the paid plan: synced mode moves it to free.
        assert a.post("/orgs/acme/members", json={"email": "seeded@example.com", "plan": "paid"}).status_code == 201
        # 9 users at once: one short of the threshold, so still trial.
        assert set(together(9, lambda i, c: c.post("/Users", json=user(f"a{i}@example.com")).status_code,
                            srv.base)) == {201}
        plan = a.get("/orgs/acme/plan").json()
        assert plan["mode"] == "trial" and "seeded@example.com" in plan["paid"]
        # 1 deactivated user (does not count) racing with the 10th and 11th active users.
        bodies = [user("inactive@example.com", active=False), user("a9@example.com"), user("a10@example.com")]
        assert set(together(3, lambda i, c: c.post("/Users", json=bodies[i]).status_code, srv.base)) == {201}
        plan = a.get("/orgs/acme/plan").json()
        assert plan["mode"] == "synced"
        assert plan["paid"] == sorted(f"a{i}@example.com" for i in range(11))
        assert plan["free"] == ["inactive@example.com", "seeded@example.com"]
        # Synced latches: the same rule again from a fresh org whose users arrive all at once.
        assert a.post("/orgs", json={"name": "globex", "tokens": ["globex-token"], "threshold": 10}).status_code == 201
    assert set(together(25, lambda i, c: c.post("/Users", json=user(f"g{i}@example.com")).status_code, srv.base,
                        token="globex-token")) == {201}
    with srv.client(ADMIN, control=True) as a:
        plan = a.get("/orgs/globex/plan").json()
    assert plan["mode"] == "synced" and len(plan["paid"]) == 25 and plan["free"] == []
    assert srv.stop() == 0


@pytest.mark.parametrize("serving", SERVING)
def test_over_100_concurrent_clients_are_all_answered(mock_process: Callable[..., Any], serving: list[str]) -> None:
    # Issue 6: no listen-queue overflow or connection reset at 100 concurrent clients (110
    # here). Each client holds its own keep-alive connection open through the race, so with
    # waitress's default connection_limit of 100 the last ones would never be served.
    srv = mock_process("--token", TOKEN, "--admin-token", ADMIN, *serving)

    def burst(i: int, client: httpx.Client) -> list[int]:
        return [client.get("/Users?count=1").status_code for _ in range(3)]

    statuses = together(110, burst, srv.base)
    assert statuses == [[200, 200, 200]] * 110
    assert srv.stop() == 0
