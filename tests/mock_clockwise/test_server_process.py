"""The mock as a real program (`python -m mock_clockwise`) on a loopback port: start, talk
SCIM over a socket, stop with SIGINT/SIGTERM (exit 0); --db survives a restart; bad ports and
unusable --db paths are one-line errors with exit 2."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mock_clockwise.server import _is_loopback

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


class Running:
    def __init__(self, proc: subprocess.Popen[str], lines: list[str]) -> None:
        self.proc = proc
        self.lines = lines
        self.base = next(line.split(": ", 1)[1] for line in lines if line.startswith("SCIM base URL: "))
        self.control = next(line.split(": ", 1)[1] for line in lines if line.startswith("Control plane: "))

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


def start(*args: str) -> Running:
    # Its own process group: a failed test kills the server and its worker processes together.
    proc = subprocess.Popen([sys.executable, "-m", "mock_clockwise", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:  # blocks until the server has printed its banner
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break
    else:
        proc.wait(timeout=10)
        raise AssertionError(f"server did not start: {lines} {proc.stderr.read() if proc.stderr else ''}")
    return Running(proc, lines)


@pytest.fixture
def procs() -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for r in running:  # never leave a server (or a worker of it) behind
        if r.proc.poll() is None:
            try:
                os.killpg(r.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            r.proc.wait(timeout=10)


# The default (CPUs + 1 worker processes) and one process with threads.
@pytest.mark.parametrize("serving", [pytest.param([], id="default"), pytest.param(["--workers", "1"], id="1-process")])
def test_serve_talk_and_sigint(procs: list[Running], serving: list[str]) -> None:
    srv = start("--token", "tok-1", "--admin-token", "adm-1", *serving)
    procs.append(srv)
    assert srv.base.startswith("http://127.0.0.1:") and srv.base.endswith("/scim/v2")
    assert srv.control.endswith("/_mock")
    assert not any("tok-1" in line or "adm-1" in line for line in srv.lines)  # given tokens are not printed
    with httpx.Client(base_url=srv.base, headers={"Authorization": "Bearer tok-1"}, timeout=10) as c:
        r = c.post("/Users", json={"schemas": [CORE_USER], "userName": "sock@x.com"})
        assert r.status_code == 201
        assert r.json()["meta"]["location"].startswith(srv.base + "/Users/")
        assert c.get('/Users?filter=userName eq "SOCK@x.com"').json()["totalResults"] == 1
    with httpx.Client(base_url=srv.control, headers={"Authorization": "Bearer adm-1"}, timeout=10) as a:
        assert a.get("/orgs/acme/plan").json()["paid"] == ["sock@x.com"]

    # Concurrent clients on the worker processes or threads: every create lands exactly once.
    def create_many(n: int) -> list[int]:
        with httpx.Client(base_url=srv.base, headers={"Authorization": "Bearer tok-1"}, timeout=20) as c:
            return [c.post("/Users", json={"schemas": [CORE_USER], "userName": f"c{n}-{i}@x.com"}).status_code
                    for i in range(15)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for batch in pool.map(create_many, range(8)) for s in batch]
    assert statuses == [201] * 120
    with httpx.Client(base_url=srv.base, headers={"Authorization": "Bearer tok-1"}, timeout=10) as c:
        assert c.get("/Users?count=0").json()["totalResults"] == 121
    code, out, err = srv.stop(signal.SIGINT)
    assert code == 0 and "Traceback" not in err


def test_generated_tokens_are_printed_and_work_sigterm(procs: list[Running]) -> None:
    srv = start("--org", "globex", "--threshold", "3")
    procs.append(srv)
    token = next(line.rsplit(" ", 1)[1] for line in srv.lines if line.startswith("SCIM token (org globex): "))
    admin = next(line.rsplit(" ", 1)[1] for line in srv.lines if line.startswith("Admin token: "))
    with httpx.Client(base_url=srv.base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
        assert c.get("/Users").status_code == 200
    with httpx.Client(base_url=srv.control, headers={"Authorization": f"Bearer {admin}"}, timeout=10) as a:
        assert a.get("/orgs").json()["data"] == [{"name": "globex", "threshold": 3, "mode": "trial"}]
    code, _, err = srv.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err


def test_db_survives_restart(procs: list[Running], tmp_path: Path) -> None:
    db = str(tmp_path / "mock.db")
    srv = start("--db", db, "--token", "old", "--admin-token", "adm")
    procs.append(srv)
    with httpx.Client(base_url=srv.base, headers={"Authorization": "Bearer old"}, timeout=10) as c:
        uid = c.post("/Users", json={"schemas": [CORE_USER], "userName": "keep@x.com"}).json()["id"]
    assert srv.stop()[0] == 0
    srv2 = start("--db", db, "--token", "new", "--admin-token", "adm")
    procs.append(srv2)
    with httpx.Client(base_url=srv2.base, headers={"Authorization": "Bearer new"}, timeout=10) as c:
        r = c.get(f"/Users/{uid}")
        assert r.status_code == 200 and r.json()["userName"] == "keep@x.com"
    with httpx.Client(base_url=srv2.base, headers={"Authorization": "Bearer old"}, timeout=10) as c:
        assert c.get("/Users").status_code == 401  # tokens replaced by the given ones
    with httpx.Client(base_url=srv2.control, headers={"Authorization": "Bearer adm"}, timeout=10) as a:
        assert [e["event"] for e in a.get("/orgs/acme/events").json()["data"]] == ["dsync.user.created"]
    assert srv2.stop()[0] == 0


def test_port_in_use_and_bad_db_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "mock_clockwise", "--port", str(port), "--token", "t",
                            "--admin-token", "a"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and str(port) in r.stderr
    r = subprocess.run([sys.executable, "-m", "mock_clockwise", "--db", str(tmp_path / "no" / "such" / "dir.db")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--db" in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_help_mentions_every_option() -> None:
    r = subprocess.run([sys.executable, "-m", "mock_clockwise", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0
    for option in ("--host", "--port", "--org", "--token", "--admin-token", "--db", "--threshold"):
        assert option in r.stdout


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.5") and not _is_loopback("example.com")


def _children(pid: int) -> list[int]:
    import psutil

    return [p.pid for p in psutil.Process(pid).children()]


def _shm_dirs() -> set[str]:
    return {d for d in os.listdir("/dev/shm") if d.startswith("mock_clockwise-")} if os.path.isdir("/dev/shm") else set()


def test_workers_share_state_replace_a_killed_worker_and_stop_cleanly(procs: list[Running]) -> None:
    before = _shm_dirs()
    srv = start("--workers", "2", "--threads", "2", "--token", "tok-w", "--admin-token", "adm-w")
    procs.append(srv)
    assert any("2 worker processes x 2 threads" in line for line in srv.lines)
    import time

    # The banner comes once the port is bound; the workers are forked right after it.
    deadline = time.monotonic() + 20
    while len(workers := _children(srv.proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) == 2

    def create(n: int) -> int:  # one connection each: spread over both workers by the kernel
        with httpx.Client(base_url=srv.base, headers={"Authorization": "Bearer tok-w"}, timeout=20) as c:
            return c.post("/Users", json={"schemas": [CORE_USER], "userName": f"w{n}@x.com"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(create, range(24))) == [201] * 24
    for _ in range(4):  # every connection, whichever worker answers, sees all of them
        with httpx.Client(base_url=srv.base, headers={"Authorization": "Bearer tok-w"}, timeout=20) as c:
            assert c.get("/Users?count=0").json()["totalResults"] == 24

    # A worker that dies is replaced; the port keeps answering meanwhile.
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 20
    replaced = _children(srv.proc.pid)
    while time.monotonic() < deadline and (workers[0] in replaced or len(replaced) < 2):
        time.sleep(0.1)
        replaced = _children(srv.proc.pid)
    assert len(replaced) == 2 and workers[0] not in replaced
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(create, range(100, 116))) == [201] * 16

    code, _, err = srv.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err
    # The private state file is gone with the server (other mocks on the machine may come and go meanwhile).
    assert not (_shm_dirs() - before)


def test_bad_workers_and_threads_exit_2() -> None:
    for option in ("--workers", "--threads"):
        r = subprocess.run([sys.executable, "-m", "mock_clockwise", option, "0"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 2 and option in r.stderr and "Traceback" not in r.stderr


def test_tls_with_worker_processes_asks_every_client_for_its_certificate(procs: list[Running], tmp_path: Path) -> None:
    # --tls used to force one process (werkzeug); granian's workers serve TLS themselves, mutual TLS included.
    import ssl

    import trustme

    client_ca = trustme.CA()
    client_ca.cert_pem.write_to_path(str(tmp_path / "client-ca.pem"))
    client_ca.issue_cert("client.example").private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    srv = start("--workers", "2", "--tls", "--tls-client-ca", str(tmp_path / "client-ca.pem"),
                "--token", "tok-t", "--admin-token", "adm-t")
    procs.append(srv)
    assert srv.base.startswith("https://") and any("2 worker processes x 1 thread" in line for line in srv.lines)
    server_ca = next(line.split(": ", 1)[1] for line in srv.lines if line.startswith("TLS CA certificate"))
    with_cert = ssl.create_default_context(cafile=server_ca)
    with_cert.load_cert_chain(str(tmp_path / "client.pem"))
    for _ in range(4):  # fresh connections, over both workers
        r = httpx.get(srv.base + "/Users", headers={"Authorization": "Bearer tok-t"}, verify=with_cert, timeout=10)
        assert r.status_code == 200 and r.json()["totalResults"] == 0
    with pytest.raises(httpx.TransportError):  # no client certificate: the handshake is refused
        httpx.get(srv.base + "/Users", headers={"Authorization": "Bearer tok-t"},
                  verify=ssl.create_default_context(cafile=server_ca), timeout=10)
    assert len(_children(srv.proc.pid)) == 2
    code, _, err = srv.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err, err[-2000:]
