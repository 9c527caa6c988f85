"""Options from a configuration file and from environment variables, for `run` and `load`.

Precedence: the command line, then `SCIM_HARNESS_<OPTION>` environment variables (`--report-dir` →
`SCIM_HARNESS_REPORT_DIR`), then the configuration file, then the built-in defaults. The file is
`scim-harness.toml`, or the `[tool.scim-harness]` table of `pyproject.toml`, in the working directory or
the nearest parent holding one (or `--config PATH` / `SCIM_HARNESS_CONFIG`). Its top-level keys apply
to every command having that option; a `[run]` or `[load]` table (`[tool.scim-harness.run]`) to that
command only. Keys are the long option names (`report-dir` or `report_dir`); paths are relative to
the file's folder. Tokens never belong in a file that gets committed: `token` and `admin-token` are
refused there (use SCIM_HARNESS_TOKEN / SCIM_HARNESS_ADMIN_TOKEN).
"""
from __future__ import annotations

import argparse
import shlex
import tomllib  # Python 3.11+ (the project's floor), so no tomli fallback is needed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from harness.suggest import did_you_mean

CONFIG_FILE = "scim-harness.toml"
CONFIG_ENV = "SCIM_HARNESS_CONFIG"
ENV_PREFIX = "SCIM_HARNESS_"
COMMANDS = ("run", "load")
SECRET_KEYS = ("token", "admin-token")
NOT_CONFIGURABLE = ("help", "version", "config", "list")  # one-off switches, not settings
PATH_KEYS = ("report-dir", "scenarios", "locustfile", "junitxml")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ConfigError(ValueError):
    """A bad configuration file or environment variable: one line naming where, exit 2."""


@dataclass
class Config:
    path: Path | None = None              # the file read, if any
    table: dict[str, Any] = field(default_factory=dict)

    def for_command(self, command: str) -> dict[str, Any]:
        """The top-level keys, then the command's own table over them (keys in the `report-dir` form)."""
        common = {_key(k): v for k, v in self.table.items() if not isinstance(v, dict)}
        own = self.table.get(command, {})
        return {**common, **{_key(k): v for k, v in own.items()}}


def _key(name: str) -> str:
    return name.replace("_", "-")


def find_config(start: Path) -> Path | None:
    """scim-harness.toml, or a pyproject.toml with [tool.scim-harness], in `start` or its nearest parent."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder / CONFIG_FILE
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "scim-harness" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None


def load_config(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Config:
    """The configuration in force: `explicit` (--config), else $SCIM_HARNESS_CONFIG, else the nearest file."""
    named = explicit or env.get(CONFIG_ENV)
    path = Path(named) if named else find_config(cwd)
    if path is None:
        return Config()
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    doc = _read(path)
    table = doc.get("tool", {}).get("scim-harness") if path.name == "pyproject.toml" else doc
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: no [tool.scim-harness] table")
    for key, value in table.items():
        if isinstance(value, dict) and key not in COMMANDS:
            raise ConfigError(f"{path}: unknown table [{key}]{did_you_mean(key, COMMANDS)}; use [run] or [load]")
    return Config(path, table)


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The parser's configurable options by long name without dashes (`report-dir`)."""
    out = {}
    for action in parser._actions:  # argparse has no public list of a parser's actions
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and action.dest not in NOT_CONFIGURABLE and longs[0][2:] not in NOT_CONFIGURABLE:
            out[longs[0][2:]] = action
    return out


def _convert(action: argparse.Action, value: Any, where: str, base: Path | None, key: str) -> Any:
    if action.nargs == 0:  # store_true
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    many = action.nargs in ("+", "*") or isinstance(action, argparse._AppendAction)
    if many:
        items = value if isinstance(value, list) else (shlex.split(value) if isinstance(value, str) else [value])
        return [_scalar(action, item, where, base, key) for item in items]
    if isinstance(value, (list, dict)):
        raise ConfigError(f"{where}: expected one value, got {value!r}")
    return _scalar(action, value, where, base, key)


def _scalar(action: argparse.Action, value: Any, where: str, base: Path | None, key: str) -> Any:
    text = str(value)
    if base is not None and key in PATH_KEYS and not Path(text).is_absolute():
        text = str(base / text)
    try:
        converted = action.type(text) if callable(action.type) else text
    except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
        raise ConfigError(f"{where}: {value!r}: {exc}") from None
    if action.choices is not None and converted not in action.choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, action.choices))}"
                          f"{did_you_mean(text, map(str, action.choices))}")
    return converted


def option_names(parser: argparse.ArgumentParser) -> set[str]:
    """The configurable option names of a command's parser (`report-dir`, …)."""
    return set(_options(parser))


def apply(parser: argparse.ArgumentParser, command: str, config: Config, env: Mapping[str, str],
          other_keys: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Set `parser`'s defaults from the file, then from the environment; returns where values came from.
    `other_keys`: option names of the other commands (a top-level key may be meant for one of them)."""
    options = _options(parser)
    values: dict[str, Any] = {}
    sources: list[str] = []
    for key, value in config.for_command(command).items():
        where = f"{config.path}: {key}"
        if key in SECRET_KEYS:
            raise ConfigError(f"{where}: a token does not belong in a file; use {ENV_PREFIX}{key.upper().replace('-', '_')}")
        if key not in options:
            if key in other_keys and key not in config.table.get(command, {}):
                continue  # a top-level key meant for another command (`users` is load's)
            raise ConfigError(f"{where}: unknown option{did_you_mean(key, [*options, *other_keys])}")
        values[options[key].dest] = _convert(options[key], value, where, config.path.parent if config.path else None, key)
    if values:
        sources.append(str(config.path))
    for key, action in options.items():
        name = ENV_PREFIX + key.upper().replace("-", "_")
        if key in SECRET_KEYS or name not in env:
            continue
        values[action.dest] = _convert(action, env[name], f"environment variable {name}", None, key)
        sources.append(name)
    parser.set_defaults(**values)
    return sources

