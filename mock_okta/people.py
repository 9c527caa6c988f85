"""The Okta org model: people, groups, deterministic from a seed.

People come from a ``Faker`` instance seeded with ``seed_instance(seed)`` (never the global
seed), so the same seed always gives the same names, emails, Okta ids and passwords.
"""
from __future__ import annotations

import re
import string
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from faker import Faker

# Okta ids: a 3-character type prefix ("00u" users, "00g" groups) + 17 characters [0-9a-zA-Z].
ID_ALPHABET = string.digits + string.ascii_letters
PASSWORD_ALPHABET = string.ascii_lowercase + string.digits
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Support", "Operations", "Design", "Legal")


@dataclass
class Person:
    """An Okta user. ``login`` is the Okta username, sent as SCIM ``userName``."""

    okta_id: str
    first_name: str
    last_name: str
    email: str
    login: str
    display_name: str
    locale: str = "en-US"
    employee_number: str = ""
    department: str = ""
    password: str = ""  # the placeholder Okta sends on create even without password sync
    mail_nickname: str = ""  # Entra's default source for externalId

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class OktaGroup:
    """An Okta group; ``members`` are Okta people, in the order they were added."""

    okta_id: str
    name: str
    members: list[Person] = field(default_factory=list)


PERSON_FIELDS = frozenset(f.name for f in fields(Person))


def _local_part(text: str) -> str:
    """An email-safe lower-case fragment of a name ("O'Connor" -> "oconnor")."""
    return re.sub(r"[^a-z0-9]", "", text.lower()) or "user"


class PeopleFactory:
    """Makes people and groups for one Okta org, deterministically from ``seed``."""

    def __init__(self, seed: int = 0, domain: str = "example.com") -> None:
        self.seed = seed
        self.domain = domain
        self._faker = Faker("en_US")
        self._faker.seed_instance(seed)
        self._lock = threading.Lock()
        self._logins: set[str] = set()
        self._ids: set[str] = set()
        self._employee_counter = 0

    def _okta_id(self, prefix: str) -> str:
        rng = self._faker.random
        while True:
            candidate = prefix + "".join(rng.choice(ID_ALPHABET) for _ in range(17))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _password(self) -> str:
        return "".join(self._faker.random.choice(PASSWORD_ALPHABET) for _ in range(8))

    def _unique_login(self, first: str, last: str) -> str:
        base = f"{_local_part(first)}.{_local_part(last)}"
        login = f"{base}@{self.domain}"
        n = 1
        while login in self._logins:
            n += 1
            login = f"{base}{n}@{self.domain}"
        return login

    def make_person(self, **overrides: Any) -> Person:
        """A new person; any Person field may be overridden.

        Every random draw happens whatever the overrides, so overriding one field of the
        n-th person never changes the people after it.
        """
        unknown = set(overrides) - PERSON_FIELDS
        if unknown:
            raise TypeError(f"unknown person field(s): {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(PERSON_FIELDS))}")
        with self._lock:
            fk = self._faker
            drawn_first, drawn_last = fk.first_name(), fk.last_name()
            drawn_id = self._okta_id("00u")
            drawn_password = self._password()
            drawn_department = fk.random.choice(DEPARTMENTS)
            self._employee_counter += 1
            first = overrides.get("first_name", drawn_first)
            last = overrides.get("last_name", drawn_last)
            if "email" in overrides:
                email = overrides["email"]
            elif "login" in overrides:
                email = overrides["login"]
            else:
                email = self._unique_login(first, last)
            login = overrides.get("login", email)
            self._logins.add(login.lower())
            self._logins.add(email.lower())
            values: dict[str, Any] = {
                "okta_id": drawn_id,
                "first_name": first,
                "last_name": last,
                "email": email,
                "login": login,
                "display_name": f"{first} {last}".strip(),
                "locale": "en-US",
                "employee_number": f"{self._employee_counter:06d}",
                "department": drawn_department,
                "password": drawn_password,
                "mail_nickname": login.split("@", 1)[0],
            }
            values.update(overrides)
            if values["okta_id"] != drawn_id:
                self._ids.add(values["okta_id"])
            return Person(**values)

    def make_group_id(self) -> str:
        with self._lock:
            return self._okta_id("00g")
