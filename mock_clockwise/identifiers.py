"""What an org name and a bearer token may be: the rules `serve` (server.py) and the control plane
(control.py) apply alike. Pure functions, no web.

- An org name appears in URLs of the control plane (`/_mock/orgs/<org>`): 1-64 letters, digits,
  `.`, `_` or `-`, starting with a letter or digit (no `''`, no `bad name!/..`).
- A bearer token travels in an `Authorization` header: visible ASCII only (RFC 7230 §3.2.6 field
  values; RFC 6750 §2.1's b64token is a subset), so no newline, CR, space or non-ASCII letter. A
  problem is described without repeating the token.
"""
from __future__ import annotations

import re

ORG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ORG_NAME_RULE = "1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"
MAX_TOKEN_LENGTH = 4096


def valid_org_name(name: object) -> bool:
    return isinstance(name, str) and ORG_NAME.fullmatch(name) is not None


def token_problem(token: object) -> str | None:
    """Why `token` cannot be a bearer token (never quoting it), or None."""
    if not isinstance(token, str) or not token:
        return "is empty"
    if len(token) > MAX_TOKEN_LENGTH:
        return f"is longer than {MAX_TOKEN_LENGTH} characters"
    for position, char in enumerate(token, 1):
        if not "\x21" <= char <= "\x7e":
            what = ("a newline" if char == "\n" else "a carriage return" if char == "\r" else "a space" if char == " "
                    else "a control character" if ord(char) < 0x20 or ord(char) == 0x7F else "a character that is not ASCII")
            return f"has {what} at position {position} (a token is visible ASCII only, RFC 7230 §3.2.6)"
    return None
