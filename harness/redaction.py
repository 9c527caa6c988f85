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
NAMED_ENTITIES = {'"': "quot", "&": "amp", "<": "lt", ">": "gt", "'": "apos"}
# A secret shorter than this (a test's token "t") is scrubbed only where it stands alone, not inside a
# word: scrubbing every "t" would leave "canno[REDACTED] reach" and hide the message, not the secret.
SHORT = 6


def _hex(value: int, width: int) -> str:
    """A regex for `value` in hex, either case of each letter, zero-padded to at least `width`."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


@functools.lru_cache(maxsize=4096)
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
# Every character a form other than the raw one is written with (the module docstring): an occurrence of
# a secret in any form is a run of these and of the secret's own characters, at least as long as it.
FORM_ALPHABET = frozenset("\\%&#;+xXuU0123456789abcdefABCDEF" + "".join(NAMED_ENTITIES.values()))


@functools.lru_cache(maxsize=512)
def _bucket_regex(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """One bucket's regex, compiled once: a run adds a secret per org it opens, and recompiling one
    pattern over every secret at each addition cost more than the run itself (quadratic)."""
    return re.compile("|".join(pattern_of(s) for s in secrets))


def _bucket_of(secret: str) -> int:
    return zlib.crc32(secret.encode("utf-8", "surrogatepass")) % BUCKETS


def _runs_of(chars: Iterable[str], shortest: int) -> re.Pattern[str]:
    """A regex for the runs of at least `shortest` characters, each one of `chars`."""
    klass = "".join(sorted("\\" + c if c in "\\-]^[" else c for c in set(chars)))
    return re.compile(f"[{klass}]{{{shortest},}}")


class Candidates:
    """The sound prefilter of a set of long (SHORT or more) secrets: where one of them can stand.

    A raw occurrence of a secret lies inside a run of the secrets' characters at least as long as the
    shortest secret; an occurrence in any other form, inside a run of those and FORM_ALPHABET's. Such runs
    are rare in a report (ids, tokens, encoded filters): a text is searched once for a character class,
    and only the runs found are searched for the secrets themselves."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        chars = {c for s in secrets for c in s}
        shortest = min(len(s) for s in secrets)
        self.raw_runs = _runs_of(chars, shortest)
        self.any_runs = _runs_of(chars | FORM_ALPHABET, shortest)
        self.by_length: dict[int, set[str]] = {}
        for secret in secrets:
            self.by_length.setdefault(len(secret), set()).add(secret)

    def raw_in(self, text: str) -> list[str]:
        """The secrets that occur raw in `text`, longest first."""
        found: set[str] = set()
        for match in self.raw_runs.finditer(text):
            run = match.group()
            for length, secrets in self.by_length.items():
                if length <= len(run):
                    found |= secrets.intersection(run[i:i + length] for i in range(len(run) - length + 1))
        return sorted(found, key=len, reverse=True)


class Redactor:
    """Scrubs a growing set of secrets; thread-safe. The secrets fall in BUCKETS groups by hash, each
    compiled once per content, so a new secret recompiles one small group, not every pattern; the
    Candidates prefilter spares the regexes every text where no secret can stand."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self._regexes: tuple[re.Pattern[str], ...] = ()
        self._candidates: Candidates | None = None  # None when a secret is SHORT (or there is none)
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
                self._regexes = tuple(_bucket_regex(tuple(b)) for b in ordered)
                self._candidates = Candidates(self._secrets) if len(self._secrets[-1]) >= SHORT else None

    def raw_forms(self, text: str) -> str:
        """`text` with the raw form of each long secret replaced (a written file's last check)."""
        candidates = self._candidates
        secrets = candidates.raw_in(text) if candidates else [s for s in self._secrets if len(s) >= SHORT]
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __call__(self, text: str) -> str:
        if not self._regexes:
            return text
        candidates = self._candidates
        if candidates is None:
            return self._every_form(text)
        if not ESCAPING.search(text):
            return self.raw_forms(text)  # only raw forms can occur
        # Every form of a secret lies inside one of the runs: the regexes read those, not the whole text.
        return candidates.any_runs.sub(lambda run: self._every_form(run.group()), text)

    def _every_form(self, text: str) -> str:
        for regex in self._regexes:
            text = regex.sub(REDACTED, text)
        return text


_CACHE: dict[frozenset[str], Redactor] = {}
_CACHE_LOCK = threading.Lock()


def redactor_for(secrets: Iterable[str]) -> Redactor:
    """A Redactor for exactly these secrets (compiled once per distinct set; the set, not a sorted tuple,
    is the key: the writers ask for it once per string)."""
    key = frozenset(s for s in secrets if s)
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
