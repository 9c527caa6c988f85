"""The probes of bench/bench_stacks.py: what a serving stack guarantees, measured on the mock over loopback.

Each probe starts its own server through `start(*extra_args)` (a benchlib.Server that prints its base URL),
stops it by its process group, and returns (held, what was measured). Nothing here is timed as a pass
mark except where the guarantee is a bound a client feels (a normal client answered within 1 s).
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import httpx
import psutil
import trustme

from benchlib import ADMIN, CORE_USER, TOKEN, Server

Start = Callable[..., Server]
Probe = tuple[bool, str]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _workers(server: Server) -> list[int]:
    """The supervisor's live child processes (zombies not counted)."""
    try:
        return [c.pid for c in psutil.Process(server.proc.pid).children()
                if c.status() != psutil.STATUS_ZOMBIE]
    except psutil.NoSuchProcess:
        return []


def _wait_workers(server: Server, count: int, timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _workers(server)
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    return _workers(server)


def _get_ok(base: str, path: str = "/ServiceProviderConfig", timeout: float = 5.0, **kw: object) -> int:
    try:
        return httpx.get(base + path, headers=AUTH, timeout=timeout, **kw).status_code  # type: ignore[arg-type]
    except httpx.HTTPError:
        return 0


def keep_alive(start: Start, workers: int) -> Probe:
    server = start()
    try:
        u = urlsplit(server.base)
        conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=5)
        ports = set()
        for _ in range(5):
            conn.request("GET", u.path + "/ServiceProviderConfig", headers=AUTH)
            conn.getresponse().read()
            ports.add(conn.sock.getsockname()[1] if conn.sock else None)
        conn.close()
        return ports != {None} and len(ports) == 1, f"5 requests on {len(ports)} connection(s)"
    finally:
        server.stop()


def worker_killed(start: Start, workers: int) -> Probe:
    server = start()
    try:
        before = _wait_workers(server, workers)
        os.kill(before[0], signal.SIGKILL)
        t0, statuses, replaced = time.monotonic(), [], None
        while time.monotonic() - t0 < 10:
            statuses.append(_get_ok(server.base, timeout=2))
            pids = _workers(server)
            if replaced is None and len(pids) >= workers and before[0] not in pids:
                replaced = time.monotonic() - t0
            if replaced is not None and time.monotonic() - t0 > replaced + 1:
                break
            time.sleep(0.1)
        failed = sum(s != 200 for s in statuses)
        last_ok = bool(statuses) and statuses[-1] == 200
        how = f"replaced in {replaced:.1f} s" if replaced is not None else "not replaced in 10 s"
        return replaced is not None and last_ok, f"{how}; {failed} of {len(statuses)} requests failed meanwhile"
    finally:
        server.stop()


def supervisor_killed(start: Start, workers: int) -> Probe:
    server = start()
    try:
        pids = _wait_workers(server, workers)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5 and any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
                                                for p in pids):
            time.sleep(0.05)
        left = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
        answers = _get_ok(server.base, timeout=2)
        for p in left:  # ours to end: the probe started them
            os.kill(p, signal.SIGKILL)
        gone = f"{len(pids)} workers gone in {time.monotonic() - t0:.1f} s" if not left else f"{len(left)} left"
        return not left and answers == 0, f"{gone}; port {'answers' if answers else 'refuses'} after"
    finally:
        server.stop()


def graceful_shutdown(start: Start, workers: int, quick: bool = False) -> Probe:
    # quick (the smoke run): a 1.2 s request, SIGTERM 0.5 s into it, instead of 2 s and 0.7 s.
    latency, wait = (1200, 0.5) if quick else (2000, 0.7)
    server = start()
    try:
        admin = server.base.rsplit("/scim/v2", 1)[0] + "/_mock"
        r = httpx.put(admin + "/faults", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5,
                      json={"faults": [{"method": "GET", "path": "^/Users$", "latency_ms": latency}]})
        r.raise_for_status()
        status: list[int] = []
        slow = threading.Thread(target=lambda: status.append(_get_ok(server.base, "/Users", timeout=15)))
        slow.start()
        time.sleep(wait)
        os.kill(server.proc.pid, signal.SIGTERM)
        slow.join(20)
        code = server.proc.wait(timeout=30)
        got = status[0] if status else None
        return got == 200 and code == 0, f"the slow request got {got or 'no answer'}; exit {code}"
    finally:
        server.stop()


def _seed(base: str) -> str:
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as c:
        for i in range(2):
            c.post("/Users", json={"schemas": [CORE_USER], "userName": f"big{i}@x.test", "title": "x" * 900_000})
        return str(c.post("/Users", json={"schemas": [CORE_USER], "userName": "small@x.test"}).json()["id"])


def slow_clients(start: Start, workers: int, quick: bool = False) -> Probe:
    # quick (the smoke run): the same abusers, the normal client watched for 1.5 s after 0.5 s, not 5 s after 1 s.
    settle, watch = (0.5, 1.5) if quick else (1.0, 5.0)
    server = start()
    abusers: list[socket.socket] = []
    try:
        small = _seed(server.base)
        u = urlsplit(server.base)
        host, port = u.hostname or "127.0.0.1", u.port or 80
        for i in range(200):  # slowloris: a request never finished
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(f"GET /scim/v2/Users HTTP/1.1\r\nHost: {host}\r\nX-Slow-{i}: ".encode())
            abusers.append(s)
        page = f"GET /scim/v2/Users?count=1000 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        for _ in range(9):  # pipelining ~43 MB of pages each, reading none
            s = socket.create_connection((host, port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(page.encode() * 24)
            abusers.append(s)
        time.sleep(settle)
        times, statuses = [], []
        t_end = time.monotonic() + watch
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            statuses.append(_get_ok(server.base, f"/Users/{small}"))
            times.append(time.monotonic() - t0)
            time.sleep(0.2)
        ok = all(s == 200 for s in statuses) and max(times) < 1.0
        return ok, f"normal client: {sum(s == 200 for s in statuses)}/{len(statuses)} answered, max {max(times):.2f} s"
    finally:
        for s in abusers:
            s.close()
        server.stop()


def _line_after(server: Server, prefix: str, timeout: float = 10.0) -> str:
    """The rest of the server's first output line starting with `prefix` (it may come after the banner)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(server.output):
            if line.startswith(prefix):
                return line[len(prefix):]
        time.sleep(0.05)
    raise RuntimeError(f"no line {prefix!r} in the server's output")


def tls(start: Start, workers: int) -> Probe:
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        client_ca = trustme.CA()
        ca_path = Path(tmp, "client-ca.pem")
        client_ca.cert_pem.write_to_path(str(ca_path))
        cert = client_ca.issue_cert("client.example")
        cert_path = Path(tmp, "client.pem")
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
        server = start("--tls", "--tls-client-ca", str(ca_path))
        try:
            server_ca = _line_after(server, "TLS CA certificate (for clients' --ca-bundle): ")
            context = ssl.create_default_context(cafile=server_ca)
            context.load_cert_chain(str(cert_path))
            with_cert = _get_ok(server.base, verify=context)
            without = _get_ok(server.base, verify=server_ca)
            serving = len(_workers(server)) or 1
            ok = with_cert == 200 and without == 0
            return ok, (f"client cert {with_cert}, none {'refused' if without == 0 else without}; "
                        f"{serving} process(es) serving")
        finally:
            server.stop()


def port_in_use(start: Start, workers: int) -> Probe:
    first = start()
    try:
        port = urlsplit(first.base).port
        try:
            second = start("--port", str(port))
        except RuntimeError as exc:
            second = None
            message = str(exc)
        if second is not None:
            second.stop()
            return False, "a second server started on the held port"
        exit_code = message.split("(exit ", 1)[-1].split(")", 1)[0]
        lines = [x for x in message.split("): ", 1)[-1].split(" | ") if x.strip()]
        ok = first.proc.poll() is None and exit_code == "2" and len(lines) == 1 and "in use" in lines[0]
        return ok, f"second server: exit {exit_code}, {len(lines)} line(s): {lines[-1][:60] if lines else ''}"
    finally:
        first.stop()


PROBES: dict[str, Callable[[Start, int], Probe]] = {
    "keep-alive": keep_alive, "SIGKILLed worker replaced": worker_killed,
    "SIGKILLed supervisor takes its workers": supervisor_killed, "graceful shutdown (SIGTERM)": graceful_shutdown,
    "slow clients": slow_clients, "TLS + client certificate": tls, "port in use": port_in_use}


QUICKER = (graceful_shutdown, slow_clients)  # the probes that take `quick`: shorter waits, same checks


def run_probes(start: Start, workers: int, quick: bool = False) -> dict[str, Probe]:
    """Every probe of PROBES; `quick` (the smoke run) shortens the waits of QUICKER."""
    out: dict[str, Probe] = {}
    for name, probe in PROBES.items():
        try:
            out[name] = probe(start, workers, quick) if quick and probe in QUICKER else probe(start, workers)
        except (OSError, RuntimeError, httpx.HTTPError, subprocess.TimeoutExpired, StopIteration) as exc:
            out[name] = (False, f"{type(exc).__name__}: {str(exc)[:80]}")
    return out
