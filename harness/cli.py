"""The `scim-harness` command line."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, NoReturn

from harness import cli_args
from harness.outputs import OutputError, check_report_dir
from harness.redaction import scrub, url_secrets

FORMATS = ("console", "json", "junit", "html")
DIALECT_NAMES = ("okta", "okta-aiw", "entra")  # mock_okta.DIALECTS; kept here so --help needs no imports
TOKEN_ENV = "SCIM_HARNESS_TOKEN"
ADMIN_TOKEN_ENV = "SCIM_HARNESS_ADMIN_TOKEN"


class UsageError(Exception):
    """Bad command line, unreachable target or malformed scenario: exit 2 with one line on stderr."""


class Stopped(KeyboardInterrupt):
    """SIGTERM, SIGINT or SIGHUP reached the command: it unwinds as Ctrl-C does, stopping every child it started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# `kill PID`, a container stop and many CI runners send SIGTERM to the parent alone; a closed
# terminal sends SIGHUP. Python's default for both ends the process at once, and the children
# (the embedded mock and its workers, locust and its web UI) would be left running.
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def stop_children_on_signals() -> Iterator[None]:
    """While the command runs, a stop signal raises `Stopped` (a KeyboardInterrupt), so every `finally`
    that stops a child runs. Once: a second signal must not abandon that clean-up halfway (it has
    timeouts of its own, then kills)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        for s in _STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in _STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _interrupted(command: str, exc: KeyboardInterrupt) -> int:
    signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    print(f"scim-harness {command}: {what}", file=sys.stderr)
    return 128 + signum


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the exit status says it was a usage error.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _serve(argv: list[str]) -> int:
    # The mock runs as its own program (`python -m mock_clockwise`), so `harness/` never
    # imports the code it checks (DESIGN.md, "Independence rule").
    cmd = [sys.executable, "-m", "mock_clockwise", *argv]
    os.environ["MOCK_CLOCKWISE_PROG"] = "scim-harness serve"  # its --help and errors name this command
    if os.name == "posix":
        sys.stdout.flush()
        os.execv(sys.executable, cmd)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scim-harness",
        description="SCIM 2.0 provisioning conformance harness: a mock Clockwise target, an Okta-like driver, scenarios and reports.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="start the mock Clockwise SCIM server (see `scim-harness serve --help`)", add_help=False)
    run = sub.add_parser("run", help="run scenarios against the embedded mock or your SCIM server, and write reports",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="Run SCIM suites and scenarios. Without --target, the embedded mock Clockwise server "
                                     "is started on a free loopback port and every suite runs against it.",
                         epilog="Suites (--suite, repeatable or comma-separated):\n"
                                "  rfc        RFC 7643/7644 conformance checks, each tagged with its section and MUST/SHOULD/MAY\n"
                                "  okta       the Okta-dialect scenarios (okta, okta-aiw) incl. the OIN SPEC and CRUD tests\n"
                                "  entra      the Entra-dialect scenarios\n"
                                "  clockwise  the Clockwise business rules (need the mock's control plane)\n"
                                "  all        every suite (default); against --target, every suite the target can run\n\n"
                                "Precedence: --scenarios chooses the scenario files, --tags filters them, --suite chooses\n"
                                "which of them run (and whether the rfc checks run), --dialect keeps one dialect's runs.\n"
                                "Given --scenarios or --tags without --suite, only those scenarios run (no rfc checks).")
    run.add_argument("--target", metavar="URL", help="SCIM base URL of the server under test (e.g. https://app.example.com/scim/v2)")
    run.add_argument("--token", metavar="T", type=cli_args.token, help=f"bearer token for --target (or env {TOKEN_ENV}; never printed)")
    run.add_argument("--admin-token", metavar="A", type=cli_args.token, help=f"admin token of a mock's control plane /_mock (or env {ADMIN_TOKEN_ENV})")
    run.add_argument("--suite", action="append", metavar="NAME",
                     help="rfc, okta, entra, clockwise or all (repeatable or comma list; default all, see below)")
    run.add_argument("--dialect", choices=DIALECT_NAMES, help="run only the scenarios for this IdP dialect (default: every dialect each scenario lists)")
    run.add_argument("--scenarios", nargs="+", metavar="PATH", help="scenario files or folders (default: the shipped scenarios/)")
    run.add_argument("--tags", nargs="+", metavar="TAG", help="run only scenarios having one of these tags")
    run.add_argument("--report-dir", default="reports", metavar="DIR", help="where reports are written (default: reports)")
    run.add_argument("--format", default="console,json,junit,html", metavar="LIST",
                     help="comma-separated among console,json,junit,html (default: all)")
    run.add_argument("--har", action="store_true", help="also write the transcript as transcript.har")
    run.add_argument("--timeout", type=cli_args.timeout, default=60.0, metavar="S",
                     help="per-request timeout in seconds, body included (default 60, as Okta)")
    run.add_argument("--max-wait", type=cli_args.wait, default=60.0, metavar="S",
                     help="longest 429 back-off wait in seconds (default 60; Okta waits Retry-After or 300 s, doubling)")
    run.add_argument("-v", "--verbose", action="store_true", help="show every step and check")
    from harness import load
    load.add_parser(sub)
    return parser


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"--format: unknown format(s) {', '.join(unknown) or '(none)'}; choose among {', '.join(FORMATS)}")
    return formats


def _run(args: argparse.Namespace) -> int:
    from harness import runner as runner_mod
    from harness.conformance import suites as suites_mod
    from harness.embedded import EmbeddedMock, EmbeddedMockError
    from harness.scenarios import ScenarioError, default_scenario_dir, load_paths, select
    from harness.target import Target, TargetUnreachable

    formats = _formats(args.format)
    token = args.token or os.environ.get(TOKEN_ENV)
    admin_token = args.admin_token or os.environ.get(ADMIN_TOKEN_ENV)
    for value, name in ((token, TOKEN_ENV), (admin_token, ADMIN_TOKEN_ENV)):
        problem = cli_args.token_problem(value) if value else None
        if problem:
            raise UsageError(f"{name}: the token {problem}")
    if args.target and not token:
        raise UsageError(f"--target needs --token (or the {TOKEN_ENV} environment variable)")
    if not args.target and (args.token or args.admin_token):
        raise UsageError("--token/--admin-token need --target (without it the embedded mock is used)")
    try:
        names = suites_mod.parse_suites(args.suite)
    except suites_mod.SuiteError as exc:
        raise UsageError(str(exc)) from None
    try:
        scenarios = load_paths(args.scenarios or [default_scenario_dir()])
    except ScenarioError as exc:
        raise UsageError(exc.one_line()) from None
    scenarios = select(scenarios, tags=args.tags or ())
    if [f for f in formats if f != "console"] or args.har:
        try:  # before anything is sent: a run of many minutes must not end in "cannot write reports"
            check_report_dir(Path(args.report_dir))
        except OutputError as exc:
            raise UsageError(str(exc)) from None
    explicit = bool(args.scenarios or args.tags)
    mock = None
    try:
        if args.target:
            target = Target(base_url=args.target, token=token, admin_token=admin_token, timeout=args.timeout)
            target.probe()
        else:
            mock = EmbeddedMock().start()
            target = mock.target
            target.timeout = args.timeout
        plan = suites_mod.resolve(names, has_control_plane=target.has_control_plane, explicit_selection=explicit)
        planned = [(s, d) for s, d in runner_mod.plan_runs(scenarios, args.dialect) if suites_mod.in_suites(s, d, plan.suites)]
        if not planned and not plan.rfc:
            raise UsageError("nothing to run: no scenario matches the given --suite/--scenarios/--tags/--dialect")
        return _execute(args, formats, target, planned, plan)
    except (TargetUnreachable, EmbeddedMockError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        if mock is not None:
            mock.stop()


def _execute(args: argparse.Namespace, formats: list[str], target: Any, planned: list[Any], plan: Any) -> int:
    from harness.conformance import AREA_RUNNERS
    from harness.reports import ConsoleReporter, write_reports
    from harness.runner import Runner
    from harness.session import Session

    reporter = ConsoleReporter(verbose=args.verbose) if "console" in formats else None
    session = Session(target, reporter=reporter)
    session.max_wait = args.max_wait
    if reporter:
        reporter.secrets = session.secrets  # the live list: the run's org tokens are scrubbed too
    runner = Runner(session, dialect=args.dialect)
    total = len(planned) + (len(AREA_RUNNERS) + 1 if plan.rfc else 0)
    if reporter:
        reporter.start(total, target.base_url + (" (embedded mock)" if target.embedded else ""), args.dialect or "all")
        reporter.console.print(f"suites: {', '.join(plan.suites)}"
                               + "".join(f"; {s} not run: {why}" for s, why in plan.skipped.items()))
    result = runner.run([], plan=planned, rfc=plan.rfc)
    report_dir = Path(args.report_dir)
    files = [f for f in formats if f != "console"]
    try:
        written = write_reports(result, report_dir, files, secrets=session.secrets) if files else {}
        if args.har:
            written["har"] = session.transcript.write_har(report_dir / "transcript.har", secrets=session.secrets)
    except OSError as exc:
        raise UsageError(f"cannot write reports to {report_dir}: {exc}") from None
    if reporter:
        reporter.finish(result, written)
    return 0 if result.ok else 1


def _secrets_of(args: argparse.Namespace) -> list[str]:
    """Every secret the command line holds: the tokens (options or environment) and a URL's password."""
    values = [args.token, args.admin_token, os.environ.get(TOKEN_ENV), os.environ.get(ADMIN_TOKEN_ENV)]
    return [v for v in values if v] + url_secrets(args.target)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return _serve(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "run":
        try:
            with stop_children_on_signals():
                return _run(args)
        except UsageError as exc:
            print(f"scim-harness run: error: {scrub(str(exc), _secrets_of(args))}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as exc:
            return _interrupted("run", exc)
    if args.command == "load":
        from harness import load
        try:
            with stop_children_on_signals():
                return load.run(args)
        except load.LoadUsageError as exc:
            print(f"scim-harness load: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as exc:
            return _interrupted("load", exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
