"""pytest plugin: `*.scim.yaml` files are collected as tests, one item per scenario (x dialect).

Registered through the `pytest11` entry point (`scim_harness`). Options: --scim-target (or env
SCIM_HARNESS_TARGET), --scim-token, --scim-admin-token, --scim-dialect, --scim-fail-on, --scim-rfc (the
rfc conformance suite as one item per area, marked `scim_rfc`). Without --scim-target, one embedded
mock is started for the whole session (lazily, only when a scenario or fixture needs it).
Fixtures for writing scenarios in Python: `scim_target`, `embedded_mock`, `scim_org` (with `.plan()`,
`.events()`, `.members()` on a target with the control plane), `scim_http`, `okta_org`.

harness modules are imported lazily inside the hooks, so loading the plugin costs nothing and a
broken module never stops an unrelated test session.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterable, Iterator

import pytest

from harness.auth import AuthConfig, TLSConfig, client_certificate_problem
from harness.auth_cli import add_pytest_options, as_pytest_options, auth_from_args, namespace_of_options
from harness.cli_args import wait

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from harness.embedded import EmbeddedMock
    from harness.results import ScenarioResult
    from harness.runner import Runner
    from harness.scenarios import Scenario
    from harness.session import Session
    from harness.target import Target

SUFFIX = ".scim.yaml"
_STATE = pytest.StashKey["_PluginState"]()
TARGET_ENV = "SCIM_HARNESS_TARGET"
RFC_MARK = "scim_rfc"
RFC_AREAS = ("discovery", "schema", "users", "groups", "filters", "paging", "sort", "projection", "patch", "bulk",
             "etag", "auth", "errors", "safety")  # harness.conformance.AREA_RUNNERS + safety (imported lazily, below)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scim-harness", "SCIM scenarios (*.scim.yaml)")
    group.addoption("--scim-target", metavar="URL", help="SCIM base URL to test (default: start the embedded mock)")
    group.addoption("--scim-token", metavar="T", help="bearer token for --scim-target (or env SCIM_HARNESS_TOKEN)")
    group.addoption("--scim-admin-token", metavar="A", help="control-plane admin token of a mock target")
    group.addoption("--scim-dialect", choices=("okta", "okta-aiw", "okta-patch", "entra", "entra-2020",
                                                      "onelogin", "pingfederate"),
                    help="only run scenarios for this IdP dialect (default: every dialect each scenario lists)")
    group.addoption("--scim-fail-on", choices=("must", "should", "may"), default="must",
                    help="what fails a scenario's test: must (default: a MUST failure or a failure of a rule an IdP "
                         "needs), should, may (every failure); as `scim-harness run --fail-on`")
    add_pytest_options(group)
    group.addoption("--scim-max-wait", type=wait, default=60.0, metavar="S",
                    help="the longest 429 back-off wait the driver sleeps, in seconds (default 60; Okta's own waits "
                         "are up to 300 s, doubling); as `scim-harness run --max-wait`")
    group.addoption("--scim-rfc", action="store_true",
                    help=f"also run the rfc conformance suite, one test per area (select them alone with -m {RFC_MARK})")


class _PluginState:
    """What every scenario and fixture of a pytest session shares: the target (one embedded mock at
    most) and one run session (harness.session) on it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.mock: EmbeddedMock | None = None
        self._target: Target | None = None
        self._credentials: tuple[AuthConfig, TLSConfig] | None = None
        self._session: Session | None = None
        self._runner: Runner | None = None
        self.secrets: list[str] = []
        self._rfc: dict[str, ScenarioResult] | None = None

    def rfc_result(self, area: str, wanted: list[str]) -> "ScenarioResult | None":
        """The rfc suite's result for `area`; the suite runs once, for the `wanted` areas of the session."""
        if self._rfc is None:
            results = self.runner().run_rfc(areas=wanted)
            self._rfc = {sc.name: sc for sc in results}
        return self._rfc.get(f"rfc: {area}") or self._rfc.get("rfc: setup")  # no org for the suite: every area fails

    def session(self) -> "Session":
        if self._session is None:
            from harness.session import Session
            self._session = Session(self.target())
            self._session.max_wait = self.config.getoption("scim_max_wait")  # as run's --max-wait
        return self._session

    def runner(self) -> "Runner":
        if self._runner is None:
            from harness.runner import Runner
            self._runner = Runner(self.session(), dialect=self.config.getoption("scim_dialect"))
        return self._runner

    def known_secrets(self) -> list[str]:
        """Every secret of the pytest session: the target's, the mock's and the run's org tokens."""
        return list(dict.fromkeys(self.secrets + (self._session.secrets if self._session is not None else [])))

    def credentials(self) -> tuple[AuthConfig, TLSConfig]:
        """The auth mode and TLS of --scim-target, read and checked once (pytest.UsageError, one line)."""
        if self._credentials is None:
            token = self.config.getoption("scim_token") or os.environ.get("SCIM_HARNESS_TOKEN")
            try:
                auth, tls = auth_from_args(namespace_of_options(self.config.getoption, token), dict(os.environ))
            except ValueError as exc:
                raise pytest.UsageError(f"--scim-target: {as_pytest_options(str(exc))}") from None
            if auth.mode == "bearer" and not auth.token:
                raise pytest.UsageError("--scim-target needs --scim-token (or SCIM_HARNESS_TOKEN)")
            self._credentials = auth, tls
        return self._credentials

    def embedded(self) -> "EmbeddedMock":
        if self.mock is None:
            from harness.embedded import EmbeddedMock
            self.mock = EmbeddedMock().start()
            self.secrets += [self.mock.token, self.mock.admin_token]
        return self.mock

    def target(self) -> "Target":
        if self._target is None:
            from harness.target import Target, TargetUnreachable
            url = self.config.getoption("scim_target") or os.environ.get(TARGET_ENV)
            if url:
                auth, tls = self.credentials()
                target = Target(base_url=url, token=auth.token or "" if auth.mode == "bearer" else "",
                                admin_token=self.config.getoption("scim_admin_token"), auth=auth, tls=tls)
                self.secrets += target.secrets
                target.share_secrets(self.secrets)  # the OAuth access tokens obtained
                try:
                    target.probe()
                except TargetUnreachable as exc:
                    hint = client_certificate_problem(str(exc))
                    pytest.exit(as_pytest_options(f"scim-harness: {f'{hint}; ' if hint else ''}{exc}"), returncode=2)
                self._target = target
            else:
                self._target = self.embedded().target
        return self._target

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self.mock is not None:
            self.mock.stop()
            self.mock = None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATE] = _PluginState(config)
    if config.getoption("scim_target") or os.environ.get(TARGET_ENV):
        config.stash[_STATE].credentials()  # bad auth options: a usage error before anything runs
    config.addinivalue_line("markers", f"{RFC_MARK}: the rfc conformance suite of scim-harness (--scim-rfc)")


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect: the rfc items are selectable like any other
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("scim_rfc"):
        return
    suite = RfcSuite.from_parent(session, name="scim-rfc")
    for area in RFC_AREAS:
        item = RfcItem.from_parent(suite, name=area)
        item.add_marker(RFC_MARK)
        item.extra_keyword_matches.add("rfc")
        items.append(item)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                               call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Belt and braces behind the redacting reprs: a failing test may still print a token as a plain
    # string (an assertion on it, --showlocals, its own print); every secret of the session is
    # scrubbed from the report before the console, --junitxml or any other plugin sees it.
    report = yield
    state = item.config.stash.get(_STATE, None)
    known = state.known_secrets() if state is not None else []
    if known:
        report.longrepr = _scrubbed(report.longrepr, known, set())
        report.sections = _scrubbed(report.sections, known, set())
    return report


def _scrubbed(value: Any, secrets_: list[str], seen: set[int]) -> Any:
    """`value` with every secret replaced: strings anew, lists, tuples and pytest's (dataclass) failure
    representations walked and scrubbed in place, so the console keeps its layout and colours."""
    if isinstance(value, str):
        from harness.transcript import scrub
        return scrub(value, secrets_) if any(s in value for s in secrets_) else value
    if isinstance(value, tuple):  # a chain link, a section, a skip's (path, line, reason)
        return tuple(_scrubbed(v, secrets_, seen) for v in value)
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [_scrubbed(v, secrets_, seen) for v in value]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = _scrubbed(old, secrets_, seen)
            if new is not old:
                object.__setattr__(value, f.name, new)
    return value


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> "ScenarioFile | None":
    if file_path.name.endswith(SUFFIX):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator["ScenarioItem"]:
        from harness.runner import plan_runs, scenario_label
        from harness.scenarios import ScenarioError, load_file
        try:
            scenarios = load_file(self.path)
        except ScenarioError as exc:
            # Collector.repr_failure shows a CollectError's text alone: file, line and what is wrong.
            raise self.CollectError(str(exc)) from None
        for scenario, dialect in plan_runs(scenarios, self.config.getoption("scim_dialect")):
            item = ScenarioItem.from_parent(self, name=scenario_label(scenario, dialect))
            item.scenario, item.dialect = scenario, dialect
            item.extra_keyword_matches.update(scenario.tags)  # `pytest -k threshold` selects by tag
            yield item


class ScenarioFailed(Exception):
    def __init__(self, result: "ScenarioResult") -> None:
        super().__init__(result.name)
        self.result = result


class ScenarioItem(pytest.Item):
    scenario: "Scenario"
    dialect: str = "okta"
    result: "ScenarioResult | None" = None

    def runtest(self) -> None:
        state: _PluginState = self.config.stash[_STATE]
        self.result = result = state.runner().run_scenario(self.scenario, self.dialect)
        _judge(self.config, result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return format_failure(excinfo.value.result, self.config.stash[_STATE].known_secrets())
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.line - 1, f"scenario {self.name}"


def _judge(config: pytest.Config, result: "ScenarioResult") -> None:
    """Skip, pass or fail the test of a scenario (or rfc area) as `run --fail-on` judges it."""
    from harness.exit_policy import scenario_fails_run
    if result.skipped is not None:
        pytest.skip(result.skipped)
    if scenario_fails_run(result, config.getoption("scim_fail_on")):
        raise ScenarioFailed(result)


class RfcSuite(pytest.Collector):
    """The rfc conformance suite (--scim-rfc): its items are added at collection, one per area."""

    def collect(self) -> list[pytest.Item]:
        return []


class RfcItem(pytest.Item):
    """One area of the rfc suite; the suite runs once for every area still selected when the first runs."""

    def runtest(self) -> None:
        state: _PluginState = self.config.stash[_STATE]
        wanted = [i.name for i in self.session.items if isinstance(i, RfcItem)]
        result = state.rfc_result(self.name, wanted)
        if result is None:
            pytest.skip(f"the rfc suite did not run the {self.name} area")
        _judge(self.config, result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return format_failure(excinfo.value.result, self.config.stash[_STATE].known_secrets())
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[str, int, str]:
        return "scim-rfc", 0, f"rfc suite area {self.name}"


def format_failure(result: "ScenarioResult", secrets_: Iterable[str] = ()) -> str:
    """The steps of a failed scenario, each failed check with its rule and message (no traceback)."""
    from harness.transcript import scrub
    lines = [f"scenario {result.name} ({result.file}) {result.status.upper()}"]
    if result.description:
        lines.append(f"  {result.description}")
    for i, step in enumerate(result.steps, 1):
        lines.append(f"  step {i} {step.name!r} ({step.action}): {step.status}")
        if step.error:
            lines.append(f"    error: {step.error}")
        if step.skipped and step.status == "skip":
            lines.append(f"    {step.skipped}")
        for c in step.checks:
            if c.status in ("fail", "error"):
                lines.append(f"    x {c.check_id} [{c.strength}] {c.rule}")
                lines.append(f"      {c.message}")
                if c.exchange is not None:
                    ex = c.exchange
                    lines.append(f"      {ex.method} {ex.url} -> {ex.status if ex.status is not None else ex.error}")
    return scrub("\n".join(lines), secrets_) or ""


# --- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def scim_target(request: pytest.FixtureRequest) -> "Target":
    """The target of this session: --scim-target, or the embedded mock (started once)."""
    return request.config.stash[_STATE].target()


@pytest.fixture(scope="session")
def embedded_mock(request: pytest.FixtureRequest) -> "EmbeddedMock":
    """The session's embedded mock_clockwise (a real subprocess on a loopback port)."""
    return request.config.stash[_STATE].embedded()


@dataclass(repr=False)
class ScimOrg:
    """Where a test provisions: a fresh Clockwise org when the control plane exists, else the target itself."""

    target: "Target"
    token: str
    name: str | None            # the org's name on a control-plane target
    session: "Session | None" = None  # the session that made the org (in the run's auth mode)

    def __repr__(self) -> str:
        # A failing test prints its fixtures: never the token (the target's repr redacts its own).
        return f"ScimOrg(target={self.target!r}, token=[REDACTED], name={self.name!r})"

    def client(self) -> "httpx.Client":
        client = self.target.scim_client(self.token)
        if self.session is not None:
            self.session.authenticate(client, self.token)
        return client

    def _control_read(self, what: str) -> Any:
        if self.name is None:
            pytest.skip("needs the Clockwise control plane (/_mock); the target has none")
        with self.target.control_client() as control:
            r = control.get(f"/orgs/{self.name}/{what}")
        r.raise_for_status()
        return r.json()

    def plan(self) -> dict[str, Any]:
        """The org's plan, as the control step `plan` reads it: {"mode": "trial"|"synced", "paid": [emails],
        "free": [...], "admins": [...], ...} (skips the test on a target without the control plane)."""
        return self._control_read("plan")

    def events(self) -> Any:
        """The WorkOS-style events of the org, as the control step `events`: {"data": [{"event": "dsync.user.created",
        "data": {…}, …}]}."""
        return self._control_read("events")

    def members(self) -> Any:
        """The org's members, as the control step `members`."""
        return self._control_read("members")


@pytest.fixture
def scim_org(scim_target: "Target", request: pytest.FixtureRequest) -> Iterator[ScimOrg]:
    if not scim_target.has_control_plane:
        yield ScimOrg(scim_target, scim_target.token, None)
        return
    from harness.control_plane import ControlPlaneError
    session = request.config.stash[_STATE].session()
    try:
        org = session.open_org(f"pytest-{secrets.token_hex(4)}", what="create a test org on the control plane")
    except ControlPlaneError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield ScimOrg(scim_target, org.token, org.name, session)
    finally:
        session.close_org(org.name)


@pytest.fixture
def scim_http(scim_org: ScimOrg) -> Iterator["httpx.Client"]:
    """An httpx client on the SCIM base URL with the test org's bearer token."""
    with scim_org.client() as client:
        yield client


@pytest.fixture
def okta_org(scim_org: ScimOrg, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh mock_okta OktaOrg driving the test org (dialect from --scim-dialect, default okta)."""
    from harness.idp_org import new_okta_org
    dialect = request.config.getoption("scim_dialect") or "okta"
    with scim_org.client() as client:
        yield new_okta_org(client, dialect=dialect, timeout=scim_org.target.timeout)
