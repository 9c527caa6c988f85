"""The rfc suite against answers of the wrong shape (issue 7 §4): HTML error pages, empty bodies, JSON
of the wrong type, resources whose attributes have the wrong types. Whatever comes back, every area
ends with failed or skipped checks and reasons — never "internal error in the rfc suite".

The target is the correct mock wrapped in a WSGI middleware that corrupts answers, deterministically
from a seed, so a failure here is reproducible by its seed.
"""
from __future__ import annotations

import json
import random
from typing import Any, Callable, Iterable

import httpx
import pytest

from harness.conformance import CATALOGUE, run_rfc
from harness.results import ScenarioResult
from tests.harness.broken_scim_app import TOKEN, make_app

HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
WHOLE = ("html", "empty", "list", "string", "number", "null", "truncated")
KINDS = (*WHOLE, "mangle")


def _mangle(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """`value` with some members replaced by a value of another JSON type (ids kept more often)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            keep = 0.9 if k in ("id", "schemas") and depth == 0 else 0.6
            out[k] = _mangle(v, rng, depth + 1) if rng.random() < keep else _wrong(v, rng)
        return out
    if isinstance(value, list):
        return [_mangle(v, rng, depth + 1) if rng.random() < 0.7 else _wrong(v, rng) for v in value]
    return value


def _wrong(value: Any, rng: random.Random) -> Any:
    choices: list[Any] = ["x", 7, True, None, [], {}, [1, "a"], {"value": 3}]
    return rng.choice([c for c in choices if type(c) is not type(value)])


class Corrupting:
    """WSGI middleware: answers pass through, or (with probability `rate`) are replaced by `kinds`."""

    def __init__(self, inner: Callable[..., Iterable[bytes]], seed: int, rate: float,
                 kinds: tuple[str, ...] = KINDS, spare_discovery: bool = True) -> None:
        self.inner, self.rng, self.rate, self.kinds = inner, random.Random(seed), rate, kinds
        self.spare_discovery = spare_discovery

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.inner(environ, capture))
        status, headers = captured["status"], captured["headers"]
        path = environ.get("PATH_INFO", "")
        discovery = any(p in path for p in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas"))
        if (self.spare_discovery and discovery and environ["REQUEST_METHOD"] == "GET") or self.rng.random() >= self.rate:
            start_response(status, headers)
            return [body]
        kind = self.rng.choice(self.kinds)
        ctype = "application/scim+json"
        if kind == "html":
            status, body, ctype = "502 Bad Gateway", HTML, "text/html"
        elif kind == "empty":
            body = b""
        elif kind == "truncated":
            body = body[: len(body) // 2]
        elif kind == "mangle":
            try:
                body = json.dumps(_mangle(json.loads(body), self.rng)).encode()
            except ValueError:
                pass
        else:
            body = json.dumps({"list": [], "string": "oops", "number": 42, "null": None}[kind]).encode()
        start_response(status, [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
                       + [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]


def _run(app: Any) -> list[ScenarioResult]:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver/scim/v2",
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        return run_rfc(client)


def _internal_errors(areas: list[ScenarioResult]) -> list[str]:
    return [f"{sc.name}: {st.error}" for sc in areas for st in sc.steps if st.error and "internal error" in st.error]


@pytest.mark.parametrize("kind", WHOLE)
def test_every_answer_of_one_wrong_shape(kind: str) -> None:
    # Discovery is answered correctly, so every area runs and meets only broken answers.
    areas = _run(Corrupting(make_app(), seed=1, rate=1.0, kinds=(kind,)))
    assert not _internal_errors(areas)
    assert [sc.name for sc in areas][-1] == "rfc: safety"
    failed = [c for sc in areas for st in sc.steps for c in st.checks if c.status == "fail"]
    assert failed and all(c.rule for c in failed)


@pytest.mark.parametrize("seed", range(12))
def test_some_answers_corrupted_at_random(seed: int) -> None:
    areas = _run(Corrupting(make_app(), seed=seed, rate=0.25))
    assert not _internal_errors(areas), f"seed {seed}"


@pytest.mark.parametrize("seed", range(6))
def test_every_resource_mangled(seed: int) -> None:
    areas = _run(Corrupting(make_app(), seed=100 + seed, rate=1.0, kinds=("mangle",)))
    assert not _internal_errors(areas), f"seed {seed}"


def test_a_failed_prerequisite_skips_the_dependent_checks_with_its_reason() -> None:
    # Every answer but discovery is an HTML 502: the users area cannot create its user, so the checks
    # that need it are skipped, each saying why, instead of crashing on the missing id.
    areas = _run(Corrupting(make_app(), seed=1, rate=1.0, kinds=("html",)))
    users = next(sc for sc in areas if sc.name == "rfc: users")
    results = {c.check_id.split("[", 1)[0]: c for st in users.steps for c in st.checks}
    assert results["rfc.users.create.201"].status == "fail"
    skipped = [c for c in results.values() if c.status == "skip"]
    assert {"rfc.users.get.200", "rfc.users.put.200", "rfc.users.delete.204"} <= {c.check_id for c in skipped}
    assert all("no user id in the 502 answer" in c.message for c in skipped if c.check_id == "rfc.users.get.200")
    # Every catalogued check of the area is accounted for: run, failed or skipped.
    assert {cid for cid, d in CATALOGUE.items() if d.area == "users"} <= set(results)


@pytest.mark.parametrize("seed", range(8))
def test_discovery_answers_corrupted_too(seed: int) -> None:
    # /ServiceProviderConfig, /ResourceTypes and /Schemas of the wrong shape feed every later area.
    areas = _run(Corrupting(make_app(), seed=200 + seed, rate=0.5, kinds=("mangle", "list", "html"),
                            spare_discovery=False))
    assert not _internal_errors(areas), f"seed {seed}"
