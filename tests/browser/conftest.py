"""Browser tests: Playwright driving Debian's chromium (never a browser Playwright downloads).

Policy when the browser is missing (no /usr/bin/chromium, or the `playwright` package is not installed):
- in CI (`CI` set; .ci/run sets it and installs chromium with apt-get first) or when
  SCIM_HARNESS_REQUIRE_BROWSER=1, the tests FAIL;
- elsewhere (the README's test command on a machine with only Python and pip) they are reported as
  skipped, with the reason, and the session's summary says so in a line of its own.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Iterator

import pytest

from harness.results import CheckResult, RunResult, ScenarioResult, StepResult
from harness.rules import RULES
from harness.transcript import Exchange

# Debian's chromium; SCIM_HARNESS_CHROMIUM names another binary (test_browser_policy.py points it nowhere).
CHROMIUM = os.environ.get("SCIM_HARNESS_CHROMIUM", "/usr/bin/chromium")
# A headless, quiet chromium: no GPU, no QUIC, nothing fetched in the background (updates, sync, field trials).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
REQUIRE_ENV = "SCIM_HARNESS_REQUIRE_BROWSER"
SKIPPED: list[str] = []  # why the browser tests were skipped, for the summary line


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` package is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does it)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One chromium for the session, with a fresh profile folder (removed at the end)."""
    why = _missing()
    if why:
        if os.environ.get("CI") or os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"browser tests need chromium: {why}", pytrace=False)
        SKIPPED.append(why)
        pytest.skip(f"browser tests skipped, not passed: {why}")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="scimh-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                           args=FLAGS, viewport=VIEWPORT)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab; `page.requests` lists the URL of every request it made."""
    tab = browser.new_page()
    tab.requests = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def screenshot(tmp_path: Any) -> Any:
    """`screenshot(page, name)`: a PNG in the test's tmp folder, and in $SCIM_HARNESS_SCREENSHOTS if set,
    for a person to look at."""
    def take(tab: Any, name: str) -> str:
        folder = os.environ.get("SCIM_HARNESS_SCREENSHOTS") or str(tmp_path)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{name}.png")
        tab.screenshot(path=path)
        return path
    return take


# ---------------------------------------------------------------------------- a run a vendor could get
BASE = "http://127.0.0.1:9/scim/v2"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _ex(method: str, path: str, status: int, body: dict | None = None, sent: dict | None = None) -> Exchange:
    return Exchange(method=method, url=f"{BASE}{path}", status=status,
                    request_headers={"Authorization": "Bearer [REDACTED]", "Content-Type": "application/scim+json"},
                    request_body=json.dumps(sent) if sent is not None else None,
                    response_headers={"Content-Type": "application/scim+json"},
                    response_body=json.dumps(body) if body is not None else None)


def _passing(name: str, dialect: str, steps: int) -> ScenarioResult:
    out = []
    for j in range(steps):
        got = _ex("GET", f"/Users/u{j}", 200, {"id": f"u{j}", "userName": f"user{j}@example.com"})
        out.append(StepResult(name=f"step {j + 1}", action="GET /Users/${id}", exchanges=[got], checks=[
            CheckResult("http.status", "pass", "RFC 7644 §3.4.1", "MUST", "status 200 as expected", got)]))
    return ScenarioResult(name=name, file="scenarios/users.scim.yaml", dialect=dialect, steps=out, duration_s=0.1)


def _deactivate_refused(dialect: str) -> ScenarioResult:
    sent = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}]}
    patch = _ex("PATCH", "/Users/7f1c", 500, {"schemas": [ERROR], "status": "500", "detail": "boom"}, sent)
    task = RULES["okta.task" if dialect == "okta" else "entra.task"]
    return ScenarioResult(name=f"deactivate-and-reactivate[{dialect}]", file="scenarios/users.scim.yaml",
                          dialect=dialect, steps=[
        StepResult(name="assign p1", action="assign", exchanges=[_ex("POST", "/Users", 201, {"id": "7f1c"})]),
        StepResult(name="unassign p1", action="deactivate", exchanges=[patch], checks=[
            CheckResult("driver.task", "fail", task.source, task.strength,
                        "deactivate failed: Automatic deprovisioning of user Ada failed: Errors reported by remote "
                        "server: boom", patch)])])


def _no_location(i: int) -> ScenarioResult:
    post = _ex("POST", "/Users", 201, {"id": f"u{i}"})
    return ScenarioResult(name=f"create-users-{i}", file="scenarios/users.scim.yaml", dialect="okta", steps=[
        StepResult(name="assign p1", action="assign", exchanges=[post], checks=[
            CheckResult("header.location", "fail", "RFC 7644 §3.3", "MUST",
                        f"POST /scim/v2/Users/u{i}: 201 Created without a Location header", post)])])


@pytest.fixture
def vendor_run() -> RunResult:
    """Two IdP blockers, a repeated RFC failure and 40 passing scenarios of 6 steps: a long page."""
    scenarios = [_passing(f"okta-oin-crud-test-{n}", "okta", 6) for n in range(20)]
    scenarios += [_deactivate_refused("okta"), _deactivate_refused("entra")]
    scenarios += [_no_location(i) for i in range(5)]
    scenarios += [_passing(f"group-push-{n}[entra]", "entra", 6) for n in range(20)]
    return RunResult(target=BASE, dialect="all", started="2026-12-02T00:00:00+00:00", duration_s=3.2,
                     scenarios=scenarios)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A skipped browser test is not a passed one: say so where the run's result is read."""
    if SKIPPED:
        terminalreporter.write_line(f"browser tests SKIPPED (not run): {SKIPPED[0]}; in CI they fail instead",
                                    yellow=True, bold=True)
