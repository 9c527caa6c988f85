"""The RFC 7643/7644 JSON Schemas in harness/schemas (instances written from the RFCs' attribute lists)."""
from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator

from harness.schema_validation import SCHEMA_DIR, SCHEMA_NAMES, load_schema, validate

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# A full user, after RFC 7643 §4.1 / §4.3 (every attribute of the core schema and the extension).
FULL_USER = {
    "schemas": [USER_URN, ENTERPRISE],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "701984",
    "userName": "bjensen@example.com",
    "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
             "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
    "displayName": "Babs Jensen", "nickName": "Babs", "profileUrl": "https://login.example.com/bjensen",
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True},
               {"value": "babs@jensen.org", "type": "home"}],
    "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                   "region": "CA", "postalCode": "91608", "country": "USA",
                   "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA", "primary": True}],
    "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
    "userType": "Employee", "title": "Tour Guide", "preferredLanguage": "en-US", "locale": "en-US",
    "timezone": "America/Los_Angeles", "active": True,
    "groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "$ref": "https://example.com/v2/Groups/e9e3",
                "display": "Tour Guides"}],
    "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
    ENTERPRISE: {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
                 "division": "Theme Park", "department": "Tour Operations",
                 "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d",
                             "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}},
    "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z",
             "version": "W/\"3694e05e9dff591\"",
             "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
}
MINIMAL_USER = {"schemas": [USER_URN], "id": "2819c223", "userName": "bjensen"}
GROUP = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "e9e30dba", "displayName": "Tour Guides",
    "members": [{"value": "2819c223", "$ref": "https://example.com/v2/Users/2819c223", "display": "Babs Jensen"}],
    "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z",
             "version": "W/\"3694e05e9dff592\"", "location": "https://example.com/v2/Groups/e9e30dba"},
}
LIST = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2, "startIndex": 1,
        "itemsPerPage": 2, "Resources": [MINIMAL_USER, FULL_USER]}
EMPTY_LIST = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
              "startIndex": 1, "itemsPerPage": 0}
PATCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations": [{"op": "remove", "path": 'members[value eq "2819c223"]'},
                        {"op": "Add", "path": "members", "value": [{"value": "902c246b"}]},
                        {"op": "replace", "value": {"active": False}}]}
ERROR = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "scimType": "uniqueness",
         "detail": "userName is already taken"}
SPC = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "documentationUri": "http://example.com/help/scim.html",
    "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": True, "maxResults": 200}, "changePassword": {"supported": False},
    "sort": {"supported": False}, "etag": {"supported": True},
    "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                               "description": "Authentication scheme using the OAuth Bearer Token Standard",
                               "specUri": "http://www.rfc-editor.org/info/rfc6750", "primary": True}],
    "meta": {"location": "https://example.com/v2/ServiceProviderConfig", "resourceType": "ServiceProviderConfig",
             "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3694e05e\""},
}
RESOURCE_TYPE = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User",
                 "endpoint": "/Users", "description": "User Account", "schema": USER_URN,
                 "schemaExtensions": [{"schema": ENTERPRISE, "required": True}],
                 "meta": {"location": "https://example.com/v2/ResourceTypes/User", "resourceType": "ResourceType"}}
SCHEMA = {"id": "urn:ietf:params:scim:schemas:core:2.0:Group", "name": "Group", "description": "Group",
          "attributes": [
              {"name": "displayName", "type": "string", "multiValued": False, "required": False, "caseExact": False,
               "mutability": "readWrite", "returned": "default", "uniqueness": "none"},
              {"name": "members", "type": "complex", "multiValued": True, "required": False,
               "mutability": "readWrite", "returned": "default",
               "subAttributes": [{"name": "value", "type": "string", "multiValued": False, "required": False,
                                  "caseExact": False, "mutability": "immutable", "returned": "default",
                                  "uniqueness": "none"},
                                 {"name": "$ref", "type": "reference", "referenceTypes": ["User", "Group"],
                                  "multiValued": False, "required": False, "mutability": "immutable",
                                  "returned": "default"}]}],
          "meta": {"resourceType": "Schema", "location": "/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"}}

VALID = [("User", FULL_USER), ("User", MINIMAL_USER), ("Group", GROUP), ("ListResponse", LIST),
         ("ListResponse:User", LIST), ("ListResponse", EMPTY_LIST), ("ListResponse:Group", EMPTY_LIST),
         ("PatchOp", PATCH), ("Error", ERROR), ("ServiceProviderConfig", SPC), ("ResourceType", RESOURCE_TYPE),
         ("Schema", SCHEMA), ("EnterpriseUser", FULL_USER[ENTERPRISE])]


def test_every_schema_file_is_a_valid_draft_2020_12_schema():
    files = sorted(SCHEMA_DIR.glob("*.json"))
    assert len(files) >= 11
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_every_name_loads():
    for name in SCHEMA_NAMES:
        assert isinstance(load_schema(name), dict)
    with pytest.raises(KeyError):
        load_schema("Nope")


@pytest.mark.parametrize("name, instance", VALID, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VALID)])
def test_rfc_examples_are_valid(name, instance):
    assert validate(instance, name) == []


def _broken(base: dict, path: list, value=..., delete: bool = False) -> dict:
    doc = copy.deepcopy(base)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


BROKEN = [
    ("User", _broken(FULL_USER, ["active"], "true"), "$.active: must be boolean"),
    ("User", _broken(FULL_USER, ["emails", 0, "primary"], "yes"), "$.emails[0].primary: must be boolean"),
    ("User", _broken(FULL_USER, ["emails", 0, "value"], 42), "$.emails[0].value: must be string"),
    ("User", _broken(FULL_USER, ["emails"], {"value": "x"}), "$.emails: must be array"),
    ("User", _broken(FULL_USER, ["id"], 17), "$.id: must be string"),
    ("User", _broken(FULL_USER, ["id"], delete=True), "'id' is a required property"),
    ("User", _broken(FULL_USER, ["userName"], delete=True), "'userName' is a required property"),
    ("User", _broken(FULL_USER, ["schemas"], ["urn:x"]), f"$.schemas: must contain '{USER_URN}'"),
    ("User", _broken(FULL_USER, ["schemas"], USER_URN), "$.schemas: must be array"),
    ("User", _broken(FULL_USER, ["name", "givenName"], ["Barbara"]), "$.name.givenName: must be string"),
    ("User", _broken(FULL_USER, ["meta", "created"], "23/01/2010"), "$.meta.created: '23/01/2010' is not a 'date-time'"),
    ("User", _broken(FULL_USER, ["meta", "lastModified"], "2011-13-45T04:42:34Z"), "is not a 'date-time'"),
    ("User", _broken(FULL_USER, [ENTERPRISE, "manager", "value"], 5),
     f"$['{ENTERPRISE}'].manager.value: must be string"),
    ("Group", _broken(GROUP, ["displayName"], delete=True), "'displayName' is a required property"),
    ("Group", _broken(GROUP, ["members", 0, "value"], 1), "$.members[0].value: must be string"),
    ("ListResponse", _broken(LIST, ["totalResults"], "2"), "$.totalResults: must be integer"),
    ("ListResponse", _broken(LIST, ["totalResults"], delete=True), "'totalResults' is a required property"),
    ("ListResponse", _broken(LIST, ["startIndex"], "1"), "$.startIndex: must be integer"),
    ("ListResponse", _broken(LIST, ["itemsPerPage"], 2.5), "$.itemsPerPage: must be integer"),
    ("ListResponse", _broken(LIST, ["Resources"], delete=True), "'Resources' is a required property"),
    ("ListResponse", _broken(LIST, ["Resources"], {}), "$.Resources: must be array"),
    ("ListResponse:User", _broken(LIST, ["Resources", 0, "active"], "True"), "$.Resources[0].active: must be boolean"),
    ("PatchOp", _broken(PATCH, ["Operations", 0, "op"], "delete"), "$.Operations[0].op: \"delete\" does not match"),
    ("PatchOp", _broken(PATCH, ["Operations", 0, "path"], delete=True), "'path' is a required property"),
    ("PatchOp", _broken(PATCH, ["Operations"], []), "$.Operations"),
    ("Error", _broken(ERROR, ["status"], 409), "$.status: must be string"),
    ("Error", _broken(ERROR, ["scimType"], "duplicate"), "$.scimType: \"duplicate\" is not one of"),
    ("Error", _broken(ERROR, ["schemas"], [USER_URN]), "must contain 'urn:ietf:params:scim:api:messages:2.0:Error'"),
    ("ServiceProviderConfig", _broken(SPC, ["patch", "supported"], "true"), "$.patch.supported: must be boolean"),
    ("ServiceProviderConfig", _broken(SPC, ["filter"], delete=True), "'filter' is a required property"),
    ("ServiceProviderConfig", _broken(SPC, ["bulk", "maxOperations"], delete=True),
     "'maxOperations' is a required property"),
    ("ResourceType", _broken(RESOURCE_TYPE, ["endpoint"], delete=True), "'endpoint' is a required property"),
    ("ResourceType", _broken(RESOURCE_TYPE, ["schemaExtensions", 0, "required"], "yes"),
     "$.schemaExtensions[0].required: must be boolean"),
    ("Schema", _broken(SCHEMA, ["attributes", 0, "type"], "text"), "$.attributes[0].type: \"text\" is not one of"),
    ("Schema", _broken(SCHEMA, ["attributes", 1, "subAttributes", 1, "mutability"], "rw"),
     "$.attributes[1].subAttributes[1].mutability"),
]


@pytest.mark.parametrize("name, instance, fragment", BROKEN, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BROKEN)])
def test_broken_instances_fail_with_path(name, instance, fragment):
    errors = validate(instance, name)
    assert errors, f"{name} accepted a broken instance"
    assert any(fragment in e for e in errors), errors


def test_unknown_attributes_are_allowed():
    # RFC 7643 §3: a resource may carry attributes of schemas this harness does not know.
    assert validate({**MINIMAL_USER, "x-custom": {"anything": [1, 2]}}, "User") == []


def test_null_means_unassigned():
    # RFC 7643 §2.5: null is equivalent to unassigned.
    assert validate({**MINIMAL_USER, "nickName": None, "emails": None, "active": None}, "User") == []


def test_resources_may_be_absent_when_total_is_zero():
    assert validate(EMPTY_LIST, "ListResponse") == []
    assert validate({**EMPTY_LIST, "totalResults": 1}, "ListResponse") == ["$: 'Resources' is a required property"]


def test_datetime_formats():
    for good in ("2011-08-01T21:32:44.882Z", "2011-08-01T21:32:44+02:00", "2011-08-01T21:32:44"):
        assert validate({**MINIMAL_USER, "meta": {"created": good}}, "User") == [], good
    for bad in ("2011-08-01", "2011-08-01 21:32:44Z", "yesterday", "2011-02-30T00:00:00Z"):
        assert validate({**MINIMAL_USER, "meta": {"created": bad}}, "User"), bad


def test_inline_schema_can_reference_named_ones():
    inline = {"type": "object", "properties": {"user": {"$ref": "User.json"}}}
    assert validate({"user": MINIMAL_USER}, inline) == []
    assert validate({"user": {"id": "x"}}, inline)
