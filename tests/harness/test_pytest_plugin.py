"""The pytest plugin, through pytester: scenario files become items; failures show steps, rules and messages."""
from __future__ import annotations

from typing import Iterator

import pytest

from harness.embedded import EmbeddedMock

pytest_plugins = ["pytester"]

PASSING = """\
name: ok
tags: [users]
dialects: [okta, entra]
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1}
  - name: read
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 200, schema: User, json: {active: true}}
"""
FAILING = """\
name: broken-expectation
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1}
  - name: wrong status
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 418}
  - name: after
    request: {method: GET, path: /Users}
"""
CLOCKWISE = """\
name: plan-read
requires: [clockwise]
steps:
  - {name: plan, control: plan, expect: {json: {mode: trial}}}
"""


@pytest.fixture(scope="module")
def mock() -> Iterator[EmbeddedMock]:
    with EmbeddedMock() as m:
        yield m


# Inner sessions re-import what they use (pytester restores sys.modules): keep them lean.
LEAN = ["-p", "no:hypothesispytest", "-p", "no:locust", "-p", "no:faker", "-p", "no:anyio", "-p", "no:cacheprovider",
        "--assert=plain"]


def target_args(mock: EmbeddedMock, admin: bool = True) -> list[str]:
    args = [*LEAN, f"--scim-target={mock.base_url}", f"--scim-token={mock.token}"]
    return args + ([f"--scim-admin-token={mock.admin_token}"] if admin else [])


def test_a_passing_scenario_is_one_item_per_dialect(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makefile(".scim.yaml", ok=PASSING)
    result = pytester.runpytest("-v", *target_args(mock))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ok.scim.yaml::ok PASSED*", "*ok.scim.yaml::ok?entra? PASSED*"])


def test_a_failing_scenario_reports_steps_rules_and_messages(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makefile(".scim.yaml", bad=FAILING)
    result = pytester.runpytest(*target_args(mock))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*scenario broken-expectation (*bad.scim.yaml) FAIL*",
        "*step 1 'assign' (assign): pass*",
        "*step 2 'wrong status' (GET /Users/${p1.id}): fail*",
        "*x http.status ?MUST? RFC 7644*",
        "*expected*418*got 200*",
        "*step 3 'after' (GET /Users): pass*",
    ])
    text = result.stdout.str()
    assert "Traceback" not in text and "runner.py" not in text
    assert mock.token not in text and mock.admin_token not in text


def test_a_malformed_file_is_a_collection_error_with_file_and_line(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makefile(".scim.yaml", broken="name: broken\nsteps:\n  - name: x\n    action: fly\n")
    result = pytester.runpytest(*target_args(mock))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.scim.yaml:4: steps?0?.action: 'fly' is not one of*"])
    assert "Traceback" not in result.stdout.str()


def test_clockwise_scenarios_skip_without_the_control_plane(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makefile(".scim.yaml", cw=CLOCKWISE)
    result = pytester.runpytest("-rs", *target_args(mock, admin=False))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*needs the Clockwise control plane (/_mock); the target has none*"])
    pytester.runpytest(*target_args(mock)).assert_outcomes(passed=1)


def test_dialect_option_and_tag_selection(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makefile(".scim.yaml", ok=PASSING, cw=CLOCKWISE)
    pytester.runpytest("--scim-dialect=entra", *target_args(mock)).assert_outcomes(passed=1)
    pytester.runpytest("-k", "users", *target_args(mock)).assert_outcomes(passed=2)


def test_fixtures_for_python_tests(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makepyfile(test_mine="""
        def test_assign_and_read(okta_org, scim_http, scim_org, scim_target):
            assert scim_target.has_control_plane and scim_org.name
            p = okta_org.add_person()
            uid = okta_org.assign(p)
            r = scim_http.get(f"/Users/{uid}")
            assert r.status_code == 200 and r.json()["userName"] == p.login
    """)
    pytester.runpytest(*target_args(mock)).assert_outcomes(passed=1)


def test_without_a_target_one_embedded_mock_serves_the_session(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scim.yaml", ok=PASSING, cw=CLOCKWISE)
    pytester.makepyfile(test_mine="""
        def test_embedded(embedded_mock, scim_target):
            assert scim_target.embedded and scim_target.base_url == embedded_mock.base_url
    """)
    pytester.runpytest(*LEAN).assert_outcomes(passed=4)


LEAKY = """
    from pathlib import Path

    def keep(token):  # tells the outer test which tokens must not appear
        with Path(__file__).with_name("tokens.txt").open("a") as f:
            f.write(token + "\\n")

    def test_fixture_repr(scim_org, scim_target):
        keep(scim_org.token)
        assert scim_org is None

    def test_token_as_a_string(scim_org):
        keep(scim_org.token)
        assert scim_org.token == "something else"

    def test_locals_and_output(scim_org, embedded_target=None):
        token = scim_org.token
        keep(token)
        print("the token is", token, repr(scim_org.target))
        assert not token
"""


def test_a_failing_python_test_shows_no_token_on_the_console_or_in_junitxml(pytester: pytest.Pytester,
                                                                           mock: EmbeddedMock) -> None:
    pytester.makepyfile(test_leaky=LEAKY)
    xml = pytester.path / "junit.xml"
    args = [a for a in target_args(mock) if a != "--assert=plain"]  # assertion rewriting shows the reprs
    result = pytester.runpytest(*args, "-l", "-rA", f"--junitxml={xml}", "-o", "junit_logging=all")
    result.assert_outcomes(failed=3)
    shown = result.stdout.str() + result.stderr.str() + xml.read_text()
    tokens = {*(pytester.path / "tokens.txt").read_text().split(), mock.token, mock.admin_token}
    assert len(tokens) == 5  # three fresh org tokens, the target's and the admin token
    # Booleans first, so that this test's own failure never prints the inner output and its tokens.
    repr_redacted = "ScimOrg(target=Target(" in shown and "token=[REDACTED]" in shown
    print_redacted = "the token is [REDACTED]" in shown
    leaked = sum(t in shown for t in tokens)
    assert repr_redacted and print_redacted and leaked == 0


def test_the_rfc_suite_runs_from_pytest_one_item_per_area(pytester: pytest.Pytester, mock: EmbeddedMock) -> None:
    pytester.makefile(".scim.yaml", ok=PASSING)
    result = pytester.runpytest("-v", "--scim-rfc", "-m", "scim_rfc", "-k", "discovery or auth or safety",
                                *target_args(mock))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*scim-rfc::discovery PASSED*", "*scim-rfc::auth PASSED*", "*scim-rfc::safety PASSED*"])
    # Without --scim-rfc there is no such item; without -m the scenario files run beside it.
    pytester.runpytest("-m", "scim_rfc", *target_args(mock)).assert_outcomes()
    pytester.runpytest("--scim-rfc", "-k", "ok or discovery", *target_args(mock)).assert_outcomes(passed=3)


def test_the_target_from_the_environment_and_the_plan_from_a_python_test(pytester: pytest.Pytester, mock: EmbeddedMock,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_plan_read="""
        def test_assigned_user_is_on_the_paid_plan(okta_org, scim_org):
            person = okta_org.add_person()
            okta_org.assign(person)
            plan = scim_org.plan()
            assert plan["mode"] == "trial" and person.email.lower() in plan["paid"]
            assert any(e["event"] == "dsync.user.created" for e in scim_org.events()["data"])

        def test_deactivation_frees_the_seat(okta_org, scim_org):  # the README's example
            person = okta_org.add_person()
            okta_org.assign(person)
            okta_org.deactivate(person)
            assert person.email.lower() in scim_org.plan()["free"]
    """)
    monkeypatch.setenv("SCIM_HARNESS_TARGET", mock.base_url or "")
    monkeypatch.setenv("SCIM_HARNESS_TOKEN", mock.token)
    pytester.runpytest(*LEAN, f"--scim-admin-token={mock.admin_token}").assert_outcomes(passed=2)

