"""Set up, start and check the two peer SCIM servers written by other projects (stdlib only).

    python bench/peers/run_peers.py setup                                   # npm ci; venv + pip install
    python bench/peers/run_peers.py start scimmy|django --port N --token T  # foreground, 127.0.0.1
    python bench/peers/run_peers.py check --harness scim-harness [--only scimmy]

`check` starts each server on a free loopback port with a random token, runs
`SCIM_HARNESS_TOKEN=T <harness> run --target http://127.0.0.1:PORT/scim/v2 --report-dir reports/peers/<name>`,
stops the server it started (by its PID) and prints one line per server from report.json's summary.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCIMMY_DIR = HERE / "scimmy"
DJANGO_DIR = HERE / "django_scim2"
VENV = HERE / ".venv-django"
VENV_PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
SERVERS = ("scimmy", "django")
START_TIMEOUT_S = 60
HARNESS_TIMEOUT_S = 600


def setup() -> None:
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SCIMMY_DIR, check=True)
    if not VENV_PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", "-r", str(DJANGO_DIR / "requirements.txt")],
                   check=True)


def spawn(name: str, port: int, token: str, log=None) -> subprocess.Popen:
    """Start one server as a child process (no shell: the PID is the server's own)."""
    env = {**os.environ, "SCIM_TOKEN": token, "PORT": str(port)}
    if name == "scimmy":
        return subprocess.Popen(["node", "server.js"], cwd=SCIMMY_DIR, env=env, stdout=log, stderr=log)
    # django: a fresh SQLite file per start, migrated, then Django's threaded server without autoreload
    db = Path(tempfile.mkdtemp(prefix="peer-django-")) / "peer.db"
    env.update(PEER_DB=str(db), PEER_NETLOC=f"127.0.0.1:{port}")
    subprocess.run([str(VENV_PY), "manage.py", "migrate", "-v0"], cwd=DJANGO_DIR, env=env, check=True,
                   stdout=log, stderr=log)
    return subprocess.Popen([str(VENV_PY), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                            cwd=DJANGO_DIR, env=env, stdout=log, stderr=log)


def wait_ready(proc: subprocess.Popen, port: int, token: str, timeout: float = START_TIMEOUT_S) -> None:
    url = f"http://127.0.0.1:{port}/scim/v2/ServiceProviderConfig"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{url} answered {e.code}") from None
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"no answer from {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name: str, port: int, token: str) -> int:
    # SIGTERM (kill PID) stops the server too, as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proc = spawn(name, port, token)
    try:
        wait_ready(proc, port, token)
        print(f"{name} ready on http://127.0.0.1:{port}/scim/v2 (pid {proc.pid}); Ctrl-C stops it", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(proc)


def summary_line(name: str, report: Path, code: int, wall: float) -> str:
    s = json.loads(report.read_text(encoding="utf-8"))["summary"]
    checks = s["checks"]
    counts = ", ".join(f"{k} {v}" for k, v in checks.items() if k != "total")
    verdicts = ", ".join(f"{v['name']} {v['verdict']}" for v in s.get("verdicts", []))
    return (f"{name}: exit {code}, checks {checks['total']} ({counts}), scenarios {s['scenarios']['total']}, "
            f"wall {wall:.1f} s, verdicts: {verdicts}")


def check_one(name: str, harness: list[str]) -> tuple[int, str]:
    report_dir = REPO / "reports" / "peers" / name
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.json").unlink(missing_ok=True)
    port, token = free_port(), secrets.token_urlsafe(24)
    target = f"http://127.0.0.1:{port}/scim/v2"
    with open(report_dir.parent / f"{name}.server.log", "wb") as log:
        proc = spawn(name, port, token, log)
        try:
            try:
                wait_ready(proc, port, token)
            except RuntimeError as e:
                return 3, f"{name}: server did not start: {e} (see {log.name})"
            cmd = [*harness, "run", "--target", target, "--report-dir", str(report_dir)]
            t0 = time.monotonic()
            try:
                run = subprocess.run(cmd, cwd=REPO, env={**os.environ, "SCIM_HARNESS_TOKEN": token},
                                     capture_output=True, text=True, timeout=HARNESS_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                return 124, f"{name}: harness did not finish within {HARNESS_TIMEOUT_S} s"
            wall = time.monotonic() - t0
        finally:
            stop(proc)
    (report_dir.parent / f"{name}.console.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    report = report_dir / "report.json"
    if run.returncode not in (0, 1) or not report.exists():
        return run.returncode, f"{name}: harness exit {run.returncode}, no usable report\n{run.stderr}"
    return run.returncode, summary_line(name, report, run.returncode, wall)


def check(harness: str, only: list[str]) -> int:
    worst = 0
    for name in only or SERVERS:
        code, line = check_one(name, shlex.split(harness))
        print(line, flush=True)
        worst = max(worst, 0 if code in (0, 1) else 2)
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("setup", help="npm ci for scimmy; venv + pip install for django-scim2")
    st = sub.add_parser("start", help="start one server in the foreground on 127.0.0.1")
    st.add_argument("name", choices=SERVERS)
    st.add_argument("--port", type=int, default=8080)
    st.add_argument("--token", required=True)
    ch = sub.add_parser("check", help="run the harness against each server and print one line each")
    ch.add_argument("--harness", default="scim-harness", help="harness command (default scim-harness)")
    ch.add_argument("--only", choices=SERVERS, action="append", default=[])
    args = ap.parse_args(argv)
    if args.cmd == "setup":
        setup()
        return 0
    if args.cmd == "start":
        try:
            return start(args.name, args.port, args.token)
        except RuntimeError as e:
            print(f"{args.name}: {e}", file=sys.stderr)
            return 3
    return check(args.harness, args.only)


if __name__ == "__main__":
    sys.exit(main())
