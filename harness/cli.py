"""The `scim-harness` command line."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _serve(argv: list[str]) -> int:
    # The mock runs as its own program (`python -m mock_clockwise`), so `harness/` never
    # imports the code it checks (DESIGN.md, "Independence rule").
    cmd = [sys.executable, "-m", "mock_clockwise", *argv]
    if os.name == "posix":
        sys.stdout.flush()
        os.execv(sys.executable, cmd)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scim-harness",
        description="SCIM 2.0 provisioning conformance harness: a mock Clockwise target, an Okta-like driver, scenarios and reports.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="start the mock Clockwise SCIM server (see `scim-harness serve --help`)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return _serve(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
