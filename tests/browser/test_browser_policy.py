"""Without a browser the browser tests fail in CI (or when SCIM_HARNESS_REQUIRE_BROWSER=1); elsewhere they
are reported as skipped with the reason and a summary line saying they did not run (conftest.py). Checked by running one of them in a child pytest with
the browser pointed at a file that does not exist."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _run(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "SCIM_HARNESS_REQUIRE_BROWSER")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                           str(HERE / "test_browser_report.py"), "-k", "no_request"],
                          env={**base, "SCIM_HARNESS_CHROMIUM": str(HERE / "no-such-chromium"), **env},
                          capture_output=True, text=True, timeout=120, cwd=HERE.parent.parent)
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("env, outcome", [
    ({}, "1 skipped"),                                   # a machine with only Python and pip: skipped, saying why
    ({"SCIM_HARNESS_REQUIRE_BROWSER": "1"}, "1 error"),  # asked to require it: fails
    ({"CI": "true"}, "1 error"),                         # CI: fails
])
def test_a_missing_browser_fails_in_ci_and_is_reported_skipped_elsewhere(env: dict[str, str], outcome: str) -> None:
    out = _run(**env)
    assert outcome in out, out[-2000:]
    assert "no-such-chromium is missing" in out
    if outcome == "1 skipped":
        assert "browser tests SKIPPED (not run)" in out
