"""discovery.py: ServiceProviderConfig, ResourceTypes and Schemas (RFC 7643 §5–§7)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from mock_clockwise.discovery import resource_types, schemas, service_provider_config
from mock_clockwise.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, GROUP, USER

BASE = "https://mock.example/scim/v2"
ATTR_KEYS = {"name", "type", "multiValued", "description", "required", "caseExact", "mutability", "returned",
             "uniqueness"}


def walk(attrs: list[dict[str, Any]], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for attr in attrs:
        yield prefix + attr["name"], attr
        yield from walk(attr.get("subAttributes", []), prefix + attr["name"] + ".")


def test_service_provider_config_tells_the_truth() -> None:
    spc = service_provider_config(BASE + "/", max_results=200)
    assert spc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert spc["patch"] == {"supported": True}
    assert spc["bulk"] == {"supported": False, "maxOperations": 0, "maxPayloadSize": 0}
    assert spc["filter"] == {"supported": True, "maxResults": 200}
    assert spc["changePassword"] == {"supported": False}
    assert spc["sort"] == {"supported": True}
    assert spc["etag"] == {"supported": True}
    (scheme,) = spc["authenticationSchemes"]
    assert scheme["type"] == "oauthbearertoken" and scheme["primary"] is True
    assert scheme["name"] and scheme["description"]
    assert spc["meta"] == {"resourceType": "ServiceProviderConfig", "location": f"{BASE}/ServiceProviderConfig"}
    no_etag = service_provider_config(BASE, max_results=1, etag=False)
    assert no_etag["etag"] == {"supported": False}


def test_resource_types() -> None:
    docs = {d["id"]: d for d in resource_types(BASE)}
    assert set(docs) == {"User", "Group"}
    user, group = docs["User"], docs["Group"]
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]
    assert (user["name"], user["endpoint"], user["schema"]) == ("User", "/Users", CORE_USER)
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE_USER, "required": False}]
    assert (group["name"], group["endpoint"], group["schema"]) == ("Group", "/Groups", CORE_GROUP)
    assert "schemaExtensions" not in group
    assert user["meta"] == {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/User"}


def test_resource_types_reference_existing_schemas() -> None:
    ids = {s["id"] for s in schemas(BASE)}
    for rt in resource_types(BASE):
        assert rt["schema"] in ids
        for ext in rt.get("schemaExtensions", []):
            assert ext["schema"] in ids


def test_schemas_documents() -> None:
    docs = {s["id"]: s for s in schemas(BASE)}
    assert set(docs) == {CORE_USER, ENTERPRISE_USER, CORE_GROUP}
    for urn, doc in docs.items():
        assert doc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
        assert doc["name"] and doc["description"]
        assert doc["meta"] == {"resourceType": "Schema", "location": f"{BASE}/Schemas/{urn}"}


@pytest.mark.parametrize("urn", [CORE_USER, ENTERPRISE_USER, CORE_GROUP])
def test_every_attribute_has_rfc7643_section7_keys(urn: str) -> None:
    doc = next(s for s in schemas(BASE) if s["id"] == urn)
    for path, attr in walk(doc["attributes"]):
        assert ATTR_KEYS <= set(attr), path
        assert attr["type"] in {"string", "boolean", "decimal", "integer", "dateTime", "reference", "complex",
                                "binary"}, path
        assert attr["mutability"] in {"readOnly", "readWrite", "immutable", "writeOnly"}, path
        assert attr["returned"] in {"always", "never", "default", "request"}, path
        assert attr["uniqueness"] in {"none", "server", "global"}, path
        assert (attr["type"] == "complex") == ("subAttributes" in attr), path
        if attr["type"] == "reference":
            assert attr["referenceTypes"], path


def test_schema_characteristics_match_rfc() -> None:
    user = {p: a for p, a in walk(next(s for s in schemas(BASE) if s["id"] == CORE_USER)["attributes"])}
    assert user["userName"]["required"] is True and user["userName"]["uniqueness"] == "server"
    assert user["userName"]["caseExact"] is False
    assert user["password"]["returned"] == "never" and user["password"]["mutability"] == "writeOnly"
    assert user["groups"]["mutability"] == "readOnly" and user["groups"]["multiValued"] is True
    assert user["emails.value"]["caseExact"] is False
    assert user["emails"]["multiValued"] is True
    assert user["emails.type"]["canonicalValues"] == ["work", "home", "other"]
    assert user["active"]["type"] == "boolean"
    assert {"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"} == {
        p.split(".")[1] for p in user if p.startswith("name.")}
    for multi in ("emails", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles",
                  "x509Certificates"):
        assert user[multi]["multiValued"] is True and user[multi]["type"] == "complex"
    group = {p: a for p, a in walk(next(s for s in schemas(BASE) if s["id"] == CORE_GROUP)["attributes"])}
    assert group["displayName"]["required"] is True
    assert group["members.value"]["mutability"] == "immutable"
    ent = {p: a for p, a in walk(next(s for s in schemas(BASE) if s["id"] == ENTERPRISE_USER)["attributes"])}
    assert {"employeeNumber", "costCenter", "organization", "division", "department", "manager",
            "manager.value", "manager.$ref", "manager.displayName"} <= set(ent)


def test_schemas_generated_from_definitions() -> None:
    """Every schema attribute resolves through the resource types, so /Schemas and the server agree."""
    for doc in schemas(BASE):
        rtype = GROUP if doc["id"] == CORE_GROUP else USER
        for path, _attr in walk(doc["attributes"]):
            ref = rtype.resolve(f"{doc['id']}:{path}")
            assert ref is not None, path
            assert ref.path == path
