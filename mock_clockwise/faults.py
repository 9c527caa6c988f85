"""Fault injection for /scim/v2 requests (set through the control plane).

A fault matches on method, a regex on the path below /scim/v2, and org; it adds latency
and/or forces a status (429 may carry Retry-After), for the next `count` matching
requests and/or a `fraction` of them. The first matching fault applies. Faults are checked
after authentication (a request with a bad token still gets its 401), never on /_mock.
"""
from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidValue

_KEYS = {"method", "path", "org", "status", "retry_after", "latency_ms", "count", "fraction"}
_MAX_LATENCY_MS = 120_000


@dataclass
class Fault:
    method: str | None = None
    path: str | None = None
    org: str | None = None
    status: int | None = None
    retry_after: str | None = None
    latency_ms: int = 0
    count: int | None = None  # remaining applications; None = unlimited
    fraction: float | None = None
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("method", "path", "org", "status", "retry_after", "latency_ms", "count", "fraction"):
            value = getattr(self, key)
            if value is not None and not (key == "latency_ms" and value == 0):
                out[key] = value
        return out

    def matches(self, method: str, path: str, org: str | None) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        if self.org is not None and self.org != org:
            return False
        return self._regex is None or self._regex.search(path) is not None


def parse_fault(spec: Any, index: int) -> Fault:
    """One fault from its JSON form; bad input → InvalidValue naming the fault and field."""
    where = f"faults[{index}]"
    if not isinstance(spec, dict):
        raise InvalidValue(f"{where} must be an object")
    unknown = set(spec) - _KEYS
    if unknown:
        raise InvalidValue(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    fault = Fault()
    if spec.get("method") is not None:
        if not isinstance(spec["method"], str) or not spec["method"].isalpha():
            raise InvalidValue(f"{where}.method must be an HTTP method name")
        fault.method = spec["method"].upper()
    if spec.get("path") is not None:
        if not isinstance(spec["path"], str):
            raise InvalidValue(f"{where}.path must be a regular expression string")
        try:
            fault._regex = re.compile(spec["path"])
        except re.error as exc:
            raise InvalidValue(f"{where}.path is not a valid regular expression: {exc}") from exc
        fault.path = spec["path"]
    if spec.get("org") is not None:
        if not isinstance(spec["org"], str):
            raise InvalidValue(f"{where}.org must be a string")
        fault.org = spec["org"]
    if spec.get("status") is not None:
        status = spec["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise InvalidValue(f"{where}.status must be an integer error status (400-599)")
        fault.status = status
    if spec.get("retry_after") is not None:
        if fault.status != 429:
            raise InvalidValue(f"{where}.retry_after needs status 429")
        fault.retry_after = str(spec["retry_after"])
        if not fault.retry_after.isprintable() or len(fault.retry_after) > 64:
            raise InvalidValue(f"{where}.retry_after must be a short header value")
    latency = spec.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= _MAX_LATENCY_MS:
        raise InvalidValue(f"{where}.latency_ms must be a number from 0 to {_MAX_LATENCY_MS}")
    fault.latency_ms = int(latency)
    if spec.get("count") is not None:
        count = spec["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidValue(f"{where}.count must be a positive integer")
        fault.count = count
    if spec.get("fraction") is not None:
        frac = spec["fraction"]
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 < frac <= 1:
            raise InvalidValue(f"{where}.fraction must be a number in (0, 1]")
        fault.fraction = float(frac)
    if fault.status is None and fault.latency_ms == 0:
        raise InvalidValue(f"{where} does nothing: give a status and/or latency_ms")
    return fault


class Faults:
    """The active faults of one mock (thread-safe)."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def set(self, specs: Any) -> list[dict[str, Any]]:
        if not isinstance(specs, list):
            raise InvalidValue("'faults' must be a list of fault objects")
        parsed = [parse_fault(spec, i) for i, spec in enumerate(specs)]
        with self._lock:
            self._faults = parsed
        return self.list()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def pick(self, method: str, path: str, org: str | None) -> Fault | None:
        """The fault to apply to this request, if any (consumes one of its `count`)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path, org):
                    continue
                if fault.fraction is not None and self._random.random() >= fault.fraction:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None
