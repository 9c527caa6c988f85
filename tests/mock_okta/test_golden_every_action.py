"""Golden wire of every action in every dialect: method, path, query and body bytes of each request.

The same script of actions runs in each dialect against the in-memory fake with fixed ids, and
every request must equal `golden_wire.json` byte for byte. The file was written once from the
driver and reviewed request by request against idp-wire.md (the shapes idp-wire.md quotes are also
asserted literally in test_golden_okta.py, test_golden_entra_aiw.py and test_golden_mapped.py);
a change to what the driver sends must change the file by hand, with the idp-wire.md fact behind it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_okta import DIALECTS, OktaOrg

GOLDEN = Path(__file__).with_name("golden_wire.json")
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
IDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 40)]


def discovery(request: httpx.Request) -> httpx.Response | None:
    """/Schemas and /ResourceTypes, which the fake does not serve."""
    if request.url.path.endswith(("/Schemas", "/ResourceTypes")):
        return httpx.Response(200, json={"schemas": [LIST], "totalResults": 0, "Resources": []})
    return None


def script(fake: Any, dialect: str) -> list[list[str]]:
    """Every action once (or more where the wire differs), as (action, method, path, query, body)."""
    org = OktaOrg(fake.client(), dialect=dialect, seed=42)
    fake.preset_ids = list(IDS)
    sent: list[list[str]] = []

    def run(action: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        mark = len(fake.requests)
        try:
            fn(*args, **kwargs)
        except ValueError as exc:  # the dialect refuses the action (Entra pushes no passwords)
            sent.append([action, "refused", str(exc), "", ""])
        for r in fake.requests[mark:]:
            sent.append([action, r.method, r.url.path.removeprefix("/scim/v2"), r.url.query.decode(),
                         r.content.decode()])

    boss = org.add_person(first_name="Big", last_name="Boss", email="big.boss@okta.local", okta_id="00u0000000000000boss")
    p1 = org.add_person(first_name="Test", last_name="User", email="test.user@okta.local",
                        okta_id="00ujl29u0le5T6Aj10h7", password="1mz050nq")
    p2 = org.add_person(first_name="Full", last_name="Profile", email="full.profile@okta.local", profile="full",
                        manager=boss, okta_id="00u00000000000000ful")
    p3 = org.add_person(first_name="Found", last_name="Inactive", email="found@okta.local", okta_id="00u0000000000000fnd1")
    fake.users["existing-user"] = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "existing-user",
                                   "userName": "found@okta.local", "name": {"givenName": "Old", "familyName": "Name"},
                                   "active": False, "meta": {"resourceType": "User"}}
    fake.groups["existing-group"] = {"id": "existing-group", "displayName": "Existing", "members": [{"value": "outsider"}]}
    run("test_connection", org.test_connection)
    run("assign", org.assign, boss)
    run("assign", org.assign, p1)
    run("assign", org.assign, p2)
    run("assign (found, inactive)", org.assign, p3)
    run("update_profile", org.update_profile, p1, first_name="Tess", title="Engineer")
    run("deactivate", org.deactivate, p1)
    run("reactivate", org.reactivate, p1)
    run("unassign", org.unassign, p2)
    run("reassign", org.reassign, p2)
    run("sync_password", org.sync_password, p1, "New-Passw0rd")
    fake.script[:] = [discovery, discovery]
    run("import_schema", org.import_schema)
    fake.script[:] = []
    run("import_users", org.import_users)
    run("import_groups", org.import_groups)
    g1 = org.add_group("Test SCIMv2", [p1])
    run("push_group", org.push_group, g1)
    run("add_to_group", org.add_to_group, g1, [boss])
    run("remove_from_group", org.remove_from_group, g1, [p1])
    run("rename_group", org.rename_group, g1, "Renamed")
    run("push_now", org.push_now, g1)
    run("unlink_group (keep)", org.unlink_group, g1, delete=False)
    g2 = org.add_group("Existing", [p1, boss])
    run("push_group (link existing)", org.push_group, g2, link_existing=True)
    run("unlink_group (delete)", org.unlink_group, g2)
    run("deprovision", org.deprovision, p3)
    return sent


def test_the_golden_file_covers_every_dialect() -> None:
    assert sorted(json.loads(GOLDEN.read_text())) == sorted(DIALECTS)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_request_of_every_action(fake: Any, dialect: str) -> None:
    golden = json.loads(GOLDEN.read_text())[dialect]
    sent = script(fake, dialect)
    assert len(sent) == len(golden)
    for got, want in zip(sent, golden):
        assert got == want, f"{dialect}: {want[0]}"
