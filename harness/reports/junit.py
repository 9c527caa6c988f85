"""JUnit XML: one <testsuite> per scenario file, one <testcase> per scenario (classname = the file).

CI systems (GitLab, Jenkins, GitHub test reporters) show a testcase per scenario with its failed
checks — once per root cause, with its count, rule and strength — in the failure text; skipped scenarios
carry the reason.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable

from harness.reports.json_report import run_to_dict, scrub_value
from harness.reports.root_causes import normalise
from harness.results import RunResult


def _xml_safe(text: str) -> str:
    # XML 1.0 forbids most control characters; a response body may contain any byte.
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 0x20 else f"\\x{ord(ch):02x}" for ch in text)


def _case_name(scenario: dict[str, Any]) -> str:
    return scenario["name"]


def _failures(scenario: dict[str, Any], statuses: tuple[str, ...]) -> list[str]:
    """The scenario's failures, one line per root cause (check id and normalised message) with its count."""
    groups: dict[tuple[str, str], list[Any]] = {}

    def add(check_id: str, text: str, message: str) -> None:
        groups.setdefault((normalise(check_id), normalise(message)), [text, 0])[1] += 1

    for step in scenario["steps"]:
        if step["error"] and "error" in statuses:
            add("step.error", f"{step['name']}: the step could not run: {step['error']}", step["error"])
        for check in step["checks"]:
            if check["status"] in statuses:
                add(check["check_id"], f"{step['name']}: {check['check_id']} [{check['rule']}, {check['strength']}]: "
                    f"{check['message']}", check["message"])
    return [f"{n}× {text}" if n > 1 else text for text, n in groups.values()]


def _steps_out(scenario: dict[str, Any]) -> str:
    lines = []
    for step in scenario["steps"]:
        c = step["check_counts"]
        lines.append(f"[{step['status'].upper():5}] {step['name']} ({step['action']}): "
                     f"{c['pass']} passed, {c['fail']} failed, {c['error']} errors, {c['skip']} skipped")
        for ex in step["exchanges"]:
            lines.append(f"        {ex['method']} {ex['url']} -> {ex['status'] if ex['status'] is not None else ex['error']}")
    return "\n".join(lines)


def build_junit(document: dict[str, Any]) -> ET.ElementTree:
    scenarios = document["run"]["scenarios"]
    root = ET.Element("testsuites", name="scim-harness")
    by_file: dict[str, list[dict[str, Any]]] = {}
    for sc in scenarios:
        by_file.setdefault(sc["file"] or "scenarios", []).append(sc)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for file, items in by_file.items():
        counts = {"tests": len(items), "failures": sum(1 for s in items if s["status"] == "fail"),
                  "errors": sum(1 for s in items if s["status"] == "error"),
                  "skipped": sum(1 for s in items if s["status"] == "skip")}
        duration = sum(s["duration_s"] for s in items)
        suite = ET.SubElement(root, "testsuite", name=_xml_safe(file), timestamp=document["run"]["started"],
                              time=f"{duration:.3f}", **{k: str(v) for k, v in counts.items()})
        props = ET.SubElement(suite, "properties")
        for name in ("target", "dialect"):
            ET.SubElement(props, "property", name=name, value=_xml_safe(str(document["run"][name])))
        _summary_properties(props, document)
        for sc in items:
            case = ET.SubElement(suite, "testcase", name=_xml_safe(_case_name(sc)), classname=_xml_safe(file),
                                 time=f"{sc['duration_s']:.3f}")
            if sc["status"] == "skip":
                reason = sc["skipped"] or "every step was skipped"
                ET.SubElement(case, "skipped", message=_xml_safe(reason))
            elif sc["status"] in ("fail", "error"):
                tag = "failure" if sc["status"] == "fail" else "error"
                lines = _failures(sc, ("fail", "error"))
                # The message names every root cause once (with its count), as far as 500 characters go.
                summary = (f"{len(lines)} root cause(s): " + " | ".join(lines)) if lines else f"the scenario {sc['status']}ed"
                element = ET.SubElement(case, tag, message=_xml_safe(summary[:500]),
                                        type=_xml_safe(_first_check_id(sc)))
                element.text = _xml_safe("\n".join(lines))
            out = ET.SubElement(case, "system-out")
            out.text = _xml_safe(_steps_out(sc))
        for key in totals:
            totals[key] += counts[key]
        total_time += duration
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def _summary_properties(props: ET.Element, document: dict[str, Any]) -> None:
    """The verdict per IdP and the per-rule table, as properties (CI systems show them per suite)."""
    for d in document["summary"].get("diagnoses", []):  # the likely cause of the failures, first
        ET.SubElement(props, "property", name="diagnosis", value=_xml_safe(d))
    if document["summary"].get("exit"):
        ET.SubElement(props, "property", name="exit", value=_xml_safe(document["summary"]["exit"]["reason"]))
    for v in document["summary"].get("verdicts", []):
        ET.SubElement(props, "property", name=f"verdict.{v['idp']}", value=_xml_safe(v["line"]))
    for r in document["summary"].get("rules", []):
        ET.SubElement(props, "property", name=_xml_safe(f"rule: {r['rule']} ({r['strength']})"),
                      value=f"pass={r['pass']} fail={r['fail']} skip={r['skip']} error={r['error']}")


def _first_check_id(scenario: dict[str, Any]) -> str:
    for step in scenario["steps"]:
        if step["error"]:
            return "step.error"
        for check in step["checks"]:
            if check["status"] in ("fail", "error"):
                return check["check_id"]
    return "scenario"


def write_junit(document: dict[str, Any], path: Path) -> Path:
    build_junit(document).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_junit_file(run: RunResult, path: Path, *, secrets: Iterable[str] = ()) -> Path:
    """The JUnit XML report of `run` at exactly `path` (`--junitxml PATH`, as pytest's), folders made."""
    secret_list = sorted({s for s in secrets if s}, key=len, reverse=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_junit(run_to_dict(run, secret_list), path)
    text = path.read_text(encoding="utf-8")
    clean = scrub_value(text, secret_list)
    if clean != text:
        path.write_text(clean, encoding="utf-8")
    return path
