"""Issue 7 §2, crash safety: with --db, a server killed with SIGKILL in the middle of a
provisioning load keeps every user whose creation was answered 201, and starts again on the
same file without any repair step.

Why it holds: the 201 is sent only after the user's write transaction has committed, and a
WAL commit is in the operating system's hands before COMMIT returns (synchronous=NORMAL
skips only the fsync that protects against power loss, not against a killed process).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TOKEN, ADMIN = "crash-scim-token", "crash-admin-token"


def provision_until_killed(srv: Any, clients: int, kill_after: int) -> dict[str, str]:
    """`clients` threads create users (and add each to a group) as fast as they can; once
    `kill_after` creations were answered 201, the server and all its workers get SIGKILL.
    Returns {user id: userName} of every 201."""
    created: dict[str, str] = {}
    lock = threading.Lock()
    killed = threading.Event()
    with srv.client(TOKEN) as c:
        gid = c.post("/Groups", json={"schemas": [CORE_GROUP], "displayName": "Everyone"}).json()["id"]

    def work(n: int) -> None:
        with httpx.Client(base_url=srv.base, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            i = 0
            while not killed.is_set():
                name = f"crash-{n}-{i}@example.com"
                i += 1
                try:
                    r = c.post("/Users", json={"schemas": [CORE_USER], "userName": name,
                                               "emails": [{"value": name, "primary": True}]})
                    if r.status_code == 201:
                        with lock:
                            created[r.json()["id"]] = name
                            if len(created) >= kill_after and not killed.is_set():
                                killed.set()
                                srv.kill_all()  # mid-load: the other threads have requests in flight
                        c.patch(f"/Groups/{gid}", json={"schemas": [PATCH_OP], "Operations": [
                            {"op": "add", "path": "members", "value": [{"value": r.json()["id"]}]}]})
                except httpx.HTTPError:
                    if killed.is_set():
                        return
                    time.sleep(0.01)  # not killed yet: a transient error, keep going

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(work, range(clients)))
    assert killed.is_set() and srv.proc.poll() is not None
    return created


@pytest.mark.parametrize("serving", [pytest.param(["--workers", "1"], id="threads"),
                                     pytest.param(["--workers", "2"], id="2-workers")])
def test_sigkill_mid_load_loses_no_answered_user(mock_process: Callable[..., Any], tmp_path: Path,
                                                 serving: list[str]) -> None:
    db = tmp_path / "crash.sqlite3"
    srv = mock_process("--db", str(db), "--token", TOKEN, "--admin-token", ADMIN, *serving)
    created = provision_until_killed(srv, clients=8, kill_after=120)
    assert len(created) >= 120

    # Restart on the same file, as is: no repair, no recovery step of our own.
    srv2 = mock_process("--db", str(db), "--token", TOKEN, "--admin-token", ADMIN, *serving)
    with srv2.client(TOKEN) as c:
        for uid, name in created.items():
            r = c.get(f"/Users/{uid}")
            assert r.status_code == 200 and r.json()["userName"] == name, r.text
        total = c.get("/Users?count=0").json()["totalResults"]  # the maintained per-org count
        listed = c.get("/Users?filter=userName pr&count=0").json()["totalResults"]  # counted row by row
        assert total == listed >= len(created)  # a creation answered or not, but never half-written
        all_ids = {u["id"] for u in c.get("/Users?count=1000&attributes=id").json()["Resources"]}
        assert len(all_ids) == total
        group = c.get('/Groups?filter=displayName eq "Everyone"').json()["Resources"][0]
        assert {m["value"] for m in group.get("members", [])} <= all_ids  # no member without its user
        # Still a working server: the load goes on where it stopped.
        assert c.post("/Users", json={"schemas": [CORE_USER], "userName": "after@example.com"}).status_code == 201
    with srv2.client(ADMIN, control=True) as a:
        plan = a.get("/orgs/acme/plan").json()
        assert set(created.values()) <= set(plan["paid"]) and plan["mode"] == "synced"
        created_events = [e for e in a.get("/orgs/acme/events").json()["data"] if e["event"] == "dsync.user.created"]
        assert len(created_events) == total + 1
    assert srv2.stop() == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
