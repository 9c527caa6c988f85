"""Deep pages (store.py `_page_rows` on store_base.py's page_blocks): a page at any startIndex holds
exactly the rows an OFFSET over the org's creation order gives (RFC 7644 §3.4.2.4), across block
boundaries, with other orgs' rows interleaved, after deletes, and in a file written before the
blocks existed."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest

from mock_clockwise.schema import GROUP, USER
from mock_clockwise.store import Store
from mock_clockwise.store_base import BLOCK_BITS

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
BLOCK = 1 << BLOCK_BITS


def user(name: str) -> dict[str, Any]:
    return {"schemas": [CORE_USER], "userName": name, "emails": [{"value": name, "primary": True}], "active": True}


def creation_order(store: Store, table: str, org: str) -> list[str]:
    """The reference: every id of the org in creation order, straight from SQL."""
    with store._read() as c:  # noqa: SLF001 - the test reads the rows the pages are cut from
        return [r[0] for r in c.execute(f"SELECT id FROM {table} WHERE org=? ORDER BY seq", (org,))]


def fill(store: Store) -> None:
    """acme's users in chunks with other's users between them, so acme's seq values leave gaps."""
    for chunk in range(7):
        store.bulk_insert_users("acme", [user(f"a{chunk}-{i}@x.com") for i in range(BLOCK // 2)])
        store.bulk_insert_users("other", [user(f"o{chunk}-{i}@x.com") for i in range(BLOCK // 4 + 100 * chunk)])


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --db file with both orgs filled, written once; each test opens a copy."""
    path = tmp_path_factory.mktemp("pages") / "filled.db"
    s = Store(str(path))
    s.create_org("acme", ["tok-acme"])
    s.create_org("other", ["tok-other"])
    fill(s)
    s.close()
    return path


@pytest.fixture
def store(filled: Path, tmp_path: Path) -> Iterator[Store]:
    copy = tmp_path / "state.db"
    shutil.copyfile(filled, copy)
    s = Store(str(copy))
    yield s
    s.close()


def starts(total: int) -> list[int]:
    picks = {1, 2, 100, BLOCK - 1, BLOCK, BLOCK + 1, BLOCK + 2, 2 * BLOCK, 2 * BLOCK + 1, total - 99, total - 1,
             total, total + 1, total + 500, 10 ** 12}
    return sorted(s for s in picks if s >= 1) + list(range(1, total + 2, 997))


def assert_pages_agree(store: Store, org: str = "acme") -> None:
    ref = creation_order(store, "users", org)
    for start in starts(len(ref)):
        for count in (1, 100):
            total, rows, _ = store.user_page_text(org, start, count)
            assert total == len(ref)
            assert [r[0] for r in rows] == ref[start - 1:start - 1 + count], (start, count)
    total, page = store.list_resources(org, USER, None, start_index=len(ref) - 4, count=10)
    assert [u["id"] for u in page] == ref[-5:]


def test_deep_pages_equal_the_offset_over_creation_order(store: Store) -> None:
    assert len(creation_order(store, "users", "acme")) == 7 * (BLOCK // 2)  # 3.5 blocks
    assert_pages_agree(store)
    assert_pages_agree(store, "other")


def test_deep_pages_after_deletes_and_new_users(store: Store) -> None:
    ref = creation_order(store, "users", "acme")
    # Around block boundaries of the page positions and of the seq values, and a whole run of users.
    for uid in dict.fromkeys(ref[BLOCK - 2:BLOCK + 2] + ref[BLOCK + 500:BLOCK + 800] + ref[::1333] + ref[-3:]):
        store.delete_user("acme", uid)
    store.create_user("acme", user("late-1@x.com"))
    store.bulk_insert_users("other", [user(f"o-late-{i}@x.com") for i in range(BLOCK)])
    store.create_user("acme", user("late-2@x.com"))
    assert_pages_agree(store)
    assert_pages_agree(store, "other")


def test_deep_group_pages() -> None:
    store = Store()
    store.create_org("acme", ["tok-acme"])
    ids = [store.create_group("acme", {"schemas": [CORE_GROUP], "displayName": f"g{i}"})["id"] for i in range(BLOCK + 60)]
    store.delete_group("acme", ids[BLOCK])
    ids.pop(BLOCK)
    for start in (1, BLOCK - 5, BLOCK, BLOCK + 1, len(ids), len(ids) + 1):
        total, page = store.list_resources("acme", GROUP, None, start_index=start, count=20)
        assert total == len(ids) and [g["id"] for g in page] == ids[start - 1:start + 19], start


def test_wipe_and_delete_org_leave_no_blocks_behind(store: Store) -> None:
    store.delete_org("other")
    with store._read() as c:  # noqa: SLF001
        assert c.execute("SELECT COUNT(*) FROM page_blocks WHERE org='other'").fetchone()[0] == 0
    assert_pages_agree(store)
    store.wipe()
    with store._read() as c:  # noqa: SLF001
        assert c.execute("SELECT COUNT(*) FROM page_blocks").fetchone()[0] == 0


@pytest.mark.parametrize("damage", ["DROP TABLE page_blocks", "DELETE FROM page_blocks",
                                    "UPDATE page_blocks SET n = n + 1"])
def test_a_file_without_right_blocks_is_counted_at_open(filled: Path, tmp_path: Path, damage: str) -> None:
    # A --db file written before page_blocks existed (or with counts that do not add up): the
    # next open counts them from the rows, and deep pages are right.
    path = tmp_path / "old.db"
    shutil.copyfile(filled, path)
    conn = sqlite3.connect(path, isolation_level=None)
    if damage.startswith("DROP"):
        conn.execute("DROP TRIGGER users_block_add")
        conn.execute("DROP TRIGGER users_block_remove")
    conn.execute(damage)
    conn.close()
    reopened = Store(str(path))
    try:
        assert_pages_agree(reopened)
        reopened.create_user("acme", user("after@x.com"))  # the triggers are back too
        assert_pages_agree(reopened)
    finally:
        reopened.close()
