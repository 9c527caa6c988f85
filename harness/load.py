"""`scim-harness load`: Okta-shaped load with locust, against the mock or any SCIM server.

Locust does the work: this module only picks the target (starting the embedded mock when
none is given), builds locust's own command line, and runs it headless (default), with its
web UI (--web), or in its distributed mode (--workers N: one master and N worker
processes on this machine; across machines use locust's --master/--worker flags directly,
see the README).
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from harness.auth import ENV, AuthConfig, TLSConfig
from harness.auth_cli import add_auth_options, auth_from_args, auth_given
from harness.report_paths import point_latest, report_dir_for

TOKEN_ENV = "SCIM_HARNESS_TOKEN"
# The embedded mock's serving model under load, chosen by measurement (BENCHMARKS.md): one
# single-threaded worker process per core, plus one.
DEFAULT_MOCK_WORKERS = (os.cpu_count() or 1) + 1
_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")


class LoadUsageError(Exception):
    """A bad option or an unusable target: one line on stderr, exit 2."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = sub.add_parser("load", help="drive Okta-shaped provisioning load with locust and write its reports",
                       description="Run the Okta-shaped locustfile against --target, or against the embedded mock "
                                   "(started as its production server) when no target is given.")
    p.add_argument("--target", metavar="URL", help="SCIM base URL to load (default: start the embedded mock)")
    p.add_argument("--token", metavar="T", help=f"bearer token for --target (or env {TOKEN_ENV}; never printed)")
    p.add_argument("--users", type=int, default=20, metavar="N", help="concurrent simulated clients (default 20)")
    p.add_argument("--spawn-rate", type=float, default=10.0, metavar="R", help="clients started per second (default 10)")
    p.add_argument("--duration", default="60s", metavar="T", help="run time, e.g. 20s, 5m, 1h30m (default 60s)")
    p.add_argument("--web", action="store_true",
                   help="locust's web UI instead of a headless run: its form holds --users, --spawn-rate and --duration; "
                        "reports are written when it quits (Ctrl-C)")
    p.add_argument("--autostart", action="store_true",
                   help="with --web: start the run at once and quit when --duration is over (thresholds and reports "
                        "as headless)")
    p.add_argument("--web-port", type=int, default=8089, metavar="PORT", help="port of the web UI (default 8089)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="locust distributed mode on this machine: one master and N worker processes")
    p.add_argument("--fail-ratio", type=float, default=0.0, metavar="X",
                   help="exit 1 when the ratio of failed requests exceeds X (default 0: any failure)")
    p.add_argument("--p95-ms", type=float, default=0.0, metavar="Y", help="exit 1 when p95 latency exceeds Y ms")
    p.add_argument("--mock-workers", type=int, default=DEFAULT_MOCK_WORKERS, metavar="N",
                   help=f"worker processes of the embedded mock (default: CPUs + 1 = {DEFAULT_MOCK_WORKERS}; "
                        "see BENCHMARKS.md)")
    p.add_argument("--report-dir", default="reports", metavar="DIR",
                   help="where locust's CSV and HTML go (default reports); {run} is replaced by the run's name, "
                        "with a 'latest' link beside it, as for run")
    p.add_argument("--locustfile", metavar="PATH", help="locustfile to run (default: the shipped scenarios/locustfile.py)")
    add_auth_options(p)
    return p


def default_locustfile() -> Path:
    from harness.scenarios import default_scenario_dir
    return default_scenario_dir() / "locustfile.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _validate(args: argparse.Namespace) -> Path:
    if args.users < 1:
        raise LoadUsageError("--users must be at least 1")
    if args.spawn_rate <= 0:
        raise LoadUsageError("--spawn-rate must be positive")
    if args.workers < 0:
        raise LoadUsageError("--workers must be 0 or more")
    if args.mock_workers < 1:
        raise LoadUsageError("--mock-workers must be at least 1")
    if not 0 <= args.fail_ratio <= 1:
        raise LoadUsageError("--fail-ratio must be between 0 and 1")
    if not args.duration or not _DURATION.match(args.duration):
        raise LoadUsageError(f"--duration {args.duration!r}: use a form like 20s, 5m or 1h30m")
    if args.target and args.auth == "bearer" and not (args.token or args.token_file or os.environ.get(TOKEN_ENV)):
        raise LoadUsageError(f"--target needs --token (or --token-file, or the {TOKEN_ENV} environment variable)")
    if not args.target and (args.token or auth_given(args)):
        raise LoadUsageError("--token and the auth and TLS options need --target (without it the embedded mock is used)")
    if args.autostart and not args.web:
        raise LoadUsageError("--autostart needs --web (a headless run starts at once)")
    locustfile = Path(args.locustfile) if args.locustfile else default_locustfile()
    if not locustfile.is_file():
        raise LoadUsageError(f"locustfile not found: {locustfile} (pass --locustfile PATH)")
    return locustfile


def locust_commands(args: argparse.Namespace, locustfile: Path, host: str, report_dir: Path) -> list[list[str]]:
    """Locust's own command lines: [master-or-single] + workers."""
    base = [sys.executable, "-m", "locust", "-f", str(locustfile), "--host", host]
    prefix = str(report_dir / "load")
    # The same run, thresholds and reports in every mode; the web UI's form starts from them.
    common = ["-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.duration, "--stop-timeout", "5",
              "--csv", prefix, "--html", prefix + ".html", "--fail-ratio", str(args.fail_ratio), "--p95-ms", str(args.p95_ms)]
    if args.web:
        main = [*base, "--web-host", "127.0.0.1", "--web-port", str(args.web_port), *common]
        if args.autostart:
            main += ["--autostart", "--autoquit", "0"]
    else:
        main = [*base, "--headless", *common]
    if not args.workers:
        return [main]
    port = _free_port()
    master = [*main, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    if not args.web or args.autostart:
        master += ["--expect-workers", str(args.workers), "--expect-workers-max-wait", "30"]
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    return [master] + [list(worker) for _ in range(args.workers)]


def run(args: argparse.Namespace) -> int:
    from harness.embedded import EmbeddedMock, EmbeddedMockError

    locustfile = _validate(args)
    report_dir, latest = report_dir_for(args.report_dir, secrets.token_hex(3))  # `{run}` as for `run`
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        if latest is not None:
            point_latest(latest, report_dir)
    except OSError as exc:
        raise LoadUsageError(f"cannot create {report_dir}: {exc}") from None
    # In a session of its own, as locust is (below): a Ctrl-C reaches this process alone, which stops
    # locust first (its reports are written) and the mock after it.
    mock = None if args.target else EmbeddedMock(extra_args=["--workers", str(args.mock_workers)], new_session=True)
    try:
        if mock is None:
            host = args.target
            try:
                auth, tls = auth_from_args(args, dict(os.environ))
            except ValueError as exc:
                raise LoadUsageError(str(exc)) from None
            auth.refresh_token = _probe(host, auth, tls, workers=args.workers)
            env = dict(os.environ, **locust_env(auth, tls))
        else:
            try:
                mock.start()
            except EmbeddedMockError as exc:
                raise LoadUsageError(str(exc)) from None
            host = mock.target.base_url
            print(f"scim-harness load: embedded mock at {host}", flush=True)
            # The token travels in the environment, never on a command line (ps shows those).
            env = dict(os.environ, SCIM_TOKEN=mock.token)
        commands = locust_commands(args, locustfile, host, report_dir)
        if args.web:
            then = f"runs {args.duration}, then quits" if args.autostart else "Ctrl-C to stop"
            print(f"scim-harness load: locust web UI on http://127.0.0.1:{args.web_port} ({then})", flush=True)
        return _run_locust(commands, env, report_dir)
    finally:
        if mock is not None:
            mock.stop()


def _probe(host: str, auth: AuthConfig, tls: TLSConfig, *, workers: int = 0) -> str | None:
    """One line and exit 2 for a target that does not answer, as `run` does (not a failure per request).
    Returns the refresh token to go on with (oauth2-refresh: the probe's exchange may have rotated it)."""
    from harness.diagnose import unreachable
    from harness.target import Target, TargetUnreachable
    if auth.mode == "oauth2-refresh" and workers:
        # RFC 6749 §6: a server may rotate the refresh token at each use; processes cannot share one.
        raise LoadUsageError("--auth oauth2-refresh runs in one locust process: drop --workers")
    target = Target(base_url=host, token=auth.token or "" if auth.mode == "bearer" else "", auth=auth, tls=tls)
    try:
        target.probe()
    except TargetUnreachable as exc:  # a certificate problem named first
        raise LoadUsageError(unreachable(host, str(exc), verify=tls.client_options().get("verify", True))) from None
    assert target.credential is not None
    return getattr(target.credential.auth, "refresh_token", auth.refresh_token)


def locust_env(auth: AuthConfig, tls: TLSConfig) -> dict[str, str]:
    """The auth mode and TLS for the locustfile, in its environment (never on a command line): the
    secrets as SCIM_TOKEN / SCIM_HARNESS_PASSWORD / SCIM_HARNESS_CLIENT_SECRET / SCIM_HARNESS_REFRESH_TOKEN."""
    env = {"SCIM_AUTH_MODE": auth.mode, "SCIM_TOKEN": auth.token or ""}
    for name, value in (("SCIM_AUTH_HEADER", auth.header), ("SCIM_BASIC_USER", auth.username),
                        ("SCIM_TOKEN_URL", auth.token_url), ("SCIM_CLIENT_ID", auth.client_id),
                        ("SCIM_SCOPE", auth.scope), ("SCIM_CA_BUNDLE", tls.ca_bundle),
                        ("SCIM_CLIENT_CERT", tls.client_cert), ("SCIM_CLIENT_KEY", tls.client_key),
                        (ENV["password"], auth.password), (ENV["client_secret"], auth.client_secret),
                        (ENV["refresh_token"], auth.refresh_token)):
        if value:
            env[name] = value
    if tls.insecure:
        env["SCIM_INSECURE"] = "1"
    return env


def _run_locust(commands: list[list[str]], env: dict[str, str], report_dir: Path) -> int:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for cmd in commands:
            procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, start_new_session=True))
        code = procs[0].wait()
    except KeyboardInterrupt:
        # Ctrl-C, or SIGTERM/SIGINT/SIGHUP to this process (harness.cli turns them into this): locust's own
        # clean stop (SIGINT), which prints the thresholds' verdicts and writes the reports.
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        code = _wait(procs[0], 30) if procs else 130
    finally:
        for p in procs[1:]:
            _wait(p, 15)
    print(f"scim-harness load: reports in {report_dir}/ (load.html, load_stats.csv, "
          f"load_failures.csv); exit {code}", flush=True)
    return code


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
