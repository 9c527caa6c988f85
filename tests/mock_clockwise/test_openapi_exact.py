"""/_mock/openapi.json says exactly what the mock accepts (issue 17 item 15): request bodies generated
from the document's own schemas (a small seeded generator; every instance checked against the
document with jsonschema first) are never refused with a 400, and OPTIONS answers each route's
own Allow."""
from __future__ import annotations

import random
import re
import string
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
EXAMPLES = 60
# Letters a hostile or international directory sends: accents (NFC and NFD), ß, fullwidth, CJK, an
# astral emoji, spaces, and characters the document must rule out (controls, zero-width space).
_ALPHABET = (string.ascii_letters + string.digits + " @._-" + "éßÅ日本ｗｉｄｅ😀\u0301ΣσςıİＡ"
             + "\x00\t\n\u200b\ufeff\u00a0\u3000")


class Generator:
    """Instances of a JSON Schema (the subset the document uses), seeded; `skip` names properties
    whose validity the schema cannot state (a group's members must be users of the org)."""

    def __init__(self, doc: dict[str, Any], seed: int, skip: frozenset[str] = frozenset()) -> None:
        self.doc, self.rng, self.skip = doc, random.Random(seed), skip

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def value(self, schema: dict[str, Any], depth: int = 0) -> Any:
        schema = self.resolve(schema)
        rng = self.rng
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return rng.choice(schema["enum"])
        kind = schema.get("type")
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            items = [self.value(schema.get("items", {}), depth + 1)
                     for _ in range(rng.randint(schema.get("minItems", 0), schema.get("minItems", 0) + 3))]
            if "contains" in schema and rng.random() < 0.9:
                items.insert(rng.randint(0, len(items)), self.value(schema["contains"], depth + 1))
            return items
        if kind == "string":
            return self.string(schema)
        if kind == "integer":
            low, high = schema.get("minimum", -2 ** 70), schema.get("maximum", 2 ** 70)
            return rng.choice([low, high, 0, 1, -1, rng.randint(low, high)])
        if kind == "number":
            return rng.choice([0.5, -1e300, 1e300, 3.0])
        if kind == "boolean":
            return rng.random() < 0.5
        return rng.choice([None, True, 1, "x", [], {}]) if depth < 4 else None

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        required = set(schema.get("required", ()))
        for name, sub in schema.get("properties", {}).items():
            if name in self.skip:
                continue
            if name in required or (depth < 4 and self.rng.random() < 0.4):
                out[name] = self.value(sub, depth + 1)
        if schema.get("additionalProperties") is not False and self.rng.random() < 0.3:
            out["x" + str(self.rng.randint(0, 9))] = "extra"
        return out

    def string(self, schema: dict[str, Any]) -> str:
        pattern = schema.get("pattern")
        for _ in range(20):
            text = "".join(self.rng.choice(_ALPHABET) for _ in range(self.rng.randint(schema.get("minLength", 0), 12)))
            if schema.get("format") == "date-time":
                text = "2026-01-02T03:04:05Z"
            if pattern is None or re.search(pattern, text):
                return text
        return "fallback"


def _validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def _bodies(doc: dict[str, Any], name: str, seed: int, skip: frozenset[str] = frozenset()) -> list[Any]:
    """EXAMPLES document-valid bodies of the named schema."""
    gen, check = Generator(doc, seed, skip), _validator(doc, name)
    out: list[Any] = []
    tries = 0
    while len(out) < EXAMPLES and tries < EXAMPLES * 20:
        tries += 1
        body = gen.value({"$ref": f"#/components/schemas/{name}"})
        if check.is_valid(body):
            out.append(body)
    assert len(out) == EXAMPLES, f"the generator found too few valid {name} bodies"
    return out


@pytest.fixture
def doc(admin_client: httpx.Client) -> dict[str, Any]:
    return admin_client.get("/openapi.json").json()  # type: ignore[no-any-return]


def _accepted(r: httpx.Response, body: Any) -> None:
    # 409 (uniqueness) and 403 (admin rule) are about state, not shape; 400 would be the document lying.
    assert r.status_code != 400 and r.status_code < 500, (r.status_code, r.text, body)


def test_document_valid_users_are_accepted(doc: dict[str, Any], scim_client: httpx.Client) -> None:
    uid = scim_client.post("/Users", json={"schemas": [CORE_USER], "userName": "seed@x.com"}).json()["id"]
    for i, body in enumerate(_bodies(doc, "User", seed=17)):
        _accepted(scim_client.post("/Users", json=body), body)
        if i % 2:
            _accepted(scim_client.put(f"/Users/{uid}", json=body), body)


def test_document_valid_groups_are_accepted(doc: dict[str, Any], scim_client: httpx.Client) -> None:
    gid = scim_client.post("/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                            "displayName": "seed"}).json()["id"]
    # members: the document says each value must be a user of the org; that is state, not shape.
    for body in _bodies(doc, "Group", seed=18, skip=frozenset({"members"})):
        _accepted(scim_client.post("/Groups", json=body), body)
        _accepted(scim_client.put(f"/Groups/{gid}", json=body), body)


def test_document_valid_search_requests_are_accepted(doc: dict[str, Any], scim_client: httpx.Client) -> None:
    # filter: its grammar (RFC 7644 §3.4.2.2) is beyond JSON Schema; the document says so.
    for body in _bodies(doc, "SearchRequest", seed=19, skip=frozenset({"filter"})):
        for path in ("/Users/.search", "/Groups/.search"):
            _accepted(scim_client.post(path, json=body), body)


def test_document_says_what_it_refuses(doc: dict[str, Any]) -> None:
    user, group, search = (_validator(doc, n) for n in ("User", "Group", "SearchRequest"))
    assert not user.is_valid({"schemas": ["urn:x"], "userName": "a"})
    assert not user.is_valid({"schemas": [CORE_USER], "userName": "a\x00b"})
    assert not user.is_valid({"schemas": [CORE_USER], "userName": "a\u200bb"})
    assert not user.is_valid({"schemas": [CORE_USER], "userName": "   "})
    assert not user.is_valid({"schemas": [CORE_USER], "userName": "a", "emails": [
        {"value": "a@x", "primary": True}, {"value": "b@x", "primary": True}]})
    assert user.is_valid({"schemas": [CORE_USER], "userName": "José Müller 😀"})
    assert not group.is_valid({"schemas": [], "displayName": "g"})
    assert not search.is_valid({"schemas": []}) and not search.is_valid({"schemas": 5})
    assert search.is_valid({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})


@pytest.mark.parametrize("path,allow", [
    ("/Users/.search", {"POST", "OPTIONS"}), ("/Groups/.search", {"POST", "OPTIONS"}),
    ("/Users/abc", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
    ("/Users", {"GET", "HEAD", "POST", "OPTIONS"}),
])
def test_options_answers_the_routes_own_allow(scim_client: httpx.Client, path: str, allow: set[str]) -> None:
    r = scim_client.options(path)
    assert r.status_code == 200
    assert {m.strip() for m in r.headers["Allow"].split(",")} == allow
