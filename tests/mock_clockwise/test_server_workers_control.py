"""The control plane across real worker processes: `python -m mock_clockwise --workers 2` on
loopback, every request on its own connection so the kernel spreads them over both workers
(SO_REUSEPORT). Faults set once apply whatever worker answers, a `count` is consumed exactly
once across them, the journal read through any connection lists every worker's requests,
reset empties it for all, no credential reaches a journal file, and the state folder is gone
after a clean stop (after a SIGKILL, the next server removes it). Also: the default serving
model is CPUs + 1 workers."""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses fork and POSIX signals")

TOKEN, ADMIN = "workers-scim-token", "workers-admin-token"
REQUESTS = 40  # each on a new connection: both workers are hit (all on one: odds 2 in 2^40)


def start_two_workers(mock_process: Callable[..., Any], *extra: str) -> tuple[Any, Path]:
    """The server and its state folder (found through the files its workers hold open)."""
    import psutil

    srv = mock_process("--workers", "2", "--token", TOKEN, "--admin-token", ADMIN, *extra)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = psutil.Process(srv.proc.pid).children()
        held = {Path(f.path) for child in children for f in _open_files(child)}
        folders = {p.parent for p in held if p.name == "faults.gen"}
        if len(children) == 2 and len(folders) == 1:
            return srv, folders.pop()
        time.sleep(0.05)
    raise AssertionError("the two workers did not start")


def _open_files(proc: Any) -> list[Any]:
    import psutil

    try:
        return list(proc.open_files())
    except psutil.Error:  # a worker still starting (or gone)
        return []


def spread(srv: Any, path: str = "/Users", n: int = REQUESTS) -> list[httpx.Response]:
    """n GETs, each on a new connection, 8 at a time."""
    def one(i: int) -> httpx.Response:
        with srv.client(TOKEN) as c:
            return c.get(path.format(i=i))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(n)))


def served_by_both(folder: Path) -> bool:
    # Each worker journals to its own file: two files with entries = both workers answered.
    return sum(1 for p in folder.glob("journal-*.log") if p.stat().st_size) == 2


def test_faults_apply_on_every_worker_and_a_count_is_exact(mock_process: Callable[..., Any]) -> None:
    srv, folder = start_two_workers(mock_process)
    with srv.client(ADMIN, control=True) as admin:
        r = admin.put("/faults", json={"faults": [{"path": "^/Users", "status": 503}]})
        assert r.status_code == 200
    assert [r.status_code for r in spread(srv)] == [503] * REQUESTS
    assert served_by_both(folder)
    with srv.client(ADMIN, control=True) as admin:
        assert admin.delete("/faults").status_code == 204
    assert [r.status_code for r in spread(srv)] == [200] * REQUESTS

    with srv.client(ADMIN, control=True) as admin:
        admin.put("/faults", json={"faults": [{"path": "^/Users", "status": 429, "retry_after": "2", "count": 5}]})
    answers = spread(srv)
    assert sorted(r.status_code for r in answers) == [200] * (REQUESTS - 5) + [429] * 5
    assert all(r.headers["Retry-After"] == "2" for r in answers if r.status_code == 429)
    for _ in range(5):  # used up: gone for every worker
        with srv.client(ADMIN, control=True) as admin:
            assert admin.get("/faults").json() == {"faults": []}

    with srv.client(ADMIN, control=True) as admin:
        admin.put("/faults", json={"faults": [{"status": 500}]})
        assert admin.post("/reset").status_code == 204
    assert [r.status_code for r in spread(srv)] == [200] * REQUESTS
    assert srv.stop() == 0


def test_journal_lists_every_workers_requests_and_reset_empties_it(mock_process: Callable[..., Any]) -> None:
    srv, folder = start_two_workers(mock_process)
    assert [r.status_code for r in spread(srv, "/Users?count={i}")] == [200] * REQUESTS
    assert served_by_both(folder)
    expected = {f"count={i}" for i in range(REQUESTS)}
    for _ in range(5):  # five connections: whichever worker answers lists all of them
        with srv.client(ADMIN, control=True) as admin:
            entries = admin.get("/journal").json()["data"]
        assert {e["query"] for e in entries} == expected and len(entries) == REQUESTS
        assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)  # oldest first
        assert all(e["headers"]["Authorization"] == "Bearer [REDACTED]" for e in entries)
    with srv.client(ADMIN, control=True) as admin:
        assert len(admin.get("/journal?limit=3").json()["data"]) == 3
        assert admin.get("/journal?org=globex").json()["data"] == []

    journal_files = list(folder.glob("journal-*"))
    assert journal_files
    for path in journal_files:  # credentials never reach the disk
        data = path.read_bytes()
        assert TOKEN.encode() not in data and ADMIN.encode() not in data

    with srv.client(ADMIN, control=True) as admin:
        assert admin.post("/reset").status_code == 204
    for _ in range(5):
        with srv.client(ADMIN, control=True) as admin:
            assert admin.get("/journal").json()["data"] == []
    spread(srv, "/Groups", n=1)
    with srv.client(ADMIN, control=True) as admin:
        assert [e["path"] for e in admin.get("/journal").json()["data"]] == ["/Groups"]

    assert srv.stop() == 0
    assert not folder.exists()  # the state folder, journal files included, goes with the server


def test_with_db_the_state_folder_is_private_and_faults_do_not_outlive_the_server(
        mock_process: Callable[..., Any], tmp_path: Path) -> None:
    db = tmp_path / "kept.sqlite3"
    srv, folder = start_two_workers(mock_process, "--db", str(db))
    assert folder != tmp_path and (folder.stat().st_mode & 0o777) == 0o700
    with srv.client(ADMIN, control=True) as admin:
        admin.put("/faults", json={"faults": [{"status": 503, "path": "^/Groups"}]})
    assert [r.status_code for r in spread(srv, "/Groups")] == [503] * REQUESTS
    assert srv.stop() == 0
    assert not folder.exists() and db.exists()

    srv2, _ = start_two_workers(mock_process, "--db", str(db))
    with srv2.client(ADMIN, control=True) as admin:
        assert admin.get("/faults").json() == {"faults": []}
    assert [r.status_code for r in spread(srv2, "/Groups", n=8)] == [200] * 8
    assert srv2.stop() == 0


def test_a_killed_servers_state_folder_is_removed_by_the_next_server(mock_process: Callable[..., Any]) -> None:
    from mock_clockwise.server import STATE_PREFIX, state_base

    srv, folder = start_two_workers(mock_process)
    spread(srv, n=4)
    srv.kill_all()  # SIGKILL to the server and its workers: nothing is cleaned up
    assert folder.exists()
    in_use = Path(tempfile.mkdtemp(prefix=STATE_PREFIX, dir=state_base()))  # as a live server holds it
    unknown = Path(tempfile.mkdtemp(prefix=STATE_PREFIX, dir=state_base()))  # no lock file: not ours to judge
    lock = os.open(in_use / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        srv2, folder2 = start_two_workers(mock_process)
        assert not folder.exists() and in_use.exists() and unknown.exists() and folder2.exists()
        assert srv2.stop() == 0
    finally:
        os.close(lock)
        shutil.rmtree(in_use, ignore_errors=True)
        shutil.rmtree(unknown, ignore_errors=True)


def test_default_serving_model_is_cpus_plus_one_workers(mock_process: Callable[..., Any]) -> None:
    workers = (os.cpu_count() or 1) + 1
    srv = mock_process("--token", TOKEN, "--admin-token", ADMIN)
    assert any(f"{workers} worker processes x 1 thread;" in line for line in srv.lines), srv.lines
    assert srv.stop() == 0
    one = mock_process("--workers", "1", "--token", TOKEN, "--admin-token", ADMIN)
    assert any("in-memory state, 1 process x 4 threads" in line for line in one.lines), one.lines
    assert one.stop() == 0


def test_sigterm_while_the_workers_fork_always_stops(mock_process: Callable[..., Any]) -> None:
    # SIGTERM right after the banner lands while the workers are being forked. Before the stop signals
    # were blocked around fork, a third of these runs hung: the handler ran inside logging's at-fork hook,
    # whose exception is ignored, so the stop was lost and the supervisor waited on its workers forever.
    for _ in range(6):
        srv = mock_process("--workers", "3", "--token", TOKEN, "--admin-token", ADMIN)
        assert srv.stop(timeout=20) == 0
