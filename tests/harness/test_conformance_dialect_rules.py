"""A failed driver task names the identity provider of its dialect: Okta's rule for the okta
dialects, Microsoft Entra's for entra (harness.rules task_rule), in-process on the mock."""
from __future__ import annotations

import httpx
import pytest

from harness.rules import task_rule
from harness.runner import Runner
from harness.scenarios import load_text
from harness.session import Session
from harness.target import Target
from tests.harness.broken_scim_app import ADMIN, TOKEN, make_app

SCENARIO = """\
name: admin-edit
requires: [clockwise]
dialects: [okta, entra]
setup:
  members: [{email: boss@acme.test, plan: paid, admin: true}]
  people: [{ref: boss, email: boss@acme.test}]
steps:
  - {name: assign, action: assign, person: boss}
  - {name: edit the admin, action: update_profile, person: boss, changes: {first_name: Robert}}
"""


@pytest.mark.parametrize(("dialect", "idp"), [("okta", "Okta"), ("entra", "Microsoft Entra ID")])
def test_a_failed_task_names_the_dialects_idp(dialect: str, idp: str) -> None:
    [sc] = load_text(SCENARIO)
    target = Target("http://testserver/scim/v2", TOKEN, admin_token=ADMIN)
    transport = httpx.WSGITransport(app=make_app())
    target.probe(transport=transport)
    result = Runner(Session(target, transport=transport)).run_scenario(sc, dialect)
    [task] = [c for st in result.steps for c in st.checks if c.check_id == "driver.task"]
    assert task.status == "fail" and task.exchange is not None and task.exchange.status == 403
    assert task.rule == task_rule(dialect).source and task.rule.startswith(idp)
    assert ("Okta" in task.rule) == (dialect == "okta")


def test_the_error_detail_rule_names_the_idp_too() -> None:
    assert task_rule("entra", detail=True).source.startswith("Microsoft Entra ID")
    assert task_rule("okta-aiw", detail=True).source.startswith("Okta")
