"""The HTTP edge the blueprints share: the per-app state and its accessor, reading a JSON request
body, SCIM responses, and the request limits. The factory (app.py), the request hooks and both
blueprints import it; it imports none of them.

Request limits (each answered with a SCIM Error, advertised in /_mock/openapi.json):
body size MAX_CONTENT_LENGTH → 413; JSON nesting deeper than MAX_JSON_DEPTH → 400 invalidSyntax;
strings with unpaired UTF-16 surrogates → 400 invalidSyntax; integers outside the signed 64-bit range
→ 400 invalidValue, `NaN`/`Infinity` → 400 invalidSyntax (both at the JSON decoder, `decode_json`);
filter length/depth and PATCH operation count in filters.py / patch.py; `count` capped at maxResults,
and a list page ends early once its resources' stored JSON passes max_page_bytes (RFC 7644 §3.4.2.4
lets a page hold fewer than `count`; itemsPerPage says how many it holds).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from flask import Response, current_app, request

from .errors import InvalidSyntax, InvalidValue, UnsupportedMediaType
from .faults import Faults, SharedFaults
from .journal import Journal, SharedJournal, body_for_journal
from .store import Store

SCIM_CONTENT_TYPE = "application/scim+json"
SCIM_PREFIX = "/scim/v2"
MOCK_PREFIX = "/_mock"
EXTENSION_KEY = "mock_clockwise"
# No SCIM document is deeper than ~6 levels (PatchOp → Operations → value → members → value);
# a cap well above that keeps parsing and every later walk of the body iterative-safe.
MAX_JSON_DEPTH = 64
# Every integer the mock reads from JSON fits SQLite's INTEGER (and a query's LIMIT/OFFSET).
MAX_JSON_INT = 2 ** 63 - 1
_MAX_INT_DIGITS = len(str(MAX_JSON_INT))


@dataclass
class MockState:
    """Everything one mock instance holds; lives in `app.extensions["mock_clockwise"]`."""

    store: Store
    faults: Faults | SharedFaults
    journal: Journal | SharedJournal
    admin_token: str
    start_orgs: list[dict[str, Any]] = field(default_factory=list)
    max_results: int = 1000
    max_page_bytes: int | None = None
    max_content_length: int | None = None
    # The WSGI keys request.url_root is made of -> request.url_root: werkzeug's IRI conversion costs
    # ~50 µs per request; the Host header is the client's, so the cache is small and simply emptied when full.
    url_roots: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def url_root(self) -> str:
        """`request.url_root` (the base for meta.location and $ref URLs), computed once per host.
        A Host header that is no host[:port] (empty, spaces, a path, userinfo: werkzeug then reads
        the host as "") is not used: the base is the address the server listens on (loopback for a
        wildcard), never `http:///`."""
        env = request.environ  # what werkzeug builds scheme, host and root path from (PEP 3333)
        key = (env.get("wsgi.url_scheme"), env.get("HTTP_HOST"), env.get("SERVER_NAME"), env.get("SERVER_PORT"),
               env.get("SCRIPT_NAME"))
        root = self.url_roots.get(key)
        if root is None:
            if len(self.url_roots) >= 64:
                self.url_roots.clear()
            root = request.url_root if request.host else _listening_root()
            self.url_roots[key] = root
        return root

    def seed_start_orgs(self) -> None:
        for org in self.start_orgs:
            self.store.ensure_org(org["name"], org.get("tokens", []), int(org.get("threshold", 10)))
            if org.get("auth"):  # auth_store.validate_auth's shape
                self.store.set_auth(org["name"], org["auth"])

    def reset(self) -> None:
        """Back to the start state: the start orgs, empty; journal, events and faults cleared."""
        self.store.wipe()
        self.seed_start_orgs()
        self.journal.clear()
        self.faults.clear()

    def close(self) -> None:
        """Release every connection and file (before a fork, or at the end of a worker)."""
        self.store.close()
        self.faults.close()
        self.journal.close()


# RFC 3986 §3.2.2: a host name or address the base URL can carry.
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", re.ASCII)


def _listening_root() -> str:
    env = request.environ
    name = str(env.get("SERVER_NAME") or "")
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 address
    if name in ("", "0.0.0.0", "[::]") or not _HOST.fullmatch(name):
        name = "127.0.0.1"
    port = str(env.get("SERVER_PORT") or "")
    default = {"http": "80", "https": "443"}.get(request.scheme)
    netloc = name if not port.isdigit() or port == default else f"{name}:{port}"
    return f"{request.scheme}://{netloc}{quote(request.root_path)}/"


def state() -> MockState:
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- responses
def scim_response(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Every body the mock sends is `application/scim+json` (RFC 7644 §3.1), UTF-8 JSON."""
    resp = Response(b"" if body is None else json_bytes(body), status=status, content_type=SCIM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def json_bytes(body: Any) -> bytes:
    """A response body: orjson's compact UTF-8 (non-ASCII as is, RFC 8259 §8.1)."""
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate echoed from input, or a huge integer
        data = json.dumps(body, ensure_ascii=False)
        try:
            return data.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (e.g. a filter literal "\ud800" in an error detail): RFC 8259 §8.2
            # allows it only as an escape, so escape everything rather than fail.
            return json.dumps(body, ensure_ascii=True).encode("ascii")


def scim_text_response(text: str, status: int = 200) -> Response:
    """A body already serialised as JSON text (the import page spliced from stored resources)."""
    return Response(text.encode("utf-8"), status=status, content_type=SCIM_CONTENT_TYPE)


# ---------------------------------------------------------------------------- request bodies
class JsonNumberError(ValueError):
    """A JSON number the mock refuses (raised by the decoder's hooks, turned into a SCIM Error)."""

    def __init__(self, detail: str, scim_error: type[InvalidValue] | type[InvalidSyntax]) -> None:
        super().__init__(detail)
        self.detail, self.scim_error = detail, scim_error


def _parse_int(text: str) -> int:
    # RFC 7644 §3.12 invalidValue: an integer no attribute or parameter of the mock can hold. The
    # digits are counted before int() runs, so 4,301 digits (Python's own limit) never get that far.
    if len(text.lstrip("-")) > _MAX_INT_DIGITS or abs(value := int(text)) > MAX_JSON_INT:
        raise JsonNumberError(f"an integer has {len(text.lstrip('-'))} digits; integers must lie within "
                              f"±{MAX_JSON_INT} (64-bit)", InvalidValue)
    return value


def _parse_float(text: str) -> float:
    # RFC 7644 §3.12 invalidValue: 1e400 would become infinity, which no JSON text can carry back.
    value = float(text)
    if math.isinf(value):
        raise JsonNumberError(f"the number {text[:40]} is too large for a 64-bit float", InvalidValue)
    return value


def _parse_constant(name: str) -> Any:
    # RFC 8259 §6: NaN and Infinity are not JSON numbers (Python's decoder accepts them by default).
    raise JsonNumberError(f"{name} is not a JSON number (RFC 8259 §6)", InvalidSyntax)


# One decoder for every JSON text the mock reads (requests, journalled bodies).
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)


def decode_json(text: str) -> Any:
    """`json.loads` with the mock's number rules (the hooks above); raises JsonNumberError,
    json.JSONDecodeError or RecursionError."""
    return _DECODER.decode(text)


_COMMON_TYPES = {f"{t}{p}": t for t in (SCIM_CONTENT_TYPE, "application/json")
                 for p in ("", "; charset=utf-8", "; charset=UTF-8", ";charset=utf-8")}


def read_json() -> Any:
    """The request body as JSON. RFC 7644 §3.8: `application/scim+json`; `application/json`
    is accepted too (Entra and many clients), as is a missing Content-Type."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # the proxy resolved once
    raw_type = req.environ.get("CONTENT_TYPE", "")
    # The Content-Types IdPs send, as they send them, are known; any other is parsed (RFC 9110 §8.3.1).
    ctype = _COMMON_TYPES.get(raw_type) or (req.mimetype or "").lower()
    if ctype and ctype not in (SCIM_CONTENT_TYPE, "application/json"):
        raise UnsupportedMediaType(
            f"Content-Type {req.mimetype!r} is not supported; send application/scim+json or application/json")
    raw = req.get_data(cache=True)
    if not raw.strip():
        raise InvalidSyntax("the request body is empty; a JSON object is required")
    try:
        doc = decode_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidSyntax("the request body is not valid UTF-8") from None
    except JsonNumberError as exc:
        raise exc.scim_error(f"the request body is not acceptable: {exc.detail}") from None
    except json.JSONDecodeError as exc:
        raise InvalidSyntax(f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}") from None
    except RecursionError:
        raise InvalidSyntax(f"the request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    # Only a body with enough brackets can be too deep, and only a \u escape can hold a lone
    # surrogate (raw UTF-8 cannot): most bodies need no walk at all.
    problem = json_problem(doc) if b"\\u" in raw or raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH else None
    if problem:
        raise InvalidSyntax(f"the request body {problem}")
    return doc


def json_problem(doc: Any) -> str | None:
    """Why a parsed JSON document is unacceptable (too deep, unpaired surrogates), or None.

    Iterative, so a hostile document cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((value, depth + 1))
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                # RFC 8259 §8.2: "\ud800" alone is not a Unicode character; storing it would fail later.
                return "contains an unpaired UTF-16 surrogate escape (such as \\ud800) in a string"
    return None


def journal_body(raw: bytes) -> Any:
    """A journalled body: the JSON document when it is acceptable JSON, else (truncated) text."""
    parsed = None
    try:
        parsed = decode_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: JSONDecodeError, JsonNumberError
        parsed = None
    if parsed is not None and json_problem(parsed):
        parsed = None  # journalled as (replaced) text instead
    return body_for_journal(raw, parsed)
