"""The shape of the house: imports flow one way, no circles, no private names across modules,
no function too long to read.

Read from the source with `ast`, so an import inside a function (a lazy import) counts as much as
one at the top: no module may need a lazy import to break a circle. DESIGN.md: `harness/` and
`mock_okta/` never import `mock_clockwise/` (the checker shares no code with what it checks), the
mock imports neither, and the driver does not import the harness (scenario → runner → driver).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "mock_okta", "mock_clockwise")
MAX_FUNCTION_LINES = 60
# Which package may import which (beyond itself).
MAY_IMPORT = {"harness": {"mock_okta"}, "mock_okta": set(), "mock_clockwise": set()}


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: dict[str, int] = field(default_factory=dict)  # module imported -> first line
    private: list[str] = field(default_factory=list)        # "line: what" for each private name crossing over


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _base(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if module.path.name != "__init__.py":
        package = package[:-1]
    package = package[:len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def load(root: Path, packages: tuple[str, ...]) -> dict[str, Module]:
    """Every module of `packages` under `root`, with the imports it makes of them (anywhere in it)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            name = _module_name(path, root)
            modules[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    for module in modules.values():
        aliases: dict[str, str] = {}  # a local name bound to one of our modules
        for node in ast.walk(module.tree):
            found: list[tuple[str, str | None, str | None]] = []  # (module, name imported, local alias)
            if isinstance(node, ast.Import):
                found = [(a.name, None, a.asname) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, node)
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    found.append((sub, None, a.asname or a.name) if sub in modules else (base, a.name, None))
            for target, name, alias in found:
                if target.split(".")[0] not in packages:
                    continue
                module.imports.setdefault(target, node.lineno)
                if alias and target in modules:
                    aliases[alias] = target
                if name and name.startswith("_") and not name.startswith("__") and target != module.name:
                    module.private.append(f"line {node.lineno}: imports {name} from {target}")
        for node in ast.walk(module.tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                module.private.append(f"line {node.lineno}: uses {aliases[node.value.id]}.{node.attr}")
    return modules


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in modules[v].imports:
            if w not in modules:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in modules[v].imports:
                found.append(sorted(component))

    for name in modules:
        if name not in index:
            visit(name)
    return found


def long_functions(modules: dict[str, Module], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    out.append(f"{module.name}.{node.name}: {lines} lines")
    return out


def forbidden_imports(modules: dict[str, Module]) -> list[str]:
    out = []
    for module in modules.values():
        own = module.name.split(".")[0]
        for target, line in module.imports.items():
            other = target.split(".")[0]
            if other != own and other not in MAY_IMPORT[own]:
                out.append(f"{module.name} (line {line}) imports {target}")
    return out


@pytest.fixture(scope="module")
def house() -> dict[str, Module]:
    return load(ROOT, PACKAGES)


def test_no_import_circle(house: dict[str, Module]) -> None:
    assert cycles(house) == []


def test_imports_flow_one_way(house: dict[str, Module]) -> None:
    assert forbidden_imports(house) == []


def test_no_private_name_crosses_modules(house: dict[str, Module]) -> None:
    assert {m.name: m.private for m in house.values() if m.private} == {}


def test_no_function_over_60_lines(house: dict[str, Module]) -> None:
    assert long_functions(house) == []


# --- the checks themselves fail on a house that breaks them ---------------------------------------------
def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    _write(tmp_path, {
        "harness/__init__.py": "",
        "harness/a.py": "from harness.b import thing\n",
        "harness/b.py": "def thing():\n    from harness import a  # lazy, still a circle\n    return a\n",
        "harness/c.py": "from harness.b import _hidden\nfrom harness import a as mod\nmod._inner()\n"
                        "import mock_clockwise.app\n",
        "harness/d.py": f"def long():\n{body}\n",
        "mock_okta/__init__.py": "from harness import a\n",
        "mock_clockwise/__init__.py": "",
        "mock_clockwise/app.py": "",
    })
    modules = load(tmp_path, PACKAGES)
    assert cycles(modules) == [["harness.a", "harness.b"]]
    assert modules["harness.c"].private == ["line 1: imports _hidden from harness.b", "line 3: uses harness.a._inner"]
    assert long_functions(modules) == [f"harness.d.long: {MAX_FUNCTION_LINES + 1} lines"]
    assert sorted(forbidden_imports(modules)) == ["harness.c (line 4) imports mock_clockwise.app",
                                                  "mock_okta (line 1) imports harness.a"]
