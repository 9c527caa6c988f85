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

    def make(base_path: str = "/scim/v2", token: str | None = None, **headers: str) -> httpx.Client:
        hdrs = {"Accept": "application/scim+json", **headers}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        client = httpx.Client(transport=httpx.WSGITransport(app=mock_app),
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
