"""Clockwise's rules as pure functions (mock_clockwise/plan.py)."""
from __future__ import annotations

from mock_clockwise import plan


def test_user_email_prefers_primary_then_first_then_username() -> None:
    both = {"userName": "U@X.com", "emails": [{"value": "Second@X.com"}, {"value": "Prim@X.com", "primary": True}]}
    assert plan.user_email(both) == "prim@x.com"
    assert plan.user_email({"userName": "u@x.com", "emails": [{"value": "First@X.com"}, {"value": "b@x.com"}]}) \
        == "first@x.com"
    assert plan.user_email({"userName": "Only.Name@X.com"}) == "only.name@x.com"
    assert plan.user_email({"userName": "n@x.com", "emails": []}) == "n@x.com"
    assert plan.user_email({"userName": "n@x.com", "emails": [{"type": "work"}]}) == "n@x.com"


def test_is_active_defaults_to_true_and_only_false_deactivates() -> None:
    assert plan.is_active({}) is True
    assert plan.is_active({"active": True}) is True
    assert plan.is_active({"active": False}) is False


def test_scim_member_plan() -> None:
    assert plan.scim_member_plan(True) == "paid"
    assert plan.scim_member_plan(False) == "free"


def test_mode_switches_at_threshold_and_latches() -> None:
    assert plan.mode_after("trial", 10, 9) == "trial"
    assert plan.mode_after("trial", 10, 10) == "synced"
    assert plan.mode_after("trial", 3, 4) == "synced"
    # Synced latches even when the count later drops.
    assert plan.mode_after("synced", 10, 0) == "synced"


def test_seeded_member_plan_by_mode() -> None:
    assert plan.seeded_member_plan("trial", "paid") == "paid"
    assert plan.seeded_member_plan("trial", "free") == "free"
    assert plan.seeded_member_plan("synced", "paid") == "free"


def test_synced_plans_paid_is_exactly_linked_active() -> None:
    plans = plan.synced_plans([("a@x.com", True), ("seed@x.com", False), ("gone@x.com", False)])
    assert plans == {"a@x.com": "paid", "seed@x.com": "free", "gone@x.com": "free"}


def test_admin_changes_ignores_active_meta_password_groups() -> None:
    before = {"id": "1", "userName": "a@x.com", "active": True, "name": {"givenName": "A"},
              "meta": {"version": 'W/"1"'}}
    after = {"id": "1", "userName": "a@x.com", "active": False, "name": {"givenName": "A"}, "password": "pw",
             "groups": [], "meta": {"version": 'W/"9"'}}
    assert plan.admin_changes(before, after) == []
    after["name"] = {"givenName": "B"}
    after["title"] = "Boss"
    assert plan.admin_changes(before, after) == ["name", "title"]


def test_admin_changes_treats_empty_as_unassigned() -> None:
    assert plan.admin_changes({"userName": "a"}, {"userName": "a", "emails": [], "nickName": None}) == []
    assert plan.admin_changes({"userName": "a", "nickName": "x"}, {"userName": "a"}) == ["nickName"]


def test_admin_refusal_detail_starts_with_the_rule_and_names_the_user() -> None:
    detail = plan.admin_refusal_detail("boss@x.com", ["name"])
    assert detail.startswith("Attributes of admin users cannot be changed through SCIM")
    assert "boss@x.com" in detail and "name" in detail


def test_plan_summary_sorted_lowercase() -> None:
    members = [{"email": "B@x.com", "plan": "paid", "admin": True}, {"email": "a@x.com", "plan": "paid"},
               {"email": "c@x.com", "plan": "free", "admin": False}]
    assert plan.plan_summary("trial", 10, members) == {
        "mode": "trial", "threshold": 10, "paid": ["a@x.com", "b@x.com"], "free": ["c@x.com"],
        "admins": ["b@x.com"]}
