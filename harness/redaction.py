"""The secret scrubber: every form a secret can take in an output stream, replaced by ``[REDACTED]``.

A hostile or careless target echoes a token back (in an error `detail`, a `Location`, an HTML page),
and what it echoes is rarely the raw string: JSON escapes `"` and `\\` (and may write `/` as `\\/` or
any character as `\\uXXXX`), a URL percent-encodes, HTML writes entities, and a report that embeds a
JSON body in JSON escapes it once more. So each secret becomes one pattern in which every character
may appear in any of those forms, mixed freely:

- raw, preceded by any number of backslashes (JSON `\\"`, `\\\\`, `\\/`, and the same escaped again);
- `\\uXXXX` (either case of hex; a character outside the BMP as its surrogate pair);
- `%XX` for each UTF-8 byte (either case, `%25XX` when encoded twice), `+` for a space;
- `&#N;`, `&#xH;` and the named entities `&quot; &amp; &lt; &gt; &apos;`.

Used by every writer: the console, report.json, JUnit, HTML, the HAR, the CLI's error line, the
embedded mock's captured output.
"""
from __future__ import annotations

import functools
import re
import threading
import urllib.parse
import zlib
from typing import Iterable

REDACTED = "[REDACTED]"
# A text without any of these characters can hold a secret only in its raw form.
ESCAPING = re.compile(r"[\\%&+]")
# The same, narrowed by what the secrets hold (escaping_for): `+` is a form of a space only, a run of
# backslashes before a `"` (JSON's `\"`, an ETag in a body) starts no form of a secret that holds neither
# `"` nor `\`, and a `&` or `%` starts one only as an entity or as %XX.
PLUS = r"\+"
BACKSLASH_RUN = r"(?<!\\)\\+(?![\\\"])"
NAMED_ENTITIES = {'"': "quot", "&": "amp", "<": "lt", ">": "gt", "'": "apos"}
# A secret shorter than this (a test's token "t") is scrubbed only where it stands alone, not inside a
# word: scrubbing every "t" would leave "canno[REDACTED] reach" and hide the message, not the secret.
SHORT = 6


def _hex(value: int, width: int) -> str:
    """A regex for `value` in hex, either case of each letter, zero-padded to at least `width`."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _char_forms(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        unicode_escape = rf"\\+[uU]{_hex(high, 4)}\\+[uU]{_hex(low, 4)}"
    else:
        unicode_escape = rf"\\+[uU]{_hex(code, 4)}"
    url = "".join(f"%(?:25)*{_hex(b, 2)}" for b in char.encode("utf-8"))
    literal = [re.escape(char), url, f"&#0*{code};", f"&#[xX]0*{_hex(code, 1)};"]
    if char == " ":
        literal.append(r"\+")
    if char in NAMED_ENTITIES:
        literal.append(f"&{NAMED_ENTITIES[char]};")
    return rf"(?:\\*(?:{'|'.join(literal)})|{unicode_escape})"


def pattern_of(secret: str) -> str:
    """The regex matching `secret` in every form listed in the module docstring (a SHORT one alone only)."""
    forms = "".join(_char_forms(c) for c in secret)
    return forms if len(secret) >= SHORT else rf"(?<![A-Za-z0-9])(?:{forms})(?![A-Za-z0-9])"


BUCKETS = 16  # the secrets are compiled in this many regexes, by a hash of each secret


@functools.lru_cache(maxsize=512)
def _bucket_regex(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """One bucket's regex, compiled once: a run adds a secret per org it opens, and recompiling one
    pattern over every secret at each addition cost more than the run itself (quadratic)."""
    return re.compile("|".join(pattern_of(s) for s in secrets))


def _bucket_of(secret: str) -> int:
    return zlib.crc32(secret.encode("utf-8", "surrogatepass")) % BUCKETS


class Redactor:
    """Scrubs a growing set of secrets; thread-safe. The secrets fall in BUCKETS groups by hash, each
    compiled once per content, so a new secret recompiles one small group, not every pattern."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self._buckets: tuple[tuple[str, ...], ...] = ()
        self._escaping = ESCAPING
        self._lock = threading.Lock()
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        with self._lock:
            known = set(self._secrets) | {s for s in secrets if s}
            if known != set(self._secrets):
                self._secrets = tuple(sorted(known, key=len, reverse=True))  # longest first
                buckets: dict[int, list[str]] = {}
                for secret in self._secrets:
                    buckets.setdefault(_bucket_of(secret), []).append(secret)
                # Buckets holding the longest secrets first: a secret inside another is scrubbed after it.
                ordered = sorted(buckets.values(), key=lambda b: -len(b[0]))
                # Compiled when a text first needs them (_bucket_regex caches): most texts need raw forms only.
                self._buckets = tuple(tuple(b) for b in ordered)
                self._escaping = escaping_for(self._secrets)

    def __call__(self, text: str) -> str:
        if not self._buckets or len(text) < len(self._secrets[-1]):
            return text  # every form of a secret is at least as long as the secret
        if not self._escaping.search(text) and len(self._secrets[-1]) >= SHORT:
            # Only raw forms can occur: str.replace is ~50 times faster.
            for secret in self._secrets:
                text = text.replace(secret, REDACTED)
            return text
        for bucket in self._buckets:
            text = _bucket_regex(bucket).sub(REDACTED, text)
        return text


def escaping_for(secrets: Iterable[str]) -> re.Pattern[str]:
    """What in a text can start an escaped form of one of `secrets` (the module docstring's forms)."""
    held = set("".join(secrets))
    # %XX starts every URL form; &# every numeric entity, &quot; &amp; … only for the characters they stand for.
    parts = [r"%[0-9a-fA-F]{2}", "&#" if not held & set(NAMED_ENTITIES) else "&"]
    parts.append(r"\\" if held & {'"', "\\"} else BACKSLASH_RUN)
    if " " in held:
        parts.append(PLUS)
    return re.compile("|".join(parts))


_CACHE: dict[tuple[str, ...], Redactor] = {}
_CACHE_LOCK = threading.Lock()


def redactor_for(secrets: Iterable[str]) -> Redactor:
    """A Redactor for exactly these secrets (compiled once per distinct set)."""
    key = tuple(sorted({s for s in secrets if s}))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            if len(_CACHE) > 64:
                _CACHE.clear()
            found = _CACHE[key] = Redactor(key)
        return found


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """`text` with every form of every secret replaced by ``[REDACTED]`` (None stays None)."""
    if not text:
        return text
    return redactor_for(secrets)(text)


def url_secrets(url: str | None) -> list[str]:
    """The credentials written in a URL's userinfo (`https://user:password@host/`): the password, raw and
    percent-decoded, so neither is ever printed. The user name is not a secret."""
    if not url or "@" not in url:
        return []
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        return []
    if not password:
        return []
    return list(dict.fromkeys([password, urllib.parse.unquote(password)]))
