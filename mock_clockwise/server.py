"""The mock as a program: `python -m mock_clockwise [options]` (also `scim-harness serve`).

Serves the app on waitress (a real, threaded WSGI server), prints the SCIM base URL and the
control-plane URL (and any generated tokens), and stops cleanly on SIGINT/SIGTERM (exit 0).
A port in use or an unusable --db is a one-line error on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
from typing import Any, Sequence

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        # `scim-harness serve` runs this program and names itself through MOCK_CLOCKWISE_PROG.
        prog=os.environ.get("MOCK_CLOCKWISE_PROG", "python -m mock_clockwise"),
        description="Mock Clockwise SCIM 2.0 service provider (bearer-token SCIM under /scim/v2, "
                    "control plane under /_mock).")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; the mock has no TLS, so binding a "
                        "non-loopback address prints a warning)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free port)")
    p.add_argument("--org", default="acme", help="name of the organization created at start (default acme)")
    p.add_argument("--token", action="append", default=None, metavar="TOKEN",
                   help="SCIM bearer token of the org; repeat for a second token (rotation). "
                        "Default: a random token, printed at start")
    p.add_argument("--admin-token", default=None, metavar="TOKEN",
                   help="bearer token of the control plane /_mock (default: random, printed at start)")
    p.add_argument("--db", default=None, metavar="PATH",
                   help="keep all state in this SQLite file (survives restarts); default: in memory")
    p.add_argument("--threshold", type=int, default=10,
                   help="active SCIM users at which the org switches from trial to synced mode (default 10)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes sharing one SQLite database (default 1). With more than one, "
                        "the control plane's journal and faults are per worker process")
    p.add_argument("--threads", type=int, default=None,
                   help="waitress threads per process (default: 4 with one process, 1 per worker process; "
                        "measured fastest under load, see BENCHMARKS.md)")
    return p


def default_threads(workers: int) -> int:
    # Measured (BENCHMARKS.md): with the GIL, threads of one process compete; one process does
    # best with 4, and worker processes with a single thread each.
    return 4 if workers == 1 else 1


def _fail(message: str) -> int:
    print(f"mock_clockwise: error: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        return _fail(f"--port must be 0-65535, got {args.port}")
    if args.threads is None:
        args.threads = default_threads(args.workers)
    if args.workers < 1 or args.threads < 1:
        return _fail("--workers and --threads must be at least 1")
    if args.threshold < 1:
        return _fail("--threshold must be at least 1")
    if args.token is not None and (len(args.token) > 2 or not all(t.strip() for t in args.token)):
        return _fail("give one or two non-empty --token values")

    generated: list[str] = []
    tokens = args.token
    if not tokens:
        tokens = [secrets.token_urlsafe(32)]
        generated.append(f"SCIM token (org {args.org}): {tokens[0]}")
    admin_token = args.admin_token
    if not admin_token:
        admin_token = secrets.token_urlsafe(32)
        generated.append(f"Admin token: {admin_token}")
    if admin_token in tokens:
        return _fail("--admin-token must differ from the SCIM --token values")

    tmpdir = None
    db_path = args.db
    if args.workers > 1 and not db_path:
        # Worker processes share their state through one SQLite file: without --db, a
        # private temporary one that is removed at exit (the state is as ephemeral as
        # :memory:). On tmpfs when there is one: its fsync is free, so a WAL checkpoint
        # never stalls the writers on a disk.
        shm = "/dev/shm"
        tmpdir = tempfile.mkdtemp(prefix="mock_clockwise-",
                                  dir=shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None)
        db_path = os.path.join(tmpdir, "state.sqlite3")
    config: dict[str, Any] = {"ORGS": [{"name": args.org, "tokens": tokens, "threshold": args.threshold}],
                              "ADMIN_TOKEN": admin_token, "DB_PATH": db_path}
    try:
        return _serve(args, config, generated)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _close(app: Any) -> None:
    app.extensions["mock_clockwise"].store.close()


def _serve(args: argparse.Namespace, config: dict[str, Any], generated: list[str]) -> int:
    from .app import create_app
    from .errors import ScimError
    from .prefork import listen_sockets, serve_threads, serve_workers

    try:
        # Built in this process first, so a bad --db or org is reported before anything
        # listens (and the schema and start orgs exist before any worker forks).
        app = create_app(config)
    except sqlite3.Error as exc:
        return _fail(f"cannot use --db {args.db!r}: {exc}")
    except ScimError as exc:
        return _fail(exc.detail)
    try:
        socks = listen_sockets(args.host, args.port, args.workers)
    except OSError as exc:
        _close(app)
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")

    port = socks[0].getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{shown}:{port}"
    if not _is_loopback(args.host):
        print(f"mock_clockwise: warning: listening on {args.host}, a non-loopback address, without TLS; "
              "bearer tokens travel in clear text", file=sys.stderr, flush=True)
    serving = (f"{args.workers} worker processes x {args.threads} threads" if args.workers > 1
               else f"{args.threads} threads")
    where = ("db " + args.db if args.db else
             "in-memory state" if args.workers == 1 else "state in a temporary file shared by the workers")
    print(f"Mock Clockwise (org {args.org}, threshold {args.threshold}, {where}, {serving})")
    print(f"SCIM base URL: {base}/scim/v2")
    print(f"Control plane: {base}/_mock")
    for line in generated:
        print(line)
    print("Press Ctrl-C to stop.", flush=True)

    code = 0
    if args.workers > 1:
        _close(app)  # no SQLite connection may cross the fork: each worker opens its own
        code = serve_workers(lambda: create_app(config), _close, socks, args.threads)
    else:
        try:
            serve_threads(app, socks[0], args.threads)
        finally:
            _close(app)
    print("mock_clockwise: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
