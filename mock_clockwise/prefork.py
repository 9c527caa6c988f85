"""The serving model: waitress in one process, or N forked waitress worker processes.

`python -m mock_clockwise` (server.py) and the benchmark's bare-Flask ceiling (bench/) both
serve through here, so they run on exactly the same stack.

- One process (`workers == 1`): waitress with a pool of threads. Python's GIL keeps the
  application on one core however many threads there are.
- Pre-fork (`workers > 1`): the parent binds the listening socket, forks N children, and
  each child builds its own WSGI app (its own SQLite connection: a connection must never
  cross a fork) and runs waitress on the inherited socket; the kernel hands each new
  connection to one of them. The parent only supervises: it forwards SIGINT/SIGTERM,
  replaces a worker that dies, and exits 0 when all have stopped. Everything that must hold
  across workers lives in the shared SQLite file and its `BEGIN IMMEDIATE` transactions,
  the control plane's faults included (faults.py); each worker journals to its own file in
  the server's state folder and reads them all (journal.py).

Waitress settings for load (issue 6, "no listen-queue overflows or connection resets at 100
concurrent clients"): a listen backlog of 2048 (the kernel caps it at net.core.somaxconn),
up to 1000 open connections per process (waitress's default of 100 would make the 101st
keep-alive client wait for a free slot), and the queue-depth warnings waitress logs under
load silenced.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any, Callable

from waitress import create_server

WsgiApp = Callable[..., Any]

# waitress adjustments shared by every serving mode.
WAITRESS_OPTIONS: dict[str, Any] = {
    "backlog": 2048,
    "connection_limit": 1000,
    "channel_timeout": 120,
    "ident": "mock_clockwise",
}

# A worker that could not build its app exits with this status: restarting it would fail the
# same way, so the server stops. Any other death (a crash, a SIGKILL) gets a new worker,
# unless workers keep dying: more than _MAX_RESTARTS within _RESTART_WINDOW_S stops it too.
_START_FAILED = 3
_MAX_RESTARTS = 10
_RESTART_WINDOW_S = 10.0


class _Stop(Exception):
    """Raised by the signal handlers to leave the serving loops."""


def quiet_waitress() -> None:
    # waitress warns "Task queue depth is N" whenever requests wait for a thread: expected
    # under load and noise in a load test's output.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def listen_sockets(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """`count` listening TCP sockets on one address (IPv6 when the host is an IPv6 address).

    With several, they share the port through SO_REUSEPORT and the kernel spreads new
    connections over them evenly, one socket per worker (a single shared socket lets
    whichever worker wakes first take most of the keep-alive connections).
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            address = sock.getsockname()  # port 0: the others join the port the first one got
            sock.listen(WAITRESS_OPTIONS["backlog"])
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # waitress's run() shuts its worker threads down on KeyboardInterrupt/SystemExit.
    raise KeyboardInterrupt


def serve_threads(app: WsgiApp, sock: socket.socket, threads: int) -> None:
    """Serve `app` on `sock` in this process until SIGINT/SIGTERM."""
    quiet_waitress()
    server = create_server(app, sockets=[sock], threads=threads, **WAITRESS_OPTIONS)
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.close()


def _worker(make_app: Callable[[], WsgiApp], close_app: Callable[[WsgiApp], None], sock: socket.socket,
            threads: int) -> int:
    """The body of one forked worker (its signal handlers already set); returns its exit status."""
    app = None
    try:
        app = make_app()
    except Exception as exc:  # a worker must not print a traceback; say what failed
        print(f"mock_clockwise: worker {os.getpid()} could not start: {type(exc).__name__}: {exc}",
              file=sys.stderr, flush=True)
        return _START_FAILED
    try:
        serve_threads(app, sock, threads)
        return 0
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        print(f"mock_clockwise: worker {os.getpid()} failed: {type(exc).__name__}: {exc}", file=sys.stderr,
              flush=True)
        return 1
    finally:
        if app is not None:
            close_app(app)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _fork_worker(make_app: Callable[[], WsgiApp], close_app: Callable[[WsgiApp], None],
                 socks: list[socket.socket], index: int, threads: int, children: dict[int, int]) -> None:
    """Fork the worker of `socks[index]` and record it in `children` (pid -> socket index).

    SIGINT/SIGTERM are blocked from just before the fork until the child is recorded (in the parent)
    or has its own handlers (in the child): a stop signal arriving during the fork would otherwise run
    its handler inside an at-fork hook (logging registers one), where the exception it raises is
    ignored, so the stop would be lost, or it would stop the parent before it knew the new child's pid.
    """
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        pid = os.fork()
        if pid == 0:  # the child never returns into the parent's code
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # until the app exists; the parent will SIGTERM us
                signal.signal(signal.SIGTERM, _raise_interrupt)
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                for i, other in enumerate(socks):
                    if i != index:
                        other.close()
                code = _worker(make_app, close_app, socks[index], threads)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = index
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def serve_workers(make_app: Callable[[], WsgiApp], close_app: Callable[[WsgiApp], None],
                  socks: list[socket.socket], threads: int) -> int:
    """Fork one worker process per socket; supervise them until SIGINT/SIGTERM.

    The parent keeps every socket open, so connections waiting in a dead worker's queue are
    served by its replacement instead of being reset. Returns 0 after a clean stop, 1 when a
    worker failed right after its start.
    """
    children: dict[int, int] = {}  # pid -> socket index
    restarts: list[float] = []
    failed = False
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        for index in range(len(socks)):
            _fork_worker(make_app, close_app, socks, index, threads, children)
        while children:
            pid, status = os.wait()
            if pid not in children:
                continue
            index = children.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < _RESTART_WINDOW_S] + [now]
            if code == _START_FAILED or len(restarts) > _MAX_RESTARTS:
                failed = True
                break
            how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
            print(f"mock_clockwise: worker {pid} {how}; starting a new one", file=sys.stderr, flush=True)
            _fork_worker(make_app, close_app, socks, index, threads, children)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_children(list(children))
        for sock in socks:
            sock.close()
    return 1 if failed else 0


def _stop_children(children: list[int], timeout: float = 15.0) -> None:
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    pending = set(children)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.05)
    for pid in pending:  # a worker that ignores SIGTERM is killed
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
