"""The org model: deterministic people per seed."""
from __future__ import annotations

import re

import pytest

from mock_okta import OktaOrg
from mock_okta.people import PeopleFactory


def snapshot(seed: int, n: int = 20):
    f = PeopleFactory(seed)
    return [f.make_person() for _ in range(n)]


def test_same_seed_same_people_different_seed_different():
    assert snapshot(1) == snapshot(1)
    a, b = snapshot(1), snapshot(2)
    assert [p.okta_id for p in a] != [p.okta_id for p in b]
    assert [p.email for p in a] != [p.email for p in b]


def test_person_shape():
    for p in snapshot(3, 200):
        assert re.fullmatch(r"00u[0-9A-Za-z]{17}", p.okta_id)
        assert re.fullmatch(r"[a-z0-9]{8}", p.password)
        assert p.login == p.email and p.email.endswith("@example.com")
        assert p.display_name == f"{p.first_name} {p.last_name}"
        assert p.locale == "en-US" and p.employee_number and p.department
        assert p.mail_nickname == p.email.split("@")[0]


def test_unique_ids_and_logins():
    people = snapshot(4, 500)
    assert len({p.okta_id for p in people}) == 500
    assert len({p.login.lower() for p in people}) == 500


def test_does_not_touch_global_faker_seed():
    from faker import Faker
    Faker.seed(99)
    expected = Faker().first_name()
    Faker.seed(99)
    snapshot(5, 3)
    assert Faker().first_name() == expected


def test_overrides_and_later_people_unchanged():
    f1, f2 = PeopleFactory(6), PeopleFactory(6)
    f1.make_person()
    f2.make_person(first_name="Test", last_name="User", email="test.user@okta.local")
    assert f1.make_person() == f2.make_person()
    p = PeopleFactory(6).make_person(email="x@y.z")
    assert p.login == "x@y.z"


def test_unknown_override_is_a_clear_error():
    with pytest.raises(TypeError, match="unknown person field"):
        PeopleFactory(0).make_person(shoe_size=9)


def test_org_add_people_and_domain(fake):
    org = OktaOrg(fake.client(), seed=9, domain="acme.test")
    people = org.add_people(3)
    assert org.people == people and all(p.email.endswith("@acme.test") for p in people)
    again = OktaOrg(fake.client(), seed=9, domain="acme.test").add_people(3)
    assert again == people
    assert fake.requests == []  # adding people in Okta sends nothing
