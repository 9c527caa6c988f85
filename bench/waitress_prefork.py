"""The waitress pre-fork supervisor the mock served its worker processes with until issue 13 measured granian
(bench/bench_stacks.py) and replaced it: kept here, out of the product, so that the comparison can be run
again. The parent binds one SO_REUSEPORT socket per worker, forks N children, each builds its own WSGI app and
runs waitress (mock_clockwise.prefork.serve_threads) on its socket; the parent replaces a worker that dies and
forwards SIGINT/SIGTERM. Workers die with their supervisor (die_with_parent)."""
from __future__ import annotations

import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any, Callable

from mock_clockwise.prefork import die_with_parent, serve_threads

WsgiApp = Callable[..., Any]

# A worker that could not build its app exits with this status: restarting it would fail the
# same way, so the server stops. Any other death (a crash, a SIGKILL) gets a new worker,
# unless workers keep dying: more than _MAX_RESTARTS within _RESTART_WINDOW_S stops it too.
_START_FAILED = 3
_MAX_RESTARTS = 10
_RESTART_WINDOW_S = 10.0


class _Stop(Exception):
    """Raised by the signal handlers to leave the serving loops."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # waitress's run() shuts its worker threads down on KeyboardInterrupt/SystemExit.
    raise KeyboardInterrupt


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
    parent = os.getpid()
    try:
        pid = os.fork()
        if pid == 0:  # the child never returns into the parent's code
            code = 1
            try:
                die_with_parent(parent)
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


def serve_prefork(make_app: Callable[[], WsgiApp], close_app: Callable[[WsgiApp], None],
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
