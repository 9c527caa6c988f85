"""The catalogue of rules the checks enforce: what each says, where it comes from, how strong it is.

Strengths follow the source's own words (RFC 2119: MUST/SHALL/REQUIRED → MUST, SHOULD/RECOMMENDED →
SHOULD, MAY/OPTIONAL → MAY). A rule from Okta's or Entra's behaviour is a MUST when the IdP fails the
provisioning task without it.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from harness.results import Strength


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str  # "RFC 7644 §3.3", "Okta: …"
    strength: Strength


_RULES = [
    Rule("transport", "The target answers the HTTP request (no refused connection, reset or timeout).",
         "RFC 7644 §3 (HTTP)", "MUST"),
    Rule("http.status", "The response status is the one the protocol prescribes for this request.",
         "RFC 7644 §3.12", "MUST"),
    Rule("http.status.create", "A successful create answers 201 Created.", "RFC 7644 §3.3", "MUST"),
    Rule("http.status.get", "A successful retrieval answers 200 OK.", "RFC 7644 §3.4.1", "MUST"),
    Rule("http.status.query", "A successful query answers 200 OK with a ListResponse.", "RFC 7644 §3.4.2", "MUST"),
    Rule("http.status.put", "A successful replace answers 200 OK with the resource.", "RFC 7644 §3.5.1", "MUST"),
    Rule("http.status.patch", "A successful PATCH answers 200 OK with the resource, or 204 No Content.",
         "RFC 7644 §3.5.2", "MUST"),
    Rule("http.status.delete", "A successful delete answers 204 No Content.", "RFC 7644 §3.6", "MUST"),
    Rule("http.status.error", "Errors use the HTTP status codes of Table 8.", "RFC 7644 §3.12", "MUST"),
    Rule("http.content-type",
         "SCIM responses are identified with the media type application/scim+json "
         "(servers MUST support Accept: application/scim+json, SHOULD support application/json).",
         "RFC 7644 §3.8, §8.1", "SHOULD"),
    Rule("body.json", "A SCIM response body is JSON encoded in UTF-8.", "RFC 7644 §3.8", "MUST"),
    Rule("body.create",
         "The create response contains the created resource with its id (Okta fails the task on an empty body).",
         "RFC 7644 §3.3; Okta: the 201 body carries id", "MUST"),
    Rule("header.location",
         "A 201 response carries the resource URI in the Location header and in meta.location.",
         "RFC 7644 §3.3", "MUST"),
    Rule("etag.consistent", "The ETag header equals meta.version when both are returned.",
         "RFC 7643 §3.1; RFC 7644 §3.14", "MUST"),
    Rule("etag.both", "A service provider that versions resources returns the version both as ETag and meta.version.",
         "RFC 7644 §3.14", "SHOULD"),
    Rule("error.status-string", "An Error's status is the HTTP status code expressed as a JSON string.",
         "RFC 7644 §3.12", "MUST"),
    Rule("error.scim-type", "An Error's scimType, when present, is one of the keywords of Table 9.",
         "RFC 7644 §3.12", "MUST"),
    Rule("error.detail", "An Error carries a human-readable detail; Okta shows it to the admin as the failure reason.",
         "Okta: OIN SPEC test (error detail)", "SHOULD"),
    Rule("user.password-never-returned", "The password attribute is never returned (returned: never).",
         "RFC 7643 §4.1.1, §7", "MUST"),
    Rule("expect", "The value the scenario expects.", "Scenario expectation", "MUST"),
]
for _name, _source in [("User", "RFC 7643 §4.1"), ("EnterpriseUser", "RFC 7643 §4.3"), ("Group", "RFC 7643 §4.2"),
                       ("ListResponse", "RFC 7644 §3.4.2"), ("ListResponse:User", "RFC 7644 §3.4.2; RFC 7643 §4.1"),
                       ("ListResponse:Group", "RFC 7644 §3.4.2; RFC 7643 §4.2"), ("PatchOp", "RFC 7644 §3.5.2"),
                       ("Error", "RFC 7644 §3.12"), ("ServiceProviderConfig", "RFC 7643 §5"),
                       ("ResourceType", "RFC 7643 §6"), ("Schema", "RFC 7643 §7")]:
    _RULES.append(Rule(f"schema.{_name}", f"The body is a valid {_name} representation.", _source, "MUST"))

RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _RULES})
del _RULES, _name, _source


def rule(rule_id: str) -> Rule:
    """The rule with this id (a generic schema rule for unknown schema ids)."""
    found = RULES.get(rule_id)
    if found is not None:
        return found
    if rule_id.startswith("schema."):
        return Rule(rule_id, f"The body is valid against {rule_id[7:]}.", "Scenario schema", "MUST")
    raise KeyError(rule_id)
