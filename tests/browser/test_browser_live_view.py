"""The live view /_mock/ui of a real `scim-harness serve` (worker processes, loopback) in a real browser:
the one-time link printed at start opens it and leaves the address bar, a user POSTed through SCIM appears
within 2 s, and no token is in the page."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

SCIM = "browser-scim-token-71a3"
ADMIN = "browser-admin-token-0be4"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`scim-harness serve` on a free loopback port with two worker processes; stopped (by its pid) at the end."""
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "--port", "0", "--workers", "2",
                                 "--token", SCIM, "--admin-token", ADMIN], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not re.search(r"Press Ctrl-C", log.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        text = log.read_text()
        base = re.search(r"SCIM base URL: (\S+)/scim/v2", text).group(1)  # type: ignore[union-attr]
        link = re.search(r"Live view \(one-time link\): (\S+)", text).group(1)  # type: ignore[union-attr]
        yield {"base": base, "link": link, "log": text}
    finally:
        proc.terminate()  # SIGTERM: serve stops its workers and removes its state folder
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_user_posted_through_scim_appears_within_two_seconds(page: Any, served: dict[str, str],
                                                                screenshot: Any) -> None:
    assert served["link"].startswith(served["base"] + "/_mock/ui/login?ticket=")
    page.goto(served["link"])
    assert page.url == served["base"] + "/_mock/ui"  # the ticket left the address bar
    page.locator("[data-org=acme]").wait_for(timeout=5000)
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('live ·')", timeout=5000)
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "grace@acme.test",
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "emails": [{"value": "grace@acme.test", "primary": True}], "active": True}
    r = httpx.post(served["base"] + "/scim/v2/Users", json=user, headers={"Authorization": f"Bearer {SCIM}"})
    assert r.status_code == 201, r.text
    posted = time.monotonic()
    row = page.locator("table.members td", has_text="grace@acme.test")
    row.wait_for(timeout=2000)  # fails the test when the page took longer than 2 s to show it
    seen = time.monotonic() - posted
    assert seen < 2.0
    org = page.locator("[data-org=acme]")
    assert "1 SCIM user(s)" in org.inner_text() and "dsync.user.created" in org.inner_text()
    assert "POST /Users" in page.locator("#journal").inner_text()
    html = page.content()
    for secret in (SCIM, ADMIN, served["link"].split("ticket=")[1]):
        assert secret not in html
    screenshot(page, "live-view")
    # the link was for one use: a second tab without the session cookie is refused
    other = page.context.new_page()
    try:
        other.context.clear_cookies()
        assert other.goto(served["link"]).status == 401
    finally:
        other.close()
