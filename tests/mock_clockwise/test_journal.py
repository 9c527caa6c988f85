"""journal.py: bounded request journal; bodies recorded as bytes are decoded only when read;
the shared journal of worker processes (one file per worker, merged in time order)."""
from __future__ import annotations

import struct
from pathlib import Path

from werkzeug.datastructures import EnvironHeaders

from mock_clockwise.journal import Journal, SharedJournal, redact_headers, request_headers
from mock_clockwise.wire import journal_body


def _record(j: Journal | SharedJournal, raw: bytes | None, org: str = "acme") -> None:
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


# ---------------------------------------------------------------------------- shared by worker processes
def _shared(tmp_path: Path, maxlen: int = 100) -> SharedJournal:
    return SharedJournal(str(tmp_path), maxlen, decode=journal_body)


def test_shared_journal_merges_workers_in_time_order(tmp_path: Path) -> None:
    # Two "workers" (two journals on one folder, as two worker processes have).
    a, b = _shared(tmp_path), _shared(tmp_path)
    for i in range(6):
        _record(a if i % 3 else b, f'{{"i": {i}}}'.encode(), org="acme" if i % 2 else "globex")
    for reader in (a, b, _shared(tmp_path)):  # any worker, even one that never recorded, reads them all
        assert [e["body"]["i"] for e in reader.entries()] == [0, 1, 2, 3, 4, 5]
        assert [e["body"]["i"] for e in reader.entries(org="globex")] == [0, 2, 4]
        assert [e["body"]["i"] for e in reader.entries(limit=2)] == [4, 5]
        assert reader.entries(limit=0) == []
    first = a.entries()[0]
    assert list(first) == ["time", "org", "method", "path", "query", "headers", "body", "status"]
    assert first["headers"] == {"Authorization": "Bearer [REDACTED]"} and "_raw" not in first
    assert len(list(tmp_path.glob("journal-*.log"))) == 2  # one file per worker
    a.close()
    b.close()


def test_shared_journal_is_bounded_by_rotation(tmp_path: Path) -> None:
    a, b = _shared(tmp_path, maxlen=4), _shared(tmp_path, maxlen=4)
    for i in range(11):
        _record(a, f'{{"i": {i}}}'.encode())
    _record(b, b'{"i": 11}')
    # The last 4 of all workers together, as the in-memory journal keeps the last N.
    assert [e["body"]["i"] for e in a.entries()] == [8, 9, 10, 11]
    assert len(a) == 4
    # Worker a: its current file and one previous file, nothing more.
    stem = Path(a._stem).name
    assert sorted(p.name[len(stem):] for p in tmp_path.glob(stem + "*")) == [".log", ".log.1"]
    assert len(list(tmp_path.glob("journal-*"))) == 3


def test_shared_journal_clear_empties_every_worker(tmp_path: Path) -> None:
    a, b = _shared(tmp_path, maxlen=3), _shared(tmp_path, maxlen=3)
    for i in range(5):
        _record(a, f'{{"i": {i}}}'.encode())
        _record(b, f'{{"i": {i}}}'.encode())
    b.clear()  # the reset, served by worker b
    assert a.entries() == [] and b.entries() == []
    assert all(p.stat().st_size == 0 for p in tmp_path.glob("journal-*"))
    # Worker a's count of entries in its file is now too high: it rotates early, moving only
    # entries made since the reset, so every one of them is still read.
    for i in range(4):
        _record(a, f'{{"after": {i}}}'.encode())
    assert [e["body"]["after"] for e in b.entries()] == [1, 2, 3]  # the last 3 (maxlen)


def test_shared_journal_skips_a_record_still_being_written(tmp_path: Path) -> None:
    a = _shared(tmp_path)
    _record(a, b'{"i": 1}')
    (path,) = tmp_path.glob("journal-*.log")
    with open(path, "ab") as f:
        f.write(struct.pack("<IQ", 255, 1) + b"partial")  # a record's header (length, ns) and its start
    assert [e["body"] for e in a.entries()] == [{"i": 1}]


def test_shared_journal_keeps_no_credentials_on_disk(tmp_path: Path) -> None:
    a = _shared(tmp_path)
    a.record(time="t", org="acme", method="GET", path="/Users", query="", status=200,
             headers=redact_headers([("Authorization", "Bearer sekret-token"), ("Cookie", "sid=sekret-cookie")]))
    assert a.entries()[0]["headers"] == {"Authorization": "Bearer [REDACTED]", "Cookie": "[REDACTED]"}
    for path in tmp_path.iterdir():
        assert b"sekret" not in path.read_bytes()


def test_shared_journal_that_cannot_write_drops_entries_without_failing(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    a = _shared(folder)
    folder.rmdir()  # the state folder removed under a running server
    _record(a, b'{"i": 1}')  # no exception: the request it records is answered all the same
    assert a.entries() == []
    a.clear()


def test_request_headers_are_werkzeugs_names_in_its_order() -> None:
    # The journal names a request's headers from the WSGI environ itself (journal.request_headers, each
    # key's name worked out once); they must be exactly what request.headers.items() gives.
    environ = {"HTTP_HOST": "h", "HTTP_AUTHORIZATION": "Bearer x", "CONTENT_TYPE": "", "CONTENT_LENGTH": "12",
               "wsgi.input": object(), "HTTP_CONTENT_TYPE": "ignored", "HTTP_X_ODD__NAME": "v", "HTTP_EMPTY": "",
               "SERVER_NAME": "s", "HTTP_ACCEPT_ENCODING": "gzip"}
    for env in (environ, {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "", "HTTP_CONTENT_LENGTH": "3"}):
        assert list(request_headers(env)) == list(EnvironHeaders(env).items())
    assert ("Content-Length", "12") in list(request_headers(environ))
