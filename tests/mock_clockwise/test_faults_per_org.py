"""PUT/DELETE /_mock/faults?org=X touch only org X's faults (the harness's scenarios run side by side)."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_clockwise.errors import InvalidValue
from mock_clockwise.faults import Faults, SharedFaults


@pytest.mark.parametrize("kind", ["memory", "shared"])
def test_an_orgs_faults_are_replaced_and_cleared_alone(kind: str, tmp_path: Path) -> None:
    faults = Faults() if kind == "memory" else SharedFaults(str(tmp_path / "db.sqlite"), str(tmp_path))
    faults.set([{"latency_ms": 50}, {"status": 503, "org": "a"}, {"status": 500, "org": "b", "count": 2}])
    faults.set([{"status": 429, "org": "a"}], "a")
    assert sorted((str(f.get("org")), f.get("status", 0)) for f in faults.list()) == [("None", 0), ("a", 429), ("b", 500)]
    assert [f.get("count") for f in faults.list() if f.get("org") == "b"] == [2]
    faults.clear("a")
    assert sorted(str(f.get("org")) for f in faults.list()) == ["None", "b"]
    with pytest.raises(InvalidValue, match="org"):
        faults.set([{"status": 503}], "b")  # a fault for every org cannot come in under ?org=b
    assert len(faults.list()) == 2  # nothing changed
    faults.clear()
    assert faults.list() == []


def test_the_routes_take_org(admin_client: httpx.Client, scim_client: httpx.Client) -> None:
    admin_client.put("/faults", json={"faults": [{"status": 503, "org": "globex"}]})
    r = admin_client.put("/faults", params={"org": "acme"}, json={"faults": [{"status": 503, "org": "acme"}]})
    assert r.status_code == 200 and len(r.json()["faults"]) == 2
    assert scim_client.get("/Users").status_code == 503
    assert admin_client.delete("/faults", params={"org": "acme"}).status_code == 204
    assert scim_client.get("/Users").status_code == 200
    assert [f["org"] for f in admin_client.get("/faults").json()["faults"]] == ["globex"]


@pytest.mark.parametrize("kind", ["memory", "shared"])
def test_an_orgs_fault_comes_before_a_fault_of_every_org(kind: str, tmp_path: Path) -> None:
    faults = Faults() if kind == "memory" else SharedFaults(str(tmp_path / "db.sqlite"), str(tmp_path))
    faults.set([{"latency_ms": 50}])
    faults.set([{"status": 429, "org": "a", "count": 1}], "a")
    assert faults.pick("POST", "/Users", "a").status == 429
    assert faults.pick("POST", "/Users", "a").latency_ms == 50  # its count spent: the target-wide fault again
    assert faults.pick("POST", "/Users", "b").latency_ms == 50
