"""Discovery documents (RFC 7644 §4; RFC 7643 §5 ServiceProviderConfig, §6 ResourceType, §7 Schema),
generated from schema.py so they tell the truth about this server."""
from __future__ import annotations

from typing import Any

from mock_clockwise.schema import RESOURCE_TYPES, SCHEMAS, Attribute, ResourceType

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
DOCS_URI = "https://datatracker.ietf.org/doc/html/rfc7644"


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def service_provider_config(base_url: str, *, max_results: int, etag: bool = True) -> dict[str, Any]:
    """RFC 7643 §5. Bulk is not supported, so the bulk numbers advertised are 0 (RFC 7643 §5 "bulk");
    the PATCH-size and body limits are not part of §5 outside bulk (they are in /_mock/openapi.json)."""
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": DOCS_URI,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": int(max_results)},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": bool(etag)},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication with a bearer token in the Authorization header "
                               "(RFC 6750), one token per organization directory.",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{_base(base_url)}/ServiceProviderConfig",
        },
    }


def resource_type(base_url: str, rtype: ResourceType) -> dict[str, Any]:
    """RFC 7643 §6 representation of one resource type."""
    doc: dict[str, Any] = {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rtype.name,
        "name": rtype.name,
        "endpoint": rtype.endpoint,
        "description": rtype.description or rtype.name,
        "schema": rtype.schema,
    }
    if rtype.extensions:
        doc["schemaExtensions"] = [{"schema": urn, "required": False} for urn in rtype.extensions]
    doc["meta"] = {"resourceType": "ResourceType", "location": f"{_base(base_url)}/ResourceTypes/{rtype.name}"}
    return doc


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [resource_type(base_url, rtype) for rtype in RESOURCE_TYPES]


def attribute_doc(attr: Attribute) -> dict[str, Any]:
    """RFC 7643 §7 attribute representation (every characteristic spelled out)."""
    doc: dict[str, Any] = {
        "name": attr.name,
        "type": attr.type,
        "multiValued": attr.multi_valued,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability,
        "returned": attr.returned,
        "uniqueness": attr.uniqueness,
    }
    if attr.canonical_values:
        doc["canonicalValues"] = list(attr.canonical_values)
    if attr.type == "reference":
        doc["referenceTypes"] = list(attr.reference_types or ("external",))
    if attr.sub_attributes:
        doc["subAttributes"] = [attribute_doc(sub) for sub in attr.sub_attributes]
    return doc


def schema_doc(base_url: str, urn: str) -> dict[str, Any]:
    """RFC 7643 §7 representation of one schema. The common attributes (id, externalId, meta) are
    not listed: RFC 7643 §3.1 defines them for every resource, outside any schema."""
    schema = SCHEMAS[urn]
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": [attribute_doc(a) for a in schema.attributes],
        "meta": {"resourceType": "Schema", "location": f"{_base(base_url)}/Schemas/{schema.id}"},
    }


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [schema_doc(base_url, urn) for urn in SCHEMAS]
