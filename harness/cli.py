"""The `scim-harness` command line."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Iterator, NoReturn

from harness import config as config_mod
from harness.auth_cli import add_auth_options, auth_from_args, auth_given
from harness.suggest import did_you_mean
from harness import cli_args
from harness.outputs import OutputError, check_report_dir
from harness.redaction import scrub, url_secrets

FORMATS = ("console", "json", "junit", "html")
DIALECT_NAMES = ("okta", "okta-aiw", "okta-patch", "entra", "entra-2020", "onelogin", "pingfederate")  # mock_okta.DIALECTS; kept here so --help needs no imports
FAIL_ON = ("must", "should", "may")  # harness.exit_policy.FAIL_ON; kept here so --help needs no imports
DEFAULT_REPORT_DIR = "reports/{run}"  # {run}: the run's own folder, `reports/latest` points at the newest (report_paths)
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

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own check, with a did-you-mean for a mistyped choice (a dialect, a command, --fail-on).
        if action.choices is not None and value not in action.choices:
            choices = [str(c) for c in action.choices]
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{did_you_mean(str(value), choices)} "
                                                 f"(choose from {', '.join(choices)})")


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


RUN_EPILOG = """Suites (--suite, repeatable or comma-separated):
  rfc        RFC 7643/7644 conformance checks, each tagged with its section and MUST/SHOULD/MAY
  okta       the Okta-dialect scenarios (okta, okta-aiw, okta-patch) incl. the OIN SPEC and CRUD tests
  entra      the Entra-dialect scenarios (entra, entra-2020)
  onelogin   the scenarios in the onelogin dialect
  pingfederate  the scenarios in the pingfederate dialect
  clockwise  the Clockwise business rules (need the mock's control plane)
  all        every suite (default); against --target, every suite the target can run

Precedence: --scenarios chooses the scenario files, --tags filters them, --suite chooses
which of them run (and whether the rfc checks run), --dialect keeps one dialect's runs,
-k filters what is left by name. Given --scenarios or --tags without --suite, only those
scenarios run (no rfc checks).

Exit status: 0 when nothing fails the run under --fail-on, 1 when something does or when no
check ran at all, 2 for a usage error, a malformed scenario or an unreachable target.

Options also come from SCIM_HARNESS_<OPTION> environment variables (SCIM_HARNESS_TARGET,
SCIM_HARNESS_FAIL_ON, ...) and from scim-harness.toml or [tool.scim-harness] in pyproject.toml."""


def _add_run_parser(sub: Any) -> argparse.ArgumentParser:
    run = sub.add_parser("run", help="run scenarios against the embedded mock or your SCIM server, and write reports",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=RUN_EPILOG,
                         description="Run SCIM suites and scenarios. Without --target, the embedded mock Clockwise server "
                                     "is started on a free loopback port and every suite runs against it.")
    run.add_argument("--target", metavar="URL", help="SCIM base URL of the server under test (e.g. https://app.example.com/scim/v2)")
    run.add_argument("--token", metavar="T", type=cli_args.token, help=f"bearer token for --target (or env {TOKEN_ENV}; never printed)")
    run.add_argument("--admin-token", metavar="A", type=cli_args.token, help=f"admin token of a mock's control plane /_mock (or env {ADMIN_TOKEN_ENV})")
    run.add_argument("--suite", action="append", metavar="NAME",
                     help="rfc, okta, entra, clockwise or all (repeatable or comma list; default all, see below)")
    run.add_argument("--dialect", choices=DIALECT_NAMES, help="run only the scenarios for this IdP dialect (default: every dialect each scenario lists)")
    run.add_argument("--scenarios", nargs="+", metavar="PATH", help="scenario files or folders (default: the shipped scenarios/)")
    run.add_argument("--tags", nargs="+", metavar="TAG", help="run only scenarios having one of these tags")
    run.add_argument("-k", dest="keyword", metavar="EXPR",
                     help="only what matches EXPR, as pytest's -k: words (substrings of a scenario's name, dialect, "
                          "file or tags; the rfc suite is 'rfc') with and/or/not and parentheses")
    run.add_argument("-x", "--exitfirst", action="store_true", help="stop after the first scenario that fails the run")
    run.add_argument("--list", "--collect-only", dest="list", action="store_true",
                     help="list what would run, and exit (nothing is sent; the embedded mock is not started)")
    run.add_argument("--fail-on", choices=FAIL_ON, default="must",
                     help="what fails the run (exit 1): must (default: a MUST failure, or any failure of a rule an "
                          "IdP needs), should (SHOULD failures too) or may (every failure)")
    run.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, metavar="DIR",
                     help="where reports are written; {run} is replaced by the run's name (date-time and run id) "
                          "and a 'latest' link beside it points at the newest (default: reports/{run})")
    run.add_argument("--format", default="console,json,junit,html", metavar="LIST",
                     help="comma-separated among console,json,junit,html (default: all)")
    run.add_argument("--junitxml", metavar="PATH", help="also write the JUnit XML report to PATH (as pytest's --junitxml)")
    run.add_argument("--har", action="store_true", help="also write the transcript as transcript.har")
    run.add_argument("--jobs", "-j", type=int, metavar="N",
                     help="rfc areas and scenario runs side by side, each with its own org or prefix; reports keep the "
                          "sequential order (default: the CPUs for the embedded mock, 16 for --target; 1 runs them in turn)")
    run.add_argument("--rate", action="append", metavar="IDP=R",
                     help="at most R requests per second for that IdP's scenarios, shared by all jobs (repeatable or "
                          "comma list; IDP okta or entra; e.g. entra=25, Entra's documented rate per tenant)")
    run.add_argument("--timeout", type=cli_args.timeout, default=60.0, metavar="S",
                     help="per-request timeout in seconds, body included (default 60, as Okta)")
    run.add_argument("--max-wait", type=cli_args.wait, default=60.0, metavar="S",
                     help="longest 429 back-off wait in seconds (default 60; Okta waits Retry-After or 300 s, doubling)")
    run.add_argument("--config", metavar="PATH", help="configuration file (default: scim-harness.toml or pyproject.toml "
                                                     "[tool.scim-harness] here or in a parent folder)")
    run.add_argument("-v", "--verbose", action="store_true", help="show every step and check")
    run.add_argument("-q", "--quiet", action="store_true", help="while running, show only failed scenarios")
    add_auth_options(run)
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scim-harness",
        description="SCIM 2.0 provisioning conformance harness: a mock Clockwise target, an Okta-like driver, scenarios and reports.",
    )
    parser.add_argument("--version", action="version", version=f"scim-harness {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="start the mock Clockwise SCIM server (see `scim-harness serve --help`)", add_help=False)
    _add_run_parser(sub)
    from harness import load
    load_parser = load.add_parser(sub)
    load_parser.add_argument("--config", metavar="PATH", help="configuration file (as for run)")
    validate = sub.add_parser("validate", help="check scenario files without running them (exit 1 with file:line errors)",
                              description="Load scenario files as `run` does, send nothing, and list every problem "
                                          "as file:line: what is wrong.")
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario files or folders")
    schema = sub.add_parser("schema", help="print the path of the scenario JSON Schema (for editors)",
                            description="The JSON Schema of scenario files, for editors: with the YAML language server, "
                                        "put `# yaml-language-server: $schema=PATH` at the top of a *.scim.yaml file.")
    schema.add_argument("--json", action="store_true", help="print the schema itself (e.g. to keep a copy in your repository)")
    return parser


def _version() -> str:
    try:
        return metadata.version("scim-harness")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps its subparsers in the choices of one action
        if isinstance(action.choices, dict) and command in action.choices:
            return action.choices[command]
    raise KeyError(command)


def parse(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> argparse.Namespace:
    """The command line, over the configuration file and the environment (harness.config)."""
    env = dict(os.environ) if env is None else env
    parser = build_parser()
    first, extra = parser.parse_known_args(argv)
    command = first.command
    if extra:
        target = _subparser(parser, command) if command else parser
        known = [o for a in target._actions for o in a.option_strings]
        unknown = " ".join(extra)
        hint = did_you_mean(extra[0].split("=")[0], known) if extra[0].startswith("-") else ""
        target.error(f"unrecognized arguments: {unknown}{hint}")
    if command in config_mod.COMMANDS:
        try:
            cfg = config_mod.load_config(first.config, env, cwd or Path.cwd())
            others = set().union(*(config_mod.option_names(_subparser(parser, c)) for c in config_mod.COMMANDS if c != command))
            sources = config_mod.apply(_subparser(parser, command), command, cfg, env, others)
        except config_mod.ConfigError as exc:
            _subparser(parser, command).error(str(exc))
        args = parser.parse_args(argv)
        args.config_sources = sources
        return args
    return first


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        hint = did_you_mean(unknown[0], FORMATS) if unknown else ""
        raise UsageError(f"--format: unknown format(s) {', '.join(unknown) or '(none)'}{hint}; choose among {', '.join(FORMATS)}")
    return formats


def _tokens(args: argparse.Namespace) -> tuple[str | None, str | None]:
    token = args.token or os.environ.get(TOKEN_ENV)
    admin_token = args.admin_token or os.environ.get(ADMIN_TOKEN_ENV)
    for value, name in ((token, TOKEN_ENV), (admin_token, ADMIN_TOKEN_ENV)):
        problem = cli_args.token_problem(value) if value else None
        if problem:
            raise UsageError(f"{name}: the token {problem}")
    if args.target and not token and args.auth == "bearer" and not args.token_file:
        raise UsageError(f"--target needs --token (or --token-file, or the {TOKEN_ENV} environment variable)")
    if not args.target and (args.token or args.admin_token or auth_given(args)):
        raise UsageError("--token/--admin-token and the auth and TLS options need --target "
                         "(without it the embedded mock is used)")
    return token, admin_token


def _auth(args: argparse.Namespace) -> tuple[Any, Any]:
    try:
        return auth_from_args(args, dict(os.environ))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _load(args: argparse.Namespace) -> tuple[Any, Any, list[Any]]:
    """(the suites named, the -k matcher, the selected scenarios), before anything is started or sent."""
    from harness.conformance import suites as suites_mod
    from harness.keywords import KeywordError, compile_keywords
    from harness.scenarios import ScenarioError, default_scenario_dir, load_paths, select

    try:
        names = suites_mod.parse_suites(args.suite)
        matcher = compile_keywords(args.keyword) if args.keyword is not None else None
        scenarios = load_paths(args.scenarios or [default_scenario_dir()])
    except (suites_mod.SuiteError, KeywordError) as exc:
        raise UsageError(str(exc)) from None
    except ScenarioError as exc:
        raise UsageError(exc.one_line()) from None
    chosen = select(scenarios, tags=args.tags or ())
    if args.tags and not chosen:
        known = sorted({t for sc in scenarios for t in sc.tags})
        hint = "".join(did_you_mean(t, known) for t in args.tags[:1])
        raise UsageError(f"nothing to run: no scenario matches --tags {' '.join(args.tags)}{hint}; "
                         f"the tags are: {', '.join(known) or '(none)'}")
    return names, matcher, chosen


def _selection(args: argparse.Namespace, loaded: tuple[Any, Any, list[Any]],
               has_control_plane: bool) -> tuple[list[Any], Any, list[str] | None]:
    """(the (scenario, dialect) pairs to run, the suites plan with .rfc saying whether the rfc suite runs,
    the rfc areas -k selects: None for all)."""
    from harness import runner as runner_mod
    from harness.conformance import AREA_RUNNERS
    from harness.conformance import suites as suites_mod

    names, matcher, scenarios = loaded
    plan = suites_mod.resolve(names, has_control_plane=has_control_plane, explicit_selection=bool(args.scenarios or args.tags))
    planned = [(s, d) for s, d in runner_mod.plan_runs(scenarios, args.dialect) if suites_mod.in_suites(s, d, plan.suites)]
    areas: list[str] | None = None
    if matcher is not None:
        planned = [(s, d) for s, d in planned
                   if matcher([runner_mod.scenario_label(s, d), d, Path(s.file).name, *s.tags])]
        matching = [a for a in AREA_RUNNERS if matcher(["rfc", f"rfc: {a}", a])]
        plan.rfc = plan.rfc and bool(matching)
        areas = matching if len(matching) < len(AREA_RUNNERS) else None
    if not planned and not plan.rfc:
        raise UsageError("nothing to run: no scenario matches the given --suite/--scenarios/--tags/--dialect/-k")
    return planned, plan, areas


def _list(args: argparse.Namespace, planned: list[Any], plan: Any, areas: list[str] | None) -> int:
    """--list: what would run, one line each, and nothing sent."""
    from harness.conformance import AREA_RUNNERS
    from harness.runner import scenario_label
    shown = [a for a in AREA_RUNNERS if areas is None or a in areas or a == "discovery"] + ["safety"]
    lines = [f"rfc: {area}" for area in shown] if plan.rfc else []
    lines += [f"{scenario_label(s, d)}  ({s.file}:{s.line})" for s, d in planned]
    print("\n".join(lines))
    suffix = f"; {', '.join(f'{k} not run: {v}' for k, v in plan.skipped.items())}" if plan.skipped else ""
    print(f"{len(planned)} scenario run(s){' and the rfc suite' if plan.rfc else ''} selected{suffix}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from harness.diagnose import unreachable
    from harness.embedded import EmbeddedMock, EmbeddedMockError
    from harness.target import Target, TargetUnreachable

    formats = _formats(args.format)
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    _parallel_options(args, None)  # a malformed --rate is a usage error before anything starts
    token, admin_token = _tokens(args)
    loaded = _load(args)
    if not args.list and ([f for f in formats if f != "console"] or args.har):
        try:  # before anything is sent: a run of many minutes must not end in "cannot write reports"
            check_report_dir(Path(args.report_dir.split("{run}")[0] or "."))
        except OutputError as exc:
            raise UsageError(str(exc)) from None
    if args.list:  # nothing is sent: the control plane is assumed where an admin token (or the mock) gives one
        return _list(args, *_selection(args, loaded, has_control_plane=not args.target or bool(admin_token)))
    mock = None
    try:
        if args.target:
            auth, tls = _auth(args)
            target = Target(base_url=args.target, token=auth.token or "" if auth.mode == "bearer" else "",
                            admin_token=admin_token, timeout=args.timeout, auth=auth, tls=tls)
            try:
                target.probe()
            except TargetUnreachable as exc:
                raise UsageError(unreachable(args.target, str(exc), min(args.timeout, 10.0),
                                             tls.client_options().get("verify", True))) from None
        else:
            mock = EmbeddedMock().start()
            target = mock.target
            target.timeout = args.timeout
        return _execute(args, formats, target, *_selection(args, loaded, target.has_control_plane))
    except (TargetUnreachable, EmbeddedMockError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        if mock is not None:
            mock.stop()


def _reporter(args: argparse.Namespace, formats: list[str], planned: list[Any]) -> tuple[Any, Any]:
    from harness.progress import Progress
    from harness.reports import ConsoleReporter
    from harness.runner import scenario_label
    if "console" not in formats:
        return None, None
    console = ConsoleReporter(verbose=args.verbose)
    steps = {scenario_label(s, d): len(s.steps_for(d)) for s, d in planned}
    return console, Progress(console, console.console, steps=steps, quiet=args.quiet, verbose=args.verbose)


def _parallel_options(args: argparse.Namespace, target: Any) -> dict[str, Any]:
    """--jobs (default harness.parallel.default_jobs) and --rate, for the Runner."""
    from harness.parallel import default_jobs
    from harness.rate_limit import RateError, parse_rates
    try:
        rates = parse_rates(args.rate)
    except RateError as exc:
        raise UsageError(str(exc)) from None
    jobs = args.jobs if args.jobs is not None else default_jobs(bool(target is not None and target.embedded))
    return {"jobs": jobs, "rates": rates}


def _execute(args: argparse.Namespace, formats: list[str], target: Any, planned: list[Any], plan: Any,
             areas: list[str] | None) -> int:
    from harness.conformance import AREA_RUNNERS
    from harness.diagnose import run_diagnoses
    from harness.runner import Runner
    from harness.session import Session

    reporter, progress = _reporter(args, formats, planned)
    session = Session(target, reporter=progress)
    session.max_wait = args.max_wait
    if reporter:
        reporter.secrets = session.secrets  # the live list: the run's org tokens are scrubbed too
    runner = Runner(session, dialect=args.dialect, fail_on=args.fail_on, exitfirst=args.exitfirst,
                    **_parallel_options(args, target))
    rfc_count = len(AREA_RUNNERS) if areas is None else len(set(areas) | {"discovery"})
    total = len(planned) + (rfc_count + 1 if plan.rfc else 0)
    if reporter:
        reporter.start(total, target.base_url + (" (embedded mock)" if target.embedded else ""), args.dialect or "all")
        if not args.quiet:
            reporter.console.print(f"suites: {', '.join(plan.suites)}"
                                   + "".join(f"; {s} not run: {why}" for s, why in plan.skipped.items())
                                   + "".join(f"; options from {src}" for src in getattr(args, "config_sources", [])))
    try:
        result = runner.run([], plan=planned, rfc=plan.rfc, rfc_areas=areas)
    finally:
        if progress is not None:
            progress.close()  # no heartbeat line after an interruption's last line
    result.diagnoses = run_diagnoses(result, target)
    written = _write(args, formats, result, session)
    _finish(args, reporter, result, written, runner, session.secrets)
    return 0 if result.ok else 1


def _write(args: argparse.Namespace, formats: list[str], result: Any, session: Any) -> dict[str, Path]:
    from harness.report_paths import point_latest, report_dir_for
    from harness.reports import write_reports
    from harness.reports.junit import write_junit_file

    report_dir, latest = report_dir_for(args.report_dir, session.run_id)
    files = [f for f in formats if f != "console"]
    try:
        written = write_reports(result, report_dir, files, secrets=session.secrets) if files else {}
        if args.har:
            report_dir.mkdir(parents=True, exist_ok=True)
            written["har"] = session.transcript.write_har(report_dir / "transcript.har", secrets=session.secrets)
        if args.junitxml:
            written["junitxml"] = write_junit_file(result, Path(args.junitxml), secrets=session.secrets)
        if latest is not None and report_dir.is_dir():
            point_latest(latest, report_dir)
    except OSError as exc:
        raise UsageError(f"cannot write reports to {report_dir}: {exc}") from None
    return written


def _finish(args: argparse.Namespace, reporter: Any, result: Any, written: dict[str, Path], runner: Any,
            secrets: list[str]) -> None:
    from harness.reports.own_scenarios import own_lines, own_section
    from harness.transcript import scrub

    judgement = result.policy
    extra = [f"-x: stopped after the first failure, in {runner.stopped_after}"] if runner.stopped_after else []
    if reporter is None:
        for line in [*(f"diagnosis: {d}" for d in result.diagnoses), *extra]:
            print(f"scim-harness run: {line}", file=sys.stderr)
    else:
        console = reporter.console
        for d in result.diagnoses:  # the likely cause first, before the details
            console.print("Diagnosis: " + d, style="bold yellow", markup=False, soft_wrap=True)
        reporter.finish(result, written)
        for line in own_lines(own_section(result)) + extra:
            console.print(scrub(line, secrets) or "", markup=False, soft_wrap=True)
        console.print(f"exit {judgement.exit_code}: {scrub(judgement.reason(), secrets)}", markup=False, soft_wrap=True)
    if judgement.no_check is not None:
        print(f"scim-harness run: {judgement.reason()}", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    """`scim-harness validate FILE…`: the loader's dry run; every problem as file:line, exit 1."""
    from harness.scenarios import ScenarioError, load_paths, scenario_files
    try:
        files = scenario_files(args.files)
        scenarios = load_paths(files) if files else []
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"scim-harness validate: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    if not files:
        print(f"scim-harness validate: no *.scim.yaml file in {', '.join(args.files)}", file=sys.stderr)
        return 1
    print(f"scim-harness validate: {len(scenarios)} scenario(s) in {len(files)} file(s), no problem")
    return 0


def schema_path() -> Path:
    """The installed scenario JSON Schema."""
    return Path(str(resources.files("harness").joinpath("scenario_schema.json")))


def _schema(args: argparse.Namespace) -> int:
    if args.json:
        sys.stdout.write(schema_path().read_text(encoding="utf-8"))
    else:
        print(schema_path())
    return 0


def _guarded(command: str, body: Any, usage_errors: tuple[type[Exception], ...], secrets: list[str]) -> int:
    try:
        with stop_children_on_signals():
            return body()
    except usage_errors as exc:  # the one line may quote a URL or a server's answer: scrubbed
        print(f"scim-harness {command}: error: {scrub(str(exc), secrets)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return _interrupted(command, exc)


def _secrets_of(args: argparse.Namespace) -> list[str]:
    """Every secret the command line holds: the tokens (options or environment) and a URL's password."""
    values = [getattr(args, "token", None), getattr(args, "admin_token", None), os.environ.get(TOKEN_ENV),
              os.environ.get(ADMIN_TOKEN_ENV)]
    return [v for v in values if v] + url_secrets(getattr(args, "target", None))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return _serve(argv[1:])
    args = parse(argv)
    if args.command is None:
        build_parser().print_help()
        return 2
    if args.command == "run":
        return _guarded("run", lambda: _run(args), (UsageError,), _secrets_of(args))
    if args.command == "load":
        from harness import load
        return _guarded("load", lambda: load.run(args), (load.LoadUsageError,), _secrets_of(args))
    if args.command == "validate":
        return _validate(args)
    if args.command == "schema":
        return _schema(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
