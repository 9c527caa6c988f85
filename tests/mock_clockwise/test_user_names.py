"""userName uniqueness and `eq` under one Unicode comparison key (issue 17 item 13; names.py), the
refused characters, and the migration of a --db file written before the key existed."""
from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"

# (first, second): one user under the rule, so the second POST is 409 and `eq` on it finds the first.
SAME = [
    ("jos\u00e9@x.com", "jose\u0301@x.com"),  # NFC vs NFD
    ("alice@x.com", "\uff41\uff4c\uff49\uff43\uff45@x.com"),  # fullwidth letters
    ("bob@x.com", " bob@x.com "),  # leading/trailing spaces
    ("carl@x.com", "\u3000carl@x.com"),  # ideographic space (NFKC: a space)
    ("\u03bf\u03b4\u03bf\u03c2", "\u039f\u0394\u039f\u03a3"),  # final sigma vs capital sigma
    ("\u03bf\u03b4\u03bf\u03c2", "\u03bf\u03b4\u03bf\u03c3"),  # final vs medial sigma
    ("stra\u00dfe", "STRASSE"),  # ß / SS
    ("ADMIN", "admin"),
    ("\ufb01nn", "finn"),  # the ligature ﬁ
]
# Not one user: dotless ı is a letter of its own (default case folding, not Turkish).
DISTINCT = [("adm\u0131n", "admin")]
# Refused with 400 invalidValue: controls and invisible characters.
REFUSED = ["nul\x00@x.com", "zw\u200bsp@x.com", "tab\t@x.com", "\ufeffbom@x.com", "soft\u00adhyphen",
           "line\u2028sep", "del\x7f", "rtl\u202eoverride"]


def _post(client: httpx.Client, user_name: str) -> httpx.Response:
    return client.post("/Users", json={"schemas": [CORE_USER], "userName": user_name})


def _eq(client: httpx.Client, user_name: str) -> list[str]:
    literal = httpx.Request("GET", "/", json=user_name).content.decode()
    r = client.get("/Users", params={"filter": f"userName eq {literal}"})
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["Resources"]]


def _renames(client: httpx.Client, uid: str, user_name: str) -> list[httpx.Response]:
    """A PUT and a PATCH that each give the user this userName."""
    put = client.put(f"/Users/{uid}", json={"schemas": [CORE_USER], "userName": user_name})
    patch = client.patch(f"/Users/{uid}", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                "Operations": [{"op": "replace", "path": "userName",
                                                                "value": user_name}]})
    return [put, patch]


@pytest.mark.parametrize("first,second", SAME)
def test_one_user_under_the_comparison_key(scim_client: httpx.Client, first: str, second: str) -> None:
    created = _post(scim_client, first)
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    clash = _post(scim_client, second)
    assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness", clash.text
    # `eq` finds the one user a POST would clash with, by either spelling (and .search alike).
    assert _eq(scim_client, second) == [uid] and _eq(scim_client, first) == [uid]
    # A rename of another user onto it clashes too (PUT and PATCH).
    other = _post(scim_client, "other@x.com").json()["id"]
    assert [r.status_code for r in _renames(scim_client, other, second)] == [409, 409]
    # The user's own userName may change spelling within its key.
    assert scim_client.put(f"/Users/{uid}", json={"schemas": [CORE_USER], "userName": second}).status_code == 200


@pytest.mark.parametrize("first,second", DISTINCT)
def test_distinct_users(scim_client: httpx.Client, first: str, second: str) -> None:
    assert _post(scim_client, first).status_code == 201
    assert _post(scim_client, second).status_code == 201
    assert len(_eq(scim_client, first)) == 1 and len(_eq(scim_client, second)) == 1


@pytest.mark.parametrize("name", REFUSED)
def test_control_and_invisible_characters_are_refused(scim_client: httpx.Client, name: str) -> None:
    r = _post(scim_client, name)
    assert r.status_code == 400 and r.json()["scimType"] == "invalidValue", r.text
    assert "userName" in r.json()["detail"]
    uid = _post(scim_client, "fine@x.com").json()["id"]
    assert [r.status_code for r in _renames(scim_client, uid, name)] == [400, 400]
    assert scim_client.get("/Users").json()["totalResults"] == 1
    assert scim_client.get(f"/Users/{uid}").json()["userName"] == "fine@x.com"


def test_the_key_and_the_problem_functions() -> None:
    from mock_clockwise.names import user_name_key, user_name_problem

    assert user_name_key("Alice@Example.COM ") == "alice@example.com"
    assert all(user_name_key(a) == user_name_key(b) for a, b in SAME)
    assert all(user_name_key(a) != user_name_key(b) for a, b in DISTINCT)
    assert all(user_name_problem(n) for n in REFUSED)
    assert user_name_problem("Jane Doe (ops) <jane@x.com>") is None and user_name_problem("日本語") is None


def test_the_eq_lookup_stays_an_index_lookup(mock_app: Any) -> None:
    store = mock_app.extensions["mock_clockwise"].store
    with store._read() as c:
        plan = " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN SELECT * FROM users WHERE org=? AND "
                                                "user_name_key=? ORDER BY seq", ("acme", "a")))
    assert "USING INDEX" in plan and "user_name_key=?" in plan, plan


# The schema of users/members as main wrote it before the key column (for the migration test).
_OLD_DDL = """
CREATE TABLE orgs (name TEXT PRIMARY KEY, threshold INTEGER NOT NULL, mode TEXT NOT NULL,
  provisioned INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
  users_count INTEGER NOT NULL DEFAULT 0, groups_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE members (seq INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, email TEXT NOT NULL,
  plan TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0, scim_user_id TEXT, source TEXT NOT NULL,
  UNIQUE (org, email));
CREATE TABLE users (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org TEXT NOT NULL,
  user_name TEXT NOT NULL, user_name_lower TEXT NOT NULL, external_id TEXT,
  email_lower TEXT NOT NULL, active INTEGER NOT NULL, version INTEGER NOT NULL,
  created TEXT NOT NULL, last_modified TEXT NOT NULL, data TEXT NOT NULL,
  UNIQUE (org, user_name_lower));
INSERT INTO orgs VALUES ('acme', 10, 'trial', 1, '2026-01-01T00:00:00.000Z', 1, 0);
INSERT INTO members (org, email, plan, admin, scim_user_id, source) VALUES ('acme', 'x', 'paid', 0, 'u1', 'scim');
INSERT INTO users (id, org, user_name, user_name_lower, external_id, email_lower, active, version, created,
  last_modified, data) VALUES ('u1', 'acme', 'STRASSE', 'strasse', NULL, 'x', 1, 1, '2026-01-01T00:00:00.000Z',
  '2026-01-01T00:00:00.000Z',
  '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "STRASSE"}');
"""


def test_an_old_db_file_is_migrated(tmp_path: Any) -> None:
    from mock_clockwise.app import create_app

    path = str(tmp_path / "old.sqlite")
    conn = sqlite3.connect(path)
    conn.executescript(_OLD_DDL)
    conn.close()
    app = create_app({"DB_PATH": path, "ORGS": [{"name": "acme", "tokens": ["t"], "threshold": 10}]})
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t/scim/v2",
                      headers={"Authorization": "Bearer t"}) as client:
        assert _eq(client, "stra\u00dfe") == ["u1"]
        assert _post(client, "Stra\u00dfe").status_code == 409
        assert _post(client, "new@x.com").status_code == 201
    app.extensions["mock_clockwise"].close()
    # Opening it again finds it migrated (and changes nothing).
    app = create_app({"DB_PATH": path, "ORGS": [{"name": "acme", "tokens": ["t"], "threshold": 10}]})
    app.extensions["mock_clockwise"].close()
    conn = sqlite3.connect(path)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(users)")}
    assert "user_name_key" in columns and "user_name_lower" not in columns
    assert "unlinked_data" in {r[1] for r in conn.execute("PRAGMA table_info(members)")}
    conn.close()
