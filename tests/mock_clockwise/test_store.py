"""The store (mock_clockwise/store.py) without HTTP: persistence, uniqueness, Clockwise rules,
groups, events, atomicity, pagination and thread safety."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from mock_clockwise.errors import Forbidden, InvalidValue, NotFound, PreconditionFailed, Uniqueness
from mock_clockwise.filters import parse_filter
from mock_clockwise.schema import GROUP, USER
from mock_clockwise.store import Store

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user(name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE_USER], "userName": name, "name": {"givenName": "G", "familyName": "F"},
            "emails": [{"value": name, "primary": True, "type": "work"}], "active": True, **extra}


def patch(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create_org("acme", ["tok-acme"], threshold=3)
    return s


def test_tokens_identify_orgs_and_are_stored_hashed(store: Store, tmp_path: Path) -> None:
    store.create_org("globex", ["tok-g1", "tok-g2"])
    assert store.org_for_token("tok-acme") == "acme"
    assert store.org_for_token("tok-g2") == "globex"
    assert store.org_for_token("nope") is None
    with pytest.raises(Uniqueness):
        store.create_org("initech", ["tok-acme"])
    with pytest.raises(Uniqueness):
        store.create_org("globex")
    db = tmp_path / "m.db"
    s = Store(str(db))
    s.create_org("acme", ["super-secret-token"])
    s.close()
    assert b"super-secret-token" not in db.read_bytes()


def test_create_and_get_user_drops_password_and_sets_meta(store: Store) -> None:
    u = store.create_user("acme", user("a@x.com", password="pw123456"))
    assert "password" not in u
    assert u["meta"]["resourceType"] == "User" and u["meta"]["version"] == 'W/"1"'
    assert u["meta"]["created"].endswith("Z")
    assert store.get_user("acme", u["id"]) == u


def test_user_name_unique_case_insensitively_also_on_rename(store: Store) -> None:
    store.create_user("acme", user("a@x.com"))
    with pytest.raises(Uniqueness):
        store.create_user("acme", user("A@X.COM"))
    b = store.create_user("acme", user("b@x.com"))
    with pytest.raises(Uniqueness):
        store.patch_user("acme", b["id"], patch({"op": "replace", "path": "userName", "value": "A@x.com"}))
    with pytest.raises(Uniqueness):
        store.replace_user("acme", b["id"], user("a@X.com"))
    assert store.get_user("acme", b["id"])["userName"] == "b@x.com"


def test_other_orgs_resources_are_not_found(store: Store) -> None:
    store.create_org("globex", ["tok-g"])
    u = store.create_user("acme", user("a@x.com"))
    with pytest.raises(NotFound):
        store.get_user("globex", u["id"])
    with pytest.raises(NotFound):
        store.delete_user("globex", u["id"])
    # The same userName is fine in another org.
    store.create_user("globex", user("a@x.com"))


def test_scim_user_links_to_existing_member(store: Store) -> None:
    store.add_member("acme", "Seed@X.com", "free")
    u = store.create_user("acme", user("seed@x.com"))
    members = store.list_members("acme")
    assert len(members) == 1
    assert members[0] == {"email": "seed@x.com", "plan": "paid", "admin": False, "scim_user_id": u["id"],
                          "source": "seed"}
    # The member is now linked: a second SCIM user with that e-mail cannot take it.
    with pytest.raises(Uniqueness):
        store.create_user("acme", user("other@x.com", emails=[{"value": "seed@x.com", "primary": True}]))


def test_trial_mode_then_synced_at_threshold_latching(store: Store) -> None:
    store.add_member("acme", "seed@x.com", "paid")
    a = store.create_user("acme", user("a@x.com"))
    store.create_user("acme", user("b@x.com"))
    state = store.plan_state("acme")
    assert state["mode"] == "trial" and state["paid"] == ["a@x.com", "b@x.com", "seed@x.com"]
    store.create_user("acme", user("c@x.com"))  # third active user: threshold 3
    state = store.plan_state("acme")
    assert state["mode"] == "synced"
    assert state["paid"] == ["a@x.com", "b@x.com", "c@x.com"] and state["free"] == ["seed@x.com"]
    # Latches: deactivating drops the count below the threshold, mode stays synced.
    store.patch_user("acme", a["id"], patch({"op": "replace", "value": {"active": False}}))
    state = store.plan_state("acme")
    assert state["mode"] == "synced" and "a@x.com" in state["free"]
    store.patch_user("acme", a["id"], patch({"op": "replace", "value": {"active": True}}))
    assert "a@x.com" in store.plan_state("acme")["paid"]
    # Seeded later in synced mode → free.
    assert store.add_member("acme", "late@x.com", "paid")["plan"] == "free"


def test_reactivation_and_a_lower_threshold_at_restart_reach_synced(store: Store, tmp_path: Path) -> None:
    a = store.create_user("acme", user("a@x.com"))
    store.create_user("acme", user("b@x.com"))
    c = store.create_user("acme", user("c@x.com", active=False))
    store.replace_user("acme", a["id"], user("a@x.com", displayName="A"))  # no activation: still 2 active
    assert store.plan_state("acme")["mode"] == "trial"
    store.patch_user("acme", c["id"], patch({"op": "replace", "value": {"active": True}}))  # third active
    assert store.plan_state("acme")["mode"] == "synced"
    # A server restarted on its --db file with a lower --threshold applies it at once.
    db = str(tmp_path / "m.db")
    s = Store(db)
    s.ensure_org("globex", ["tok-g"], threshold=5)
    s.create_user("globex", user("a@x.com"))
    s.create_user("globex", user("b@x.com"))
    s.close()
    s = Store(db)
    assert s.plan_state("globex")["mode"] == "trial"
    s.ensure_org("globex", ["tok-g"], threshold=2)
    assert s.plan_state("globex")["mode"] == "synced"
    s.close()


def test_writes_return_exactly_what_a_read_returns(store: Store) -> None:
    # create/update build their answer from what they wrote instead of reading it back.
    created = store.create_user("acme", user("a@x.com", nickName="ä"))
    assert created == store.get_user("acme", created["id"])
    g = store.create_group("acme", {"schemas": [CORE_GROUP], "displayName": "g", "members": [{"value": created["id"]}]})
    assert g == store.get_group("acme", g["id"])
    for body in (patch({"op": "replace", "value": {"active": False}}),
                 patch({"op": "replace", "path": "name.givenName", "value": "Z"})):
        changed = store.patch_user("acme", created["id"], body)
        assert changed == store.get_user("acme", created["id"]) and changed["groups"][0]["value"] == g["id"]
    assert changed["meta"]["version"] == 'W/"3"'
    replaced = store.replace_user("acme", created["id"], user("A@x.com"))
    assert replaced == store.get_user("acme", created["id"]) and replaced["userName"] == "A@x.com"
    patched = store.patch_group("acme", g["id"], patch({"op": "remove", "path": f'members[value eq "{created["id"]}"]'},
                                                       {"op": "replace", "path": "displayName", "value": "h"}))
    assert patched == store.get_group("acme", g["id"]) and patched["members"] == [] and patched["meta"]["version"] == 'W/"2"'


def test_trial_deactivation_only_changes_that_member(store: Store) -> None:
    store.add_member("acme", "seed@x.com", "paid")
    a = store.create_user("acme", user("a@x.com"))
    store.replace_user("acme", a["id"], user("a@x.com", active=False))
    state = store.plan_state("acme")
    assert state["mode"] == "trial" and state["paid"] == ["seed@x.com"] and state["free"] == ["a@x.com"]
    assert store.get_user("acme", a["id"])["active"] is False


def test_admin_attributes_cannot_change_but_active_can(store: Store) -> None:
    store.add_member("acme", "boss@x.com", "paid", admin=True)
    boss = store.create_user("acme", user("boss@x.com"))
    with pytest.raises(Forbidden) as err:
        store.patch_user("acme", boss["id"], patch({"op": "replace", "path": "name.givenName", "value": "X"}))
    assert err.value.detail.startswith("Attributes of admin users cannot be changed through SCIM")
    assert "boss@x.com" in err.value.detail
    with pytest.raises(Forbidden):
        store.replace_user("acme", boss["id"], user("boss@x.com", title="CEO"))
    # Same PUT (nothing changes) and active-only changes succeed.
    assert store.replace_user("acme", boss["id"], user("boss@x.com"))["meta"]["version"] == 'W/"1"'
    out = store.replace_user("acme", boss["id"], user("boss@x.com", active=False))
    assert out["active"] is False and store.plan_state("acme")["free"] == ["boss@x.com"]


def test_delete_user_keeps_member_unlinked_on_free_and_leaves_groups(store: Store) -> None:
    u = store.create_user("acme", user("a@x.com"))
    g = store.create_group("acme", {"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": u["id"]}]})
    store.delete_user("acme", u["id"])
    with pytest.raises(NotFound):
        store.get_user("acme", u["id"])
    assert store.list_members("acme")[0]["scim_user_id"] is None
    assert store.plan_state("acme")["free"] == ["a@x.com"]
    assert store.get_group("acme", g["id"])["members"] == []
    events = [e["event"] for e in store.events("acme")]
    assert events[-2:] == ["dsync.group.user_removed", "dsync.user.deleted"]
    assert store.list_resources("acme", USER)[0] == 0  # the maintained count follows deletes
    store.delete_group("acme", g["id"])
    assert store.list_resources("acme", GROUP)[0] == 0


def test_group_membership_events_and_validation(store: Store) -> None:
    a = store.create_user("acme", user("a@x.com"))
    b = store.create_user("acme", user("b@x.com"))
    g = store.create_group("acme", {"schemas": [CORE_GROUP], "displayName": "Eng", "members": []})
    g = store.patch_group("acme", g["id"], patch(
        {"op": "add", "path": "members", "value": [{"value": a["id"], "display": "a@x.com"}, {"value": b["id"]}]}))
    assert [m["value"] for m in g["members"]] == [a["id"], b["id"]]
    assert g["members"][1]["display"] == "b@x.com"  # userName when no display was given
    g = store.patch_group("acme", g["id"], patch({"op": "remove", "path": f'members[value eq "{a["id"]}"]'}))
    assert [m["value"] for m in g["members"]] == [b["id"]]
    with pytest.raises(InvalidValue):
        store.patch_group("acme", g["id"], patch({"op": "add", "path": "members", "value": [{"value": "ghost"}]}))
    names = [e["event"] for e in store.events("acme")]
    assert names.count("dsync.group.user_added") == 2 and names.count("dsync.group.user_removed") == 1
    added = [e for e in store.events("acme") if e["event"] == "dsync.group.user_added"][0]["data"]
    assert added["user"]["id"] == a["id"] and added["group"]["displayName"] == "Eng"
    # Group membership does not change plans.
    assert store.plan_state("acme")["paid"] == ["a@x.com", "b@x.com"]
    assert store.get_user("acme", b["id"])["groups"][0]["value"] == g["id"]


def test_failed_operation_changes_nothing(store: Store) -> None:
    u = store.create_user("acme", user("a@x.com"))
    before_events = store.events("acme")
    with pytest.raises(Exception):
        store.patch_user("acme", u["id"], patch({"op": "replace", "path": "displayName", "value": "New"},
                                               {"op": "replace", "path": "nosuchattr", "value": 1}))
    assert store.get_user("acme", u["id"]) == u
    assert store.events("acme") == before_events
    with pytest.raises(InvalidValue):
        store.create_group("acme", {"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": "nope"}]})
    assert store.list_resources("acme", GROUP)[0] == 0
    assert [e["event"] for e in store.events("acme")] == ["dsync.user.created"]


def test_if_match(store: Store) -> None:
    u = store.create_user("acme", user("a@x.com"))
    with pytest.raises(PreconditionFailed):
        store.replace_user("acme", u["id"], user("a@x.com", title="T"), if_match=['W/"7"'])
    out = store.replace_user("acme", u["id"], user("a@x.com", title="T"), if_match=['W/"1"'])
    assert out["meta"]["version"] == 'W/"2"'
    store.delete_user("acme", u["id"], if_match=["*"])


def test_pagination_order_filter_and_count(store: Store) -> None:
    ids = [store.create_user("acme", user(f"u{i:02d}@x.com", active=False))["id"] for i in range(7)]
    total, page = store.list_resources("acme", USER, None, start_index=3, count=2)
    assert total == 7 and [r["id"] for r in page] == ids[2:4]
    total, page = store.list_resources("acme", USER, None, start_index=1, count=0)
    assert total == 7 and page == []
    total, page = store.list_resources("acme", USER, parse_filter('userName eq "U03@X.COM"'))
    assert total == 1 and page[0]["id"] == ids[3]
    total, page = store.list_resources("acme", USER, parse_filter('userName sw "u0" and not (userName ew "1@x.com")'))
    assert total == 6
    total, page = store.list_resources("acme", USER, None, sort_by="userName", descending=True, count=2)
    assert [r["userName"] for r in page] == ["u06@x.com", "u05@x.com"]


def test_bulk_insert_and_hint_lookup(store: Store) -> None:
    assert store.bulk_insert_users("acme", [user(f"bulk{i}@x.com") for i in range(50)]) == 50
    total, page = store.list_resources("acme", USER, parse_filter('userName eq "bulk42@x.com"'))
    assert total == 1 and page[0]["userName"] == "bulk42@x.com"
    assert store.plan_state("acme")["mode"] == "synced"


def test_file_store_survives_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    s = Store(path)
    s.create_org("acme", ["t"])
    u = s.create_user("acme", user("a@x.com"))
    s.close()
    s2 = Store(path)
    assert s2.get_user("acme", u["id"])["userName"] == "a@x.com"
    s2.ensure_org("acme", ["t2"], 10)
    assert s2.org_for_token("t2") == "acme" and s2.org_for_token("t") is None
    s2.close()


def test_delete_org_and_wipe(store: Store) -> None:
    store.create_user("acme", user("a@x.com"))
    store.delete_org("acme")
    assert store.org_for_token("tok-acme") is None
    with pytest.raises(NotFound):
        store.plan_state("acme")
    store.create_org("x", ["t"])
    store.wipe()
    assert store.list_orgs() == []


def test_concurrent_creates_from_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                store.create_user("acme", user(f"t{n}-{i}@x.com"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.list_resources("acme", USER, None, count=0)[0] == 120
    assert len(store.list_members("acme")) == 120


def test_filter_on_computed_groups_attribute(store: Store) -> None:
    a = store.create_user("acme", user("a@x.com"))
    store.create_user("acme", user("b@x.com"))
    g = store.create_group("acme", {"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": a["id"]}]})
    total, page = store.list_resources("acme", USER, parse_filter(f'groups.value eq "{g["id"]}"'))
    assert total == 1 and page[0]["id"] == a["id"] and len(page[0]["groups"]) == 1
    assert store.list_resources("acme", USER, parse_filter("groups pr"))[0] == 1
