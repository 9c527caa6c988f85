"""Shared fixtures: an in-process mock_clockwise and httpx clients bound to it.

- `mock_tokens`: {"org": "acme", "scim": <acme's SCIM token>, "admin": <control-plane token>}
- `mock_app`: a fresh Flask app (in-memory SQLite) with org "acme" (threshold 10)
- `scim_client`: httpx.Client, base_url http://testserver/scim/v2, acme's bearer token
- `admin_client`: httpx.Client, base_url http://testserver/_mock, the admin token
- `make_client`: factory `make_client(base_path="/scim/v2", token=None, **headers)` for other tokens/orgs

mock_clockwise is imported lazily inside the fixtures, so suites that never ask for them do
not depend on it (harness/ and mock_okta/ stay independent of the mock).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import pytest

MOCK_ORG = "acme"
MOCK_SCIM_TOKEN = "acme-scim-test-token"
MOCK_ADMIN_TOKEN = "mock-admin-test-token"


@pytest.fixture
def mock_tokens() -> dict[str, str]:
    return {"org": MOCK_ORG, "scim": MOCK_SCIM_TOKEN, "admin": MOCK_ADMIN_TOKEN}


@pytest.fixture
def mock_app() -> Any:
    from mock_clockwise.app import create_app

    return create_app({"ORGS": [{"name": MOCK_ORG, "tokens": [MOCK_SCIM_TOKEN], "threshold": 10}],
                       "ADMIN_TOKEN": MOCK_ADMIN_TOKEN, "FAULT_SEED": 1234})


@pytest.fixture
def make_client(mock_app: Any) -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(base_path: str = "/scim/v2", token: str | None = None, record_in: Any = None,
             **headers: str) -> httpx.Client:
        """A client on the in-process mock; `record_in` (a harness Transcript) records its exchanges."""
        hdrs = {"Accept": "application/scim+json", **headers}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        transport: httpx.BaseTransport = httpx.WSGITransport(app=mock_app)
        if record_in is not None:
            transport = record_in.transport(transport)
        client = httpx.Client(transport=transport,
                              base_url=f"http://testserver{base_path}", headers=hdrs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def scim_client(make_client: Callable[..., httpx.Client]) -> httpx.Client:
    return make_client("/scim/v2", MOCK_SCIM_TOKEN)


@pytest.fixture
def admin_client(make_client: Callable[..., httpx.Client]) -> httpx.Client:
    return make_client("/_mock", MOCK_ADMIN_TOKEN)


# ---------------------------------------------------------------------------- real server processes
_TLS_CONTEXT: Any = None


def tls_context() -> Any:
    """One default SSL context for every loopback client of the tests: httpx builds one per Client otherwise
    (loading the CA bundle, ~35 ms each), and tests that open a client per request or per thread paid it hundreds
    of times. Plain-http clients never use it; https ones verify as httpx's default would."""
    global _TLS_CONTEXT
    if _TLS_CONTEXT is None:
        import ssl

        import certifi

        _TLS_CONTEXT = ssl.create_default_context(cafile=certifi.where())
    return _TLS_CONTEXT


class MockProcess:
    """`python -m mock_clockwise` running on a free loopback port (its own process group, so
    a test can SIGKILL the server and all of its worker processes at once)."""

    def __init__(self, proc: Any, lines: list[str]) -> None:
        self.proc = proc
        self.lines = lines
        self.base = next(line.split(": ", 1)[1] for line in lines if line.startswith("SCIM base URL: "))
        self.control = next(line.split(": ", 1)[1] for line in lines if line.startswith("Control plane: "))

    def client(self, token: str, *, control: bool = False, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.control if control else self.base, timeout=timeout, verify=tls_context(),
                            headers={"Authorization": f"Bearer {token}", "Accept": "application/scim+json"})

    def stop(self, timeout: float = 30.0) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=timeout)
        return int(self.proc.returncode)

    def kill_all(self) -> None:
        """SIGKILL the server and every worker process (a crash, not a shutdown)."""
        import os
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.communicate(timeout=30)


def _mock_processes() -> Iterator[Callable[..., MockProcess]]:
    import os
    import signal
    import subprocess
    import sys

    started: list[MockProcess] = []

    def start(*args: str) -> MockProcess:
        proc = subprocess.Popen([sys.executable, "-m", "mock_clockwise", "--host", "127.0.0.1", "--port", "0", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the banner is printed
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        else:
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"the mock did not start: {lines} {err}")
        running = MockProcess(proc, lines)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.proc.poll() is None:
            try:
                os.killpg(running.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            running.proc.communicate(timeout=30)


@pytest.fixture
def mock_process() -> Iterator[Callable[..., MockProcess]]:
    """Factory: `mock_process("--workers", "2", ...)` starts a server and waits for its banner;
    every server started is stopped (or killed) at the end of the test."""
    yield from _mock_processes()


@pytest.fixture(scope="module")
def module_mock_process() -> Iterator[Callable[..., MockProcess]]:
    """`mock_process` for a server shared by the tests of one module (stopped at the module's end)."""
    yield from _mock_processes()
