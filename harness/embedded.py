"""The embedded mock: `python -m mock_clockwise` as a child process on a free loopback port.

It is started as a program, never imported (DESIGN.md, "Independence rule"): the harness
must not share code with the thing it checks.
"""
from __future__ import annotations

import ctypes
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import Callable

from harness.redaction import scrub
from harness.target import Target

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
BASE_PREFIX = "SCIM base URL:"
CONTROL_PREFIX = "Control plane:"


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGTERM when the thread that starts it dies (Linux
    PR_SET_PDEATHSIG): a `run` killed with SIGKILL (an OOM killer, `kill -9`, a CI timeout) has no
    chance to stop its mock, so the kernel does it, and the mock stops its own workers. None where
    there is no prctl (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The C library this process already has (dlopen(NULL)): ctypes.util.find_library would run
        # `ldconfig -p`, a child process of its own at every start.
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:  # in the child, between fork and exec: only the prctl, bound before the fork
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return preexec


class EmbeddedMockError(RuntimeError):
    """The embedded mock could not be started."""


class EmbeddedMock:
    """Start with `with EmbeddedMock() as mock: mock.target ...`; stopped (SIGTERM, then kill) on exit."""

    def __init__(self, *, org: str = "acme", startup_timeout: float = 20.0, extra_args: list[str] | None = None,
                 new_session: bool = False) -> None:
        self.org = org
        self.token = "scimh-" + secrets.token_urlsafe(18)
        self.admin_token = "scimh-admin-" + secrets.token_urlsafe(18)
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args or [])
        # In a session of its own, a terminal's Ctrl-C reaches only the owner, who stops it when it is done.
        self.new_session = new_session
        self.proc: subprocess.Popen[str] | None = None
        self.base_url: str | None = None
        self.control_url: str | None = None
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    @property
    def target(self) -> Target:
        if not self.base_url:
            raise EmbeddedMockError("the embedded mock is not running")
        return Target(base_url=self.base_url, token=self.token, admin_token=self.admin_token,
                      control_url=self.control_url, embedded=True, has_control_plane=True)

    def start(self) -> "EmbeddedMock":
        # One process (4 threads, state in memory) unless extra_args say otherwise (`load` passes its
        # --mock-workers; the last --workers wins): a sequential client gains nothing from worker
        # processes, and one process starts faster.
        cmd = [sys.executable, "-m", "mock_clockwise", "--host", "127.0.0.1", "--port", "0", "--org", self.org,
               "--token", self.token, "--admin-token", self.admin_token, "--workers", "1", *self.extra_args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         text=True, env=env, start_new_session=self.new_session,
                                         preexec_fn=_parent_death_signal())
        except OSError as exc:
            raise EmbeddedMockError(f"cannot start the embedded mock: {exc}") from None
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            self._wait_for_urls()
        except BaseException:  # a timeout, an early exit, or Ctrl-C/SIGTERM while it starts: never left running
            self.stop()
            raise
        return self

    def _wait_for_urls(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while self.base_url is None or self.control_url is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmbeddedMockError(f"the embedded mock did not print its URL within {self.startup_timeout:g} s"
                                        f"{self._tail()}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait()
                raise EmbeddedMockError(f"the embedded mock exited with status {code} before it was ready{self._tail()}")
            if line.startswith(BASE_PREFIX):
                self.base_url = line[len(BASE_PREFIX):].strip()
            elif line.startswith(CONTROL_PREFIX):
                self.control_url = line[len(CONTROL_PREFIX):].strip()

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            # Keep the output for diagnostics, minus our own secrets.
            self.output.append(scrub(line, [self.token, self.admin_token]) or "")
            del self.output[:-200]
            self._lines.put(line.strip())
        self._lines.put(None)

    def _tail(self) -> str:
        tail = [line for line in self.output[-5:] if line.strip()]
        return (": " + " | ".join(tail)) if tail else ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM if os.name == "posix" else signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            if self.new_session:  # its worker processes too: they are in its process group
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> "EmbeddedMock":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
