"""Shared pieces of the benchmarks: starting servers, running locust, counting CPU.

Every server runs as its own process group on 127.0.0.1 and is stopped by whoever started
it. CPU is counted from the kernel's accounting (psutil / wait4), so each run can say how
much of the machine went to the server, to the load generator, and to anything else.
"""
from __future__ import annotations

import csv
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
LOCUSTFILE = REPO / "scenarios" / "locustfile.py"
PY = sys.executable
TOKEN = "bench-scim-token"
ADMIN = "bench-admin-token"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process (and its workers) under test."""

    name: str
    proc: subprocess.Popen[str]
    base: str
    output: list[str] = field(default_factory=list)

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.tree():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_bytes(self) -> int:
        total = 0
        for p in self.tree():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_banner_server(name: str, cmd: list[str], timeout: float = 60.0) -> Server:
    """Start a program that prints `SCIM base URL: ...` when it is ready (the mock, the ceiling)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True, cwd=REPO, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            del output[:-50]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        if line.startswith("SCIM base URL:"):
            return Server(name, proc, line.split(":", 1)[1].strip(), output)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    code = proc.wait(timeout=10)
    raise RuntimeError(f"{name} did not start (exit {code}): {' | '.join(output[-5:])}")


def default_workers() -> int:
    """The serving model `scim-harness load` gives the embedded mock: CPUs + 1 worker processes."""
    return (os.cpu_count() or 1) + 1


def default_threads(workers: int) -> int:
    """`python -m mock_clockwise`'s default: 4 threads in one process, 1 per worker process."""
    return 4 if workers == 1 else 1


def start_mock(workers: int, threads: int | None = None) -> Server:
    threads = threads or default_threads(workers)
    return start_banner_server(f"mock ({serving(workers, threads)})", [
        PY, "-m", "mock_clockwise", "--port", "0", "--token", TOKEN, "--admin-token", ADMIN,
        "--workers", str(workers), "--threads", str(threads)])


def start_bare(workers: int, threads: int | None = None) -> Server:
    threads = threads or default_threads(workers)
    return start_banner_server(f"bare Flask ({serving(workers, threads)})", [
        PY, str(BENCH / "bare_flask.py"), "--port", "0", "--workers", str(workers), "--threads", str(threads)])


def start_scim2_server(executable: str, timeout: float = 60.0) -> Server:
    port = free_port()
    proc = subprocess.Popen([executable, "--port", str(port), "--bearer-token", TOKEN], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"  # scim2-server serves SCIM at the root
    server = Server("scim2-server", proc, base)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/ServiceProviderConfig", headers={"Authorization": f"Bearer {TOKEN}"},
                         timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"scim2-server did not start on port {port}")


def serving(workers: int, threads: int) -> str:
    return (f"{workers} granian workers x {threads} thread{'s' if threads > 1 else ''}" if workers > 1
            else f"1 waitress process, {threads} threads")


def warm_up(base: str, users: int, clients: int = 4) -> None:
    """Create `users` users first, so every target starts from the same state (an import then
    pages through 5 full pages, as it does against a populated org)."""
    def work(n: int) -> None:
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            for i in range(n, users, clients):
                login = f"warm.{i}@example.com"
                c.post("/Users", json={"schemas": [CORE_USER], "userName": login, "active": True,
                                       "emails": [{"value": login, "primary": True, "type": "work"}]})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@dataclass
class LoadResult:
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    server_cpu_s: float
    locust_cpu_s: float
    other_cpu_s: float
    wall_s: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _machine_busy_s() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0))


def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.15, sample_s: float = 2.0) -> float:
    """Wait (at most `max_wait_s`) until the rest of the machine uses less than `threshold_cores`
    of CPU over `sample_s`: a shared machine's background load would land on one target only.
    Returns the background load (in cores) of the last sample."""
    deadline = time.monotonic() + max_wait_s
    while True:
        busy_before, t0 = _machine_busy_s(), time.monotonic()
        time.sleep(sample_s)
        load = (_machine_busy_s() - busy_before) / (time.monotonic() - t0)
        if load < threshold_cores or time.monotonic() >= deadline:
            return load


def run_locust(server: Server, users: int, duration_s: int, csv_prefix: Path, spawn_rate: int | None = None,
               extra_env: dict[str, str] | None = None) -> LoadResult:
    """The Okta mix (scenarios/locustfile.py) against `server`, headless, one locust process."""
    cmd = [PY, "-m", "locust", "-f", str(LOCUSTFILE), "--host", server.base, "--headless", "-u", str(users),
           "-r", str(spawn_rate or users), "-t", f"{duration_s}s", "--csv", str(csv_prefix), "--only-summary",
           "--stop-timeout", "2", "--loglevel", "WARNING"]
    env = dict(os.environ, SCIM_TOKEN=TOKEN, **(extra_env or {}))
    server_before, busy_before, t0 = server.cpu_seconds(), _machine_busy_s(), time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    server_cpu = server.cpu_seconds() - server_before
    busy = _machine_busy_s() - busy_before
    locust_cpu = usage.ru_utime + usage.ru_stime
    stats_file = Path(f"{csv_prefix}_stats.csv")
    if not stats_file.exists():
        raise RuntimeError(f"locust wrote no statistics (exit {proc.returncode}): {err[-500:]}")
    with open(stats_file, newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return LoadResult(requests=int(row["Request Count"]), failures=int(row["Failure Count"]),
                      rps=locust_figure(row["Requests/s"]), p50=locust_figure(row["50%"]), p95=locust_figure(row["95%"]),
                      p99=locust_figure(row["99%"]), server_cpu_s=server_cpu, locust_cpu_s=locust_cpu,
                      other_cpu_s=max(0.0, busy - server_cpu - locust_cpu), wall_s=wall)


def locust_figure(text: str) -> float:
    """A figure of locust's CSV; NaN for its "N/A" (nothing was measured), which no verdict then passes."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def find_scim2_server(explicit: str | None) -> str | None:
    """--scim2-server, else $SCIM2_SERVER, else on PATH, else /tmp/othervenv/bin/scim2-server."""
    import shutil

    for candidate in (explicit, os.environ.get("SCIM2_SERVER"), shutil.which("scim2-server"),
                      "/tmp/othervenv/bin/scim2-server"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None
