"""Failures read like Okta's task errors and carry the exchange; nothing escapes as httpx errors."""
from __future__ import annotations

import socket

import httpx
import pytest

from mock_okta import OktaOrg, ProvisioningError

PREFIX = "Automatic provisioning of user Test User to app Clockwise failed: Error while creating user test.user@okta.local: "


@pytest.fixture
def org(fake):
    return OktaOrg(fake.client(), seed=1)


@pytest.fixture
def tu(org):
    return org.add_person(first_name="Test", last_name="User", email="test.user@okta.local")


def test_409_detail_in_okta_message(org, fake, tu):
    fake.script[:] = [None, fake.error(409, "User already exists in the directory")]
    with pytest.raises(ProvisioningError) as info:
        org.assign(tu)
    # idp-wire.md, Errors: the reason phrase comes before "Errors reported by remote server".
    assert info.value.message == PREFIX + "Conflict. Errors reported by remote server: User already exists in the directory"
    assert info.value.response.status_code == 409 and info.value.request.method == "POST"
    assert str(info.value) == info.value.message


def test_non_json_error_body_is_invalid_json(org, fake, tu):
    fake.script[:] = [None, httpx.Response(500, text="<html>oops</html>")]
    with pytest.raises(ProvisioningError) as info:
        org.assign(tu)
    # idp-wire.md, Errors: a body that is not JSON shows as `Invalid JSON: …`.
    assert info.value.message == PREFIX + "Internal Server Error. Errors reported by remote server: Invalid JSON: <html>oops</html>"
    assert len(fake.requests) == 2  # no retry on errors other than 429


def test_empty_error_body_uses_status_line(org, fake, tu):
    fake.script[:] = [None, httpx.Response(502)]
    with pytest.raises(ProvisioningError) as info:
        org.assign(tu)
    assert info.value.message == PREFIX + "Bad Gateway. Errors reported by remote server: 502 Bad Gateway"


def test_long_non_json_body_is_cut(org, fake, tu):
    fake.script[:] = [httpx.Response(200, text="x" * 5000)]
    with pytest.raises(ProvisioningError) as info:
        org.assign(tu)
    assert info.value.message.endswith(": Invalid JSON: " + "x" * 80 + "…")


def test_201_without_id_or_empty_is_failure(org, fake, tu):
    fake.script[:] = [None, httpx.Response(201, json={"userName": "test.user@okta.local"})]
    with pytest.raises(ProvisioningError, match="without an id"):
        org.assign(tu)
    fake.script[:] = [None, httpx.Response(201)]
    with pytest.raises(ProvisioningError, match="empty body"):
        org.assign(tu)
    assert org.scim_id(tu) is None


def test_lookup_garbage_is_failure(org, fake, tu):
    fake.script[:] = [httpx.Response(200, text="not json")]
    with pytest.raises(ProvisioningError, match="searching for user test.user@okta.local: Invalid JSON: not json$"):
        org.assign(tu)


def test_admin_403_on_profile_push(org, fake, tu):
    org.assign(tu)
    fake.script[:] = [None, fake.error(403, "Attributes of admin users cannot be changed through SCIM")]
    with pytest.raises(ProvisioningError) as info:
        org.update_profile(tu, last_name="Else")
    # idp-wire.md, Errors: Okta's profile-push title and wording, exactly.
    assert info.value.message == ("Automatic profile push of user test.user@okta.local to app Clockwise failed: "
                                  "Error while trying to push profile update for test.user@okta.local: Forbidden. "
                                  "Errors reported by remote server: Attributes of admin users cannot be changed through SCIM")
    assert info.value.message.endswith("Attributes of admin users cannot be changed through SCIM")


def test_actions_on_unassigned_user_fail_clearly(org, fake, tu):
    with pytest.raises(ProvisioningError, match="not assigned"):
        org.deactivate(tu)
    with pytest.raises(ProvisioningError, match="not assigned"):
        org.update_profile(tu, first_name="X")
    assert fake.requests == []


def test_unknown_change_key(org, tu):
    org.assign(tu)
    with pytest.raises(ValueError, match="cannot change shoe_size"):
        org.update_profile(tu, shoe_size=9)


def test_timeout_is_provisioning_error(tu):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = httpx.Client(transport=httpx.MockTransport(slow), base_url="http://testserver/scim/v2")
    org = OktaOrg(client, timeout=60.0)
    p = org.add_person(first_name="Test", last_name="User", email="test.user@okta.local")
    with pytest.raises(ProvisioningError) as info:
        org.assign(p)
    assert "did not answer within 60 s" in info.value.message
    assert info.value.response is None and info.value.request.method == "GET"


def test_refused_connection_over_a_real_socket():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/scim/v2") as client:
        org = OktaOrg(client, timeout=5)
        with pytest.raises(ProvisioningError, match="Could not reach the remote server"):
            org.test_connection()


def test_assign_many_reports_every_failure(fake):
    org = OktaOrg(fake.client(), seed=2, max_concurrency=1)
    people = org.add_people(3)
    fake.script[:] = [None, fake.error(400, "bad email")]  # the first person's POST fails
    with pytest.raises(ProvisioningError) as info:
        org.assign_many(people)
    err = info.value
    assert list(err.failures) == [people[0].okta_id]
    assert set(err.partial) == {people[1].okta_id, people[2].okta_id}
    assert err.message.startswith("1 of 3 assignments failed; first: Automatic provisioning")


def test_assign_many_concurrent_matches_serial(fake):
    org = OktaOrg(fake.client(), seed=3, max_concurrency=8)
    people = org.add_people(300)
    ids = org.assign_many(people)
    assert list(ids) == [p.okta_id for p in people]
    assert len(set(ids.values())) == 300
    assert all(org.scim_id(p) == ids[p.okta_id] for p in people)
    assert len(fake.transcript) == 600


def test_bad_settings():
    client = httpx.Client(base_url="http://testserver")
    with pytest.raises(ValueError, match="batch_size"):
        OktaOrg(client, batch_size=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        OktaOrg(client, max_concurrency=0)


def test_invalid_url_is_provisioning_error(fake):
    org = OktaOrg(fake.client(), base_path="/bad\x00")
    with pytest.raises(ProvisioningError, match="Could not reach the remote server"):
        org.test_connection()


def test_odd_server_id_stays_one_path_segment(fake):
    org = OktaOrg(fake.client())
    p = org.add_person()
    fake.preset_ids = ["a/b c"]
    assert org.assign(p) == "a/b c"
    fake.script.append(httpx.Response(204))  # the fake routes on the decoded path; answer directly
    org.deactivate(p)
    assert fake.requests[-1].url.raw_path == b"/scim/v2/Users/a%2Fb%20c"
