"""Did-you-mean suggestions (difflib) for a mistyped name: an action, a key, an option, a suite, a dialect."""
from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word` (case-insensitively), or None when none is close."""
    options = [str(c) for c in choices]
    lowered = {o.lower(): o for o in options}
    found = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)`, or '' when no choice is close."""
    found = closest(word, choices)
    return f" (did you mean {found!r}?)" if found is not None and found != word else ""
