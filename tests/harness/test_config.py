"""Options from scim-harness.toml / [tool.scim-harness] and SCIM_HARNESS_* variables (harness.config),
through the command line's parser: the command line wins over the environment, which wins over the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import parse


def args_of(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse(argv, env=env or {}, cwd=tmp_path)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    args = args_of(tmp_path, ["run"])
    assert args.fail_on == "must" and args.report_dir == "reports/{run}" and args.target is None


def test_the_file_then_the_environment_then_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "scim-harness.toml").write_text(
        'target = "https://file.example/scim/v2"\nfail-on = "should"\nreport_dir = "out/{run}"\ntimeout = 5\n'
        'users = 7\n[run]\ndialect = "entra"\nsuite = ["rfc", "okta"]\nhar = true\n[load]\nusers = 9\n')
    sub = tmp_path / "deeper" / "still"
    sub.mkdir(parents=True)
    args = args_of(sub, ["run"])  # found in a parent folder; paths relative to the file
    assert (args.target, args.fail_on, args.dialect, args.suite, args.har, args.timeout) == (
        "https://file.example/scim/v2", "should", "entra", ["rfc", "okta"], True, 5.0)
    assert args.report_dir == str(tmp_path / "out/{run}")
    assert args.config_sources == [str(tmp_path / "scim-harness.toml")]
    env = {"SCIM_HARNESS_TARGET": "https://env.example/scim/v2", "SCIM_HARNESS_FAIL_ON": "may", "SCIM_HARNESS_HAR": "0"}
    args = args_of(tmp_path, ["run"], env)
    assert (args.target, args.fail_on, args.har) == ("https://env.example/scim/v2", "may", False)
    args = args_of(tmp_path, ["run", "--fail-on", "must", "--target", "https://cli.example/scim/v2"], env)
    assert (args.target, args.fail_on) == ("https://cli.example/scim/v2", "must")
    assert args_of(tmp_path, ["load"]).users == 9  # the [load] table over the top-level key
    load = args_of(tmp_path, ["load"], {"SCIM_HARNESS_USERS": "3", "SCIM_HARNESS_TARGET": "https://env.example/scim/v2"})
    assert (load.users, load.target, load.duration) == (3, "https://env.example/scim/v2", "60s")


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.scim-harness]\ndialect = "okta-aiw"\n')
    assert args_of(tmp_path, ["run"]).dialect == "okta-aiw"
    explicit = tmp_path / "other.toml"
    explicit.write_text('dialect = "entra"\n')
    assert args_of(tmp_path, ["run", "--config", str(explicit)]).dialect == "entra"
    assert args_of(tmp_path, ["run"], {"SCIM_HARNESS_CONFIG": str(explicit)}).dialect == "entra"


@pytest.mark.parametrize(("text", "env", "message"), [
    ('dialekt = "entra"\n', {}, "scim-harness.toml: dialekt: unknown option (did you mean 'dialect'?)"),
    ('dialect = "entr"\n', {}, "dialect: 'entr' is not one of okta, okta-aiw, okta-patch, entra, entra-2020, onelogin, pingfederate (did you mean 'entra'?)"),
    ('token = "s3cret"\n', {}, "token: a token does not belong in a file; use SCIM_HARNESS_TOKEN"),
    ('[runn]\ndialect = "okta"\n', {}, "unknown table [runn] (did you mean 'run'?)"),
    ('timeout = "soon"\n', {}, "timeout: 'soon'"),
    ("dialect = \n", {}, "cannot read it"),
    ("", {"SCIM_HARNESS_FAIL_ON": "sometimes"}, "environment variable SCIM_HARNESS_FAIL_ON: 'sometimes' is not one of"),
    ("", {"SCIM_HARNESS_HAR": "perhaps"}, "environment variable SCIM_HARNESS_HAR: expected true or false"),
])
def test_bad_settings_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                              env: dict[str, str], message: str) -> None:
    (tmp_path / "scim-harness.toml").write_text(text)
    with pytest.raises(SystemExit) as info:
        args_of(tmp_path, ["run"], env)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and err.count("\n") == 1
    assert "s3cret" not in err
