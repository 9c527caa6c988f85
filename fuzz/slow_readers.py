"""The fuzz campaign's socket phase: generated requests pipelined by clients that read slowly or never,
against the real mock program on loopback (issue 17, item 9). The invariants: no answer is a 5xx (501 aside), and a
well-behaved client asking meanwhile is served within 1 s.

    python fuzz/slow_readers.py --connections 9 --requests 40 [--seed 1]

Each abusive connection sends its share of hypothesis-generated requests (fuzz/strategies.py) in one
go, then reads 512 bytes every 50 ms (or nothing at all, every third connection); statuses are read
from the bytes it did get. The server is `python -m mock_clockwise` with the oracle's orgs and tokens.
"""
from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from fuzz.oracle import TOKENS  # noqa: E402
from fuzz.strategies import FuzzRequest, fuzz_requests, paths_from_openapi  # noqa: E402

STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
READ_FOR_S = 8.0


class MockProcess:
    """`python -m mock_clockwise` on a free loopback port with the oracle's tokens; stopped by its PID."""

    def __init__(self, workers: int = 3) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_clockwise", "--port", "0", "--workers", str(workers), "--org", "acme",
             "--token", TOKENS["scim"], "--admin-token", TOKENS["admin"]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        assert self.proc.stdout is not None
        self.base = ""
        for line in self.proc.stdout:
            if line.startswith("SCIM base URL: "):
                self.base = line.split(": ", 1)[1].strip()
            if line.startswith("Press Ctrl-C"):
                break
        if not self.base:
            raise RuntimeError(f"the mock did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.port = int(self.base.rsplit(":", 1)[1].split("/", 1)[0])

    def stop(self) -> str:
        """Stop it (SIGTERM, its workers with it); its stderr."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def generate(count: int, seed_value: int | None, scim_paths: list[str], control_paths: list[str]) -> list[FuzzRequest]:
    out: list[FuzzRequest] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(req=fuzz_requests(TOKENS, scim_paths, control_paths))
    def collect(req: FuzzRequest) -> None:
        out.append(req)

    while len(out) < count:
        (seed(seed_value + len(out))(collect) if seed_value is not None else collect)()
    return out[:count]


def _keeps_faults_off(req: FuzzRequest) -> bool:
    # An accepted fault makes later answers 5xx on purpose (as in fuzz/oracle.py, faults stay off).
    return not ("faults" in req.path and req.method.upper() == "PUT")


def wire(req: FuzzRequest, port: int) -> bytes:
    """The request as bytes on a keep-alive connection (Host and Content-Length set here)."""
    target = req.path + (f"?{req.query}" if req.query else "")
    lines = [f"{req.method} {target} HTTP/1.1".encode("latin-1", "replace"), f"Host: 127.0.0.1:{port}".encode()]
    for name, value in req.headers:
        if name.lower() not in (b"host", b"content-length", b"connection", b"transfer-encoding"):
            lines.append(name + b": " + value.replace(b"\r", b"").replace(b"\n", b""))
    body = req.body or b""
    lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _abuse(port: int, requests: list[FuzzRequest], reads: bool, found: Counter[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=READ_FOR_S) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"".join(wire(r, port) for r in requests))
        got = b""
        deadline = time.monotonic() + READ_FOR_S
        while reads and time.monotonic() < deadline:
            try:
                chunk = s.recv(512)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
            time.sleep(0.05)
        if not reads:
            time.sleep(READ_FOR_S)
    for status in STATUS.findall(got):
        # RFC 7644: 501 is the answer for the unsupported Bulk, /Me and root /.search, not a failure.
        found["501" if status == b"501" else status.decode()[0] + "xx"] += 1
        found["answers"] += 1


def _legitimate(base: str, until: float, latencies: list[float], found: Counter[str]) -> None:
    while time.monotonic() < until:
        t0 = time.monotonic()
        try:
            r = httpx.get(base + "/Users?count=1", headers={"Authorization": f"Bearer {TOKENS['scim']}"}, timeout=5)
            found[f"legit {r.status_code // 100}xx"] += 1
        except httpx.TransportError:
            found["legit no answer"] += 1
        latencies.append(time.monotonic() - t0)
        time.sleep(0.2)


def campaign(connections: int, per_connection: int, seed_value: int | None = None) -> dict[str, Any]:
    """Run the phase once; the figures (statuses seen, legitimate latencies, the server's stderr)."""
    mock = MockProcess()
    try:
        doc = httpx.get(mock.base.replace("/scim/v2", "/_mock/openapi.json"),
                        headers={"Authorization": f"Bearer {TOKENS['admin']}"}).json()
        requests = [r for r in generate(connections * per_connection, seed_value, *paths_from_openapi(doc))
                    if _keeps_faults_off(r)]
        found: Counter[str] = Counter()
        latencies: list[float] = []
        threads = [threading.Thread(target=_abuse, args=(mock.port, requests[i::connections], i % 3 != 2, found))
                   for i in range(connections)]
        threads.append(threading.Thread(target=_legitimate, args=(mock.base, time.monotonic() + READ_FOR_S,
                                                                  latencies, found)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        err = mock.stop()
    return {"requests": len(requests), "found": dict(found), "max_latency_s": max(latencies, default=0.0),
            "stderr": err}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=9)
    p.add_argument("--requests", type=int, default=40, help="pipelined requests per connection (default 40)")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    out = campaign(args.connections, args.requests, args.seed)
    found = out["found"]
    print(f"{out['requests']} requests pipelined on {args.connections} slow-reading connections: "
          f"{found.get('answers', 0)} answers read; " + ", ".join(f"{k}: {v}" for k, v in sorted(found.items())))
    print(f"legitimate client: slowest answer {out['max_latency_s'] * 1000:.0f} ms")
    bad = found.get("5xx", 0) + found.get("legit 5xx", 0) + found.get("legit no answer", 0)
    if bad or out["max_latency_s"] >= 1.0 or "Traceback" in out["stderr"]:
        print("VIOLATION: a 5xx, an unanswered or slow legitimate request, or a traceback", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
