"""The driver's exchanges as the harness records them (a client on Transcript.transport): redacted,
ordered, and writable as HAR 1.2 without the token."""
from __future__ import annotations

import json

import httpx
import pytest

from harness.transcript import Transcript, exchange_of
from mock_okta import OktaOrg, ProvisioningError


def run(fake, tmp_path):
    org = OktaOrg(fake.client(), seed=1)
    people = org.add_people(2)
    org.test_connection()
    org.assign_many(people)
    org.deactivate(people[0])
    path = fake.transcript.write_har(tmp_path / "out" / "run.har", secrets=[fake.TOKEN])
    return org, path


def test_har_shape(fake, tmp_path):
    org, path = run(fake, tmp_path)
    har = json.loads(path.read_text())
    log = har["log"]
    assert log["version"] == "1.2" and log["creator"]["name"]
    assert len(log["entries"]) == len(fake.transcript) == 7
    for entry in log["entries"]:
        assert set(entry) >= {"startedDateTime", "time", "request", "response", "cache", "timings"}
        req, resp = entry["request"], entry["response"]
        assert set(req) >= {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize",
                            "bodySize"}
        assert set(resp) >= {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                             "redirectURL", "headersSize", "bodySize"}
        assert isinstance(resp["content"]["size"], int) and "mimeType" in resp["content"]
    post = log["entries"][3]["request"]
    assert post["method"] == "POST" and post["postData"]["mimeType"].startswith("application/scim+json")
    first = log["entries"][0]["request"]
    assert first["queryString"] == [{"name": "startIndex", "value": "1"}, {"name": "count", "value": "2"}]


def test_token_never_recorded(fake, tmp_path):
    org, path = run(fake, tmp_path)
    assert fake.TOKEN not in path.read_text()
    for ex in fake.transcript:
        assert fake.TOKEN not in json.dumps(ex.to_dict())
        assert ex.request_header("authorization") == "Bearer [REDACTED]"
    # ...while the wire itself did carry it.
    assert fake.requests[0].headers["authorization"] == f"Bearer {fake.TOKEN}"


def test_transcript_order_and_since(fake):
    org = OktaOrg(fake.client(), seed=1)
    p = org.add_person()
    mark = len(fake.transcript)
    org.assign(p)
    assert [ex.method for ex in fake.transcript.since(mark)] == ["GET", "POST"]
    assert fake.transcript[1].status == 201 and fake.transcript[1].elapsed_ms >= 0


def test_shared_transcript(fake):
    shared = Transcript()
    client = httpx.Client(transport=shared.transport(httpx.MockTransport(fake.handle)), base_url="http://t/scim/v2")
    OktaOrg(fake.client()).test_connection()
    OktaOrg(client).test_connection()
    assert len(shared) == 2 and len(fake.transcript) == 2
    assert exchange_of(fake.requests[-1]) is shared[-1]


def test_failed_exchange_is_recorded_then_raised():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    recorded = Transcript()
    client = httpx.Client(transport=recorded.transport(httpx.MockTransport(refuse)), base_url="http://t/scim/v2")
    with pytest.raises(ProvisioningError, match=r"Could not reach the remote server \(ConnectError: refused\)") as info:
        OktaOrg(client).test_connection()
    assert len(recorded) == 1 and recorded[0].status is None and recorded[0].error == "ConnectError: refused"
    assert exchange_of(info.value.request) is recorded[0]
