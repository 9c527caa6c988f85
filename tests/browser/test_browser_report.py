"""report.html in a real browser at 1280×800, as a person opens it from a CI artefact: the verdicts and the
grouped failures above the fold, links to steps and exchanges that land on them (opened), the filters, copy
as curl, and not one request beyond the file itself."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.reports import write_reports
from harness.results import RunResult

@pytest.fixture
def report(tmp_path: Path, vendor_run: RunResult) -> Path:
    return write_reports(vendor_run, tmp_path, ["html"])["html"]


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return box


def test_the_verdicts_and_the_grouped_failures_are_above_the_fold(page: Any, report: Path, screenshot: Any) -> None:
    page.goto(report.as_uri())
    assert page.viewport_size == {"width": 1280, "height": 800}
    verdicts = page.locator("#verdicts")
    assert "Okta: not ready — cannot deactivate users: PATCH /Users/{id} replace {\"active\":false} → 500 boom" in \
        " ".join(verdicts.inner_text().split())
    assert "Entra: not ready" in verdicts.inner_text()
    # the whole verdict block and the first root causes, with their counts, without scrolling
    assert _box(page, "#verdicts")["y"] + _box(page, "#verdicts")["height"] <= 800
    causes = page.locator("tr.cause")
    assert causes.count() == 2  # the same refusal in both dialects is one cause; the missing Location another
    for i in range(2):
        box = causes.nth(i).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, f"root cause {i + 1} is below the fold"
    assert [causes.nth(i).locator("td.count").inner_text() for i in range(2)] == ["2×", "5×"]
    screenshot(page, "report-1280x800")


def test_a_root_cause_links_to_its_step_and_exchange_and_they_open(page: Any, report: Path, screenshot: Any) -> None:
    page.goto(report.as_uri())
    cause = page.locator("tr.cause").first
    cause.locator("a", has_text="exchange #1").first.click()
    target = page.url.split("#")[1]
    exchange = page.locator(f"[id='{target}']")
    assert exchange.evaluate("el => el.tagName") == "DETAILS" and exchange.evaluate("el => el.open")
    # (-1: the anchor may land a sub-pixel above the top, as the rows above have fractional heights)
    assert exchange.evaluate("el => { const r = el.getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight; }")
    assert "PATCH http://127.0.0.1:9/scim/v2/Users/7f1c" in exchange.inner_text()
    # the step link of another instance, in a scenario that starts closed... is opened
    page.goto(report.as_uri())
    cause = page.locator("tr.cause").nth(1)
    cause.locator("summary", has_text="all 5 instances").click()
    cause.locator("ol a", has_text="create-users-4 › assign p1").click()
    step = page.locator(f"[id='{page.url.split('#')[1]}']")
    assert step.evaluate("el => el.open") and step.is_visible() and "assign p1" in step.inner_text()
    screenshot(page, "report-step-link")


def test_filters_hide_what_is_not_asked_for(page: Any, report: Path) -> None:
    page.goto(report.as_uri())
    scenarios = page.locator("details.scenario")
    assert scenarios.count() == 47
    page.locator("#filters input[value=pass]").uncheck()
    assert page.locator("details.scenario:visible").count() == 7
    page.locator("#filters select[name=idp]").select_option("entra")
    assert page.locator("details.scenario:visible").count() == 1
    assert page.locator("tr.cause:visible").count() == 1  # the deactivation both IdPs need, not the RFC one
    page.locator("#filters select[name=idp]").select_option("")
    page.locator("#filters input[name=rule]").fill("§3.3")
    assert page.locator("tr.cause:visible").count() == 1
    assert "header.location" in page.locator("tr.cause:visible").inner_text()


def test_copy_as_curl_copies_the_request_without_a_token(page: Any, report: Path) -> None:
    page.goto(report.as_uri())
    scenario = page.locator("details.scenario").first  # a passing scenario: closed, as its step
    scenario.locator(":scope > summary").click()
    scenario.locator("details.step").first.locator(":scope > summary").click()
    exchange = scenario.locator("details.exchange").first
    exchange.locator(":scope > summary").click()
    curl = exchange.locator("details.curl pre").text_content()
    assert curl.startswith("curl -sS -X GET http://127.0.0.1:9/scim/v2/Users/u0")
    assert '-H "Authorization: Bearer $SCIM_TOKEN"' in curl
    button = exchange.locator("button.copy")
    button.click()
    page.wait_for_function("b => b.textContent !== 'copy as curl'", arg=button.element_handle(), timeout=2000)
    assert button.inner_text() in ("copied", "select the curl below")


def test_the_page_makes_no_request_but_its_own_file(page: Any, report: Path) -> None:
    page.goto(report.as_uri())
    page.locator("details.exchange").first.evaluate("el => el.open = true")
    page.locator("#filters input[value=pass]").uncheck()
    page.wait_for_timeout(200)
    assert page.requests == [report.as_uri()]
