"""The mock as a program: `python -m mock_clockwise [options]` (also `scim-harness serve`).

Serves the app on waitress (a real, threaded WSGI server), prints the SCIM base URL and the
control-plane URL (and any generated tokens), and stops cleanly on SIGINT/SIGTERM (exit 0).
A port in use or an unusable --db is a one-line error on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import ipaddress
import secrets
import signal
import sqlite3
import sys
from types import FrameType
from typing import Any, Sequence

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mock_clockwise",
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
    p.add_argument("--threads", type=int, default=8, help="waitress worker threads (default 8)")
    return p


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

    from waitress import create_server

    from .app import create_app
    from .errors import ScimError

    config: dict[str, Any] = {"ORGS": [{"name": args.org, "tokens": tokens, "threshold": args.threshold}],
                              "ADMIN_TOKEN": admin_token, "DB_PATH": args.db}
    try:
        app = create_app(config)
    except sqlite3.Error as exc:
        return _fail(f"cannot use --db {args.db!r}: {exc}")
    except ScimError as exc:
        return _fail(exc.detail)
    try:
        server = create_server(app, host=args.host, port=args.port, threads=args.threads, ident="mock_clockwise")
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")

    port = server.effective_port  # type: ignore[union-attr]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{shown}:{port}"
    if not _is_loopback(args.host):
        print(f"mock_clockwise: warning: listening on {args.host}, a non-loopback address, without TLS; "
              "bearer tokens travel in clear text", file=sys.stderr, flush=True)
    print(f"Mock Clockwise (org {args.org}, threshold {args.threshold}, "
          f"{'db ' + args.db if args.db else 'in-memory state'})")
    print(f"SCIM base URL: {base}/scim/v2")
    print(f"Control plane: {base}/_mock")
    for line in generated:
        print(line)
    print("Press Ctrl-C to stop.", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        # waitress's run() stops its loop and worker threads on KeyboardInterrupt/SystemExit.
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.close()
        app.extensions["mock_clockwise"].store.close()
    print("mock_clockwise: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
