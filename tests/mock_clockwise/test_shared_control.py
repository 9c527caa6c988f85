"""The control plane shared by worker processes (faults.SharedFaults, journal.SharedJournal),
in process: two apps built on one SQLite file and one state folder behave as two workers of
one server (server.py gives each worker exactly this config). The same over real worker
processes: test_server_workers_control.py."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from mock_clockwise.app import create_app

TOKEN, ADMIN = "shared-scim-token", "shared-admin-token"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Any]]:
    config = {"ORGS": [{"name": "acme", "tokens": [TOKEN], "threshold": 10}], "ADMIN_TOKEN": ADMIN,
              "DB_PATH": str(tmp_path / "state.sqlite3"), "STATE_DIR": str(tmp_path)}
    apps = [create_app(config), create_app(config)]
    yield apps
    for app in apps:
        app.extensions["mock_clockwise"].close()


def client(app: Any, control: bool = False) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app),
                        base_url="http://testserver" + ("/_mock" if control else "/scim/v2"),
                        headers={"Authorization": f"Bearer {ADMIN if control else TOKEN}"})


def test_a_fault_set_on_one_worker_applies_on_every_worker(workers: list[Any]) -> None:
    a, b = workers
    with client(a) as sa, client(b) as sb, client(a, True) as ca, client(b, True) as cb:
        r = ca.put("/faults", json={"faults": [{"method": "GET", "path": "^/Users", "status": 503}]})
        assert r.status_code == 200
        assert cb.get("/faults").json() == {"faults": [{"method": "GET", "path": "^/Users", "status": 503}]}
        assert [c.get("/Users").status_code for c in (sa, sb, sa, sb)] == [503] * 4
        assert sb.get("/Groups").status_code == 200  # first matching fault only; none matches
        assert cb.delete("/faults").status_code == 204  # cleared through the other worker
        assert [c.get("/Users").status_code for c in (sa, sb)] == [200, 200]
        assert ca.get("/faults").json() == {"faults": []}


def test_a_count_is_consumed_exactly_across_workers_and_threads(workers: list[Any]) -> None:
    a, b = workers
    with client(a, True) as ca:
        ca.put("/faults", json={"faults": [{"status": 429, "retry_after": "1", "count": 25},
                                           {"status": 418, "path": "^/Groups"}]})
    start = threading.Barrier(8)

    def hammer(i: int) -> list[int]:
        with client(workers[i % 2]) as c:
            start.wait(timeout=30)
            return [c.get("/Users").status_code for _ in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for batch in pool.map(hammer, range(8)) for s in batch]
    assert sorted(statuses) == [200] * 55 + [429] * 25
    with client(b, True) as cb:  # the used-up fault is gone for every worker; the next one remains
        assert cb.get("/faults").json() == {"faults": [{"path": "^/Groups", "status": 418}]}
    with client(a) as sa:
        assert sa.get("/Groups").status_code == 418  # with the count fault gone, the next one matches


def test_no_sql_statement_per_request_unless_a_counted_fault_matches(workers: list[Any]) -> None:
    a, b = workers
    statements: list[str] = []
    a.extensions["mock_clockwise"].faults._conn.set_trace_callback(statements.append)
    with client(a) as sa, client(b, True) as cb:
        sa.get("/Users")  # the first request reads the (empty) table once
        statements.clear()
        for _ in range(20):
            assert sa.get("/Users").status_code == 200
        assert statements == []
        cb.put("/faults", json={"faults": [{"status": 500, "org": "globex"}, {"status": 500, "path": "^/Groups",
                                                                              "count": 3}]})
        for _ in range(20):
            assert sa.get("/Users").status_code == 200
        assert len(statements) == 1 and statements[0].startswith("SELECT")  # one re-read after the change
        statements.clear()
        assert sa.get("/Groups").status_code == 500  # a counted fault matched: its count is taken in SQL
        assert any(s.startswith("UPDATE") for s in statements)


def test_reset_clears_every_workers_journal_and_faults(workers: list[Any], tmp_path: Path) -> None:
    a, b = workers
    with client(a) as sa, client(b) as sb, client(a, True) as ca, client(b, True) as cb:
        for i in range(3):
            assert sa.post("/Users", json={"schemas": [CORE_USER], "userName": f"a{i}@x.com"}).status_code == 201
            assert sb.get(f"/Users?count={i}").status_code == 200
        for control in (ca, cb):  # either worker lists both workers' requests, in time order
            entries = control.get("/journal").json()["data"]
            assert [(e["method"], e["query"]) for e in entries] == [
                ("POST", ""), ("GET", "count=0"), ("POST", ""), ("GET", "count=1"), ("POST", ""), ("GET", "count=2")]
            assert entries[0]["body"]["userName"] == "a0@x.com"
        assert len(list(tmp_path.glob("journal-*.log"))) == 2
        for path in tmp_path.glob("journal-*"):
            assert TOKEN.encode() not in path.read_bytes()
        cb.put("/faults", json={"faults": [{"latency_ms": 1}]})
        assert ca.post("/reset").status_code == 204
        assert cb.get("/journal").json()["data"] == [] and cb.get("/faults").json()["faults"] == []
        assert sb.get("/Users").json()["totalResults"] == 0
        assert [e["path"] for e in ca.get("/journal").json()["data"]] == ["/Users"]


def test_tokens_and_auth_modes_changed_on_one_worker_hold_at_once_on_every_worker(workers: list[Any]) -> None:
    # Each process keeps the orgs of the tokens it has seen (org_store.token_auth); a change through any
    # worker moves the shared auth generation, so no worker answers from what it kept before.
    a, b = workers
    with client(a, True) as ca, client(b) as sb:
        sb.headers["Authorization"] = "Bearer beta-token"
        assert sb.get("/Users").status_code == 401
        assert ca.post("/orgs", json={"name": "beta", "tokens": ["beta-token"]}).status_code == 201
        assert sb.get("/Users").status_code == 200  # seen, and now kept by b
        r = ca.put("/orgs/beta/auth", json={"mode": "basic", "username": "u", "secret": "s"})
        assert r.status_code == 200
        r = sb.get("/Users")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
        assert ca.put("/orgs/beta/auth", json={"mode": "bearer"}).status_code == 200
        assert sb.get("/Users").status_code == 200
        assert ca.delete("/orgs/beta").status_code == 204
        assert sb.get("/Users").status_code == 401
        assert ca.post("/orgs", json={"name": "beta", "tokens": ["beta-token"]}).status_code == 201
        assert sb.get("/Users").status_code == 200
        assert ca.post("/reset").status_code in (200, 204)  # the start orgs only: beta is gone
        assert sb.get("/Users").status_code == 401
