"""--suite: parsing, resolution against targets with and without the control plane, and the CLI."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.cli import main
from harness.conformance.suites import SuiteError, in_suites, parse_suites, resolve


def test_parse_suites_repeatable_and_comma_lists() -> None:
    assert parse_suites(None) is None
    assert parse_suites(["rfc,okta", "okta", " entra "]) == ["rfc", "okta", "entra"]
    with pytest.raises(SuiteError, match="unknown suite 'nope'"):
        parse_suites(["rfc,nope"])


def test_all_drops_clockwise_without_a_control_plane() -> None:
    plan = resolve(["all"], has_control_plane=False, explicit_selection=False)
    assert plan.suites == ["rfc", "okta", "entra", "onelogin", "pingfederate"] and plan.rfc and "clockwise" in plan.skipped
    assert resolve(None, has_control_plane=True, explicit_selection=False).suites == [
        "rfc", "okta", "entra", "onelogin", "pingfederate", "clockwise"]
    # --scenarios/--tags without --suite: only those scenarios, no rfc checks.
    assert not resolve(None, has_control_plane=True, explicit_selection=True).rfc


def test_the_new_dialects_have_suites_of_their_own() -> None:
    from harness.conformance.suites import in_suites
    plain = SimpleNamespace(requires=[], dialects=["onelogin", "pingfederate"])
    assert in_suites(plain, "onelogin", ["onelogin"]) and not in_suites(plain, "onelogin", ["okta", "pingfederate"])
    assert in_suites(plain, "pingfederate", ["pingfederate"]) and not in_suites(plain, "pingfederate", ["entra"])
    assert parse_suites(["onelogin,pingfederate"]) == ["onelogin", "pingfederate"]


def test_in_suites_by_dialect_and_requirement() -> None:
    plain, cw = SimpleNamespace(requires=[], dialects=["okta"]), SimpleNamespace(requires=["clockwise"], dialects=["okta"])
    assert in_suites(plain, "okta-aiw", ["okta"]) and not in_suites(plain, "entra", ["okta"])
    assert in_suites(plain, "entra", ["entra"]) and not in_suites(cw, "okta", ["okta"]) and in_suites(cw, "entra", ["clockwise"])


def test_run_suite_rfc_writes_verdicts_and_rule_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--suite", "rfc", "--report-dir", str(tmp_path), "--format", "console,json,junit"])
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads((tmp_path / "report.json").read_text())
    names = [sc["name"] for sc in doc["run"]["scenarios"]]
    assert names[0] == "rfc: discovery" and all(n.startswith("rfc: ") for n in names)
    verdicts = {v["idp"]: v for v in doc["summary"]["verdicts"]}
    assert verdicts["okta"]["verdict"] == "ready" and verdicts["entra"]["verdict"] == "ready"
    assert any(r["rule"].startswith("RFC 7644 §3.4.2.2") for r in doc["summary"]["rules"])
    assert "Okta: ready" in out and "Rules" in out
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="verdict.okta"' in junit and "rule: RFC 7644" in junit


def test_unknown_suite_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--suite", "bogus"]) == 2
    assert "unknown suite 'bogus'" in capsys.readouterr().err
