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
and the queue-depth warnings waitress logs under load silenced.

Against abusive clients (issue 17, item 9):
- Idle or half-sent requests cost a connection slot, never a thread (waitress parses in its
  event loop): up to 10,000 open connections per process, polled with poll(2) (select(2) stops at
  descriptor 1024), with the descriptor limit raised to match, so 3,300 of them leave room for
  everyone else; a connection idle for CHANNEL_TIMEOUT_S is closed.
- A client that pipelines large requests and never reads would hold a thread for ever: waitress
  blocks the thread writing a response once the connection has OUTBUF_HIGH_WATERMARK unsent (1 MiB
  here, 16 MiB by default: the lower, the fewer pages an abuser gets built). `StalledClientChannel`
  waits there only while the client keeps reading; after STALLED_S with nothing taken, the connection
  is closed and the thread goes back to work.
- Workers die with their supervisor (`die_with_parent`): a SIGKILL of the supervisor (an OOM killer,
  `kill -9`) leaves no worker answering on the port or holding the state.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import resource
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any, Callable

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

WsgiApp = Callable[..., Any]

# waitress adjustments shared by every serving mode.
CONNECTION_LIMIT = 10_000
CHANNEL_TIMEOUT_S = 60
STALLED_S = 0.1  # pipelining clients only (see OUTBUF_HIGH_WATERMARK): no byte taken for 100 ms
# waitress: 16 MiB. It is checked before each write of a response and before the next pipelined request,
# so one response (Flask writes its body at once) never waits, whatever its size: only a client that
# pipelines does, and with 1 MiB it gets one large page built, not a dozen, before the wait.
OUTBUF_HIGH_WATERMARK = 1024 * 1024
WAITRESS_OPTIONS: dict[str, Any] = {
    "outbuf_high_watermark": OUTBUF_HIGH_WATERMARK,
    "backlog": 2048,
    "connection_limit": CONNECTION_LIMIT,
    "asyncore_use_poll": True,
    "channel_timeout": CHANNEL_TIMEOUT_S,
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


class StalledClientChannel(HTTPChannel):
    """waitress's channel, except that a response thread waiting for the client to read (1 MiB unsent)
    gives up once the client has taken nothing for STALLED_S: the connection is closed, the thread freed.
    (waitress waits for ever: nine connections pipelining large GETs and never reading stalled every
    worker.) A client that reads, however slowly, makes progress and is waited for."""

    def _flush_outbufs_below_high_watermark(self) -> None:
        if self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return
        with self.outbuf_lock:
            _, exception = self._flush_exception(self._flush_some, do_close=False)
            if exception:  # as waitress: let the main loop decide, then return
                self.server.pull_trigger()
                self.outbuf_lock.wait()
                return
            while self.connected and self.total_outbufs_len > self.adj.outbuf_high_watermark:
                if time.time() - self.last_activity > STALLED_S:  # last_activity: the last bytes sent or read
                    self._give_up()
                    return
                self.server.pull_trigger()
                self.outbuf_lock.wait(0.05)

    def _give_up(self) -> None:
        """Have the event loop close the connection, and wait (briefly) until it has: waitress then
        serves no further pipelined request on it, and a write raises ClientDisconnected. The socket is
        shut down first: a client that reads nothing leaves it never writable, so the loop, which closes
        a connection when it can write to it, would otherwise never look at it again."""
        self.will_close = True
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 1.0
        while self.connected and time.monotonic() < deadline:
            self.server.pull_trigger()
            self.outbuf_lock.wait(0.05)  # handle_close notifies


class AbuseTolerantServer(TcpWSGIServer):
    """waitress's TCP server with StalledClientChannel, accepting up to ACCEPT_BATCH waiting connections
    per wake-up instead of one: each turn of waitress's loop polls every open connection, so with
    thousands of idle ones, one accept per turn left a new client minutes in the listen queue."""

    channel_class = StalledClientChannel

    def handle_accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                accepted = self.accept()
                if accepted is None:
                    return
                conn, addr = accepted
                self.set_socket_options(conn)
            except OSError:
                return  # as waitress: a connection gone before it was set up
            self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)


ACCEPT_BATCH = 256


def make_server(app: WsgiApp, sock: socket.socket, threads: int) -> AbuseTolerantServer:
    """What waitress.create_server builds for one TCP socket, with AbuseTolerantServer."""
    adj = Adjustments(sockets=[sock], threads=threads, **WAITRESS_OPTIONS)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    return AbuseTolerantServer(app, {}, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=False,
                               sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))


def raise_descriptor_limit(wanted: int = CONNECTION_LIMIT + 256) -> None:
    """The soft limit on open descriptors raised towards `wanted` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def die_with_parent(parent: int) -> None:
    """In a forked worker: SIGKILL when the supervisor dies (Linux PR_SET_PDEATHSIG through ctypes),
    and exit at once when it is already gone. Elsewhere the supervisor's SIGTERM is the only stop."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the prctl
        os._exit(0)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def port_is_free(host: str, port: int) -> bool:
    """Whether `host:port` can be bound by a socket that does not share (no SO_REUSEPORT): False when
    any server listens there, a group of SO_REUSEPORT workers included."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def listen_sockets(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """`count` listening TCP sockets on one address (IPv6 when the host is an IPv6 address).

    With several, they share the port through SO_REUSEPORT and the kernel spreads new
    connections over them evenly, one socket per worker (a single shared socket lets
    whichever worker wakes first take most of the keep-alive connections).
    """
    # SO_REUSEPORT would let these sockets join another server's group on the port, splitting traffic
    # between two unrelated servers: the port must be free first (port 0 always is).
    if count > 1 and port and not port_is_free(host, port):
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
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
    raise_descriptor_limit()
    server = make_server(app, sock, threads)
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
