"""OneLogin's SCIM provisioner: lookup with `+` and a trailing `&`, full PUT updates, group PATCH,
the admin's deprovision action, `schemas` from the admin's SCIM JSON template, an empty User-Agent.

Facts from ``shared/reference/idp-wire.md`` "Other IdPs with documented wire behaviour" (OneLogin).
That section gives the requests, not their bodies: every body shape below is INFERRED (the default
SCIM 2.0 template's attributes, RFC 7643 §4.1) and says so where it is built.
"""
from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote_plus

from mock_okta.full_put import FullPutDialect
from mock_okta.people import Person
from mock_okta.wire import USER_SCHEMA, Call, Reader, filter_value, user_path

DEPROVISION_ACTIONS = ("delete", "suspend", "nothing")


class OneLoginDialect(FullPutDialect):
    """OneLogin's SCIM provisioner (SCIM 2.0)."""

    name = "onelogin"
    title = "OneLogin"
    # INFERRED: suspend/reactivate is a profile update like any other, so the full PUT with `active`.
    active_words = ("activating", "suspending")
    # idp-wire.md: the connection test accepts "empty list or 404" for a name known not to exist.
    not_found = (404,)
    unassign_deprovisions = True  # idp-wire.md: removing app access runs the deprovision action
    renames_groups = False  # Okta's "Rename app groups" has no OneLogin counterpart

    def __init__(self, deprovision: str = "suspend", schemas: tuple[str, ...] = (USER_SCHEMA,)) -> None:
        # idp-wire.md: "DELETE or suspend or nothing on deprovision (admin's choice)". Which one is
        # OneLogin's default is not given: INFERRED "suspend" (it loses no data).
        if deprovision not in DEPROVISION_ACTIONS:
            raise ValueError(f"deprovision must be one of {', '.join(DEPROVISION_ACTIONS)}, not {deprovision!r}")
        if not schemas or not all(isinstance(s, str) and s for s in schemas):
            raise ValueError("schemas must be a non-empty list of URNs (the SCIM JSON template's schemas)")
        self.deprovision_action = deprovision
        # idp-wire.md: the body's `schemas` come from an admin-edited "SCIM JSON template" (non-standard
        # URNs seen): sent as the admin wrote them, whatever they are.
        self.template_schemas = list(schemas)
        self.deprovisioning = {"delete": "deleting", "suspend": "suspending", "nothing": "deprovisioning"}[deprovision]

    # --- headers and queries --------------------------------------------------------
    def headers(self, has_body: bool) -> dict[str, str]:
        # idp-wire.md: OneLogin sends an empty User-Agent. Accept and Content-Type: INFERRED (SCIM's
        # media type, RFC 7644 §3.1).
        return {"User-Agent": "", **super().headers(has_body)}

    def user_lookup_query(self, user_name: str) -> str:
        # idp-wire.md: `GET /Users?filter=userName+eq+"…"` with `+` for spaces and a trailing `&` seen in traffic.
        return "filter=" + quote_plus(f"userName eq {filter_value(user_name)}", safe="") + "&"

    def group_lookup_query(self, display_name: str) -> str:
        # INFERRED: idp-wire.md gives no group lookup for OneLogin; the user lookup's shape on displayName.
        return "filter=" + quote_plus(f"displayName eq {filter_value(display_name)}", safe="") + "&"

    # --- bodies -----------------------------------------------------------------------
    def user_body(self, p: Person, active: bool = True) -> dict[str, Any]:
        """The body the SCIM JSON template renders for ``p`` (POST and every PUT).

        # INFERRED: idp-wire.md quotes no OneLogin body; the attributes of the default SCIM 2.0
        # template (userName, name, emails) with `active`, under the template's `schemas`.
        """
        return {
            "schemas": list(self.template_schemas),
            "userName": p.login,
            "name": {"givenName": p.first_name, "familyName": p.last_name},
            "emails": [{"value": p.email, "type": "work", "primary": True}],
            "displayName": p.display_name,
            "active": active,
        }

    # --- sequences ------------------------------------------------------------------
    def test_connection(self, seed: int) -> list[Call]:
        """A lookup of a user name known not to exist; an empty list or a 404 passes (idp-wire.md).

        # INFERRED: the name is not published; a random one from ``seed`` that no directory holds.
        """
        probe = f"onelogin-connection-test-{random.Random(seed).getrandbits(64):016x}@example.invalid"
        return [Call("GET", "/Users", query=self.user_lookup_query(probe), ok=(404,), lookup=True,
                     doing="searching for users")]

    def link_user(self, found: dict[str, Any], p: Person, scim_id: str, read: Reader) -> list[Call]:
        """GET /Users/{id}, then the full PUT of OneLogin's profile (active:true).

        # idp-wire.md lists lookup, create, `GET /Users/{id}` and full PUT; when OneLogin reads the user
        # is not said: INFERRED here, after a lookup that found the user, before the PUT.
        """
        read(Call("GET", user_path(scim_id), doing="reading"))
        return [self.put_user(p, scim_id, True, "updating")]
