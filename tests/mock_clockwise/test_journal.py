"""journal.py: bounded request journal; bodies recorded as bytes are decoded only when read."""
from __future__ import annotations

from mock_clockwise.app import journal_body
from mock_clockwise.journal import Journal


def _record(j: Journal, raw: bytes | None, org: str = "acme") -> None:
    j.record(time="t", org=org, method="POST", path="/Users", query="", headers={"Authorization": "Bearer [REDACTED]"},
             status=201, raw=raw)


def test_raw_body_is_decoded_once_on_read_and_never_exposed() -> None:
    calls: list[bytes] = []

    def decode(raw: bytes) -> object:
        calls.append(raw)
        return journal_body(raw)

    j = Journal(10, decode=decode)
    _record(j, b'{"userName": "ann"}')
    _record(j, None)
    assert calls == []  # recording costs no parsing
    first = j.entries()
    assert [e["body"] for e in first] == [{"userName": "ann"}, None]
    assert all("_raw" not in e for e in first)
    assert j.entries() == first and len(calls) == 1  # decoded once


def test_journal_body_text_for_non_json_and_bounded() -> None:
    assert journal_body(b"not json") == "not json"
    assert journal_body(b'"\\ud800"') == '"\\ud800"'  # a lone surrogate stays text
    big = journal_body(b"x" * (64 * 1024 + 5))
    assert big.endswith("… [5 more bytes]")


def test_bounded_filtered_and_limited() -> None:
    j = Journal(3, decode=journal_body)
    for i in range(5):
        _record(j, f'{{"i": {i}}}'.encode(), org="acme" if i % 2 else "globex")
    assert len(j) == 3
    assert [e["body"]["i"] for e in j.entries()] == [2, 3, 4]
    assert [e["body"]["i"] for e in j.entries(org="globex")] == [2, 4]
    assert [e["body"]["i"] for e in j.entries(limit=1)] == [4]
    assert j.entries(limit=0) == []
