"""The scenario loader: the shipped scenarios load; malformed ones fail with file, line and reason."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.scenarios import (ScenarioError, VariableError, Variables, default_scenario_dir, load_file, load_paths,
                               load_text, select)

GOOD = """\
name: good
tags: [users]
setup:
  people: 2
steps:
  - name: assign
    action: assign
    people: [p1, p2]
  - name: read
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 200}
    save: {uid: id}
  - name: again
    request: {method: GET, path: "/Users/${uid}"}
"""


def problems(text: str, file: str = "bad.scim.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_text(text, file)
    return info.value.problems


def test_shipped_scenarios_load_and_cover_issue_4() -> None:
    scenarios = load_paths([default_scenario_dir()])
    names = {s.name for s in scenarios}
    assert len(names) == len(scenarios)
    for needed in ("create-users", "update-attributes", "clockwise-admin-attributes-rejected", "deactivate-and-reactivate",
                   "group-push", "group-unlink-keep", "clockwise-threshold-nine", "clockwise-threshold-ten",
                   "clockwise-admin-panel-disabled", "okta-oin-spec-test", "okta-oin-crud-test", "test-connection",
                   "import-paging", "bad-and-missing-tokens", "entra-deprovision"):
        assert needed in names
    spec = next(s for s in scenarios if s.name == "okta-oin-spec-test")
    assert spec.headers == {"User-Agent": "OKTA SCIM Integration"}
    assert any("entra" in s.dialects for s in scenarios)
    # Every Clockwise-specific scenario declares it, so it is skipped elsewhere.
    for s in scenarios:
        if any(step.kind == "control" for step in s.steps) or s.setup.members:
            assert "clockwise" in s.requires, s.name


def test_a_good_scenario_builds_steps() -> None:
    [sc] = load_text(GOOD, "good.scim.yaml")
    assert sc.name == "good" and sc.dialects == ["okta"] and sc.line == 1
    assert [s.kind for s in sc.steps] == ["action", "request", "request"]
    assert sc.steps[0].params == {"people": ["p1", "p2"]} and sc.steps[0].line == 6
    assert [p["ref"] for p in sc.setup.people] == ["p1", "p2"]
    assert sc.steps[1].save == {"uid": "id"}


def test_unknown_key_names_file_line_and_allowed_keys() -> None:
    text = GOOD.replace("    expect: {status: 200}", "    expect: {status: 200, staus: 201}")
    [msg] = problems(text)
    assert msg.startswith("bad.scim.yaml:11: steps[1].expect.staus: unknown key 'staus'")
    assert "status" in msg


def test_bad_action_name_points_at_its_line() -> None:
    [msg] = problems(GOOD.replace("action: assign", "action: asign"))
    assert msg.startswith("bad.scim.yaml:7: steps[0].action: 'asign' is not one of:")


def test_missing_name_and_steps() -> None:
    msgs = problems("description: nothing here\n")
    assert any("bad.scim.yaml:1:" in m and "'name'" in m for m in msgs)
    assert any("'steps'" in m for m in msgs)


def test_invalid_yaml_gives_the_line() -> None:
    [msg] = problems("name: x\nsteps:\n  - name: [unclosed\n  - name: y\n")
    assert msg.startswith("bad.scim.yaml:4: invalid YAML")


def test_unknown_person_and_group_refs() -> None:
    text = GOOD.replace("people: [p1, p2]", "people: [p1, p3]")
    [msg] = problems(text)
    assert msg.startswith("bad.scim.yaml:8: steps[0].people[1]: unknown person 'p3'")


def test_unknown_variable_and_bad_attribute() -> None:
    msgs = problems(GOOD.replace("/Users/${uid}", "/Users/${uuid}").replace("${p1.id}", "${p1.colour}"))
    assert msgs[0].startswith("bad.scim.yaml:10: steps[1].request.path: ${p1.colour}: a person has")
    assert msgs[1].startswith("bad.scim.yaml:14: steps[2].request.path: unknown variable ${uuid}")


def test_a_variable_saved_later_is_not_available_earlier() -> None:
    text = GOOD.replace('path: "/Users/${p1.id}"', 'path: "/Users/${uid}"')
    [msg] = problems(text)
    assert "bad.scim.yaml:10:" in msg and "unknown variable ${uid}" in msg


def test_step_kinds_and_action_parameters() -> None:
    text = """\
name: kinds
setup: {people: 1}
steps:
  - name: both
    action: assign
    person: p1
    request: {method: GET, path: /Users}
  - name: none
  - name: update without changes
    action: update_profile
    person: p1
  - name: group param on a people action
    action: deactivate
    person: p1
    new_name: x
"""
    msgs = problems(text)
    assert msgs[0].startswith("bad.scim.yaml:4: steps[0]: a step needs exactly one of `action`, `request`, `control` (found action, request)")
    assert msgs[1].startswith("bad.scim.yaml:8: steps[1]: a step needs exactly one")
    assert msgs[2].startswith("bad.scim.yaml:9: steps[2]: action update_profile needs `changes`")
    assert msgs[3].startswith("bad.scim.yaml:15: steps[3].new_name: `new_name` does not apply to action deactivate")


def test_control_steps_and_seeded_members_need_requires_clockwise() -> None:
    text = """\
name: plan
setup:
  members: [{email: a@x.test}]
steps:
  - name: read the plan
    control: plan
"""
    msgs = problems(text)
    assert msgs[0].startswith("bad.scim.yaml:3: setup: setup.threshold and setup.members need `requires: [clockwise]`")
    assert msgs[1].startswith("bad.scim.yaml:6: steps[0].control: control-plane steps need `requires: [clockwise]`")
    assert load_text(text.replace("setup:", "requires: [clockwise]\nsetup:"))[0].requires == ["clockwise"]


def test_duplicate_names_in_a_file_and_across_files(tmp_path: Path) -> None:
    msgs = problems(GOOD + "---\n" + GOOD)
    assert msgs == ["bad.scim.yaml:16: name: scenario name 'good' already used at line 1"]
    (tmp_path / "a.scim.yaml").write_text(GOOD)
    (tmp_path / "b.scim.yaml").write_text(GOOD)
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    assert "b.scim.yaml:1: name: scenario name 'good' already used in" in info.value.problems[0]


def test_people_star_means_everyone_and_one_of_messages_are_readable() -> None:
    [sc] = load_text(GOOD.replace("people: [p1, p2]", 'people: "*"'))
    assert sc.steps[0].params["people"] == ["p1", "p2"]
    [msg] = problems(GOOD.replace("people: 2", "people: lots"))
    assert msg.startswith("bad.scim.yaml:4: setup.people: expected ")


def test_missing_file_and_error_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path / "nope.scim.yaml"])
    assert "no such file" in info.value.problems[0]
    err = ScenarioError(["a:1: x", "a:2: y"])
    assert err.one_line() == "malformed scenario: a:1: x (and 1 more problem(s))"


def test_load_file_and_select(tmp_path: Path) -> None:
    f = tmp_path / "x.scim.yaml"
    f.write_text(GOOD + "---\n" + GOOD.replace("name: good", "name: other").replace("tags: [users]", "tags: [groups]"))
    scenarios = load_file(f)
    assert [s.file for s in scenarios] == [str(f), str(f)]
    assert [s.name for s in select(scenarios, tags=["groups"])] == ["other"]
    assert len(select(scenarios)) == 2


def test_variables_substitution() -> None:
    ids = {"p1": "u-1"}
    v = Variables(run={"prefix": "scimh-x-"}, person_attr=lambda ref, attr: ids.get(ref) if attr == "id" else "Ann.Lee@x.test",
                  group_attr=lambda ref, attr: None, people={"p1", "p2"}, groups={"g1"})
    v.saved["n"] = 3
    assert v.substitute({"a": "${n}", "b": "n=${n}", "c": ["/Users/${p1.id}"]}) == {"a": 3, "b": "n=3", "c": ["/Users/u-1"]}
    assert v.substitute("${p1.email|upper}") == "ANN.LEE@X.TEST"
    assert v.substitute("${random.a}") == v.substitute("${random.a}") != v.substitute("${random.b}")
    with pytest.raises(VariableError, match=r"\$\{p2.id\} has no value yet"):
        v.substitute("${p2.id}")
    with pytest.raises(VariableError, match="saved by a step that did not run"):
        v.substitute("${later}")
    with pytest.raises(VariableError, match=r"\$\{g1.id\} has no value yet"):
        v.substitute("${g1.id}")


# --- dialect_options: the IdP admin's settings, per dialect ------------------------------------------------
OPTIONED = """\
name: optioned
dialects: [onelogin, pingfederate]
dialect_options:
  onelogin: {deprovision: delete}
  pingfederate: {deprovision: delete, group_patch: true}
steps:
  - {name: read, request: {method: GET, path: /Users}}
"""


def test_dialect_options_are_read_per_dialect() -> None:
    [sc] = load_text(OPTIONED)
    assert sc.dialect_options == {"onelogin": {"deprovision": "delete"},
                                  "pingfederate": {"deprovision": "delete", "group_patch": True}}
    assert load_text(GOOD)[0].dialect_options == {}


@pytest.mark.parametrize("change,to,key", [
    ("onelogin: {deprovision: delete}", "onelogin: {deprovision: erase}", "dialect_options.onelogin.deprovision"),
    ("group_patch: true", "group_patch: yes please", "dialect_options.pingfederate.group_patch"),
    ("group_patch: true", "group_patch: true, rename_groups: false", "dialect_options.pingfederate.rename_groups"),
    ("onelogin: {", "entra: {rename_groups: true}\n  onelogin: {", "dialect_options.entra.rename_groups"),
    ("onelogin: {", "okta: {rename_groups: false}\n  onelogin: {", "dialect_options.okta"),
])
def test_an_unknown_option_or_bad_value_is_one_line_naming_file_and_key(change: str, to: str, key: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(OPTIONED.replace(change, to, 1), "opts.scim.yaml")
    line = info.value.one_line()
    assert "\n" not in line and line.startswith("malformed scenario: opts.scim.yaml:") and f" {key}: " in line, line


def test_the_schema_offers_exactly_the_dialects_settings() -> None:
    import inspect

    from harness.scenarios import scenario_schema
    from mock_okta.dialects import BY_NAME

    offered = scenario_schema()["properties"]["dialect_options"]["properties"]
    defs = scenario_schema()["$defs"]
    assert set(offered) == set(BY_NAME)
    for name, spec in offered.items():
        spec = defs[spec["$ref"].rsplit("/", 1)[1]] if "$ref" in spec else spec
        settings = set(spec.get("properties", {})) - {"rename_groups"}  # rename_groups: the driver's (OktaOrg)
        assert settings == set(inspect.signature(BY_NAME[name]).parameters), name


def test_a_dialect_option_changes_what_the_scenario_sends() -> None:
    """The shipped dialect_options scenarios pass on the embedded mock, and fail with their options dropped:
    each option is applied, none ignored."""
    from harness.embedded import EmbeddedMock
    from harness.runner import Runner
    from harness.session import Session

    shipped = load_file(default_scenario_dir() / "dialect_options.scim.yaml")
    assert {o for sc in shipped for opts in sc.dialect_options.values() for o in opts} == {
        "deprovision", "group_patch", "rename_groups"}
    with EmbeddedMock() as mock:
        for sc in shipped:
            [dialect] = sc.dialects
            ran = Runner(Session(mock.target)).run_scenario(sc, dialect)
            assert ran.status == "pass", sc.name
            for option in sc.dialect_options[dialect]:
                without = dataclasses.replace(sc, dialect_options={dialect: {
                    k: v for k, v in sc.dialect_options[dialect].items() if k != option}})
                assert Runner(Session(mock.target)).run_scenario(without, dialect).status != "pass", (sc.name, option)


def test_only_if_names_an_earlier_step_that_runs_wherever_it_does() -> None:
    doc = """\
name: preconditions
dialects: [okta, entra]
setup: {people: 1}
steps:
  - name: first
    dialects: [okta]
    request: {method: GET, path: /Users}
  - name: second
    only_if: {step: first, json: {totalResults: 0}, why: an empty server}
    request: {method: GET, path: /Users}
  - name: third
    only_if: {step: later, json: {totalResults: 0}, why: an empty server}
    request: {method: GET, path: /Users}
  - name: later
    request: {method: GET, path: /Users}
"""
    assert problems(doc) == [
        "bad.scim.yaml:9: steps[1].only_if.step: step 'first' does not run in entra, where this step runs",
        "bad.scim.yaml:12: steps[2].only_if.step: no earlier step is named 'later'"]
    fixed = doc.replace("    dialects: [okta]\n", "").replace("step: later", "step: first")
    [msg] = problems(fixed.replace("why: an empty server}", "why: ''}", 1))
    assert msg.startswith("bad.scim.yaml:8: steps[1].only_if.why:") and "non-empty" in msg, msg
    # Fixed, it loads and keeps the precondition on the step.
    [sc] = load_text(fixed)
    assert [s.only_if for s in sc.steps][1:3] == [{"step": "first", "json": {"totalResults": 0}, "why": "an empty server"}] * 2
