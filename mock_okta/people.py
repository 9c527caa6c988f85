"""The Okta org model: people, groups, deterministic from a seed.

People come from a ``Faker`` instance seeded with ``seed_instance(seed)`` (never the global
seed), so the same seed always gives the same names, emails, Okta ids and passwords.
"""
from __future__ import annotations

import random
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
TITLES = ("Engineer", "Account Executive", "Designer", "Analyst", "Support Specialist", "Manager", "Counsel")
LANGUAGES = ("en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "ja-JP")
# A custom extension's URN, as Entra names them: urn:ietf:params:scim:schemas:extension:<X>:2.0:User.
CUSTOM_URN = "urn:ietf:params:scim:schemas:extension:clockwise:2.0:User"
PROFILES = ("basic", "full")


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
    # The attributes a real tenant maps beyond the base profile (idp-wire.md: Okta's Profile Editor
    # attributes, Entra's default mappings). Empty is "not mapped": nothing is sent for it.
    title: str = ""
    preferred_language: str = ""
    phone_numbers: dict[str, str] = field(default_factory=dict)  # type (work, mobile, fax) -> number
    address: dict[str, str] = field(default_factory=dict)        # the work address: streetAddress, locality, …
    manager: "Person | None" = None                              # sent as the manager's SCIM id
    custom: dict[str, Any] = field(default_factory=dict)         # attribute -> value under CUSTOM_URN
    # "basic": the base profile only (Okta sends no enterprise attributes); "full": every mapped
    # core and enterprise attribute, with generated values where none is given (custom: only as given).
    profile: str = "basic"
    manager_id: str = field(default="", compare=False, repr=False)  # the manager's SCIM id, set as a task starts

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def full(self) -> bool:
        return self.profile == "full"


ADDRESS_KEYS = ("streetAddress", "locality", "region", "postalCode", "country")
PHONE_TYPES = ("work", "mobile", "fax")


def fill_full_profile(p: Person) -> None:
    """Generated values for the mapped attributes a "full" person was not given, drawn from its
    own Okta id (so the other people's draws never change). Custom attributes are never invented:
    a tenant maps them only to an extension the app declares."""
    rng = random.Random(p.okta_id)
    p.title = p.title or rng.choice(TITLES)
    p.preferred_language = p.preferred_language or rng.choice(LANGUAGES)
    if not p.phone_numbers:
        p.phone_numbers = {t: f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}" for t in PHONE_TYPES}
    if not p.address:
        p.address = {"streetAddress": f"{rng.randrange(1, 999)} Market St", "locality": "San Francisco",
                     "region": "CA", "postalCode": f"94{rng.randrange(100, 199)}", "country": "US"}


@dataclass
class OktaGroup:
    """An Okta group; ``members`` are Okta people, in the order they were added."""

    okta_id: str
    name: str
    members: list[Person] = field(default_factory=list)


PERSON_FIELDS = frozenset(f.name for f in fields(Person)) - {"manager_id"}


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

    def make_password(self) -> str:
        with self._lock:
            return self._password()

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
            if values.get("profile", "basic") not in PROFILES:
                raise TypeError(f"unknown profile {values['profile']!r}; known: {', '.join(PROFILES)}")
            person = Person(**values)
            if person.full:
                fill_full_profile(person)
            return person

    def make_group_id(self) -> str:
        with self._lock:
            return self._okta_id("00g")
