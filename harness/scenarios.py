"""Scenario files: YAML (`*.scim.yaml`, one scenario per document) -> `Scenario` objects.

Every document is validated against `scenario_schema.json` and then checked for what a JSON
Schema cannot say (one kind per step, the parameters of each action, references to people,
groups and variables). A malformed scenario raises `ScenarioError`, whose problems each name
the file, the line and what is wrong, before anything is sent to a target.
"""
from __future__ import annotations

import json
import re
import stat
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import jsonschema
import yaml

from harness.actions import ACTIONS, PARAMS
from harness.suggest import did_you_mean

SCENARIO_GLOB = "*.scim.yaml"
VAR_RE = re.compile(r"\$\{([^}]*)\}")
WHOLE_VAR_RE = re.compile(r"^\$\{([^}]*)\}$")
VAR_NAME_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?(?:\|(upper|lower))?$")
PERSON_ATTRS = ("id", "userName", "email", "login", "first_name", "last_name", "display_name", "okta_id",
                "externalId", "locale", "employee_number", "department")
GROUP_ATTRS = ("id", "name", "displayName")
RUN_ATTRS = ("prefix", "org", "domain")
ACTION_ONLY_KEYS = {*PARAMS, "expect_failure", "expect_error"}


class ScenarioError(ValueError):
    """A malformed scenario file. `problems` are "file:line: what is wrong" strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def one_line(self) -> str:
        more = f" (and {len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
        return f"malformed scenario: {self.problems[0]}{more}"


@dataclass
class Step:
    name: str
    kind: str                       # "action" | "request" | "control"
    line: int
    action: str | None = None
    request: dict[str, Any] | None = None
    control: str | None = None
    params: dict[str, Any] = field(default_factory=dict)   # person, people, group, changes, new_name, ...
    body: dict[str, Any] | None = None                     # control writes
    expect: dict[str, Any] = field(default_factory=dict)
    expect_failure: bool = False
    expect_error: str | None = None
    save: dict[str, str] = field(default_factory=dict)
    dialects: list[str] | None = None
    only_if: dict[str, Any] | None = None  # {step, json, why}: judged on an earlier step's response

    @property
    def label(self) -> str:
        if self.kind == "action":
            return str(self.action)
        if self.kind == "control":
            return f"control {self.control}"
        assert self.request is not None
        return f"{self.request['method']} {self.request['path']}"


@dataclass
class Setup:
    threshold: int | None = None
    members: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)   # each {"ref": ..., **overrides}
    groups: list[dict[str, Any]] = field(default_factory=list)   # each {"ref", "name", "members": [refs]}


@dataclass
class Scenario:
    name: str
    file: str
    line: int
    steps: list[Step]
    description: str = ""
    tags: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    dialects: list[str] = field(default_factory=lambda: ["okta"])
    # The IdP admin's settings per dialect (mock_okta.dialects.get_dialect; Okta's rename_groups).
    dialect_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    setup: Setup = field(default_factory=Setup)

    def steps_for(self, dialect: str) -> list[Step]:
        return [s for s in self.steps if s.dialects is None or dialect in s.dialects]


def scenario_schema() -> dict[str, Any]:
    text = resources.files("harness").joinpath("scenario_schema.json").read_text(encoding="utf-8")
    return json.loads(text)


# --- YAML nodes -> lines ------------------------------------------------------------
def _node_at(node: yaml.Node, path: Iterable[Any]) -> yaml.Node:
    """The deepest node along `path` (keys and indexes); stops where the path leaves the document."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    node = value
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _key_node(node: yaml.Node, key: str) -> yaml.Node:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return k
    return node


def _where(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _schema_message(error: jsonschema.ValidationError) -> tuple[list[Any], str]:
    """A person-readable message for one schema error, and the path it is about."""
    path = list(error.absolute_path)
    v, inst = error.validator, error.instance
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        hint = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
        guess = did_you_mean(extra[0], allowed) if len(extra) == 1 else ""
        return path + [extra[0]] if extra else path, f"unknown key {', '.join(map(repr, extra))}{guess}{hint}"
    if v == "required":
        return path, f"missing required key {error.message.split(' is a required')[0]}"
    if v == "enum":
        guess = did_you_mean(inst, map(str, error.validator_value)) if isinstance(inst, str) else ""
        return path, f"{_short(inst)} is not one of: {', '.join(map(str, error.validator_value))}{guess}"
    if v == "type":
        return path, f"expected {error.validator_value}, got {type(inst).__name__} {_short(inst)}"
    if v == "pattern":
        return path, f"{_short(inst)} does not match the pattern {error.validator_value}"
    if v == "oneOf" and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        sub_path, msg = _schema_message(best)
        return path + list(best.relative_path) if not sub_path else sub_path, msg
    return path, error.message if len(error.message) < 200 else error.message[:197] + "..."


# --- loading ------------------------------------------------------------------------
# What a scenario file may hold, checked on the parser's events before any node is built: the YAML
# composer and the schema validator recurse (a file nested 5,000 levels was a RecursionError), and
# aliases multiply (a "billion laughs" file of 1 KiB expands to 10^9 nodes: 92 s to be rejected).
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000  # nodes once every alias is expanded; the shipped files hold < 2,000 each


def _check_shape(text: str, file: str) -> None:
    """ScenarioError when the YAML nests deeper than MAX_DEPTH or expands to more than MAX_NODES nodes.
    A syntax error is left to the loader, which reports it with its line."""
    open_: list[tuple[int, str | None]] = []  # each open collection: (expanded count at its start, anchor)
    anchors: dict[str, int] = {}               # anchor -> the nodes it expands to
    expanded = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                open_.append((expanded, event.anchor))
                expanded += 1
                if len(open_) > MAX_DEPTH:
                    raise ScenarioError([f"{file}:{line}: nested more than {MAX_DEPTH} levels deep"])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                start, anchor = open_.pop()
                if anchor:
                    anchors[anchor] = expanded - start
            elif isinstance(event, yaml.ScalarEvent):
                expanded += 1
                if event.anchor:
                    anchors[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                expanded += anchors.get(event.anchor or "", 1)
            if expanded > MAX_NODES:
                raise ScenarioError([f"{file}:{line}: the YAML expands to more than {MAX_NODES} nodes "
                                     "(aliases repeated too often)"])
    except yaml.YAMLError:
        return


def _documents(text: str, file: str) -> Iterator[tuple[yaml.Node, Any]]:
    _check_shape(text, file)
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            yield node, loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ScenarioError([f"{file}:{line}: invalid YAML: {exc.problem or exc}"]) from None
    finally:
        loader.dispose()


class _Checker:
    """Collects problems of one document with their lines."""

    def __init__(self, file: str, root: yaml.Node) -> None:
        self.file, self.root, self.problems = file, root, []  # type: ignore[var-annotated]

    def add(self, path: list[Any], message: str, *, key: bool = False) -> None:
        node = _node_at(self.root, path[:-1] if key else path)
        if key:
            node = _key_node(node, str(path[-1]))
        self.problems.append((node.start_mark.line + 1, f"{self.file}:{node.start_mark.line + 1}: {_where(path)}: {message}"))

    def sorted(self) -> list[str]:
        return [msg for _, msg in sorted(self.problems, key=lambda p: p[0])]


def _check_semantics(doc: dict[str, Any], c: _Checker) -> None:
    setup = doc.get("setup") or {}
    requires = set(doc.get("requires") or [])
    people_spec = setup.get("people", 0)
    people = [f"p{i}" for i in range(1, people_spec + 1)] if isinstance(people_spec, int) else [p["ref"] for p in people_spec]
    groups = [g["ref"] for g in setup.get("groups", [])]
    for i, ref in enumerate(people):
        if people.index(ref) != i:
            c.add(["setup", "people", i, "ref"], f"person {ref!r} defined twice")
    for i, g in enumerate(setup.get("groups", [])):
        if g["ref"] in people or groups.index(g["ref"]) != i:
            c.add(["setup", "groups", i, "ref"], f"ref {g['ref']!r} already used")
        for j, m in enumerate(g.get("members", [])):
            if m not in people:
                c.add(["setup", "groups", i, "members", j], f"unknown person {m!r} (setup.people defines: {', '.join(people) or 'none'})")
    if ("threshold" in setup or "members" in setup) and "clockwise" not in requires:
        c.add(["setup"], "setup.threshold and setup.members need `requires: [clockwise]`")
    saved: set[str] = set()
    for i, step in enumerate(doc.get("steps", [])):
        base = ["steps", i]
        kinds = [k for k in ("action", "request", "control") if k in step]
        if len(kinds) != 1:
            c.add(base, "a step needs exactly one of `action`, `request`, `control`" + (f" (found {', '.join(kinds)})" if kinds else ""))
            continue
        kind = kinds[0]
        if kind == "action":
            action = ACTIONS[step["action"]]
            given = set(step) & set(PARAMS)
            for missing in sorted(action.needs - given):
                c.add(base, f"action {action.name} needs `{missing}`")
            if action.people and not given & {"person", "people"}:
                c.add(base, f"action {action.name} needs `person` or `people`")
            for extra in sorted(given - action.needs - action.accepts):
                c.add(base + [extra], f"`{extra}` does not apply to action {step['action']}", key=True)
        else:
            for extra in sorted(set(step) & ACTION_ONLY_KEYS):
                c.add(base + [extra], f"`{extra}` applies only to action steps", key=True)
            for extra in sorted(set(step.get("expect") or {}) & {"result", "requests"}):
                c.add(base + ["expect", extra], f"expect.{extra} applies only to action steps", key=True)
        if kind == "control" and "clockwise" not in requires:
            c.add(base + ["control"], "control-plane steps need `requires: [clockwise]`")
        if kind == "control" and step["control"] in ("add_member", "admin_panel") and "email" not in (step.get("body") or {}):
            c.add(base, f"control {step['control']} needs `body: {{email: ...}}`")
        if kind == "control" and step["control"] == "faults" and not isinstance((step.get("body") or {}).get("faults"), list):
            c.add(base, "control faults needs `body: {faults: [...]}`")
        if "body" in step and kind != "control":
            c.add(base + ["body"], "`body` applies only to control steps (a raw request's body goes in request.body)", key=True)
        for key in ("person",):
            if key in step and step[key] not in people:
                c.add(base + [key], f"unknown person {step[key]!r}")
        if step.get("people") == "*":
            step = {**step, "people": people}
        for j, ref in enumerate(step.get("people") or []):
            if ref not in people:
                c.add(base + ["people", j], f"unknown person {ref!r} (setup.people defines: {', '.join(people) or 'none'})")
        if "group" in step and step["group"] not in groups:
            c.add(base + ["group"], f"unknown group {step['group']!r} (setup.groups defines: {', '.join(groups) or 'none'})")
        _check_only_if(doc, i, c)
        _check_vars(step, base, c, people, groups, saved)
        saved |= set(step.get("save") or {})


def _check_only_if(doc: dict[str, Any], i: int, c: _Checker) -> None:
    """`only_if.step` names an earlier step that runs wherever this one does (else nothing to judge)."""
    steps = doc["steps"]
    cond = steps[i].get("only_if")
    if not isinstance(cond, dict) or not isinstance(cond.get("step"), str):
        return
    earlier = [s for s in steps[:i] if s.get("name") == cond["step"]]
    if not earlier:
        c.add(["steps", i, "only_if", "step"], f"no earlier step is named {cond['step']!r}")
        return
    scenario = doc.get("dialects") or ["okta"]
    mine, theirs = steps[i].get("dialects") or scenario, earlier[-1].get("dialects") or scenario
    missing = [d for d in mine if d not in theirs]
    if missing:
        c.add(["steps", i, "only_if", "step"], f"step {cond['step']!r} does not run in {', '.join(missing)}, "
              "where this step runs")


def _check_dialect_options(doc: dict[str, Any], c: _Checker) -> None:
    """Settings only for the dialects the scenario runs in (each is validated by the schema)."""
    dialects = doc.get("dialects") or ["okta"]
    for name in doc.get("dialect_options") or {}:
        if name not in dialects:
            c.add(["dialect_options", name], f"the scenario does not run in {name} (dialects: {', '.join(dialects)})",
                  key=True)


def _check_vars(value: Any, path: list[Any], c: _Checker, people: list[str], groups: list[str], saved: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "save" and path and len(path) == 2:
                continue
            _check_vars(v, path + [k], c, people, groups, saved)
            if isinstance(k, str) and "${" in k:
                _check_vars(k, path + [k], c, people, groups, saved)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_vars(v, path + [i], c, people, groups, saved)
    elif isinstance(value, str):
        for expr in VAR_RE.findall(value):
            problem = variable_problem(expr, people, groups, saved)
            if problem:
                c.add(path, problem)


def variable_problem(expr: str, people: list[str], groups: list[str], saved: set[str]) -> str | None:
    """Why `${expr}` cannot be resolved in this scenario, or None when it can."""
    m = VAR_NAME_RE.match(expr.strip())
    if not m:
        return f"malformed variable ${{{expr}}}"
    head, attr = m.group(1), m.group(2)
    if head in people:
        return None if attr in PERSON_ATTRS else f"${{{expr}}}: a person has {', '.join(PERSON_ATTRS)}"
    if head in groups:
        return None if attr in GROUP_ATTRS else f"${{{expr}}}: a group has {', '.join(GROUP_ATTRS)}"
    if head == "run":
        return None if attr in RUN_ATTRS else f"${{{expr}}}: run has {', '.join(RUN_ATTRS)}"
    if head == "random":
        return None if attr else f"${{{expr}}}: write ${{random.NAME}}"
    if attr is None and head in saved:
        return None
    return f"unknown variable ${{{expr}}} (not a person, group, run.*, random.* or a variable saved by an earlier step)"


def _build(doc: dict[str, Any], file: str, line: int, node: yaml.Node) -> Scenario:
    raw_setup = doc.get("setup") or {}
    people_spec = raw_setup.get("people", 0)
    people = [{"ref": f"p{i}"} for i in range(1, people_spec + 1)] if isinstance(people_spec, int) else [dict(p) for p in people_spec]
    setup = Setup(threshold=raw_setup.get("threshold"), members=list(raw_setup.get("members", [])), people=people,
                  groups=[{"ref": g["ref"], "name": g["name"], "members": list(g.get("members", []))} for g in raw_setup.get("groups", [])])
    steps = []
    for i, s in enumerate(doc["steps"]):
        kind = next(k for k in ("action", "request", "control") if k in s)
        steps.append(Step(
            name=s["name"], kind=kind, line=_node_at(node, ["steps", i]).start_mark.line + 1,
            action=s.get("action"), request=s.get("request"), control=s.get("control"),
            params=_params(s, [p["ref"] for p in people]),
            body=s.get("body"), expect=dict(s.get("expect") or {}), expect_failure=bool(s.get("expect_failure") or "expect_error" in s),
            expect_error=s.get("expect_error"), save=dict(s.get("save") or {}), dialects=s.get("dialects"),
            only_if=s.get("only_if"),
        ))
    return Scenario(name=doc["name"], file=file, line=line, steps=steps, description=doc.get("description", ""),
                    tags=list(doc.get("tags", [])), rules=list(doc.get("rules", [])), requires=list(doc.get("requires", [])),
                    dialects=list(doc.get("dialects", ["okta"])),
                    dialect_options={k: dict(v) for k, v in (doc.get("dialect_options") or {}).items()}, headers=dict(doc.get("headers", {})), setup=setup)


def _params(step: dict[str, Any], all_people: list[str]) -> dict[str, Any]:
    params = {k: step[k] for k in PARAMS if k in step}
    if params.get("people") == "*":
        params["people"] = list(all_people)
    return params


def load_text(text: str, file: str = "<string>") -> list[Scenario]:
    """Parse and validate every document of one scenario file."""
    validator = jsonschema.Draft202012Validator(scenario_schema())
    scenarios: list[Scenario] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for node, doc in _documents(text, file):
        line = node.start_mark.line + 1
        if doc is None:
            continue
        if not isinstance(doc, dict):
            problems.append(f"{file}:{line}: a scenario must be a mapping (name, steps, ...), got {type(doc).__name__}")
            continue
        c = _Checker(file, node)
        for error in validator.iter_errors(doc):
            path, message = _schema_message(error)
            c.add(path, message, key=error.validator == "additionalProperties" and path != list(error.absolute_path))
        if not c.problems:
            _check_semantics(doc, c)
            _check_dialect_options(doc, c)
        if not c.problems and doc["name"] in seen:
            c.add(["name"], f"scenario name {doc['name']!r} already used at line {seen[doc['name']]}")
        if c.problems:
            problems.extend(c.sorted())
            continue
        seen[doc["name"]] = line
        scenarios.append(_build(doc, file, line, node))
    if problems:
        raise ScenarioError(problems)
    return scenarios


def load_file(path: str | Path) -> list[Scenario]:
    path = Path(path)
    try:
        # A FIFO, a device or /dev/zero would block or never end: only regular files are read, and at most
        # MAX_FILE_BYTES of them.
        if not stat.S_ISREG(path.stat().st_mode):
            raise ScenarioError([f"{path}:0: not a regular file (a scenario is a *.scim.yaml file)"])
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ScenarioError([f"{path}:0: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"])
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}:0: cannot read the file: {exc}"]) from None
    return load_text(text, str(path))


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files named by `paths`: files as given, directories searched for *.scim.yaml (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob(SCENARIO_GLOB)))
        elif p.exists():
            out.append(p)
        else:
            raise ScenarioError([f"{p}:0: no such file or directory"])
    return out


def load_paths(paths: Iterable[str | Path]) -> list[Scenario]:
    """Every scenario in `paths`; names must be unique across files. All problems are collected."""
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for f in scenario_files(paths):
        try:
            scenarios.extend(load_file(f))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    first: dict[str, Scenario] = {}
    for sc in scenarios:
        if sc.name in first and first[sc.name].file != sc.file:
            problems.append(f"{sc.file}:{sc.line}: name: scenario name {sc.name!r} already used in {first[sc.name].file}:{first[sc.name].line}")
        first.setdefault(sc.name, sc)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def select(scenarios: list[Scenario], *, tags: Iterable[str] = (), names: Iterable[str] = ()) -> list[Scenario]:
    """Scenarios having any of `tags` (all when empty) and, when `names` is given, one of those names."""
    tags, names = set(tags), set(names)
    return [s for s in scenarios if (not tags or tags & set(s.tags)) and (not names or s.name in names)]


def default_scenario_dir() -> Path:
    """The shipped scenarios (and the locustfile), found by this package's own path, never the working
    directory: `harness/_shipped/` in an installed wheel (setup.py puts `scenarios/` there), else
    `scenarios/` of the checkout this package lives in (a source tree or an editable install)."""
    here = Path(__file__).resolve().parent
    installed = here / "_shipped"
    return installed if installed.is_dir() else here.parent / "scenarios"


# --- variables at run time ------------------------------------------------------------


class VariableError(LookupError):
    """A variable has no value (yet): a clear message for the step's error."""


class Variables:
    """The values one scenario run can refer to.

    `person_attr(ref, attr)` and `group_attr(ref, attr)` are callbacks into the runner, which
    knows the driver's people, groups and SCIM ids.
    """

    def __init__(self, *, run: dict[str, str], person_attr: Callable[[str, str], Any],
                 group_attr: Callable[[str, str], Any], people: set[str], groups: set[str]) -> None:
        self.run = dict(run)
        self.saved: dict[str, Any] = {}
        self.random: dict[str, str] = {}
        self._person_attr, self._group_attr = person_attr, group_attr
        self.people, self.groups = people, groups

    def lookup(self, expr: str) -> Any:
        m = VAR_NAME_RE.match(expr.strip())
        if not m:
            raise VariableError(f"malformed variable ${{{expr}}}")
        head, attr, case = m.groups()
        if head in self.people and attr:
            value = self._person_attr(head, attr)
        elif head in self.groups and attr:
            value = self._group_attr(head, attr)
        elif head == "run" and attr in self.run:
            value = self.run[attr]
        elif head == "random" and attr:
            value = self.random.setdefault(attr, str(uuid.uuid4()))
        elif attr is None and head in self.saved:
            value = self.saved[head]
        else:
            raise VariableError(f"variable ${{{expr}}} has no value (unknown, or saved by a step that did not run)")
        if value is None:
            raise VariableError(f"variable ${{{expr}}} has no value yet (was {head} provisioned by an earlier step?)")
        if case == "upper":
            value = str(value).upper()
        elif case == "lower":
            value = str(value).lower()
        return value

    def substitute(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = WHOLE_VAR_RE.match(value)
            if whole:
                return self.lookup(whole.group(1))
            return VAR_RE.sub(lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, dict):
            return {self.substitute(k): self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        return value
