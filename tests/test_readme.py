"""The README matches the code: every option in its command synopsis exists, and the scenario reference
names every action (with its parameters), every control step, every matcher and every faults field."""
from __future__ import annotations

import re
from pathlib import Path

from harness.actions import ACTIONS
from harness.cli import build_parser
from harness.expect import OPERATORS
from harness.scenarios import scenario_schema

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n#", start + len(title))
    return README[start:end if end > 0 else None]


def options_of(command: str) -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action.choices, dict) and command in action.choices:
            return {o for a in action.choices[command]._actions for o in a.option_strings}
    raise KeyError(command)


def test_the_synopsis_lists_real_options() -> None:
    synopsis = section("## Commands").split("```")[1]
    current = None
    for line in synopsis.splitlines():
        m = re.match(r"scim-harness (\w+)", line)
        if m:
            current = m.group(1)
        if current in ("run", "load"):
            for flag in re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", line.split("#")[0]):
                assert flag in options_of(current), (current, flag)
    assert "--fail-on" in synopsis and "--junitxml" in synopsis and "-k EXPR" in synopsis


def test_the_scenario_reference_names_every_action_control_and_matcher() -> None:
    reference = section("### Scenario reference")
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]*) \|", reference, flags=re.M))
    for name, action in ACTIONS.items():
        assert name in rows, name
        for param in action.needs | action.accepts:
            assert f"`{param}`" in rows[name], (name, param)
    control = scenario_schema()["$defs"]["step"]["properties"]["control"]["enum"]
    for name in control:
        assert f"`{name}`" in reference, name
    for op in OPERATORS:
        assert f"`{op}`" in reference, op
    assert 'people: "*"' in reference


def test_the_faults_body_is_documented() -> None:
    faults = section("### Control plane")
    for field in ("method", "path", "org", "status", "retry_after", "latency_ms", "count", "fraction"):
        assert f"| `{field}` |" in faults, field
