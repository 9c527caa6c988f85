"""The mock or the bare-Flask ceiling on a WSGI stack other than the mock's own (granian), for
bench/bench_stacks.py: gunicorn (gthread workers) or the waitress pre-fork supervisor the mock used
before (bench/waitress_prefork.py).

Each worker process builds its own app after the fork (no SQLite connection crosses a fork); the
mock's workers share one SQLite file and the control plane's state folder (faults, journal), made
as `python -m mock_clockwise` makes them (server.py). Prints `SCIM base URL: ...` once listening,
like the mock; a port in use is one line and exit 2; stops on SIGINT/SIGTERM.

    python bench/stack_server.py {gunicorn,waitress} {mock,bare} [--port 0] [--workers N] [--threads N]
                                 [--tls [--tls-client-ca PEM]]   (gunicorn only: waitress speaks no TLS)

Tokens: benchlib's (the mock's org `acme`; bare Flask takes any).
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import ssl
import sys
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_flask  # noqa: E402
from benchlib import ADMIN, TOKEN  # noqa: E402
from waitress_prefork import serve_prefork  # noqa: E402

from mock_clockwise.app import create_app  # noqa: E402
from mock_clockwise.prefork import WAITRESS_OPTIONS, die_with_parent, listen_sockets  # noqa: E402
from mock_clockwise.server import make_state_dir  # noqa: E402
from mock_clockwise.tls import ServerTLS, server_tls  # noqa: E402

WsgiApp = Callable[..., Any]


def mock_factory() -> tuple[Callable[[], WsgiApp], Callable[[], None]]:
    """The mock's app factory for each worker, and the clean-up of its state folder."""
    state, lock_fd = make_state_dir()
    config: dict[str, Any] = {"ORGS": [{"name": "acme", "tokens": [TOKEN], "threshold": 10}],
                              "ADMIN_TOKEN": ADMIN, "DB_PATH": os.path.join(state, "state.sqlite3"),
                              "STATE_DIR": state}
    first = create_app(config)  # the schema and the org exist before any worker starts
    first.extensions["mock_clockwise"].faults.clear()
    first.extensions["mock_clockwise"].close()

    def cleanup() -> None:
        shutil.rmtree(state, ignore_errors=True)
        os.close(lock_fd)

    return (lambda: create_app(config)), cleanup


def serve_gunicorn(make_app: Callable[[], WsgiApp], sock: socket.socket, workers: int, threads: int,
                   tls: ServerTLS | None) -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.sock import TCPSocket

    supervisor = os.getpid()

    class Application(BaseApplication):  # gunicorn's documented embedding ("Custom Application")
        def load_config(self) -> None:
            host, port = sock.getsockname()[:2]
            options: dict[str, Any] = {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                "loglevel": "warning", "backlog": WAITRESS_OPTIONS["backlog"], "control_socket_disable": True,
                "post_fork": lambda server, worker: die_with_parent(supervisor)}
            if tls is not None:
                options.update(certfile=tls.cert_file, keyfile=tls.write_key(), ca_certs=tls.client_ca,
                               cert_reqs=ssl.CERT_REQUIRED if tls.client_ca else ssl.CERT_NONE)
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WsgiApp:
            return make_app()

    app = Application()
    arbiter = Arbiter(app)
    arbiter.LISTENERS = [TCPSocket(sock.getsockname()[:2], app.cfg, arbiter.log, fd=sock.detach())]
    try:
        arbiter.run()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stack", choices=("gunicorn", "waitress"))
    p.add_argument("app", choices=("mock", "bare"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--tls-client-ca", metavar="PEM")
    args = p.parse_args(argv)
    if args.tls and args.stack == "waitress":
        print("stack_server: error: waitress speaks no TLS", file=sys.stderr, flush=True)
        return 2
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    make_app: Callable[[], WsgiApp] = bare_flask.create_app
    if args.app == "mock":
        make_app, cleanup = mock_factory()
    tls = server_tls(args.host, args.tls_client_ca) if args.tls else None
    try:
        try:
            socks = listen_sockets(args.host, args.port, args.workers if args.stack == "waitress" else 1)
        except OSError as exc:  # as the mock: one line, exit 2
            print(f"stack_server: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                  file=sys.stderr, flush=True)
            return 2
        print(f"SCIM base URL: {'https' if tls else 'http'}://{args.host}:{socks[0].getsockname()[1]}/scim/v2")
        if tls:
            print(f"TLS CA certificate (for clients' --ca-bundle): {tls.ca_file}")
        sys.stdout.flush()
        if args.stack == "waitress":
            return serve_prefork(make_app, lambda app: None, socks, args.threads)
        return serve_gunicorn(make_app, socks[0], args.workers, args.threads, tls)
    finally:
        cleanup()
        if tls:
            tls.close()


if __name__ == "__main__":
    sys.exit(main())
