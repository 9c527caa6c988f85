"""Hypothesis strategies for hostile HTTP requests to the mock: routes from its OpenAPI document
with odd ids and percent-encodings, absurd filters and PATCH paths, random/wrong-typed/huge/deeply
nested/invalid-UTF-8 bodies, unknown schemas, wrong tokens and header-injection attempts; and (issue 17)
integers past 64 bits or of 4,301+ digits and non-finite numbers in every kind of body and in
startIndex/count, lone-surrogate literals in filters on the indexed attributes, and userNames that
differ only by Unicode normalisation, width, case folding, spaces or invisible characters.

A `FuzzRequest` is plain data (method, raw path, raw query, header bytes, body bytes); the oracle
in `oracle.py` sends it and judges the answer.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "get"]
INJECTED = "x-injected"


@dataclass
class FuzzRequest:
    method: str
    path: str                      # already percent-encoded as it goes on the wire
    query: str = ""                # raw query string, no '?'
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes | None = None
    family: str = "misc"           # which generator made it (for statistics)

    def __repr__(self) -> str:
        return f"FuzzRequest({self.describe()})"

    def describe(self) -> str:
        body = "" if self.body is None else f" body[{len(self.body)}]={self.body[:200]!r}"
        return f"{self.method} {self.path}{'?' + self.query[:300] if self.query else ''} " \
               f"headers={[(k, v[:80]) for k, v in self.headers]}{body}"


# ------------------------------------------------------------------------------- text atoms
ATTRS = ["userName", "UserName", "name.givenName", "name.familyName", "emails", "emails.value", "emails.type",
         "emails.primary", "active", "displayName", "members", "members.value", "members.display", "groups",
         "externalId", "id", "meta.created", "meta.lastModified", "meta.resourceType", "title", "phoneNumbers",
         "addresses.region", "password", "schemas", f"{ENTERPRISE}:manager.value", f"{ENTERPRISE}:department",
         f"{CORE_USER}:userName", f"{CORE_GROUP}:displayName", "urn:unknown:Thing:attr", "nickName", "x", "$ref",
         "name..givenName", "a.b.c.d", "emails[", "9abc", "-x", "..", ".name"]
OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Eq", "pr", "in", "==", "like", ""]

_weird_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_any_text = st.text(max_size=20)  # may hold lone surrogates: json.dumps escapes them as \udXXX


def _json_string(text: str) -> str:
    return json.dumps(text)


# Numbers no 64-bit column or float can hold, as JSON text (issue 17 item 11).
HUGE_NUMBERS = ["1" * 4301, "-" + "9" * 5000, str(2 ** 63), str(-2 ** 63 - 1), str(2 ** 63 - 1), "1e30", "1e400",
                "-1e400", "Infinity", "-Infinity", "NaN", "1" * 25, "0." + "0" * 5000 + "1"]
huge_numbers = st.sampled_from(HUGE_NUMBERS)
# Lone UTF-16 surrogates (and a proper pair) as JSON string literals.
SURROGATE_LITERALS = ['"\\ud800"', '"a\\udfff"', '"\\udbff\\udbff"', '"\\ud83d\\ude00"', '"x\\ud800y"']
# userNames one user apart under names.py's key, or refused there (issue 17 item 13).
UNICODE_NAMES = ["jos\u00e9@x.com", "jose\u0301@x.com", "\uff41\uff4c\uff49\uff43\uff45@x.com", "alice@x.com",
                 " bob@x.com ", "bob@x.com", "nul\x00@x.com", "zw\u200bsp@x.com", "\u03bf\u03b4\u03bf\u03c2",
                 "\u039f\u0394\u039f\u03a3", "stra\u00dfe", "STRASSE", "adm\u0131n", "ADMIN", "\ufeffbom",
                 "\u3000carl", "line\u2028sep", "\ufb01nn"]

comp_values = st.one_of(
    _weird_text.map(_json_string), _any_text.map(_json_string),
    st.sampled_from(["true", "false", "null", "True", "NULL", "1e999", "-0", "1.5e-400", "123456789012345678901234567890",
                     '"2024-01-01T00:00:00Z"', '"9999999999-99-99"', '"\\ud800"', '"\\u0000"', '"a\\"', '"\\x41"',
                     "'single'", "unquoted", '""', '"' + "a" * 500 + '"']),
    st.integers().map(str), st.floats(allow_nan=True).map(repr), st.sampled_from(SURROGATE_LITERALS),
)
attr_paths = st.one_of(st.sampled_from(ATTRS), st.from_regex(r"[A-Za-z$][A-Za-z0-9_$:.\-]{0,15}", fullmatch=True))

filters = st.recursive(
    st.one_of(
        st.builds(lambda a, o, v: f"{a} {o} {v}", attr_paths, st.sampled_from(OPS), comp_values),
        st.builds(lambda a: f"{a} pr", attr_paths),
        st.builds(lambda a, o, v: f'{a}[type {o} {v}]', attr_paths, st.sampled_from(OPS), comp_values),
        _weird_text,
    ),
    lambda inner: st.one_of(
        st.builds(lambda a, b, j: f"{a} {j} {b}", inner, inner, st.sampled_from(["and", "or", "AND", "oR", "xor", ""])),
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda p, a: f"{p}[{a}]", attr_paths, inner),
        st.builds(lambda a, n: "(" * n + a + ")" * n, inner, st.integers(0, 60)),
        st.builds(lambda a, n: "(" * n + a, inner, st.integers(1, 40)),
    ),
    max_leaves=12,
) | st.builds(lambda n: " or ".join(['userName eq "x"'] * n), st.integers(100, 800)) \
  | st.builds(lambda a, o, v: f"{a} {o} {v}", st.sampled_from(["userName", "id", "externalId", "displayName",
                                                              "members.value", "emails.value"]),
              st.sampled_from(["eq", "co", "sw", "ne", "gt"]), st.sampled_from(SURROGATE_LITERALS)) \
  | st.builds(lambda v: f"userName eq {json.dumps(v)}", st.sampled_from(UNICODE_NAMES)) \
  | st.sampled_from(["", " ", "(", ")", "[]", "not", "userName eq", 'userName eq "' + "a" * 5000 + '"',
                     "emails[type eq \"work\"].value eq \"a\"", "members[value eq \"x\"]", 'emails[value[type eq "a"]]'])

patch_paths = st.one_of(
    attr_paths,
    st.builds(lambda a, f, s: f"{a}[{f}]{s}", attr_paths, filters, st.sampled_from(["", ".value", ".display", ".x", "."])),
    _weird_text,
)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _any_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(ATTRS), _any_text), inner, max_size=4)),
    max_leaves=15)


# ------------------------------------------------------------------------------- bodies
def _dump(doc: Any) -> bytes:
    # allow_nan: NaN/Infinity are not JSON (RFC 8259 §6) and must be refused, not crash.
    return json.dumps(doc, allow_nan=True).encode("utf-8", "surrogatepass")


schemas_lists = st.one_of(
    st.just([CORE_USER]), st.just([CORE_GROUP]), st.just([CORE_USER, ENTERPRISE]), st.just([PATCH_OP]),
    st.just([SEARCH]), st.just(["urn:unknown:schema"]), st.just([]), st.just("not-a-list"), st.just([1, None]),
    st.lists(_weird_text, max_size=3))

user_bodies = st.fixed_dictionaries(
    {"schemas": schemas_lists},
    optional={"userName": st.one_of(_weird_text, st.integers(), st.none(), st.lists(_weird_text, max_size=2),
                                    st.sampled_from(UNICODE_NAMES)),
              "active": st.one_of(st.booleans(), st.sampled_from(["True", "False", "yes", "1", ""]), st.integers()),
              "emails": st.one_of(json_values, st.lists(st.fixed_dictionaries(
                  {"value": st.one_of(_weird_text, st.integers())},
                  optional={"primary": json_scalars, "type": json_scalars}), max_size=3)),
              "name": json_values, "displayName": json_values, "externalId": json_values,
              "groups": json_values, "id": json_values, "meta": json_values, "password": json_values,
              ENTERPRISE: json_values, "urn:unknown:schema": json_values, "members": json_values})

group_bodies = st.fixed_dictionaries(
    {"schemas": schemas_lists},
    optional={"displayName": st.one_of(_weird_text, st.integers(), st.none()),
              "members": st.one_of(json_values, st.lists(st.fixed_dictionaries(
                  {"value": st.one_of(st.sampled_from(["{user}", "{group}", "nope", ""]), json_scalars)},
                  optional={"display": json_scalars, "$ref": json_scalars, "type": json_scalars}), max_size=3)),
              "externalId": json_values, "id": json_values})

patch_bodies = st.fixed_dictionaries(
    {"schemas": st.one_of(st.just([PATCH_OP]), schemas_lists),
     "Operations": st.one_of(
         st.lists(st.fixed_dictionaries(
             {"op": st.one_of(st.sampled_from(["add", "remove", "replace", "Add", "REPLACE", "move", "copy", "test",
                                               ""]), json_scalars)},
             optional={"path": st.one_of(patch_paths, json_scalars), "value": st.one_of(json_values, user_bodies)}),
             max_size=4),
         json_values,
         st.integers(1001, 1300).map(lambda n: [{"op": "replace", "path": "title", "value": "t"}] * n))})

search_bodies = st.fixed_dictionaries(
    {"schemas": st.one_of(st.just([SEARCH]), schemas_lists)},
    optional={"filter": st.one_of(filters, json_scalars), "count": json_scalars, "startIndex": json_scalars,
              "sortBy": st.one_of(attr_paths, json_scalars), "sortOrder": json_scalars,
              "attributes": st.one_of(st.lists(attr_paths, max_size=3), json_scalars),
              "excludedAttributes": st.one_of(st.lists(attr_paths, max_size=3), json_scalars)})

control_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={"name": st.one_of(_weird_text, st.sampled_from(["acme", "globex", "n3w"]),
                                                          json_scalars),
                                        "tokens": st.one_of(st.lists(_weird_text, max_size=3), json_values),
                                        "threshold": json_scalars}),
    st.fixed_dictionaries({}, optional={"email": st.one_of(_weird_text, st.sampled_from(["a@x.com", "u1@x.com"]),
                                                           json_scalars),
                                        "plan": json_scalars, "admin": json_scalars}),
    st.fixed_dictionaries({"faults": st.one_of(json_values, st.lists(st.fixed_dictionaries({}, optional={
        "method": json_scalars, "path": st.one_of(_weird_text, st.sampled_from(["(", "[", "^/Users", "*"])),
        "status": st.one_of(st.integers(0, 700), json_scalars), "latency_ms": json_scalars, "count": json_scalars,
        "fraction": json_scalars, "retry_after": json_scalars, "org": json_scalars, "bogus": json_scalars}),
        max_size=2))}))

odd_bodies = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"\xff\xfe{}", b'{"userName": "\xc0\xaf"}', b'{"userName": "\xed\xa0\x80"}', b"\x00",
                     b'{"userName": "\\ud800"}', b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e999}', b"{}", b"[]",
                     b"null", b"true", b'"str"', b"123", b'{"schemas": ["' + CORE_USER.encode() + b'"]', b"{,}",
                     b'{"a":1,"a":2}', "\ufeff{}".encode(), b"{}" * 3]),
    st.integers(2, 5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(2, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(60, 70).map(lambda n: ('{"schemas":["%s"],"userName":"deep@x.com","x":' % CORE_USER).encode()
                            + b"[" * n + b"]" * n + b"}"),
    st.sampled_from([1024 * 1024 - 200, 1024 * 1024 + 1, 3 * 1024 * 1024]).map(
        lambda n: ('{"schemas":["%s"],"userName":"big@x.com","title":"' % CORE_USER).encode() + b"x" * n + b'"}'),
)

# Bodies of every kind carrying a number from HUGE_NUMBERS where an integer belongs (or anywhere).
_NUMBER_TEMPLATES = [
    '{"schemas":["%s"],"userName":"n@x.com","x":%%s}' % CORE_USER,
    '{"schemas":["%s"],"userName":"n@x.com","active":%%s}' % CORE_USER,
    '{"schemas":["%s"],"displayName":"g","members":[{"value":%%s}]}' % CORE_GROUP,
    '{"schemas":["%s"],"startIndex":%%s}' % SEARCH, '{"schemas":["%s"],"count":%%s}' % SEARCH,
    '{"schemas":["%s"],"Operations":[{"op":"add","value":{"title":%%s}}]}' % PATCH_OP,
    '{"schemas":["%s"],"Operations":[{"op":"replace","path":"active","value":%%s}]}' % PATCH_OP,
    '{"name":"n3w","threshold":%s}', '{"email":"h@x.com","admin":%s}', '{"faults":[{"status":503,"count":%s}]}',
    '{"faults":[{"status":%s}]}', '{"faults":[{"latency_ms":%s}]}', '{"faults":[{"status":429,"fraction":%s}]}', "%s",
]
number_bodies = st.builds(lambda t, n: (t % n).encode(), st.sampled_from(_NUMBER_TEMPLATES), huge_numbers)
odd_bodies = odd_bodies | number_bodies

any_body = st.one_of(user_bodies.map(_dump), group_bodies.map(_dump), patch_bodies.map(_dump),
                     search_bodies.map(_dump), json_values.map(_dump), odd_bodies)


# ------------------------------------------------------------------------------- URL parts
def _encode_oddly(text: str, how: int) -> str:
    if how == 0:
        return quote(text, safe="")
    if how == 1:
        return quote(quote(text, safe=""), safe="")  # double encoding
    return quote(text, safe="/%[]:$@!'()*+,;=")


id_parts = st.one_of(
    st.sampled_from(["{user}", "{group}", "{other-user}", "{deleted}", "nope", "", ".", "..", ".search", "%00", "%ff%fe",
                     "%c0%af", "%2e%2e", "%2F", "%252F", "..%2F..%2F_mock%2Freset", "%0d%0aX-Injected:%201",
                     "a" * 3000, "%uD800", "%", "%zz", "Users", "1;DROP TABLE users", "' OR '1'='1", "*"]),
    st.builds(_encode_oddly, _any_text, st.integers(0, 2)),
)

query_params = st.one_of(
    st.tuples(st.just("filter"), filters), st.tuples(st.just("count"), st.one_of(
        st.integers().map(str), st.sampled_from(["99999999999999999999999", "-1", "1.5", "", "abc", "0x10", " 5"]),
        huge_numbers)),
    st.tuples(st.just("startIndex"), st.one_of(st.integers().map(str), st.sampled_from(["", "NaN", "1e3"]),
                                               huge_numbers)),
    st.tuples(st.sampled_from(["attributes", "excludedAttributes", "sortBy"]),
              st.one_of(attr_paths, st.lists(attr_paths, max_size=4).map(",".join), _weird_text)),
    st.tuples(st.just("sortOrder"), st.one_of(st.sampled_from(["ascending", "DESCENDING", "up"]), _weird_text)),
    st.tuples(st.sampled_from(["org", "limit", "x", "filter[]", ""]), _weird_text),
)


@st.composite
def queries(draw: st.DrawFn) -> str:
    parts = []
    for name, value in draw(st.lists(query_params, max_size=4)):
        how = draw(st.integers(0, 3))
        if how == 3:  # raw: spaces, '+', '%' and all, as a sloppy client sends them
            parts.append(f"{name}={value}")
        else:
            parts.append(f"{quote(name, safe='')}={_encode_oddly(value, how)}")
    if draw(st.booleans()) and parts:
        parts.append(draw(st.sampled_from(["&", "&&", "=", "a=%", "b=%zz", "c=%ff", "%00=1", "d=%0d%0aX-Injected: 1"])))
    return "&".join(parts)


# ------------------------------------------------------------------------------- headers
AUTH = ["scim", "scim", "scim", "scim", "scim", "other", "admin", "none", "wrong", "basic", "inject", "empty"]
CONTENT_TYPES = [b"application/scim+json", b"application/json", b"application/json; charset=utf-8",
                 b"application/scim+json; charset=utf-16", b"text/plain", b"multipart/form-data; boundary=x",
                 b"application/x-www-form-urlencoded", b"", b"application/*", b"\xff\xfe", b"application/json\r\nX-Injected: 1"]


@st.composite
def header_sets(draw: st.DrawFn, tokens: dict[str, str], control: bool) -> list[tuple[bytes, bytes]]:
    auth = draw(st.sampled_from(AUTH))
    mine = tokens["admin"] if control else tokens["scim"]
    token = {"scim": mine, "other": tokens["other"], "admin": tokens["scim"] if control else tokens["admin"],
             "wrong": "wrong-" + mine[::-1], "inject": mine + "\r\nX-Injected: yes", "empty": "", "basic": mine,
             "none": None}[auth]
    headers: list[tuple[bytes, bytes]] = []
    if token is not None:
        scheme = "Basic" if auth == "basic" else draw(st.sampled_from(["Bearer", "Bearer", "bearer", "BEARER"]))
        headers.append((b"Authorization", f"{scheme} {token}".encode("latin-1")))
    if draw(st.integers(0, 3)):
        headers.append((b"Content-Type", draw(st.sampled_from(CONTENT_TYPES))))
    if draw(st.integers(0, 4)) == 0:
        headers.append((b"If-Match", draw(st.sampled_from([b'W/"1"', b"*", b'"x"', b"", b'W/"1", W/"2"', b"\xff"]))))
    if draw(st.integers(0, 4)) == 0:
        headers.append((b"If-None-Match", draw(st.sampled_from([b'W/"1"', b"*", b"\x00"]))))
    if draw(st.integers(0, 4)) == 0:
        name = draw(st.sampled_from([b"X-Forwarded-Host", b"Host", b"X-Custom", b"Accept", b"Accept-Charset",
                                     b"X-HTTP-Method-Override", b"Transfer-Encoding"]))
        value = draw(st.sampled_from([b"evil.example\r\nX-Injected: 1", b"\xff\xfe", b"a" * 8000, b"chunked", b"DELETE",
                                      b"text/html", b"\x00"]))
        headers.append((name, value))
    return headers


# ------------------------------------------------------------------------------- requests
SCIM_PATHS = [
    ("/scim/v2/Users", ["GET", "POST"]), ("/scim/v2/Users/.search", ["POST"]),
    ("/scim/v2/Users/{id}", ["GET", "PUT", "PATCH", "DELETE"]),
    ("/scim/v2/Groups", ["GET", "POST"]), ("/scim/v2/Groups/.search", ["POST"]),
    ("/scim/v2/Groups/{id}", ["GET", "PUT", "PATCH", "DELETE"]),
    ("/scim/v2/ServiceProviderConfig", ["GET"]), ("/scim/v2/ResourceTypes", ["GET"]),
    ("/scim/v2/ResourceTypes/{id}", ["GET"]), ("/scim/v2/Schemas", ["GET"]), ("/scim/v2/Schemas/{id}", ["GET"]),
    ("/scim/v2/Bulk", ["POST"]), ("/scim/v2/Me", ["GET"]), ("/scim/v2/.search", ["POST"]),
    ("/scim/v2/{id}", ["GET", "POST"]), ("/scim/v2", ["GET"]), ("/scim/v2/Users/{id}/{id}", ["GET"]),
]


def paths_from_openapi(doc: dict[str, Any]) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """(SCIM paths, control paths) with their methods, read from the mock's OpenAPI document."""
    scim, control = [], []
    for path, item in doc["paths"].items():
        methods = [m.upper() for m in item if m != "parameters"]
        (control if path.startswith("/_mock") else scim).append((path, methods))
    return scim, control


@st.composite
def fuzz_requests(draw: st.DrawFn, tokens: dict[str, str], scim_paths: list[tuple[str, list[str]]],
                  control_paths: list[tuple[str, list[str]]]) -> FuzzRequest:
    control = draw(st.integers(0, 6)) == 0
    path_t, methods = draw(st.sampled_from(control_paths if control else scim_paths + SCIM_PATHS))
    method = draw(st.sampled_from(methods)) if draw(st.integers(0, 7)) else draw(st.sampled_from(METHODS))
    pieces = re.split(r"\{(\w+)\}", path_t)  # literal, slot, literal, slot, ...
    path = ""
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            path += piece
        elif piece == "org":
            path += draw(st.one_of(st.sampled_from(["acme", "acme", "globex", "nope", "ACME"]), id_parts))
        else:
            path += draw(id_parts)
    query = draw(queries()) if method in ("GET", "get") or draw(st.integers(0, 3)) == 0 else ""
    body = None
    family = "no-body"
    if method not in ("GET", "get", "HEAD", "DELETE") or draw(st.integers(0, 9)) == 0:
        if control:
            body, family = draw(st.one_of(control_bodies.map(_dump), odd_bodies)), "control"
        else:
            kind = draw(st.sampled_from(["user", "group", "patch", "search", "json", "odd"]))
            strat = {"user": user_bodies.map(_dump), "group": group_bodies.map(_dump), "patch": patch_bodies.map(_dump),
                     "search": search_bodies.map(_dump), "json": json_values.map(_dump), "odd": odd_bodies}[kind]
            body, family = draw(strat), kind
    if query and "filter" in query:
        family += "+filter"
    return FuzzRequest(method=method, path=path, query=query, headers=draw(header_sets(tokens, control)),
                       body=body, family=("control:" if control else "scim:") + family)
