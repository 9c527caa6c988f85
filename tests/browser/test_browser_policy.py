"""Without a browser the browser tests fail, in CI always; they skip only locally, and only when
SCIM_HARNESS_SKIP_BROWSER=1 says so (conftest.py). Checked by running one of them in a child pytest with
the browser pointed at a file that does not exist."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _run(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "SCIM_HARNESS_SKIP_BROWSER")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                           str(HERE / "test_browser_report.py"), "-k", "no_request"],
                          env={**base, "SCIM_HARNESS_CHROMIUM": str(HERE / "no-such-chromium"), **env},
                          capture_output=True, text=True, timeout=120, cwd=HERE.parent.parent)
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("env, outcome", [
    ({}, "1 error"),                                             # locally, not asked to skip: fails
    ({"SCIM_HARNESS_SKIP_BROWSER": "1"}, "1 skipped"),           # locally, asked to: skips, saying why
    ({"CI": "true"}, "1 error"),                                 # CI: fails
    ({"CI": "true", "SCIM_HARNESS_SKIP_BROWSER": "1"}, "1 error"),  # CI: fails even when asked to skip
])
def test_a_missing_browser_fails_unless_skipping_is_asked_for_outside_ci(env: dict[str, str], outcome: str) -> None:
    out = _run(**env)
    assert outcome in out, out[-2000:]
    assert "no-such-chromium is missing" in out
