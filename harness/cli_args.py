"""Argument types of the command line (argparse `type=`): each refuses a bad value with one line,
and a token's error never repeats the token.

- A token goes into an `Authorization` header: visible ASCII only (RFC 7230 §3.2.6 field values;
  RFC 6750 §2.1's b64token is a subset). `tök` is refused (httpx would raise on it mid-run), and so
  is a trailing CR or newline (a token pasted from a file): refused, not trimmed, since a token is
  exactly what was issued.
- A duration (`--timeout`, `--max-wait`) is a finite number of seconds: `nan`, `inf` and negatives
  would disable every limit that is built on it.
"""
from __future__ import annotations

import argparse
import math

MAX_SECONDS = 24 * 3600.0
_NAMES = {"\r": "a carriage return (CR)", "\n": "a newline (LF)", "\t": "a tab", " ": "a space"}


def token_problem(token: str) -> str | None:
    """Why `token` cannot be sent as a bearer token (never quoting it), or None."""
    if not token:
        return "is empty"
    for position, char in enumerate(token, 1):
        if "\x21" <= char <= "\x7e":
            continue
        what = _NAMES.get(char) or (f"a control character (U+{ord(char):04X})" if ord(char) < 0x20 or ord(char) == 0x7F
                                    else "a character that is not ASCII")
        where = "ends with" if position == len(token) else f"has, at position {position},"
        return f"{where} {what}; a token is visible ASCII only (RFC 7230 §3.2.6)"
    return None


def token(text: str) -> str:
    """argparse type of --token and --admin-token."""
    problem = token_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"the token {problem}")
    return text


def seconds(text: str, *, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a finite number of seconds")
    if value < 0 or (positive and value == 0):
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: must be {'more than 0' if positive else '0 or more'} seconds")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: at most {MAX_SECONDS:g} seconds")
    return value


def timeout(text: str) -> float:
    """argparse type of --timeout: seconds, finite, more than 0, at most a day."""
    return seconds(text, positive=True)


def wait(text: str) -> float:
    """argparse type of --max-wait: seconds, finite, 0 or more, at most a day."""
    return seconds(text, positive=False)
