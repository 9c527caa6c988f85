"""The action table (harness.actions) is the one vocabulary of IdP actions: the scenario schema's enum,
the loader's parameter checks and the driver methods a run calls all agree with it."""
from __future__ import annotations

import pytest

from harness.actions import ACTIONS, PARAMS
from harness.scenarios import ScenarioError, load_text, scenario_schema
from mock_okta import OktaOrg


def test_the_schema_enum_is_the_action_table() -> None:
    enum = scenario_schema()["$defs"]["step"]["properties"]["action"]["enum"]
    assert sorted(enum) == sorted(ACTIONS) and len(enum) == len(set(enum))


def test_every_action_is_a_driver_method_and_every_parameter_is_known() -> None:
    for name, action in ACTIONS.items():
        assert callable(getattr(OktaOrg, name, None)), name
        assert action.needs | action.accepts <= set(PARAMS), name
    step_props = scenario_schema()["$defs"]["step"]["properties"]
    assert set(PARAMS) <= set(step_props)


@pytest.mark.parametrize(("step", "problem"), [
    ("{name: s, action: assign}", "action assign needs `person` or `people`"),
    ("{name: s, action: rename_group, group: g1}", "action rename_group needs `new_name`"),
    ("{name: s, action: push_now, group: g1, delete: true}", "`delete` does not apply to action push_now"),
])
def test_the_loader_checks_steps_against_the_table(step: str, problem: str) -> None:
    text = f"name: x\nsetup: {{people: 1, groups: [{{ref: g1, name: G, members: [p1]}}]}}\nsteps:\n  - {step}\n"
    with pytest.raises(ScenarioError) as exc:
        load_text(text, "x.scim.yaml")
    assert any(problem in p for p in exc.value.problems), exc.value.problems


@pytest.mark.parametrize(("step", "problem"), [
    ("{name: s, action: sync_password}", "action sync_password needs `person`"),
    ("{name: s, action: reassign, group: g1, person: p1}", "`group` does not apply to action reassign"),
    ("{name: s, action: import_schema, password: x}", "`password` does not apply to action import_schema"),
])
def test_the_new_actions_are_checked_too(step: str, problem: str) -> None:
    text = f"name: x\nsetup: {{people: 1, groups: [{{ref: g1, name: G, members: [p1]}}]}}\nsteps:\n  - {step}\n"
    with pytest.raises(ScenarioError) as exc:
        load_text(text, "x.scim.yaml")
    assert any(problem in p for p in exc.value.problems), exc.value.problems


@pytest.mark.parametrize("person", [
    "{ref: p1, profile: gold}",
    "{ref: p1, phone_numbers: {home: '1'}}",
    "{ref: p1, address: {city: Paris}}",
    "{ref: p1, manager: 'not a ref'}",
])
def test_mapped_attributes_of_setup_people_are_validated(person: str) -> None:
    text = f"name: x\nsetup: {{people: [{person}]}}\nsteps:\n  - {{name: s, action: assign, person: p1}}\n"
    with pytest.raises(ScenarioError):
        load_text(text, "x.scim.yaml")


def test_mapped_attributes_of_setup_people_load() -> None:
    text = ("name: x\nsetup: {people: [{ref: b}, {ref: p1, profile: full, manager: b, title: T, "
            "phone_numbers: {work: '1'}, address: {locality: Paris}, custom: {costCenter: C}}]}\n"
            "steps:\n  - {name: s, action: assign, people: [b, p1]}\n")
    (scenario,) = load_text(text, "x.scim.yaml")
    assert scenario.setup.people[1]["manager"] == "b" and scenario.setup.people[1]["profile"] == "full"


def _stub_session() -> object:
    import httpx
    from types import SimpleNamespace
    return SimpleNamespace(driver_client=lambda token: httpx.Client(base_url="http://x.invalid"), time_scale=0.0,
                           target=SimpleNamespace(timeout=5.0), max_wait=60.0, note_wait=lambda *a: None)


def test_setup_managers_are_resolved_to_people_and_a_bad_ref_is_a_clear_error() -> None:
    from harness.idp_org import IdpOrg
    (good,) = load_text("name: x\nsetup: {people: [{ref: b}, {ref: p1, manager: b}]}\n"
                        "steps:\n  - {name: s, action: assign, person: p1}\n", "x.scim.yaml")
    idp = IdpOrg.for_scenario(_stub_session(), None, good, "okta", "")  # type: ignore[arg-type]
    assert idp.people["p1"].manager is idp.people["b"] and idp.people["b"].manager is None
    for manager in ("nobody", "p1"):
        (bad,) = load_text(f"name: x\nsetup: {{people: [{{ref: p1, manager: {manager}}}]}}\n"
                           "steps:\n  - {name: s, action: assign, person: p1}\n", "x.scim.yaml")
        with pytest.raises(ValueError, match=f"manager '{manager}' is not another person of setup.people"):
            IdpOrg.for_scenario(_stub_session(), None, bad, "okta", "")  # type: ignore[arg-type]
