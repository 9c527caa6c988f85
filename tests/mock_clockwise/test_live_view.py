"""The live view /_mock/ui (mock_clockwise/live_view.py) in-process: the one-time link, the session
cookie, what the page shows, the refresh endpoint, and that no token reaches the page or the journal.
The browser side (it updates within 2 s of a POST on a real `serve`) is tests/browser/test_browser_live_view.py."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_clockwise.app import create_app
from mock_clockwise.live_view import COOKIE, link_line, login_path

SCIM = "live-scim-token-5f1e"
ADMIN = "live-admin-token-9c2d"
USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@acme.test",
        "emails": [{"value": "ada@acme.test", "primary": True}], "active": True}


def _app(**config: Any) -> Any:
    return create_app({"ORGS": [{"name": "acme", "tokens": [SCIM], "threshold": 10}], "ADMIN_TOKEN": ADMIN, **config})


def _client(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver")


def _login(client: httpx.Client, path: str | None = None) -> httpx.Response:
    return client.get(path or login_path(ADMIN))


def test_the_one_time_link_sets_a_session_and_leaves_the_url() -> None:
    app = _app()
    client = _client(app)
    path = login_path(ADMIN)
    r = _login(client, path)
    assert r.status_code == 303 and r.headers["location"] == "/_mock/ui"  # the ticket leaves the address bar
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/_mock/ui" in cookie and ADMIN not in cookie
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    page = client.get("/_mock/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "acme" in page.text and "trial" in page.text
    ticket = path.split("ticket=")[1]
    for secret in (ADMIN, SCIM, ticket):
        assert secret not in page.text
    # used once: a second browser (no cookie) cannot use it again
    again = _login(_client(app), path)
    assert again.status_code == 401 and "used already" in again.json()["detail"]


@pytest.mark.parametrize("ticket", ["", "abc", "abc.def", "x" * 500, "nonce.%00", "../etc.passwd", "abc.é",
                                    "é.abc", "a" * 65 + ".x"])
def test_bad_tickets_are_refused(ticket: str) -> None:
    r = _client(_app()).get("/_mock/ui/login", params={"ticket": ticket})
    assert r.status_code == 401 and r.json()["status"] == "401"
    assert r.headers["WWW-Authenticate"].startswith("Bearer") and "set-cookie" not in r.headers


def test_a_ticket_of_invalid_utf8_is_refused() -> None:
    r = _client(_app()).get("/_mock/ui/login?ticket=abc.%ED%A0%80%FF")  # a lone surrogate, then a stray byte
    assert r.status_code == 401 and r.json()["status"] == "401"


def test_a_ticket_signed_with_another_admin_token_is_refused() -> None:
    assert _login(_client(_app()), login_path("some-other-admin-token")).status_code == 401


def test_without_the_session_the_page_and_state_want_the_admin_token() -> None:
    app = _app()
    client = _client(app)
    for path in ("/_mock/ui", "/_mock/ui/state", "/_mock/ui/state.json"):
        assert client.get(path).status_code == 401
        for forged in ("forged.cookie", "abc.%C3%A9", "abc"):
            client.cookies.set(COOKIE, forged, path="/_mock/ui")
            assert client.get(path).status_code == 401
            client.cookies.clear()
        # a cookie of non-ASCII characters (httpx cannot send one in-process; werkzeug's client can)
        assert app.test_client().get(path, headers={"Cookie": f"{COOKIE}=abc.é"}).status_code == 401
        assert client.get(path, headers={"Authorization": f"Bearer {SCIM}"}).status_code == 401
        assert client.get(path, headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200


def test_new_links_need_the_admin_token_not_the_cookie() -> None:
    app = _app()
    client = _client(app)
    _login(client)
    assert client.post("/_mock/ui/links").status_code == 401  # a page's cookie cannot mint links
    r = client.post("/_mock/ui/links", headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 201
    fresh = _client(app)
    assert _login(fresh, r.json()["path"]).status_code == 303


def test_state_shows_a_new_user_plan_event_and_journal_and_only_changes_when_they_do() -> None:
    client = _client(_app())
    _login(client)
    first = client.get("/_mock/ui/state").json()
    assert "html" in first and "ada@acme.test" not in first["html"]
    same = client.get("/_mock/ui/state", params={"since": first["digest"]}).json()
    assert same == {"digest": first["digest"]}  # nothing changed: no html to swap in
    assert client.post("/scim/v2/Users", json=USER, headers={"Authorization": f"Bearer {SCIM}"}).status_code == 201
    moved = client.get("/_mock/ui/state", params={"since": first["digest"]}).json()
    assert moved["digest"] != first["digest"]
    html = moved["html"]
    assert "ada@acme.test" in html and 'class="paid"' in html  # a SCIM user joins on the paid plan
    assert "dsync.user.created" in html and "POST /Users" in html and ">201<" in html
    data = client.get("/_mock/ui/state.json").json()
    [org] = data["orgs"]
    assert org["plan"]["paid"] == ["ada@acme.test"] and org["plan"]["mode"] == "trial"
    assert data["journal"][0]["method"] == "POST" and data["journal"][0]["status"] == 201
    assert SCIM not in html and ADMIN not in html and SCIM not in str(data)


def test_the_switch_to_synced_shows(tmp_path: Path) -> None:
    app = create_app({"ORGS": [{"name": "acme", "tokens": [SCIM], "threshold": 2}], "ADMIN_TOKEN": ADMIN})
    client = _client(app)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    for n in range(2):
        user = {**USER, "userName": f"u{n}@acme.test", "emails": [{"value": f"u{n}@acme.test"}]}
        client.post("/scim/v2/Users", json=user, headers={"Authorization": f"Bearer {SCIM}"})
    html = client.get("/_mock/ui/state", headers=admin).json()["html"]
    assert "mode-synced" in html and "2 SCIM user(s)" in html


def test_worker_processes_share_which_tickets_were_used(tmp_path: Path) -> None:
    # Two apps on one database and state folder: what serve's worker processes are (prefork.py).
    config = {"DB_PATH": str(tmp_path / "state.sqlite3"), "STATE_DIR": str(tmp_path)}
    one, two = _app(**config), _app(**config)
    path = login_path(ADMIN)
    r = _login(_client(one), path)
    assert r.status_code == 303
    assert _login(_client(two), path).status_code == 401  # used in the other worker
    # the session cookie one worker set is good in the other
    other = _client(two)
    other.cookies.set(COOKIE, r.cookies[COOKIE], path="/_mock/ui")
    assert other.get("/_mock/ui").status_code == 200


def test_serve_prints_the_link_and_the_journal_never_holds_it() -> None:
    app = _app()
    line = link_line(app, "http://127.0.0.1:8000")
    m = re.fullmatch(r"Live view \(one-time link\): http://127\.0\.0\.1:8000(/_mock/ui/login\?ticket=\S+)", line)
    assert m is not None and ADMIN not in line
    client = _client(app)
    assert _login(client, m.group(1)).status_code == 303
    journal = client.get("/_mock/journal", headers={"Authorization": f"Bearer {ADMIN}"}).text
    assert "ticket" not in journal and "/_mock/ui" not in journal


def test_an_org_with_many_events_shows_the_newest_and_counts_them_all() -> None:
    app = create_app({"ORGS": [{"name": "acme", "tokens": [SCIM], "threshold": 100}], "ADMIN_TOKEN": ADMIN})
    client = _client(app)
    for n in range(20):
        user = {**USER, "userName": f"u{n:02}@acme.test", "emails": [{"value": f"u{n:02}@acme.test"}]}
        assert client.post("/scim/v2/Users", json=user, headers={"Authorization": f"Bearer {SCIM}"}).status_code == 201
    [org] = client.get("/_mock/ui/state.json", headers={"Authorization": f"Bearer {ADMIN}"}).json()["orgs"]
    assert org["event_count"] == 20 and len(org["events"]) == 15
    assert '"u19@acme.test"' in org["events"][0]["summary"] and '"u05@acme.test"' in org["events"][-1]["summary"]
    # the control plane still lists every event, oldest first
    events = client.get("/_mock/orgs/acme/events", headers={"Authorization": f"Bearer {ADMIN}"}).json()["data"]
    assert len(events) == 20 and events[0]["data"]["userName"] == "u00@acme.test"


def test_used_tickets_create_nothing_at_start_and_refuse_once_the_folder_is_gone(tmp_path: Path) -> None:
    from mock_clockwise.live_view import UsedTickets

    folder = tmp_path / "state"
    folder.mkdir()
    used = UsedTickets(str(folder))
    assert list(folder.iterdir()) == []  # a worker starting while the server stops leaves nothing behind
    assert used.claim("n1") and not used.claim("n1")
    assert [p.name for p in folder.iterdir()] == ["ui-ticket.n1"]
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()  # the server stopped: its folder is gone
    assert not used.claim("n2") and not folder.exists()


def test_an_org_deleted_while_the_page_reads_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    client = _client(app)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert client.post("/_mock/orgs", json={"name": "gone"}, headers=admin).status_code == 201
    store = app.extensions["mock_clockwise"].store
    listed = store.list_orgs()
    store.delete_org("gone")
    monkeypatch.setattr(store, "list_orgs", lambda: listed)  # as if deleted between the list and the read
    r = client.get("/_mock/ui/state.json", headers=admin)
    assert r.status_code == 200 and [o["name"] for o in r.json()["orgs"]] == ["acme"]
