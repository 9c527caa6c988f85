"""The serving models: waitress in one process, or N granian worker processes.

`python -m mock_clockwise` (server.py) and the benchmark's bare-Flask ceiling (bench/) both
serve through here, so they run on exactly the same stack.

- One process (`workers == 1`, what `scim-harness run` embeds): waitress with a pool of threads.
  Python's GIL keeps the application on one core however many threads there are.
- Worker processes (`workers > 1`): granian (a Rust HTTP server with a WSGI interface) forks N
  workers; each builds its own WSGI app (its own SQLite connection: a connection must never cross a
  fork), binds the port with SO_REUSEPORT and runs the app in `threads` WSGI threads while granian's
  Rust side does the sockets, HTTP parsing, keep-alive and TLS. Everything that must hold across
  workers lives in the shared SQLite file and its `BEGIN IMMEDIATE` transactions, the control
  plane's faults included (faults.py); each worker journals to its own file in the server's state
  folder and reads them all (journal.py).

Why granian (issue 13, bench/bench_stacks.py: waitress under the home-made pre-fork supervisor this
module held before, gunicorn gthread and granian, in one run, rotating): the lowest server CPU per
request for bare Flask and the mock, the mock closest to its ceiling, and every guarantee below held;
gunicorn's gthread workers read a request in a thread, so 200 half-sent requests stalled every one.
Kept from before: a port in use is refused (reserve_port) before any worker binds, workers die with
their supervisor (`die_with_parent`, run in each worker: a SIGKILL of the supervisor, an OOM killer,
`kill -9`, leaves no worker answering on the port or holding the state folder). granian itself
replaces a worker that dies (and stops, exit 1, when one dies again within 5.5 s of its replacement),
and on SIGINT/SIGTERM stops accepting, lets requests in flight finish, stops the workers (SIGKILL
after WORKERS_KILL_TIMEOUT_S) and returns.

Settings for load (issue 6, "no listen-queue overflows or connection resets at 100 concurrent
clients"): a listen backlog of 2048 (the kernel caps it at net.core.somaxconn), and the queue-depth
warnings waitress logs under load silenced.

Against abusive clients (issue 17, item 9), in one waitress process:
- Idle or half-sent requests cost a connection slot, never a thread (waitress parses in its
  event loop): up to 10,000 open connections per process, polled with poll(2) (select(2) stops at
  descriptor 1024), with the descriptor limit raised to match, so 3,300 of them leave room for
  everyone else; a connection idle for CHANNEL_TIMEOUT_S is closed.
- A client that pipelines large requests and never reads would hold a thread for ever: waitress
  blocks the thread writing a response once the connection has OUTBUF_HIGH_WATERMARK unsent (1 MiB
  here, 16 MiB by default: the lower, the fewer pages an abuser gets built). `StalledClientChannel`
  waits there only while the client keeps reading; after STALLED_S with nothing taken, the connection
  is closed and the thread goes back to work.
granian's workers parse and write in Rust, off the WSGI threads: a slow or non-reading client holds
its own connection only (same tests, tests/mock_clockwise/test_abusive_clients.py); the descriptor
limit is raised for them too and a half-sent request is dropped after granian's 30 s header timeout.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import multiprocessing
import os
import resource
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, Callable

from granian import Granian
from granian.constants import Interfaces, SSLProtocols
from granian.log import LogLevels
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from .tls import ServerTLS

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


def reserve_port(host: str, port: int) -> socket.socket:
    """A bound, not listening, SO_REUSEPORT socket holding `host:port` (port 0: a free port, then known) while
    granian's workers bind it too (on Linux each granian worker binds its own SO_REUSEPORT socket; this one,
    never listening, gets no connection). A port any server listens on is refused first (EADDRINUSE):
    SO_REUSEPORT alone would let the workers join that server's group and split its traffic."""
    if port and not port_is_free(host, port):
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _tls_options(tls: ServerTLS | None) -> dict[str, Any]:
    if tls is None:
        return {}
    # granian reads the key from a file, PKCS#8 only; TLS 1.2 as Python's own default context allows.
    options: dict[str, Any] = {"ssl_cert": Path(tls.cert_file), "ssl_key": Path(tls.write_key()),
                               "ssl_protocol_min": SSLProtocols.tls12}
    if tls.client_ca:
        options.update(ssl_ca=Path(tls.client_ca), ssl_client_verify=True)
    return options


def _worker_loader(make_app: Callable[[], WsgiApp], supervisor: int) -> Callable[[str], WsgiApp]:
    def load(target: str) -> WsgiApp:
        # In the forked worker, before granian sets its own signal handlers: it inherited the supervisor's,
        # which would swallow a stop. Until then SIGTERM ends it at once and SIGINT (the terminal's, sent to
        # the whole group) is left to the supervisor, which then stops every worker.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(supervisor)
        return make_app()

    return load


def _announce_when_listening(host: str, port: int, ready: Callable[[], None]) -> None:
    """Call `ready` once the port accepts a connection (granian's workers bind it after they start)."""
    deadline = time.monotonic() + WORKERS_START_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
            continue
        ready()
        return


class MeasuredWorkerCount(logging.Filter):
    """Drops granian's advice to run no more workers than CPUs: CPUs + 1 is what measured fastest here
    (BENCHMARKS.md), one worker waiting on SQLite while the others compute."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configured number of workers appears to be higher")


# granian's messages (a worker that died, one killed for not stopping) on stderr, named, warnings and up;
# stdout carries only the banner, which clients parse.
GRANIAN_LOGGING: dict[str, Any] = {
    "formatters": {"generic": {"()": "logging.Formatter", "fmt": "mock_clockwise: granian: %(message)s"}},
    "filters": {"measured": {"()": MeasuredWorkerCount}},
    "handlers": {"console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                             "filters": ["measured"]}},
    "loggers": {"_granian": {"handlers": ["console"], "propagate": False}},
}
WORKERS_START_S = 60.0
# A worker that does not stop within this after the supervisor's SIGTERM is killed (granian waits for ever).
WORKERS_KILL_TIMEOUT_S = 10


def serve_workers(make_app: Callable[[], WsgiApp], sock: socket.socket, workers: int, threads: int,
                  tls: ServerTLS | None = None, ready: Callable[[], None] = lambda: None) -> int:
    """granian: `workers` forked worker processes (each builds its own app: no SQLite connection crosses a
    fork) of `threads` WSGI threads each, on `sock`'s address (reserve_port's); over TLS with `tls`. Calls
    `ready` once the port answers. granian replaces a worker that dies, and stops (exit 1) when one dies again
    within 5.5 s of its replacement (a crash loop). Returns 0 after SIGINT/SIGTERM: granian stops accepting,
    lets the requests in flight finish, and stops its workers."""
    host, port = sock.getsockname()[:2]
    raise_descriptor_limit()  # inherited by the workers: thousands of idle connections each
    # Forked, as the supervisor before granian did: the loader is a closure, which spawn (macOS) or forkserver
    # (Python 3.14's default on Linux) would have to pickle.
    multiprocessing.set_start_method("fork", force=True)
    # backpressure: granian holds every open connection against it (default backlog / workers, 682 here), so
    # 3,300 idle half-sent requests left a normal client none (tests/mock_clockwise/test_abusive_clients.py);
    # as waitress's connection_limit. The WSGI threads bound the work in flight anyway.
    server = Granian("mock_clockwise", address=host, port=port, interface=Interfaces.WSGI, workers=workers,
                     blocking_threads=threads, backlog=WAITRESS_OPTIONS["backlog"], backpressure=CONNECTION_LIMIT,
                     respawn_failed_workers=True,
                     workers_kill_timeout=WORKERS_KILL_TIMEOUT_S, log_level=LogLevels.warning,
                     log_dictconfig=GRANIAN_LOGGING, **_tls_options(tls))
    threading.Thread(target=_announce_when_listening, args=(host, port, ready), daemon=True).start()
    try:
        server.serve(target_loader=_worker_loader(make_app, os.getpid()))
    except SystemExit as exc:  # granian's way to say a worker failed
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        sock.close()
    return 0
