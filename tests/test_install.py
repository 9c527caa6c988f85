"""A plain install (`pip install <wheel>`, not `-e`) runs as the README says: the wheel is built from a
copy of the sources, installed with its dependencies into a fresh venv outside the checkout, and run
from a folder that is not the checkout: `run`, `run --scenarios FILE`, `serve` and `load`.

One wheel and one venv for the session (about 15 s, most of it pip installing the dependencies).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "harness", "mock_okta", "mock_clockwise", "scenarios")
PACKAGES = ("harness", "mock_okta", "mock_clockwise")
SHIPPED = "harness/_shipped"  # where the wheel carries scenarios/ (setup.py)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="a venv's bin/ layout and SIGTERM")


@dataclass
class Installed:
    wheel: Path
    venv: Path
    cwd: Path  # not the checkout, and empty but for what the commands write
    env: dict[str, str]

    def exe(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.exe("scim-harness"), *argv], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def python(self, code: str) -> str:
        out = subprocess.run([self.exe("python"), "-c", code], cwd=self.cwd, env=self.env, capture_output=True,
                             text=True, timeout=120, check=True)
        return out.stdout.strip()


def _pip(*argv: str, cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"pip {argv[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _setuptools_builds_here() -> bool:
    # Building without isolation (seconds, not a fresh setuptools from the index) needs a setuptools
    # that builds wheels by itself (70.1+; the test extra installs one).
    try:
        major, minor = (int(x) for x in metadata.version("setuptools").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    src = base / "src"  # a copy: a build in the checkout would leave build/ behind, stale input for the next one
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    isolation = ["--no-build-isolation"] if _setuptools_builds_here() else []
    _pip("wheel", "--no-deps", *isolation, "-w", str(base / "dist"), str(src), cwd=base)
    (wheel,) = (base / "dist").glob("scim_harness-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # The fresh venv gets the wheel and every dependency it declares, through pip's configured index.
    _pip("--python", str(venv / "bin" / "python"), "install", "--no-compile", str(wheel), cwd=base)
    cwd = base / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Installed(wheel, venv, cwd, env)


def test_the_wheel_holds_every_module_the_schemas_the_scenarios_and_the_locustfile(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
    wanted = {p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*")
              if p.is_file() and p.suffix in (".py", ".json", ".lark", ".j2") and "__pycache__" not in p.parts}
    wanted |= {f"{SHIPPED}/{p.name}" for p in (ROOT / "scenarios").iterdir() if p.name.endswith((".scim.yaml", ".py"))}
    assert "harness/scenario_schema.json" in wanted and f"{SHIPPED}/locustfile.py" in wanted
    assert sorted(wanted - names) == []


def test_the_installed_copy_is_the_one_that_runs(installed: Installed) -> None:
    where = installed.python("import harness, mock_clockwise; print(harness.__file__, mock_clockwise.__file__)")
    assert all(Path(p).is_relative_to(installed.venv) for p in where.split())


def test_run_with_the_shipped_scenarios_from_another_folder(installed: Installed) -> None:
    proc = installed.run("run", "--format", "console,json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # Each run has a folder of its own under reports/, and reports/latest points at the newest (README).
    report = json.loads((installed.cwd / "reports" / "latest" / "report.json").read_text())
    assert len(report["run"]["scenarios"]) > 10 and "Traceback" not in proc.stdout + proc.stderr
    assert report["summary"]["verdicts"][0]["line"] == "Okta: ready" and report["summary"]["exit"]["ok"] is True


def test_version_validate_and_schema(installed: Installed) -> None:
    version = installed.python("from importlib import metadata; print(metadata.version('scim-harness'))")
    assert installed.run("--version").stdout == f"scim-harness {version}\n"
    shipped = installed.python("from harness.scenarios import default_scenario_dir as d; print(d())")
    proc = installed.run("validate", shipped)
    assert proc.returncode == 0 and proc.stdout.endswith("no problem\n"), proc.stderr
    schema = Path(installed.run("schema").stdout.strip())
    assert schema.is_relative_to(installed.venv) and json.loads(schema.read_text())["title"] == "scim-harness scenario"


def test_run_one_shipped_scenario_file(installed: Installed) -> None:
    shipped = Path(installed.python("from harness.scenarios import default_scenario_dir as d; print(d())"))
    assert shipped.is_relative_to(installed.venv) and (shipped / "locustfile.py").is_file()
    proc = installed.run("run", "--scenarios", str(shipped / "users.scim.yaml"), "--format", "json",
                         "--report-dir", "one")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((installed.cwd / "one" / "report.json").read_text())
    assert {s["file"] for s in report["run"]["scenarios"]} == {str(shipped / "users.scim.yaml")}


def test_serve_starts_answers_and_stops_on_sigterm(installed: Installed) -> None:
    proc = subprocess.Popen([installed.exe("scim-harness"), "serve", "--port", "0", "--token", "install-token",
                             "--admin-token", "install-admin"], cwd=installed.cwd, env=installed.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line.strip())
            if line.startswith("Press Ctrl-C"):
                break
        base = next(line.split(": ", 1)[1] for line in banner if line.startswith("SCIM base URL: "))
        r = httpx.get(f"{base}/ServiceProviderConfig", headers={"Authorization": "Bearer install-token"}, timeout=30)
        assert r.status_code == 200 and "patch" in r.json()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def test_load_for_3_seconds(installed: Installed) -> None:
    proc = installed.run("load", "--duration", "3s", "--users", "4", "--spawn-rate", "4")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "✓ fail ratio 0.00% ≤ 0.00%" in proc.stdout
    assert (installed.cwd / "reports" / "load.html").is_file() and "Traceback" not in proc.stdout + proc.stderr
