"""The one secret scrubber (harness/redaction.py) and the transcript's memory budget and breaker budget
(harness/transcript.py, harness/breaker.py), as units."""
from __future__ import annotations

import html
import json
import re
import secrets
import urllib.parse

import httpx
import pytest

from harness.breaker import GuardedTranscript, stopped
from harness.redaction import REDACTED, Redactor, scrub, url_secrets
from harness.transcript import Transcript

SECRET = 'a"b\\c/d é😀 x&<>'


def _forms(secret: str) -> dict[str, str]:
    js = json.dumps(secret)[1:-1]                        # \" \\ \u00e9 \ud83d\ude00
    return {
        "raw": secret,
        "json": js,
        "json, / as \\/": js.replace("/", "\\/"),
        "json, not ASCII-escaped": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json twice": json.dumps(js)[1:-1],
        "url": urllib.parse.quote(secret, safe=""),
        "url, + for space": urllib.parse.quote_plus(secret),
        "url twice": urllib.parse.quote(urllib.parse.quote(secret, safe=""), safe=""),
        "url, lower-case hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), urllib.parse.quote(secret, safe="")),
        "html": html.escape(secret),
        "html of json": html.escape(js),
        "decimal entities": "".join(f"&#{ord(c)};" for c in secret),
        "hex entities": "".join(f"&#x{ord(c):X};" for c in secret),
        "every char \\u": "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in secret),
    }


@pytest.mark.parametrize("form", sorted(_forms(SECRET)))
def test_every_form_of_a_secret_is_redacted(form: str) -> None:
    text = _forms(SECRET)[form]
    assert scrub(f"<<{text}>>", [SECRET]) == f"<<{REDACTED}>>", text


def test_text_without_the_secret_is_left_alone() -> None:
    text = 'detail: "abc" \\n %41 &amp; + ordinary words, a"b\\c'
    assert scrub(text, [SECRET]) == text
    assert scrub(None, [SECRET]) is None and scrub("", [SECRET]) == ""
    assert scrub("token t0k-1 and t0k-1", ["t0k-1", ""]) == f"token {REDACTED} and {REDACTED}"


def test_a_url_password_is_a_secret_raw_and_decoded() -> None:
    assert url_secrets("https://u:p%40ss@h.example/scim/v2") == ["p%40ss", "p@ss"]
    assert url_secrets("https://h.example/scim/v2") == [] and url_secrets(None) == []


def _client(body: bytes) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body)), base_url="http://t")


def test_bodies_past_the_memory_budget_live_on_disk_and_read_back_whole(tmp_path) -> None:
    t = Transcript(memory_budget=200_000)
    body = json.dumps({"pad": "x" * 150_000}).encode()
    with _client(body) as c:
        for _ in range(4):
            t.send(c, c.build_request("GET", "/big"))
    assert t.in_memory <= 200_000  # the first body in memory, the other three on disk
    assert [ex.body_in_memory() for ex in t] == [len(body), 0, 0, 0]
    assert all(ex.response_body == body.decode() and ex.json()["pad"] == "x" * 150_000 for ex in t)
    har = t.write_har(tmp_path / "t.har")
    assert json.loads(har.read_text()) == t.to_har()
    assert [e["response"]["content"]["text"] for e in json.loads(har.read_text())["log"]["entries"]] == [body.decode()] * 4


def test_the_breaker_stops_the_run_past_the_read_budget() -> None:
    t = GuardedTranscript(max_read=250_000)
    with _client(b"y" * 100_000) as c:
        outcomes = [t.send(c, c.build_request("GET", f"/p{i}"))[0] for i in range(5)]
    assert [o is not None for o in outcomes] == [True, True, True, False, False]
    why = stopped(t)
    assert why and "it sent 0.3 MiB of response bodies, more than the 0.2 MiB a run reads in all" in why


def test_a_short_secret_is_scrubbed_where_it_stands_alone_not_inside_words() -> None:
    # A one-letter token scrubbed everywhere left "canno[REDACTED] reach [REDACTED]arge[REDACTED]".
    line = "cannot reach target http://127.0.0.1/: token t refused (\"t\", %74)"
    assert scrub(line, ["t"]) == "cannot reach target http://127.0.0.1/: token [REDACTED] refused (\"[REDACTED]\", [REDACTED])"
    assert scrub("abcdefghX", ["abcdefgh"]) == "[REDACTED]X"  # a long one is scrubbed even inside a word


MANY = [f"scimh-{i:04d}-{'k' * 20}" for i in range(300)] + [secrets.token_urlsafe(18) for _ in range(100)]


@pytest.mark.parametrize("form", sorted(_forms(SECRET)))
def test_every_form_is_redacted_among_many_secrets(form: str) -> None:
    # The prefilter (harness.redaction.Candidates) must let through every text a secret can stand in,
    # among a run's many org tokens, raw or in any form, and spare the rest.
    r = Redactor([*MANY, SECRET, SECRET[:-3] + "zzz"])
    text = _forms(SECRET)[form]
    assert r(f"<<{text}>>") == f"<<{REDACTED}>>", text
    assert r(f"a {MANY[7]} b {json.dumps(MANY[350])} c {urllib.parse.quote(MANY[123])}") == \
        f"a {REDACTED} b \"{REDACTED}\" c {REDACTED}"
    assert r(f"id={MANY[-1]}&x=1") == f"id={REDACTED}&x=1"
    plain = 'detail: "abc" \\n %41 &amp; + ordinary words, scimh-0001-kkk'
    assert r(plain) == plain and r.raw_forms(plain) == plain


def test_of_two_secrets_that_share_a_prefix_the_longer_is_scrubbed_first() -> None:
    r = Redactor(["abcdefgh", "abcdefghijkl"])
    assert r("x abcdefghijkl y abcdefgh z") == f"x {REDACTED} y {REDACTED} z"
    assert r("%61bcdefghijk") == f"{REDACTED}ijk"  # the shorter one, URL-encoded, inside the longer's prefix
    short = Redactor(["t", "abcdefgh"])
    assert short("cannot: token t, abcdefgh") == f"cannot: token {REDACTED}, {REDACTED}"
    assert short.raw_forms("t abcdefgh") == f"t {REDACTED}"  # a written file's check: long secrets, raw


TOKEN = "tok3n-Abc_def-1234567890"  # a token's alphabet: no space, quote or backslash


@pytest.mark.parametrize("form", sorted(_forms(TOKEN)))
def test_a_token_is_scrubbed_in_every_form_next_to_json_escaped_quotes(form: str) -> None:
    # The shortcut: a backslash before a quote (an ETag in a JSON body, W/\"3\") starts no form of a token,
    # and `+` stands for a space only; a backslash elsewhere, % and & still take the full patterns.
    text = '{"version": "W/\\"3\\"", "detail": "' + _forms(TOKEN)[form] + '", "when": "2026-01-01T00:00:00+00:00"}'
    out = scrub(text, [TOKEN, "other secret"])
    assert out is not None and REDACTED in out and TOKEN not in out and _forms(TOKEN)[form] not in out
    assert 'W/\\"3\\"' in out and "+00:00" in out


def test_a_secret_with_a_space_is_scrubbed_written_with_plus_and_a_short_text_is_left() -> None:
    assert scrub("q=my+secret+words&x=1", ["my secret words"]) == f"q={REDACTED}&x=1"
    assert scrub("short", ["a-much-longer-secret"]) == "short"
