"""Real `scim-harness` processes for the signal tests: start one, find what it started, signal the
parent alone (as `kill PID`, a container stop or a CI runner does), and check by PID that every
child is gone. Whatever a test leaves running is killed by PID at its end, never by name."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import psutil


class Cli:
    def __init__(self, argv: list[str], cwd: Path) -> None:
        # Its own session: the signal reaches the parent only, never a process group. Output to a
        # file: a pipe nobody reads would fill up and stall it.
        self.log = cwd / "cli.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *argv], cwd=cwd, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.seen: dict[int, psutil.Process] = {}

    def children(self) -> list[psutil.Process]:
        """Every live descendant, remembered (so one whose parent died is still found, by PID)."""
        try:
            found = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            found = []
        for child in found:
            self.seen.setdefault(child.pid, child)
        return found

    def wait_for(self, what: str, ready: Callable[[list[psutil.Process]], bool], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode} before {what}: {self.output()[-2000:]}")
            if ready(self.children()):
                return
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {timeout:g} s")

    def stop_parent(self, signum: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        self.children()
        os.kill(self.proc.pid, signum)
        return self.proc.wait(timeout=timeout)

    def left_running(self, timeout: float = 20.0) -> list[int]:
        """PIDs of the children still alive after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        alive = list(self.seen.values())
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _alive(p)]
            time.sleep(0.2)
        return [p.pid for p in alive]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_leftovers(self) -> None:
        for p in [psutil.Process(self.proc.pid)] if self.proc.poll() is None else []:
            p.kill()
        for p in self.seen.values():
            if _alive(p):
                p.kill()
        self.proc.wait(timeout=30)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def named(children: list[psutil.Process], word: str) -> list[psutil.Process]:
    out = []
    for child in children:
        try:
            if any(word in part for part in child.cmdline()):
                out.append(child)
        except psutil.Error:
            pass
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
