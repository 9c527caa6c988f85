"""When two userNames are the same user: the comparison key that uniqueness (the store's indexed
`user_name_key` column) and filtering (`userName eq ...`, filter_eval.py) both use, and the
characters a userName may not contain. Pure functions, no storage, no web.

The rule: RFC 7643 §4.1.1 makes userName unique with caseExact false (§2.1: compared without
regard to case). "Without regard to case" is taken as Unicode's compatibility caseless match
(The Unicode Standard §3.13, D146: NFKC, full case folding, NFKC again), plus surrounding
whitespace ignored. So NFC and NFD spellings, fullwidth and ASCII letters (RFC 8265 §3.3.1's width
mapping does the same), final and medial sigma, ß and SS are one user; dotless ı stays a letter of
its own (default, not Turkish, case folding: RFC 8265 §3.3.1 and Unicode agree), so "admın" and
"admin" are two users. Chosen over RFC 8265's UsernameCaseMapped profile because that profile
(IdentifierClass) refuses spaces and most symbols, which real directories put in userNames; the
key above refuses nothing itself. What is refused, with 400 invalidValue, are the characters no
userName can mean: controls (NUL included), format characters (zero-width space, joiners, soft
hyphen, BOM; RFC 8264 §9.13/§9.16 disallow them in identifiers) and line/paragraph separators.
"""
from __future__ import annotations

import sys
import unicodedata
from functools import lru_cache

# Unicode general categories refused anywhere in a userName: Cc (controls, NUL), Cf (format:
# U+200B zero-width space, U+200D ZWJ, U+00AD soft hyphen, U+FEFF BOM, bidi controls), Cs
# (surrogates; wire.py already refuses them), Zl and Zp (line and paragraph separators).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def user_name_key(name: str) -> str:
    """The comparison key of a userName (see the module doc): two userNames name the same user
    exactly when their keys are equal."""
    if name.isascii():
        # ASCII is its own NFKC and casefold() is lower() there: the common case stays cheap.
        return name.strip().lower()
    # The Unicode Standard §3.13 D146 (compatibility caseless match): NFKC(casefold(NFKC(x))).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return folded.strip()


def user_name_problem(name: str) -> str | None:
    """Why `name` cannot be a userName (a refused character, named by its code point), or None."""
    if name.isascii() and name.isprintable():
        return None
    for ch in name:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return f"contains the control or invisible character U+{ord(ch):04X}"
    return None


@lru_cache(maxsize=1)
def refused_characters() -> str:
    """The refused characters as the inside of a regular-expression class (`[^...]`), for the
    OpenAPI document's userName pattern; surrogates left out (JSON text cannot carry them alone).
    Computed once, on the first request for the document (~0.4 s)."""
    ranges: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if not 0xD800 <= cp <= 0xDFFF and unicodedata.category(chr(cp)) in _REFUSED_CATEGORIES:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(_class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}" for a, b in ranges)


def _class_char(cp: int) -> str:
    # \uXXXX means the same in ECMA-262 and Python patterns; astral characters are written as
    # themselves (JSON carries them as a surrogate-pair escape, which both read back as one).
    return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)
