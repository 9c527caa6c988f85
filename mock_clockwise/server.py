"""The mock as a program: `python -m mock_clockwise [options]` (also `scim-harness serve`).

Prints the SCIM base URL and the control-plane URL (and any generated tokens) once it answers, and
stops cleanly on SIGINT/SIGTERM (exit 0). A port in use or an unusable --db is a one-line error on
stderr and exit 2.

Serving model (measured, BENCHMARKS.md and bench/bench_stacks.py; see prefork.py): by default CPUs + 1
granian worker processes of one thread each, sharing one SQLite file and a private state folder
through which the control plane's faults and journal are shared too, over TLS too with `--tls`;
`--workers 1` is one waitress process with 4 threads and all state in memory (werkzeug's threaded
server with `--tls`), what `scim-harness run` embeds.
"""
from __future__ import annotations

import argparse
import fcntl
import ipaddress
import os
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
from typing import Any, Sequence

from .identifiers import ORG_NAME_RULE, token_problem, valid_org_name

AUTH_MODES = ("bearer", "basic", "header", "oauth2-client-credentials", "oauth2-refresh")  # auth_store.MODES
EXIT_USAGE = 2
# Measured fastest (BENCHMARKS.md): one single-threaded worker process per core, plus one.
DEFAULT_WORKERS = (os.cpu_count() or 1) + 1
STATE_PREFIX = "mock_clockwise-"
_STATE_LOCK = "server.lock"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        # `scim-harness serve` runs this program and names itself through MOCK_CLOCKWISE_PROG.
        prog=os.environ.get("MOCK_CLOCKWISE_PROG", "python -m mock_clockwise"),
        description="Mock Clockwise SCIM 2.0 service provider (bearer-token SCIM under /scim/v2, "
                    "control plane under /_mock).")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; binding a non-loopback address without --tls "
                        "prints a warning)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free port)")
    p.add_argument("--org", default="acme", help="name of the organization created at start (default acme)")
    p.add_argument("--token", action="append", default=None, metavar="TOKEN",
                   help="SCIM bearer token of the org; repeat for a second token (rotation). "
                        "Default: a random token, printed at start")
    p.add_argument("--admin-token", default=None, metavar="TOKEN",
                   help="bearer token of the control plane /_mock (default: random, printed at start)")
    p.add_argument("--db", default=None, metavar="PATH",
                   help="keep all state in this SQLite file (survives restarts; the journal and faults do "
                        "not); default: a temporary file removed at exit, or memory with --workers 1")
    p.add_argument("--threshold", type=int, default=10,
                   help="active SCIM users at which the org switches from trial to synced mode (default 10)")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"worker processes sharing one SQLite database and the control plane's faults and "
                        f"journal (default: CPUs + 1 = {DEFAULT_WORKERS}); 1 is a single process whose "
                        "journal and faults live in its memory")
    p.add_argument("--threads", type=int, default=None,
                   help="WSGI threads per process (default: 4 with one process, 1 per worker process; "
                        "measured fastest under load, see BENCHMARKS.md)")
    auth = p.add_argument_group("auth mode of the org and TLS (README: Authentication and TLS)")
    auth.add_argument("--auth", choices=AUTH_MODES, default="bearer",
                      help="how the org's SCIM requests authenticate (default bearer); the secret of every mode "
                           "is the (first) --token: the Basic password, the header's value, the OAuth client "
                           "secret, or the OAuth refresh token")
    auth.add_argument("--auth-user", metavar="USER", help="basic: the user name (default scim)")
    auth.add_argument("--auth-header", metavar="NAME", help="header: the header's name (default X-API-Key)")
    auth.add_argument("--client-id", metavar="ID", help="oauth2-*: the client id (default scim-harness)")
    auth.add_argument("--token-lifetime", type=int, default=3600, metavar="S",
                      help="oauth2-*: seconds an access token lives (default 3600)")
    auth.add_argument("--tls", action="store_true",
                      help="serve HTTPS with a certificate from a CA generated at start; the CA file is printed")
    auth.add_argument("--tls-client-ca", metavar="PEM",
                      help="with --tls: require a client certificate signed by this CA (mutual TLS)")
    return p


def org_auth(args: argparse.Namespace, secret: str) -> dict[str, Any] | None:
    """The start org's auth (mock_clockwise.auth_store.validate_auth's shape), None for bearer."""
    if args.auth == "bearer":
        return None
    return {"mode": args.auth, "secret": secret, "username": args.auth_user or "scim",
            "header": args.auth_header or "X-API-Key", "client_id": args.client_id or "scim-harness",
            "lifetime": args.token_lifetime}


def _serving(args: argparse.Namespace) -> str:
    threads = f"{args.threads} thread{'s' if args.threads > 1 else ''}"
    return (f"{args.workers} worker processes x {threads}; faults and journal shared by the workers; granian"
            if args.workers > 1 else f"1 process x {threads}")


def _auth_lines(args: argparse.Namespace, base: str, tls: Any) -> list[str]:
    lines = [f"TLS CA certificate (for clients' --ca-bundle): {tls.ca_file}"] if tls is not None else []
    if args.auth != "bearer":
        url = f"; token URL: {base}/oauth2/token" if args.auth.startswith("oauth2-") else ""
        lines.append(f"Auth mode of org {args.org}: {args.auth}{url}")
    return lines


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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM stops the server as SIGINT does even while it is starting (before the serving
    # loops install their own handlers), so the state folder is still removed and no worker
    # is left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("mock_clockwise: stopped", flush=True)
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        return _fail(f"--port must be 0-65535, got {args.port}")
    if args.threads is None:
        args.threads = default_threads(args.workers)
    if args.workers < 1 or args.threads < 1:
        return _fail("--workers and --threads must be at least 1")
    if args.threshold < 1:
        return _fail("--threshold must be at least 1")
    if args.token is not None and len(args.token) > 2:
        return _fail("give one or two --token values")
    if not valid_org_name(args.org):
        return _fail(f"--org must be {ORG_NAME_RULE}")
    for option, value in [("--token", t) for t in args.token or ()] + [("--admin-token", args.admin_token)]:
        problem = token_problem(value) if value is not None else None
        if problem:
            return _fail(f"{option}: the token {problem}")
    if not 1 <= args.token_lifetime <= 86400:
        return _fail("--token-lifetime must be 1-86400 seconds")
    if args.tls_client_ca and not (args.tls and os.path.isfile(args.tls_client_ca)):
        return _fail("--tls-client-ca needs --tls and an existing PEM file")

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
    lock_fd = None
    db_path = args.db
    if args.workers > 1:
        # Worker processes share a private state folder (mode 0700, removed at exit): the
        # control plane's journal files and fault counter, and, without --db, the SQLite file
        # itself (then as ephemeral as :memory:).
        tmpdir, lock_fd = make_state_dir()
        db_path = db_path or os.path.join(tmpdir, "state.sqlite3")
    org: dict[str, Any] = {"name": args.org, "tokens": tokens, "threshold": args.threshold}
    if org_auth(args, tokens[0]):
        org["auth"] = org_auth(args, tokens[0])
    config: dict[str, Any] = {"ORGS": [org],
                              "ADMIN_TOKEN": admin_token, "DB_PATH": db_path, "STATE_DIR": tmpdir}
    try:
        return _serve(args, config, generated)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        if lock_fd is not None:
            os.close(lock_fd)


def state_base() -> str:
    # On tmpfs when there is one: its fsync is free, so a WAL checkpoint never stalls the
    # writers on a disk.
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()


def make_state_dir() -> tuple[str, int]:
    """A new private state folder and the descriptor of its lock file, held (shared) for the
    server's life; the forked workers inherit it, so it is held while any of them lives."""
    base = state_base()
    remove_stale_state_dirs(base)
    path = tempfile.mkdtemp(prefix=STATE_PREFIX, dir=base)
    # Locked before it takes its name: another server's clean-up never sees it unlocked.
    fresh = os.path.join(path, ".server.lock.new")
    fd = os.open(fresh, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    os.rename(fresh, os.path.join(path, _STATE_LOCK))
    return path, fd


def remove_stale_state_dirs(base: str) -> None:
    """Remove the state folders of servers that were killed (a SIGKILL leaves no chance to clean
    up): one whose lock no process holds. Folders without a lock file are left alone."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(STATE_PREFIX):
            continue
        path = os.path.join(base, name)
        try:
            fd = os.open(os.path.join(path, _STATE_LOCK), os.O_RDONLY)
        except OSError:
            continue  # not a state folder of this version, or not ours to open
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # in use: a live server, or a worker of one
        else:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def _close(app: Any) -> None:
    """Close the app's state whole: a stop signal arriving meanwhile is held until it is closed (it would
    otherwise interrupt the close half-way, and the clean-up after it would close the rest twice)."""
    stops = {signal.SIGINT, signal.SIGTERM}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        app.extensions["mock_clockwise"].close()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _serve(args: argparse.Namespace, config: dict[str, Any], generated: list[str]) -> int:
    # Imported here, not at the top: main() has its SIGTERM handler in place before Flask, waitress and
    # granian load, and usage errors answer without loading them (no import cycle either way).
    from .app import create_app
    from .errors import ScimError
    from .prefork import listen_sockets, reserve_port, serve_threads, serve_workers
    from .tls import serve_tls, server_tls

    app: Any
    try:
        # Built in this process first, so a bad --db or org is reported before anything
        # listens (and the schema and start orgs exist before any worker forks).
        app = create_app(config)
    except sqlite3.Error as exc:
        return _fail(f"cannot use --db {args.db!r}: {exc}")
    except ScimError as exc:
        return _fail(exc.detail)
    if config.get("STATE_DIR"):
        # Faults never outlive a server (as in memory), though a --db file may hold the last run's.
        app.extensions["mock_clockwise"].faults.clear()
    try:
        # Worker processes: granian's workers bind the port themselves; one process: waitress or werkzeug here.
        sock = reserve_port(args.host, args.port) if args.workers > 1 else listen_sockets(args.host, args.port)[0]
    except OSError as exc:
        _close(app)
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")

    tls = server_tls(args.host, args.tls_client_ca) if args.tls else None
    banner = _banner(args, app, sock.getsockname()[1], tls, generated)
    code = 0
    try:
        if args.workers > 1:
            closing, app = app, None  # closed once, whatever signal arrives
            _close(closing)  # no SQLite connection may cross the fork: each worker opens its own
            code = serve_workers(lambda: create_app(config), sock, args.workers, args.threads, tls,
                                 ready=lambda: print(banner, flush=True))
        else:
            print(banner, flush=True)
            if tls is not None:
                serve_tls(app, sock, tls)
            else:
                serve_threads(app, sock, args.threads)
    finally:
        if app is not None:
            _close(app)
        if tls is not None:
            tls.close()
    print("mock_clockwise: stopped", flush=True)
    return code


def _banner(args: argparse.Namespace, app: Any, port: int, tls: Any, generated: list[str]) -> str:
    """What the server prints once it answers (tests and `scim-harness` read these lines)."""
    from .live_view import link_line

    shown = f"[{args.host}]" if ":" in args.host else args.host
    base = f"{'https' if tls else 'http'}://{shown}:{port}"
    if not _is_loopback(args.host) and tls is None:
        print(f"mock_clockwise: warning: listening on {args.host}, a non-loopback address, without TLS; "
              "bearer tokens travel in clear text", file=sys.stderr, flush=True)
    where = ("db " + args.db if args.db else
             "in-memory state" if args.workers == 1 else "state in a temporary file shared by the workers")
    lines = [f"Mock Clockwise (org {args.org}, threshold {args.threshold}, {where}, {_serving(args)})",
             f"SCIM base URL: {base}/scim/v2", f"Control plane: {base}/_mock", link_line(app, base),
             *_auth_lines(args, base, tls), *generated, "Press Ctrl-C to stop."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
