"""The rules every check belongs to: one registry of id, text, source, strength and the identity
providers whose provisioning breaks when the rule fails (DESIGN.md, "Verdicts").

Three kinds of rule, one shape:
- the per-exchange rules of `harness.checks` (transport, status, media type, JSON Schemas, Errors…),
  judged on every SCIM response a scenario or the rfc suite sees;
- the rules of the `rfc` conformance suite (`rfc.<area>.<check>`, harness.conformance), whose
  ids are the check ids the suite records;
- the rules of a scenario's own steps (`harness.scenario_run`): an IdP task that must succeed, the
  values a step expects, the Clockwise control plane's answers.

Strengths follow the source's own words (RFC 2119: MUST/SHALL/REQUIRED → MUST, SHOULD/RECOMMENDED →
SHOULD, MAY/OPTIONAL → MAY). A rule from Okta's or Entra's behaviour is a MUST when the IdP fails the
provisioning task without it. Sources were checked against the RFC text: RFC 7643 (schema) and
RFC 7644 (protocol); IdP behaviour is that of ../shared/reference/idp-wire.md.

`idps` is the set of IdPs (okta = Okta OIN and AIW, entra = Microsoft Entra ID, onelogin, pingfederate; the
last two only through what idp-wire.md "Other IdPs" documents, IDP_NEEDS) whose provisioning breaks
when the rule fails, and `why` says, in one line drawn from idp-wire.md, what they cannot do then (or why
none breaks). The verdicts (harness.reports.verdict) count a failure against an IdP only through these sets:
an rfc suite rule breaks the IdPs it names; in a scenario run in an IdP's dialect, a per-exchange or
expectation rule breaks that IdP when it is in the rule's set, and a driver task rule breaks the dialect's
IdP. Clockwise business rules break no IdP (they have their own verdict line).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

from harness.results import Strength

BOTH = frozenset({"okta", "entra"})
OKTA = frozenset({"okta"})
ENTRA = frozenset({"entra"})
ONELOGIN = frozenset({"onelogin"})
PINGFEDERATE = frozenset({"pingfederate"})
ALL_IDPS = BOTH | ONELOGIN | PINGFEDERATE  # a rule every IdP needs (the server answers, the id comes back)
NONE: frozenset[str] = frozenset()
# The IdP each driver dialect imitates (mock_okta.DIALECTS).
DIALECT_IDP: Mapping[str, str] = MappingProxyType({
    "okta": "okta", "okta-aiw": "okta", "okta-patch": "okta", "entra": "entra", "entra-2020": "entra",
    "onelogin": "onelogin", "pingfederate": "pingfederate"})
IDP_NAMES: Mapping[str, str] = MappingProxyType(
    {"okta": "Okta", "entra": "Entra", "onelogin": "OneLogin", "pingfederate": "PingFederate"})
SUITE_PREFIX = "rfc."


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str  # "RFC 7644 §3.3", "Okta: …": what a check result names as its rule
    strength: Strength
    idps: frozenset[str]  # the IdPs whose provisioning breaks when the rule fails
    # False for an rfc check that by design never fails: the RFC allows every behaviour it can observe
    # (a MAY), so the check only reports which one the server chose — "pass", or "skip" with why.
    can_fail: bool = True
    # One line: what the IdPs in `idps` cannot do when the rule fails, read after "<IdP> cannot …" (with its
    # source in idp-wire.md), or, when `idps` is empty, why no IdP's provisioning depends on it.
    why: str = ""
    # When set, the IdPs need the rule only for checks of these subjects (`rfc.x.y[subject]`).
    subjects: tuple[str, ...] = ()

    @property
    def area(self) -> str | None:
        """The rfc suite area an `rfc.<area>.<check>` rule is catalogued in (None for other rules)."""
        return self.id.split(".")[1] if self.id.startswith(SUITE_PREFIX) else None


_R: list[Rule] = []

BULK_WHY = "Okta never sends Bulk (idp-wire.md: Errors and rate limits) and Entra documents no Bulk request"
RFC_ONLY = "RFC only: no documented Okta or Entra request or read depends on it (idp-wire.md)"
# Why each rule breaks the IdPs it names (a verb phrase read after "<IdP> cannot"), or why it breaks none;
# a rule not listed here breaks none for the reason RFC_ONLY (tests/harness/test_rules.py holds this).
WHY: dict[str, str] = {
    # per-exchange rules, as judged in a scenario run in an IdP's dialect
    "transport": "reach the server: a request with no answer fails the task (Okta gives up after 60 s; idp-wire.md)",
    "http.status": "RFC status codes: a refused IdP request is judged by <idp>.request-accepted, and an IdP accepts any 2xx",
    "http.content-type": "both IdPs parse the JSON body whatever its media type (idp-wire.md lists no media-type failure)",
    "body.json": "a body an IdP cannot parse fails its task (judged by <idp>.task); on an error the task fails anyway",
    "body.create": "create resources: the 201 body must carry the id (Okta: an empty body is a failed task; idp-wire.md: Assign 2)",
    "header.location": "neither IdP reads Location: both keep the id from the 201 body (idp-wire.md: Assign 3)",
    "etag.consistent": "neither IdP sends If-Match or If-None-Match, nor reads ETag or meta.version (idp-wire.md)",
    "etag.both": "neither IdP sends If-Match or If-None-Match, nor reads ETag or meta.version (idp-wire.md)",
    "error.status-string": "the IdPs act on the HTTP status, not the Error's status member (the OIN SPEC test's is judged by its scenario)",
    "error.scim-type": "no IdP documents acting on an Error's scimType",
    "error.detail": "tell the admin why a task failed: Okta shows the detail as the reason, Entra logs it (idp-wire.md: Errors)",
    "user.password-never-returned": "a security rule: neither IdP reads a password back, its provisioning does not break",
    "schema": "an unknown body shape breaks an IdP only through its task or a scenario expectation",
    "checks.internal": "be judged: the harness could not judge the response (a harness bug, counted until fixed)",
    "expect": "complete the flow the scenario replays (its expectation is the IdP's; idp-wire.md)",
    # a scenario's own steps
    "step.expect": "complete the flow the scenario replays (its expectation is the IdP's; idp-wire.md)",
    "step.response-time": "get answers in time: the OIN SPEC test wants GET /Groups within 600 ms (idp-wire.md: SPEC test 10)",
    "control.expect": "the Clockwise control plane is the mock's, not an IdP's (Clockwise has its own verdict line)",
    "okta.task": "complete the provisioning task: Okta fails it on any unexpected response (idp-wire.md: Errors)",
    "okta.task-detail": "tell the admin why the task failed: Okta shows the provider's detail (idp-wire.md: Errors)",
    "okta.request-accepted": "complete the action: a refused request fails Okta's task (idp-wire.md: Errors)",
    "entra.task": "complete the provisioning operation: Entra retries it, then quarantines (idp-wire.md: Entra corrections)",
    "entra.task-detail": "tell the admin why the operation failed: Entra logs the provider's detail (idp-wire.md)",
    "entra.request-accepted": "complete the action: a refused request fails Entra's operation (idp-wire.md: Entra corrections)",
    "onelogin.task": "complete the provisioning operation: a refused request fails it (idp-wire.md: Other IdPs, OneLogin)",
    "onelogin.task-detail": "idp-wire.md does not say how OneLogin shows a provider's error detail",
    "onelogin.request-accepted": "complete the action: a refused request fails OneLogin's operation (idp-wire.md: Other IdPs)",
    "pingfederate.task": "complete the provisioning operation: a refused request fails it (idp-wire.md: Other IdPs, PingFederate)",
    "pingfederate.task-detail": "idp-wire.md does not say how PingFederate shows a provider's error detail",
    "pingfederate.request-accepted": "complete the action: a refused request fails PingFederate's operation (idp-wire.md: Other IdPs)",
    # the rfc conformance suite
    "rfc.filters.external-id": 'Entra filters users with externalId eq when externalId is the matching attribute (idp-wire.md: Microsoft Entra ID, Filters)',
    "rfc.discovery.spc.get": 'no IdP reads it: Okta never calls /ServiceProviderConfig (idp-wire.md: Errors and rate limits), Entra documents no use',
    "rfc.discovery.spc.bearer-advertised": 'Okta never reads /ServiceProviderConfig (idp-wire.md); the admin picks the auth mode',
    "rfc.discovery.rt.users": 'neither IdP reads /ResourceTypes in provisioning (Okta only for the optional schema import; idp-wire.md)',
    "rfc.discovery.rt.groups": 'neither IdP reads /ResourceTypes in provisioning (idp-wire.md)',
    "rfc.discovery.advertised.filter": 'the IdPs filter without reading filter.supported; what they send is judged by rfc.filters.eq/no-match',
    "rfc.discovery.advertised.patch": 'the IdPs PATCH without reading patch.supported; each PATCH they send is judged by its rfc.patch rule',
    "rfc.schema.core-user": 'no documented IdP behaviour depends on the /Schemas declaration of userName',
    "rfc.schema.core-group": 'no documented IdP behaviour depends on the /Schemas declaration of Group',
    "rfc.schema.resource-conforms": 'the IdPs read only the attributes they map (id, userName, active, members); no documented breakage',
    "rfc.schema.extension-container": 'Entra writes extension attributes but documents no read-back of their container',
    "rfc.schema.returned-never": 'a security rule: neither IdP reads the password back, its provisioning does not break',
    "rfc.users.create.201": 'create users: both POST /Users and keep the returned id (idp-wire.md: Assign, Entra Create User)',
    "rfc.users.create.returns-attributes": 'Okta keeps only the id of the 201 body (idp-wire.md: Assign 3)',
    "rfc.users.create.unique-ids": 'tell users apart: every later /Users/{id} call uses the returned id (idp-wire.md: Assign 3)',
    "rfc.users.create.conflict-409": 'recognise a duplicate user: a duplicate must get 409 (idp-wire.md: Assign 2, OIN SPEC test 8)',
    "rfc.users.create.conflict-case-insensitive": 'avoid duplicate users whose logins differ only in case (idp-wire.md: OIN SPEC test 9)',
    "rfc.users.get.200": 'read users back: Okta GETs before every PUT, Entra reads the user (idp-wire.md: Profile update)',
    "rfc.users.get.unknown-404": 'pass the OIN SPEC test: an unknown id answers 404 (idp-wire.md: SPEC tests 4 and 12)',
    "rfc.users.put.200": 'update profiles: Okta (and AIW for everything) sends PUT /Users/{id} (idp-wire.md: Profile update)',
    "rfc.users.put.replaces": "update profiles: the values of Okta's PUT must be stored (idp-wire.md: Profile update)",
    "rfc.users.delete.204": 'hard-delete users: Entra sends DELETE /Users/{id} and expects 204 (idp-wire.md: Entra)',
    "rfc.users.delete.then-404": 'no IdP documents reading a deleted user back',
    "rfc.users.delete.omitted-from-queries": 'no IdP documents querying for a deleted user',
    "rfc.groups.create.201": 'push groups: both POST /Groups and keep the returned id (idp-wire.md: Group Push, Entra)',
    "rfc.groups.create.conflict-409": 'both look a group up by displayName before creating it (idp-wire.md); no IdP relies on the 409',
    "rfc.groups.get.200": 'read groups: Okta GET /Groups/{id}, Entra GET /Groups/{id}?excludedAttributes=members (idp-wire.md)',
    "rfc.groups.get.unknown-404": 'no IdP documents reading an unknown group',
    "rfc.groups.members.value": 'manage members: member values are SCIM user ids (idp-wire.md: Group Push, Entra Members)',
    "rfc.groups.put.200": 'push groups from AIW apps, which PUT /Groups/{id} (idp-wire.md: Group Push)',
    "rfc.groups.delete.204": 'delete groups on unlink: DELETE /Groups/{id} → 204 (idp-wire.md: Group Push)',
    "rfc.groups.delete.keeps-users": 'unlink a group without losing its users (idp-wire.md: Group Push, unlink)',
    "rfc.filters.eq": 'find users and groups: both look up with eq before creating (idp-wire.md: Assign 1, Entra filters)',
    "rfc.filters.and": "match users: Entra's filters use eq and and (idp-wire.md: Entra filters)",
    "rfc.filters.extension": 'Entra filters only userName, externalId and emails[type eq "work"].value (idp-wire.md)',
    "rfc.filters.attribute-name-case": 'both IdPs send attribute names in their schema case (idp-wire.md)',
    "rfc.filters.value-case": 'find users by userName in another case (idp-wire.md: OIN SPEC test 9)',
    "rfc.filters.no-match": 'tell a missing user from an error: Entra needs 200 with an empty ListResponse, a 404 quarantines (Okta accepts 404; idp-wire.md: Entra corrections)',
    "rfc.filters.with-paging": 'import in pages: Okta pages with count=100 until totalResults (idp-wire.md: Import)',
    "rfc.filters.groups-display-name": 'find groups by name: both filter displayName eq before creating (idp-wire.md: Group Push, Entra corrections)',
    "rfc.filters.groups-member": 'no documented IdP request filters members[value eq …]',
    "rfc.paging.count": 'import users and test the connection: Okta sends count=2 and count=100 (idp-wire.md: Test connection, Import)',
    "rfc.paging.total": 'import users: Okta pages until totalResults (idp-wire.md: Import)',
    "rfc.paging.start-index": 'import users: Okta pages with startIndex += 100 (idp-wire.md: Import)',
    "rfc.paging.walk": 'import users: order must be stable across pages (idp-wire.md: Import)',
    "rfc.paging.past-end": 'Okta stops paging at totalResults (idp-wire.md: Import), it never asks past the end',
    "rfc.paging.integers": 'import users: totalResults, startIndex and itemsPerPage must be integers (idp-wire.md: Import)',
    "rfc.paging.groups": 'import groups: the same paging on /Groups (idp-wire.md: Import)',
    "rfc.patch.status": 'apply the PATCH it sent (a check of rfc.patch.status[<op>] breaks the IdPs of rfc.patch.<op>)',
    "rfc.patch.replace-simple": 'update attributes: one Replace per path (idp-wire.md: Entra attribute updates)',
    "rfc.patch.add-simple": 'set attributes that were empty: Entra sends Add (idp-wire.md: Entra corrections)',
    "rfc.patch.remove-simple": 'no documented IdP request removes a simple attribute by path',
    "rfc.patch.replace-sub-attribute": 'update names: Entra replaces name.givenName (idp-wire.md: Entra attribute updates)',
    "rfc.patch.replace-no-path": "deactivate users: Okta's path-less replace {active:false} (idp-wire.md: Deactivate)",
    "rfc.patch.replace-value-path": 'update emails: Entra replaces emails[type eq "work"].value (idp-wire.md: Entra attribute updates)',
    "rfc.patch.extension-path": 'update enterprise attributes: Entra replaces <enterprise URN>:employeeNumber (idp-wire.md: Entra)',
    "rfc.patch.extension-no-path": "no documented IdP sends a value object keyed by the extension URN (Entra's flag uses dotted keys)",
    "rfc.patch.atomic": 'each IdP PATCH it sends is judged on its own; no IdP documents relying on atomicity',
    "rfc.patch.op-case": 'apply its PATCHes: Entra capitalises op names (idp-wire.md: Entra)',
    "rfc.patch.group-add-member": 'add group members: both add members with PATCH (idp-wire.md: Group Push, Entra Members)',
    "rfc.patch.group-remove-member": 'remove group members: Okta removes members[value eq …] (idp-wire.md: Group Push)',
    "rfc.patch.group-remove-member-value": 'remove group members: Entra removes path members with a value list (idp-wire.md: Entra Members)',
    "rfc.patch.group-rename": 'rename groups: both rename with PATCH replace (idp-wire.md: Group Push rename)',
    "rfc.errors.invalid-json-400": 'both IdPs send valid JSON',
    "rfc.errors.conflict-scim-type": 'Okta needs the 409 (rfc.users.create.conflict-409); no IdP documents reading its scimType',
    "rfc.errors.error-body": "an IdP fails the task on the status; the body only words the admin's message (see error.detail)",
    "rfc.auth.missing-401": 'a security rule: neither IdP sends a request without credentials, its provisioning does not break',
    "rfc.auth.wrong-401": 'a security rule: neither IdP sends a wrong bearer token, its provisioning does not break',
    "rfc.auth.basic-401": 'pass the OIN SPEC test: a non-token Authorization answers 401 (idp-wire.md: SPEC test 11)',
    "rfc.users.create.entra-roles": ("Entra sends roles only when the admin maps app roles; its default Create User sends roles: [] "
                                     "(idp-wire.md: Microsoft Entra ID), so no default provisioning breaks"),
    "rfc.patch.extension-urn-path": "no documented IdP PATCH names the whole extension URN as its path (Entra names <URN>:<attribute>)",
    "rfc.discovery.advertised.bulk": BULK_WHY,
    "rfc.bulk.operations": BULK_WHY, "rfc.bulk.bulk-id": BULK_WHY, "rfc.bulk.fail-on-errors": BULK_WHY,
    "rfc.bulk.max-operations": BULK_WHY, "rfc.bulk.max-payload": BULK_WHY,
    "rfc.auth.no-side-effect": 'a security rule: neither IdP sends a request without credentials',
}
for _rid in ("http.status.create", "http.status.get", "http.status.query", "http.status.put", "http.status.patch",
             "http.status.delete", "http.status.error"):
    WHY[_rid] = WHY["http.status"]
for _name in ("User", "EnterpriseUser", "Group", "ListResponse", "ListResponse:User", "ListResponse:Group", "PatchOp",
              "Error", "ServiceProviderConfig", "ResourceType", "Schema"):
    WHY[f"schema.{_name}"] = WHY["schema"]
# The IdPs need a rule only for these subjects: Okta's lookups are by userName (idp-wire.md: Assign 1).
SUBJECTS: dict[str, tuple[str, ...]] = {"rfc.filters.value-case": ("userName",)}
# A check of this rule needs what the rule its subject names needs: rfc.patch.status[add-simple] → rfc.patch.add-simple.
SUBJECT_NAMES_RULE = {"rfc.patch.status": "rfc.patch."}

# --- per-exchange rules (harness.checks) ---------------------------------------------------------
_R += [
    Rule("transport", "The target answers the HTTP request (no refused connection, reset or timeout).",
         "RFC 7644 §3 (HTTP)", "MUST", ALL_IDPS),
    Rule("http.status", "The response status is the one the protocol prescribes for this request.",
         "RFC 7644 §3.12", "MUST", NONE),
    Rule("http.status.create", "A successful create answers 201 Created.", "RFC 7644 §3.3", "MUST", NONE),
    Rule("http.status.get", "A successful retrieval answers 200 OK.", "RFC 7644 §3.4.1", "MUST", NONE),
    Rule("http.status.query", "A successful query answers 200 OK with a ListResponse.", "RFC 7644 §3.4.2", "MUST", NONE),
    Rule("http.status.put", "A successful replace answers 200 OK with the resource.", "RFC 7644 §3.5.1", "MUST", NONE),
    Rule("http.status.patch", "A successful PATCH answers 200 OK with the resource, or 204 No Content.",
         "RFC 7644 §3.5.2", "MUST", NONE),
    Rule("http.status.delete", "A successful delete answers 204 No Content.", "RFC 7644 §3.6", "MUST", NONE),
    Rule("http.status.error", "Errors use the HTTP status codes of Table 8.", "RFC 7644 §3.12", "MUST", NONE),
    Rule("http.content-type",
         "SCIM responses are identified with the media type application/scim+json "
         "(servers MUST support Accept: application/scim+json, SHOULD support application/json).",
         "RFC 7644 §3.8, §8.1", "SHOULD", NONE),
    Rule("body.json", "A SCIM response body is JSON encoded in UTF-8.", "RFC 7644 §3.8", "MUST", NONE),
    Rule("body.create",
         "The create response contains the created resource with its id (Okta fails the task on an empty body).",
         "RFC 7644 §3.3; Okta: the 201 body carries id", "MUST", ALL_IDPS),
    Rule("header.location",
         "A 201 response carries the resource URI in the Location header and in meta.location.",
         "RFC 7644 §3.3", "MUST", NONE),
    Rule("etag.consistent", "The ETag header equals meta.version when both are returned.",
         "RFC 7643 §3.1; RFC 7644 §3.14", "MUST", NONE),
    Rule("etag.both", "A service provider that versions resources returns the version both as ETag and meta.version.",
         "RFC 7644 §3.14", "SHOULD", NONE),
    Rule("error.status-string", "An Error's status is the HTTP status code expressed as a JSON string.",
         "RFC 7644 §3.12", "MUST", NONE),
    Rule("error.scim-type", "An Error's scimType, when present, is one of the keywords of Table 9.",
         "RFC 7644 §3.12", "MUST", NONE),
    Rule("error.detail", "An Error carries a human-readable detail; Okta shows it to the admin as the failure reason.",
         "Okta: OIN SPEC test (error detail)", "SHOULD", BOTH),
    Rule("user.password-never-returned", "The password attribute is never returned (returned: never).",
         "RFC 7643 §4.1.1, §7", "MUST", NONE),
    Rule("schema", "The body follows one of the SCIM schemas the harness knows.", "RFC 7643 §3", "MUST", NONE),
    Rule("checks.internal", "The harness could judge the response (a failure here is a harness bug).", "harness",
         "MUST", ALL_IDPS),
    Rule("expect", "The value the scenario expects.", "Scenario expectation", "MUST", ALL_IDPS),
]
for _name, _source in [("User", "RFC 7643 §4.1"), ("EnterpriseUser", "RFC 7643 §4.3"), ("Group", "RFC 7643 §4.2"),
                       ("ListResponse", "RFC 7644 §3.4.2"), ("ListResponse:User", "RFC 7644 §3.4.2; RFC 7643 §4.1"),
                       ("ListResponse:Group", "RFC 7644 §3.4.2; RFC 7643 §4.2"), ("PatchOp", "RFC 7644 §3.5.2"),
                       ("Error", "RFC 7644 §3.12"), ("ServiceProviderConfig", "RFC 7643 §5"),
                       ("ResourceType", "RFC 7643 §6"), ("Schema", "RFC 7643 §7")]:
    _R.append(Rule(f"schema.{_name}", f"The body is a valid {_name} representation.", _source, "MUST", NONE))

# --- a scenario's own steps (harness.scenario_run) -----------------------------------------------
_R += [
    Rule("step.expect", "The step gets what the scenario expects of it (its result, its requests, a response).",
         "scenario expectation", "MUST", ALL_IDPS),
    Rule("step.response-time", "A response arrives within the time the scenario allows.",
         "Okta OIN SPEC test (response time)", "SHOULD", BOTH),
    Rule("control.expect", "The Clockwise control plane answers as the scenario expects.",
         "Clockwise control plane (scenario expectation)", "MUST", NONE),
    Rule("okta.task", "Okta fails a provisioning task on any unexpected response.",
         "Okta: a provisioning task fails on any unexpected response (idp-wire.md, Errors)", "MUST", OKTA),
    Rule("okta.task-detail", "Okta shows the provider's error detail as the task's failure reason.",
         "Okta shows the provider's error detail as the task's failure reason", "MUST", OKTA),
    Rule("okta.request-accepted", "The target accepts the request an Okta action sends (a 4xx/5xx fails the action).",
         "Okta needs {action} to succeed", "MUST", OKTA),
    Rule("entra.task", "Entra retries a failing operation in later sync cycles, then quarantines the job.",
         "Microsoft Entra ID: a provisioning operation fails on any unexpected response (retried in later cycles, then quarantined)",
         "MUST", ENTRA),
    Rule("entra.task-detail", "Entra shows the provider's error detail in the provisioning logs.",
         "Microsoft Entra ID shows the provider's error detail in the provisioning logs", "MUST", ENTRA),
    Rule("entra.request-accepted", "The target accepts the request an Entra action sends (a 4xx/5xx fails the action).",
         "Microsoft Entra ID needs {action} to succeed", "MUST", ENTRA),
    Rule("onelogin.task", "OneLogin fails a provisioning operation on any unexpected response.",
         "OneLogin: a provisioning operation fails on any unexpected response (idp-wire.md, Other IdPs)", "MUST", ONELOGIN),
    # idp-wire.md does not say how OneLogin or PingFederate show a provider's detail: no IdP needs it there.
    Rule("onelogin.task-detail", "OneLogin shows the provider's error detail (not documented).",
         "OneLogin shows the provider's error detail (not in idp-wire.md)", "SHOULD", NONE),
    Rule("onelogin.request-accepted", "The target accepts the request a OneLogin action sends (a 4xx/5xx fails the action).",
         "OneLogin needs {action} to succeed", "MUST", ONELOGIN),
    Rule("pingfederate.task", "PingFederate fails a provisioning operation on any unexpected response.",
         "PingFederate: a provisioning operation fails on any unexpected response (idp-wire.md, Other IdPs)", "MUST",
         PINGFEDERATE),
    Rule("pingfederate.task-detail", "PingFederate shows the provider's error detail (not documented).",
         "PingFederate shows the provider's error detail (not in idp-wire.md)", "SHOULD", NONE),
    Rule("pingfederate.request-accepted",
         "The target accepts the request a PingFederate action sends (a 4xx/5xx fails the action).",
         "PingFederate needs {action} to succeed", "MUST", PINGFEDERATE),
]


# --- the rfc conformance suite (harness.conformance): rfc.<area>.<check> ---------------------------
INFORMATIONAL = {"rfc.users.put.omitted"}  # rules that report, never fail (see Rule.can_fail)


def _add(area: str, rows: list[tuple[str, str, str, frozenset[str], str]]) -> None:
    for cid, source, strength, idps, text in rows:
        full = f"{SUITE_PREFIX}{area}.{cid}"
        _R.append(Rule(full, text, source, strength, idps, can_fail=full not in INFORMATIONAL))  # type: ignore[arg-type]


_add("discovery", [
    ("spc.get", "RFC 7644 §4", "MUST", NONE, "GET /ServiceProviderConfig answers 200 with the configuration."),
    ("spc.features", "RFC 7643 §5", "MUST", NONE, "patch, bulk, filter, changePassword, sort and etag each carry a boolean 'supported'."),
    ("spc.bulk-limits", "RFC 7643 §5", "MUST", NONE, "bulk carries integer maxOperations and maxPayloadSize."),
    ("spc.filter-max-results", "RFC 7643 §5", "MUST", NONE, "filter carries an integer maxResults."),
    ("spc.auth-schemes", "RFC 7643 §5", "MUST", NONE, "authenticationSchemes is a non-empty list, each with type, name and description."),
    ("spc.bearer-advertised", "RFC 7643 §5; RFC 6750", "SHOULD", NONE, "A server accepting a bearer token advertises the oauthbearertoken scheme."),
    ("rt.list", "RFC 7644 §4", "MUST", NONE, "GET /ResourceTypes answers 200 with a ListResponse of ResourceTypes."),
    ("rt.users", "RFC 7643 §6; Okta/Entra provision /Users", "MUST", NONE, "A User resource type is served at /Users with the core User schema."),
    ("rt.groups", "RFC 7643 §6; Okta/Entra push groups to /Groups", "SHOULD", NONE, "A Group resource type is served at /Groups with the core Group schema."),
    ("rt.schemas-served", "RFC 7643 §6", "MUST", NONE, "Each resource type's schema and schemaExtensions are served by /Schemas."),
    ("rt.by-id", "RFC 7644 §4", "SHOULD", NONE, "GET /ResourceTypes/{name} returns that resource type."),
    ("rt.unknown-404", "RFC 7644 §3.12", "MUST", NONE, "GET /ResourceTypes/<unknown> answers 404."),
    ("schemas.list", "RFC 7644 §4", "MUST", NONE, "GET /Schemas answers 200 with a ListResponse of Schemas."),
    ("schemas.by-id", "RFC 7644 §4", "SHOULD", NONE, "GET /Schemas/{urn} returns that schema."),
    ("schemas.unknown-404", "RFC 7644 §3.12", "MUST", NONE, "GET /Schemas/<unknown urn> answers 404."),
    ("write-refused", "RFC 7644 §4 (discovery endpoints are read-only, GET only)", "MUST", NONE,
     "A POST/PUT/PATCH/DELETE on a discovery endpoint is refused with a 4xx (405 Method Not Allowed or 501 expected)."),
    ("advertised.filter", "RFC 7643 §5 (filter.supported)", "MUST", NONE, "A server advertising filter.supported filters."),
    ("advertised.patch", "RFC 7643 §5 (patch.supported)", "MUST", NONE, "A server advertising patch.supported accepts PATCH."),
    ("advertised.sort", "RFC 7643 §5 (sort.supported)", "MUST", NONE, "A server advertising sort.supported sorts."),
    ("advertised.etag", "RFC 7643 §5; RFC 7644 §3.14", "MUST", NONE, "A server advertising etag.supported returns ETag headers."),
    ("advertised.bulk", "RFC 7643 §5 (bulk.supported); RFC 7644 §3.7", "MUST", NONE, "A server advertising bulk.supported answers POST /Bulk with 200 and a BulkResponse."),
])

_add("schema", [
    ("attribute-definition", "RFC 7643 §7", "MUST", NONE,
     "An attribute definition has a name, a valid type, boolean multiValued/required/caseExact, and valid mutability, returned and uniqueness."),
    ("core-user", "RFC 7643 §4.1", "MUST", NONE, "The User schema declares userName, required, with uniqueness server or global."),
    ("core-group", "RFC 7643 §4.2", "SHOULD", NONE, "The Group schema declares displayName and members."),
    ("resource-conforms", "RFC 7643 §2, §7", "MUST", NONE,
     "A returned resource follows the server's own /Schemas: types, multiValued, sub-attributes."),
    ("no-undeclared-attributes", "RFC 7643 §3, §7", "MUST", NONE,
     "A resource carries only attributes its schemas declare (plus the common id, externalId, meta)."),
    ("schemas-declared", "RFC 7643 §3", "MUST", NONE,
     "A resource's 'schemas' lists only its resource type's schema and schema extensions."),
    ("extension-container", "RFC 7643 §3.3", "MUST", NONE, "Extension attributes sit under the extension's URN, listed in 'schemas'."),
    ("returned-never", "RFC 7643 §7 (returned: never)", "MUST", NONE, "An attribute declared returned: never is never returned."),
    ("returned-always", "RFC 7643 §7 (returned: always)", "MUST", NONE, "id and attributes declared returned: always come back even when not requested."),
    ("readonly-ignored", "RFC 7643 §3.1; RFC 7644 §3.5.1 (readOnly values SHALL be ignored)", "MUST", NONE,
     "Client-supplied id and meta are not taken."),
    ("required-enforced", "RFC 7643 §7 (required); RFC 7644 §3.12 (invalidValue)", "MUST", NONE,
     "A create without a required attribute (userName) is refused with 400."),
    ("meta-resource-type", "RFC 7643 §3.1", "MUST", NONE, "meta.resourceType names the resource's type."),
])

_add("users", [
    ("create.201", "RFC 7644 §3.3", "MUST", BOTH, "POST /Users answers 201 with the created resource."),
    ("create.returns-attributes", "RFC 7644 §3.3 (the response body SHOULD contain the created resource)", "SHOULD", NONE,
     "The 201 body holds the attributes sent (userName, name, emails, active)."),
    ("create.stores-declared", "RFC 7643 §7 (/Schemas lists the attributes the service provider supports)", "SHOULD", NONE,
     "An optional attribute the User schema declares readWrite (title, nickName, displayName) is stored when sent."),
    ("create.meta", "RFC 7643 §3.1", "MUST", NONE, "meta.created, meta.lastModified (dateTimes) and meta.location are set."),
    ("create.entra-roles", "Microsoft Entra ID: app roles are mapped to roles[primary eq \"True\"].value, so roles carry "
     "primary \"True\", a string (inferred from the documented mapping; not in idp-wire.md)", "SHOULD", NONE,
     "A user whose roles carry primary \"True\" (a string, as Entra's app role provisioning sends it) is accepted and stored."),
    ("create.unique-ids", "RFC 7643 §3.1", "MUST", BOTH, "Two resources get two different ids."),
    ("create.conflict-409", "RFC 7644 §3.3", "MUST", BOTH, "A duplicate userName answers 409 with scimType uniqueness."),
    ("create.conflict-case-insensitive", "RFC 7643 §4.1.1 (userName caseExact false, uniqueness server)", "SHOULD", OKTA,
     "userName uniqueness ignores case: the same name in upper case also answers 409."),
    ("get.200", "RFC 7644 §3.4.1", "MUST", BOTH, "GET /Users/{id} answers 200 with the resource as stored."),
    ("get.location", "RFC 7643 §3.1 (meta.location)", "MUST", NONE, "GET on meta.location returns the same resource."),
    ("get.unknown-404", "RFC 7644 §3.4.1, §3.12", "MUST", OKTA, "GET /Users/<unknown id> answers 404."),
    ("put.200", "RFC 7644 §3.5.1", "MUST", OKTA, "PUT /Users/{id} answers 200 with the replaced resource."),
    ("put.replaces", "RFC 7644 §3.5.1", "MUST", OKTA, "Values sent in a PUT replace the stored ones."),
    ("put.omitted", "RFC 7644 §3.5.1 (omitted readWrite attributes MAY be cleared)", "MAY", NONE,
     "Informational: whether an attribute omitted from a PUT is cleared (pass) or kept (skip, which the RFC also allows)."),
    ("put.readonly-ignored", "RFC 7644 §3.5.1 (readOnly: values SHALL be ignored)", "MUST", NONE, "A PUT cannot change id."),
    ("put.projection-keeps-unlisted", "RFC 7644 §3.9 (attributes shape the response, not the update)", "MUST", NONE,
     "PUT /Users/{id}?attributes=userName stores the whole body sent, not only the attributes listed."),
    ("put.unknown-404", "RFC 7644 §3.5.1, §3.12", "MUST", NONE, "PUT /Users/<unknown id> answers 404."),
    ("meta.last-modified", "RFC 7643 §3.1", "MUST", NONE, "meta.lastModified moves forward (never back) on a change; meta.created stays."),
    ("meta.last-modified-changes", "RFC 7643 §3.1 (lastModified: the most recent update)", "MUST", NONE,
     "A successful PUT moves meta.lastModified forward (not merely never back)."),
    ("delete.204", "RFC 7644 §3.6", "MUST", ENTRA, "DELETE /Users/{id} answers 204."),
    ("delete.then-404", "RFC 7644 §3.6", "MUST", NONE, "A deleted user answers 404 afterwards."),
    ("delete.omitted-from-queries", "RFC 7644 §3.6", "MUST", NONE, "A deleted user no longer matches a filter."),
    ("delete.unknown-404", "RFC 7644 §3.6, §3.12", "MUST", NONE, "DELETE /Users/<unknown id> answers 404."),
])

_add("groups", [
    ("create.201", "RFC 7644 §3.3", "MUST", BOTH, "POST /Groups answers 201 with the group and its members."),
    ("create.conflict-409", "RFC 7644 §3.3; RFC 7643 §4.2", "SHOULD", NONE, "A duplicate displayName answers 409 uniqueness (when displayName is declared unique)."),
    ("create.meta", "RFC 7643 §3.1 (meta.created, meta.lastModified)", "MUST", NONE,
     "A created group carries meta.created and meta.lastModified dateTimes."),
    ("meta.last-modified-changes", "RFC 7643 §3.1 (lastModified: the most recent update)", "MUST", NONE,
     "A successful PUT of a group moves its meta.lastModified forward."),
    ("get.200", "RFC 7644 §3.4.1", "MUST", BOTH, "GET /Groups/{id} returns the group with its members."),
    ("get.unknown-404", "RFC 7644 §3.4.1, §3.12", "MUST", NONE, "GET /Groups/<unknown id> answers 404."),
    ("members.value", "RFC 7643 §4.2", "MUST", BOTH, "members[].value holds the member's id."),
    ("members.malformed-id", "RFC 7644 §3.12 (client errors are 4xx); RFC 7643 §4.2", "MUST", NONE,
     "A malformed member id (one that references nothing) is answered with a 4xx or accepted, never a 5xx."),
    ("user.groups", "RFC 7643 §4.1.2 (groups, readOnly)", "SHOULD", NONE, "A member's User.groups lists the group (when User declares groups)."),
    ("put.200", "RFC 7644 §3.5.1", "MUST", OKTA, "PUT /Groups/{id} replaces the name and members."),
    ("delete.204", "RFC 7644 §3.6", "MUST", OKTA, "DELETE /Groups/{id} answers 204, then 404."),
    ("delete.keeps-users", "RFC 7644 §3.6", "MUST", OKTA, "Deleting a group does not delete its member users."),
])

_add("filters", [
    ("eq", "RFC 7644 §3.4.2.2 (eq)", "MUST", BOTH, "eq matches equal values."),
    ("ne", "RFC 7644 §3.4.2.2 (ne)", "MUST", NONE, "ne matches the other values."),
    ("co", "RFC 7644 §3.4.2.2 (co)", "MUST", NONE, "co matches substrings."),
    ("sw", "RFC 7644 §3.4.2.2 (sw)", "MUST", NONE, "sw matches prefixes."),
    ("ew", "RFC 7644 §3.4.2.2 (ew)", "MUST", NONE, "ew matches suffixes."),
    ("pr", "RFC 7644 §3.4.2.2 (pr)", "MUST", NONE, "pr matches resources having a value."),
    ("gt", "RFC 7644 §3.4.2.2 (gt, lexicographic for strings)", "MUST", NONE, "gt compares strings lexicographically."),
    ("ge", "RFC 7644 §3.4.2.2 (ge)", "MUST", NONE, "ge includes equal values."),
    ("lt", "RFC 7644 §3.4.2.2 (lt)", "MUST", NONE, "lt compares strings lexicographically."),
    ("le", "RFC 7644 §3.4.2.2 (le)", "MUST", NONE, "le includes equal values."),
    ("and", "RFC 7644 §3.4.2.2 (and)", "MUST", ENTRA, "and requires both."),
    ("or", "RFC 7644 §3.4.2.2 (or)", "MUST", NONE, "or accepts either."),
    ("not", "RFC 7644 §3.4.2.2 (not)", "MUST", NONE, "not inverts."),
    ("precedence", "RFC 7644 §3.4.2.2 (and binds tighter than or)", "MUST", NONE, "a or b and c means a or (b and c)."),
    ("grouping", "RFC 7644 §3.4.2.2 (parentheses)", "MUST", NONE, "Parentheses group."),
    ("sub-attribute", "RFC 7644 §3.4.2.2; RFC 7643 §2.1", "MUST", NONE, "name.givenName eq … filters on a sub-attribute."),
    ("value-path", "RFC 7644 §3.4.2.2 (valuePath)", "MUST", NONE, "emails[type eq \"work\" and value co …] filters multi-valued attributes."),
    ("multi-valued", "RFC 7644 §3.4.2.2", "MUST", NONE, "emails.value eq … matches any of the values."),
    ("urn-qualified", "RFC 7644 §3.10 (fully qualified attribute names)", "MUST", NONE, "The URN-qualified attribute name filters like the short one."),
    ("extension", "RFC 7644 §3.10; RFC 7643 §4.3", "MUST", NONE, "A filter on an extension attribute by its URN path."),
    ("boolean", "RFC 7644 §3.4.2.2 (boolean eq)", "MUST", NONE, "active eq true filters booleans."),
    ("datetime", "RFC 7644 §3.4.2.2 (dateTime compared chronologically)", "MUST", NONE, "meta.lastModified gt … compares dates."),
    ("attribute-name-case", "RFC 7644 §3.4.2.2 (attribute names and operators are case-insensitive)", "MUST", NONE,
     "USERNAME EQ … works like userName eq …."),
    ("value-case", "RFC 7644 §3.4.2.2; RFC 7643 §2.2 (caseExact false)", "MUST", OKTA,
     "A caseExact=false attribute (userName) matches regardless of case."),
    ("no-match", "RFC 7644 §3.4.2", "MUST", ENTRA, "A filter matching nothing answers 200 with totalResults 0."),
    ("invalid-400", "RFC 7644 §3.4.2.2, §3.12 (invalidFilter)", "MUST", NONE, "A malformed filter answers 400."),
    ("invalid-scim-type", "RFC 7644 §3.12 Table 9 (invalidFilter)", "SHOULD", NONE, "A malformed filter's Error carries scimType invalidFilter."),
    ("with-paging", "RFC 7644 §3.4.2.4", "MUST", OKTA, "totalResults counts every match while the page holds count of them."),
    ("external-id", "RFC 7644 §3.4.2.2; RFC 7643 §3.1 (externalId); Entra matches users with externalId eq", "MUST", ENTRA,
     "externalId eq \"<value>\" finds the user created with that externalId."),
    ("clause-not-dropped", "RFC 7644 §3.4.2.2 (and: both expressions are true; invalidFilter when not supported)", "MUST", NONE,
     "A clause the server cannot evaluate is refused (400), never dropped: userName eq X and externalId eq \"nope\" does not return X."),
    ("post-search-paging", "RFC 7644 §3.4.3 (startIndex and count in the SearchRequest body)", "MUST", NONE,
     "POST /.search applies startIndex and count from its body (when .search is offered)."),
    ("post-search", "RFC 7644 §3.4.3 (POST /.search, MAY)", "MAY", NONE,
     "POST /Users/.search filters like GET; skipped when not offered, failed when offered but wrong."),
    ("groups-display-name", "RFC 7644 §3.4.2.2; Okta looks groups up by displayName", "MUST", BOTH, "displayName eq … finds the group."),
    ("sparse-resources", "RFC 7644 §3.4.2.2; RFC 7643 §4.1, §4.2 (optional attributes may be absent)", "MUST", NONE,
     "Sub-attribute, value-path and members filters work while a user with only userName and a group without members exist."),
    ("groups-member", "RFC 7644 §3.4.2.2; Entra checks membership with members[value eq …]", "SHOULD", NONE,
     "members[value eq \"<id>\"] finds the groups holding that member."),
])

_add("paging", [
    ("count", "RFC 7644 §3.4.2.4 (count)", "MUST", OKTA, "count=N returns at most N resources; itemsPerPage equals the number returned."),
    ("total", "RFC 7644 §3.4.2 (totalResults)", "MUST", OKTA, "totalResults is the number of matches, not the page size."),
    ("start-index", "RFC 7644 §3.4.2.4 (startIndex, 1-based)", "MUST", OKTA, "startIndex is 1-based and echoed in the response."),
    ("walk", "RFC 7644 §3.4.2.4", "SHOULD", OKTA, "Paging through with count=1 returns each match once."),
    ("start-zero", "RFC 7644 §3.4.2.4 (startIndex < 1 SHALL be interpreted as 1)", "MUST", NONE, "startIndex=0 is taken as 1."),
    ("start-negative", "RFC 7644 §3.4.2.4 (startIndex < 1 SHALL be interpreted as 1)", "MUST", NONE, "startIndex=-5 is taken as 1."),
    ("count-zero", "RFC 7644 §3.4.2.4 (count 0: only totalResults)", "MUST", NONE, "count=0 returns no resources, with totalResults."),
    ("count-negative", "RFC 7644 §3.4.2.4 (negative count SHALL be interpreted as 0)", "MUST", NONE, "count=-1 is taken as 0."),
    ("past-end", "RFC 7644 §3.4.2.4", "MUST", NONE, "startIndex past the last match answers 200 with no resources."),
    ("integers", "RFC 7644 §3.4.2 (totalResults, startIndex, itemsPerPage are integers)", "MUST", OKTA,
     "totalResults, startIndex and itemsPerPage are JSON integers."),
    ("groups", "RFC 7644 §3.4.2.4", "MUST", OKTA, "Groups page with startIndex/count too."),
    ("max-results", "RFC 7643 §5 (filter.maxResults: the maximum number of resources returned in a response)", "MUST", NONE,
     "A list asked for more than the advertised filter.maxResults (count above it, or no count) returns at most maxResults."),
    ("items-per-page", "RFC 7644 §3.4.2 (itemsPerPage: the number of resources returned)", "MUST", NONE,
     "On every list itemsPerPage, when present, equals the number of resources returned (not the count asked for)."),
])

_add("sort", [
    ("ascending", "RFC 7644 §3.4.2.3", "MUST", NONE, "sortBy=userName&sortOrder=ascending sorts ascending."),
    ("descending", "RFC 7644 §3.4.2.3", "MUST", NONE, "sortOrder=descending sorts descending."),
    ("default-order", "RFC 7644 §3.4.2.3 (sortOrder defaults to ascending)", "MUST", NONE, "sortBy alone sorts ascending."),
    ("sub-attribute", "RFC 7644 §3.4.2.3", "MUST", NONE, "sortBy=name.givenName sorts on a sub-attribute."),
    ("paged", "RFC 7644 §3.4.2.3, §3.4.2.4", "MUST", NONE, "Sorting applies before paging."),
])

_add("projection", [
    ("attributes-get", "RFC 7644 §3.4.2.5 (attributes)", "MUST", NONE, "GET /Users/{id}?attributes=userName returns userName, id, schemas, not name."),
    ("attributes-list", "RFC 7644 §3.4.2.5", "MUST", NONE, "attributes applies to every resource of a list."),
    ("attributes-filter", "RFC 7644 §3.4.2.5", "MUST", NONE, "attributes combines with a filter."),
    ("excluded-get", "RFC 7644 §3.4.2.5 (excludedAttributes)", "MUST", NONE, "excludedAttributes=name drops name and keeps the rest."),
    ("excluded-list", "RFC 7644 §3.4.2.5", "MUST", NONE, "excludedAttributes applies to every resource of a list."),
    ("sub-attribute", "RFC 7644 §3.4.2.5; RFC 7643 §2.1", "MUST", NONE, "attributes=name.givenName returns only that sub-attribute of name."),
    ("always-returned", "RFC 7643 §7 (returned: always)", "MUST", NONE, "excludedAttributes=id still returns id."),
    ("name-case", "RFC 7643 §2.1 (attribute names are case-insensitive)", "MUST", NONE, "attributes=USERNAME works like attributes=userName."),
    ("urn-qualified", "RFC 7644 §3.10", "MUST", NONE, "attributes=<core URN>:userName works like attributes=userName."),
    ("schemas", "RFC 7643 §3 (schemas is REQUIRED on every resource); RFC 7644 §3.4.2 (a ListResponse's schemas)", "MUST", NONE,
     "Under attributes/excludedAttributes a User, a Group and a list response (and each resource in it) still carry schemas."),
])

_add("patch", [
    ("status", "RFC 7644 §3.5.2 (200 with the resource, or 204)", "MUST", ENTRA, "A successful PATCH answers 200 with the resource, or 204."),
    ("replace-simple", "RFC 7644 §3.5.2.3", "MUST", ENTRA, "replace with a path sets a simple attribute."),
    ("add-simple", "RFC 7644 §3.5.2.1", "MUST", ENTRA, "add with a path sets an absent attribute."),
    ("remove-simple", "RFC 7644 §3.5.2.2", "MUST", NONE, "remove with a path clears an attribute."),
    ("replace-sub-attribute", "RFC 7644 §3.5.2.3", "MUST", ENTRA, "replace name.givenName changes only that sub-attribute."),
    ("replace-complex", "RFC 7644 §3.5.2.3", "MUST", NONE, "replace name with an object sets its sub-attributes."),
    ("add-no-path", "RFC 7644 §3.5.2.1 (no path: value holds attributes)", "MUST", NONE, "add without path merges the value's attributes."),
    ("replace-no-path", "RFC 7644 §3.5.2.3; Okta deactivates with a path-less replace of active", "MUST", OKTA,
     "replace without path (value {active: false}) applies."),
    ("add-multi-valued", "RFC 7644 §3.5.2.1 (add to a multi-valued attribute appends)", "MUST", NONE, "add emails appends a value."),
    ("replace-value-path", "RFC 7644 §3.5.2.3 (valuePath)", "MUST", ENTRA, "replace emails[type eq \"work\"].value changes the matching value."),
    ("remove-value-path", "RFC 7644 §3.5.2.2 (valuePath)", "MUST", NONE, "remove emails[type eq \"home\"] removes only the matching value."),
    ("value-path-no-match", "RFC 7644 §3.5.2.3 (no match: 400 noTarget)", "MUST", NONE, "replace on emails[type eq \"<none>\"] (a valuePath matching nothing) answers 400 noTarget."),
    ("remove-no-path", "RFC 7644 §3.5.2.2 (no path: 400 noTarget)", "MUST", NONE, "remove without path answers 400 noTarget."),
    ("extension-path", "RFC 7644 §3.5.2; RFC 7643 §3.3", "MUST", ENTRA, "replace <extension URN>:department sets the extension attribute."),
    ("extension-no-path", "RFC 7644 §3.5.2.1; RFC 7643 §3.3", "MUST", NONE, "add with value {<extension URN>: {…}} sets the extension attribute."),
    ("extension-urn-path", "RFC 7644 §3.5.2 (path: an attribute, here the extension's container); RFC 7643 §3.3", "SHOULD", NONE,
     "replace with path <enterprise URN> and value {department: …} sets the extension attribute."),
    ("last-modified-changes", "RFC 7643 §3.1 (lastModified: the most recent update)", "MUST", NONE,
     "A successful PATCH of a user and of a group moves its meta.lastModified forward."),
    ("atomic", "RFC 7644 §3.5.2 (a failing operation leaves the resource unmodified)", "MUST", NONE,
     "When one operation fails the whole PATCH fails and nothing changes."),
    ("invalid-op", "RFC 7644 §3.5.2, §3.12 (invalidSyntax)", "MUST", NONE, "An unknown op answers 400."),
    ("invalid-path", "RFC 7644 §3.5.2, §3.12 (invalidPath)", "MUST", NONE, "A malformed path answers 400."),
    ("mutability", "RFC 7644 §3.5.2, §3.12 (mutability)", "MUST", NONE, "Replacing a readOnly attribute (id) answers 400."),
    ("op-case", "Entra sends \"Add\"/\"Replace\"/\"Remove\" capitalised (Microsoft Entra SCIM docs)", "SHOULD", ENTRA,
     "Capitalised op names are accepted."),
    ("unknown-404", "RFC 7644 §3.5.2, §3.12", "MUST", NONE, "PATCH /Users/<unknown id> answers 404."),
    ("group-add-member", "RFC 7644 §3.5.2.1; Okta and Entra add members with PATCH", "MUST", BOTH, "add members appends the member."),
    ("group-remove-member", "RFC 7644 §3.5.2.2; Okta removes members[value eq …]", "MUST", OKTA, "remove members[value eq \"<id>\"] removes that member."),
    ("group-remove-member-value", "Entra removes members with path members and a value list", "SHOULD", ENTRA,
     "remove path members with value [{value: id}] removes that member."),
    ("group-rename", "RFC 7644 §3.5.2.3; Okta renames with PATCH replace", "MUST", BOTH, "replace displayName renames the group."),
    ("projection-keeps-unlisted", "RFC 7644 §3.9 (attributes shape the response, not the update)", "MUST", NONE,
     "PATCH /Users/{id}?attributes=userName applies the operations and keeps every attribute it does not list."),
    ("sparse-resources", "RFC 7643 §4.1 (only userName is required); RFC 7644 §3.5.2", "MUST", NONE,
     "PATCH works on a user holding only userName (replace name.givenName, add emails)."),
])

_add("bulk", [
    ("operations", "RFC 7644 §3.7 (POST, PUT, PATCH and DELETE in one BulkRequest)", "MUST", NONE,
     "One BulkRequest with POST, PUT, PATCH and DELETE performs each and answers each operation's status "
     "(201, 200, 200 or 204, 204)."),
    ("bulk-id", "RFC 7644 §3.7.2 (bulkId, and \"bulkId:<id>\" references)", "MUST", NONE,
     "A later operation's \"bulkId:<id>\" (a group's member) is replaced by the id the earlier POST created."),
    ("fail-on-errors", "RFC 7644 §3.7.3 (failOnErrors)", "MUST", NONE,
     "With failOnErrors 1, processing stops at the first error: the operation after it is not performed."),
    ("max-operations", "RFC 7644 §3.7.4 (more than maxOperations: 413)", "MUST", NONE,
     "A BulkRequest with more operations than bulk.maxOperations answers 413 and performs none."),
    ("max-payload", "RFC 7644 §3.7.4 (larger than maxPayloadSize: 413)", "MUST", NONE,
     "A BulkRequest larger than bulk.maxPayloadSize answers 413."),
])

_add("etag", [
    ("header", "RFC 7644 §3.14 (ETags MUST be an HTTP header when supported)", "MUST", NONE, "GET of a resource returns an ETag header."),
    ("meta-version", "RFC 7644 §3.14 (SHOULD be meta.version too)", "SHOULD", NONE, "meta.version equals the ETag."),
    ("changes", "RFC 7644 §3.14; RFC 7232 §2.3", "MUST", NONE, "The version changes when the resource changes."),
    ("if-none-match-304", "RFC 7644 §3.14; RFC 7232 §3.2", "MUST", NONE, "GET with If-None-Match: <current> answers 304."),
    ("if-none-match-stale", "RFC 7644 §3.14; RFC 7232 §3.2", "MUST", NONE, "GET with If-None-Match: <stale> answers 200."),
    ("if-match-412", "RFC 7644 §3.14; RFC 7232 §3.1", "MUST", NONE, "A PUT/PATCH with If-Match: <stale> answers 412 and changes nothing."),
    ("if-match-ok", "RFC 7644 §3.14; RFC 7232 §3.1", "MUST", NONE, "A PATCH with If-Match: <current> succeeds."),
])

_add("errors", [
    ("unknown-endpoint-404", "RFC 7644 §3.12", "MUST", NONE, "An unknown endpoint answers 404."),
    ("invalid-json-400", "RFC 7644 §3.12 (invalidSyntax)", "MUST", NONE, "A body that is not JSON answers 400."),
    ("invalid-json-scim-type", "RFC 7644 §3.12 Table 9 (invalidSyntax)", "SHOULD", NONE, "…with scimType invalidSyntax."),
    ("conflict-scim-type", "RFC 7644 §3.3 (409 uniqueness)", "MUST", NONE, "A 409 carries scimType uniqueness."),
    ("error-body", "RFC 7644 §3.12", "MUST", NONE, "Every error answer (4xx or 5xx) carries a SCIM Error body: Error schema, status "
     "as a string equal to the HTTP status (an empty body is not one)."),
    ("collection-delete-refused", "RFC 7644 §3.6 (DELETE targets one resource)", "MUST", NONE, "DELETE /Users (the collection) is refused."),
    ("too-large-413", "RFC 7644 §3.12 (413 tooLarge / limits)", "SHOULD", NONE, "A 2 MB body is refused (400/413), not a 5xx."),
    ("403", "RFC 7644 §3.12 (403)", "MUST", NONE,
     "Every 403 the suite provoked is a SCIM Error with status \"403\"; skipped when none was provoked."),
])

_add("auth", [
    ("missing-401", "RFC 7644 §2, §3.12 (401: authorization header missing); RFC 6750 §3.1", "MUST", NONE,
     "Every endpoint refuses a request without Authorization with 401."),
    ("wrong-401", "RFC 7644 §2, §3.12 (401: authorization header invalid); RFC 6750 §3.1", "MUST", NONE,
     "Every endpoint refuses an unknown bearer token with 401."),
    ("basic-401", "RFC 7644 §2; Okta OIN SPEC test (non-token Authorization)", "MUST", OKTA, "A Basic credential is refused with 401."),
    ("www-authenticate", "RFC 7235 §3.1; RFC 6750 §3", "SHOULD", NONE, "A 401 carries a WWW-Authenticate header."),
    ("no-side-effect", "RFC 7644 §2", "MUST", NONE, "An unauthenticated POST creates nothing."),
])

_add("safety", [
    ("cleanup", "scim-harness: the suite leaves the target as it found it", "MUST", NONE,
     "Everything the suite created is deleted at the end (a filter on the prefix finds nothing)."),
])

# The rfc suite rules OneLogin and PingFederate need, each with what that IdP cannot do when it fails, from
# idp-wire.md "Other IdPs with documented wire behaviour" only (what the driver infers is not counted).
# A setting the admin may leave off (OneLogin's DELETE, PingFederate's group PATCH or delete) is not a need.
IDP_NEEDS: dict[str, dict[str, str]] = {
    "onelogin": {
        "rfc.filters.eq": 'find users: OneLogin looks each user up with userName eq before creating it (idp-wire.md: OneLogin)',
        "rfc.users.create.201": "create users: OneLogin POSTs /Users and keeps the returned id (idp-wire.md: OneLogin)",
        "rfc.users.create.unique-ids": "tell users apart: OneLogin's GET and PUT /Users/{id} use the returned id (idp-wire.md)",
        "rfc.users.get.200": "read users: OneLogin sends GET /Users/{id} (idp-wire.md: OneLogin)",
        "rfc.users.put.200": "update users: OneLogin updates with a full PUT /Users/{id} (idp-wire.md: OneLogin)",
        "rfc.users.put.replaces": "update users: the values of OneLogin's full PUT must be stored (idp-wire.md: OneLogin)",
        "rfc.patch.group-add-member": "add group members: OneLogin manages membership with PATCH /Groups/{id} (idp-wire.md)",
    },
    "pingfederate": {
        "rfc.users.create.201": "create users: PingFederate POSTs /Users and keeps the returned id (idp-wire.md: PingFederate)",
        "rfc.users.create.unique-ids": "tell users apart: PingFederate's PUT /Users/{id} uses the returned id (idp-wire.md)",
        "rfc.users.get.unknown-404": "pass its connection check: GET /Users/0 must answer 404 (idp-wire.md: PingFederate)",
        "rfc.users.put.200": "update users: PingFederate sends users by PUT only (idp-wire.md: PingFederate)",
        "rfc.users.put.replaces": "update users: the values of PingFederate's PUT must be stored (idp-wire.md: PingFederate)",
        "rfc.groups.create.201": "push groups: PingFederate creates the groups it does not find (idp-wire.md: PingFederate)",
        "rfc.paging.groups": "match groups: PingFederate fetches all groups, page by page (idp-wire.md: PingFederate)",
    },
}
for _idp, _needs in IDP_NEEDS.items():
    _R = [replace(r, idps=r.idps | {_idp}) if r.id in _needs else r for r in _R]
_R = [replace(r, why=r.why or WHY.get(r.id, RFC_ONLY), subjects=SUBJECTS.get(r.id, r.subjects)) for r in _R]
RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _R})
# The rfc suite's catalogue: its rules, in the order the suite runs them.
CATALOGUE: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _R if r.id.startswith(SUITE_PREFIX)})
del _name, _source, _rid, _idp, _needs


def why_for(found: Rule, idp: str) -> str:
    """What ``idp`` cannot do when ``found`` fails: the IdP's own line (IDP_NEEDS) when it has one."""
    return IDP_NEEDS.get(idp, {}).get(found.id, found.why)


def base_id(check_id: str) -> str:
    """`rfc.x.y[subject]` -> `rfc.x.y` (a check id with its subject is still its rule's id)."""
    return check_id.split("[", 1)[0]


def rule(rule_id: str) -> Rule:
    """The rule with this id, or of this rfc check id with a subject (a generic schema rule for an
    unknown schema id; KeyError for any other unknown id)."""
    found = RULES.get(base_id(rule_id))
    if found is not None:
        return found
    if rule_id.startswith("schema."):
        return Rule(rule_id, f"The body is valid against {rule_id[7:]}.", "Scenario schema", "MUST", NONE, why=WHY["schema"])
    raise KeyError(rule_id)


def subject_of(check_id: str) -> str | None:
    """`rfc.x.y[subject]` -> `subject` (None without one)."""
    return check_id.split("[", 1)[1][:-1] if "[" in check_id and check_id.endswith("]") else None


def judged_rule(check_id: str) -> Rule:
    """The rule whose IdPs and why apply to this check: its own, or the one its subject names
    (`rfc.patch.status[add-simple]` → `rfc.patch.add-simple`). KeyError for an unknown id."""
    found = rule(check_id)
    named, subject = SUBJECT_NAMES_RULE.get(found.id), subject_of(check_id)
    if named and subject and f"{named}{subject}" in RULES:
        return RULES[f"{named}{subject}"]
    return found


def needed_by(check_id: str) -> frozenset[str]:
    """The IdPs whose provisioning breaks when this check (a rule id, maybe with a subject) fails."""
    found = judged_rule(check_id)
    if found.subjects and subject_of(check_id) not in found.subjects:
        return NONE
    return found.idps


# Check ids a check records under another rule's id (harness.checks, harness.scenario_run, harness.expect).
_ALIASES = {"http.redirect": "transport", "step.result": "step.expect", "step.requests": "step.expect",
            "step.response": "step.expect", "step.precondition": "step.expect", "response.time": "step.response-time"}


def rule_for(check_id: str, source: str, strength: str) -> Rule | None:
    """The rule a recorded check was judged by, from its id, the source it names and its strength
    (a check keeps the id of its family — http.status, body.json, etag.consistent — under a narrower
    rule); None for a check id the registry does not know."""
    for idp in IDP_NAMES:
        accepted = RULES[f"{idp}.request-accepted"].source.split("{action}")
        if len(accepted) == 2 and source.startswith(accepted[0]) and source.endswith(accepted[1]):
            return RULES[f"{idp}.request-accepted"]
    base = base_id(check_id)
    if base in ("driver.task", "step.expect_failure", "step.expect_error"):
        return next((r for r in RULES.values() if r.id.endswith((".task", ".task-detail")) and r.source == source),
                    RULES["step.expect"])
    if base == "http.status" and source == RULES["control.expect"].source:
        return RULES["control.expect"]
    if base in ("http.status", "body.json", "etag.consistent"):
        family = [r for r in RULES.values() if r.id == base or r.id.startswith(f"{base}.") or
                  (base == "body.json" and r.id in ("body.create", "schema.Error")) or
                  (base == "etag.consistent" and r.id == "etag.both")]
        return (next((r for r in family if r.source == source and r.strength == strength), None)
                or next((r for r in family if r.source == source), None) or RULES[base])
    if base in _ALIASES:
        return RULES[_ALIASES[base]]
    if base == "expect" or base.startswith("expect."):
        return RULES["expect"]
    try:
        return rule(base)
    except KeyError:
        return None


def idp_of(dialect: str) -> str:
    """The IdP a driver dialect imitates: okta for okta, okta-aiw and okta-patch, entra for entra and
    entra-2020, onelogin and pingfederate for themselves (an unknown name: okta, the default dialect)."""
    return DIALECT_IDP.get(dialect, "okta")


def task_rule(dialect: str, *, detail: bool = False) -> Rule:
    """The rule a failed driver task breaks (or, with `detail`, where its error shows), for the IdP the
    dialect imitates."""
    return RULES[f"{idp_of(dialect)}.task-detail" if detail else f"{idp_of(dialect)}.task"]


def request_accepted_source(dialect: str, action: str) -> str:
    """The source a refused IdP request names: `<IdP> needs <action> to succeed`."""
    return RULES[f"{idp_of(dialect)}.request-accepted"].source.format(action=action)


# The auth modes each IdP's admin can choose (idp-wire.md: Okta "Authentication modes an Okta admin can
# choose"; Entra a secret token or OAuth client credentials (issue 15); PingFederate None/Basic/OAuth
# bearer/client credentials). Names as harness.auth.MODES.
IDP_AUTH_MODES: dict[str, tuple[str, ...]] = {
    "okta": ("bearer", "basic", "header", "oauth2-refresh"),
    "entra": ("bearer", "oauth2-client-credentials"),
    "pingfederate": ("basic", "bearer", "oauth2-client-credentials"),
}


def auth_reach(idp: str, label: str, mode: str, mode_label: str) -> str | None:
    """What a run made in auth `mode` says about how `idp` can reach the server (None for bearer, which
    every IdP here offers): "Entra can reach this server only with OAuth client credentials"."""
    modes = IDP_AUTH_MODES.get(idp)
    if modes is None or mode == "bearer":
        return None
    if mode in modes:
        return f"{label} can reach this server only with {mode_label} (the one auth mode this run used)"
    return f"{label} cannot authenticate with {mode_label}: it offers {', '.join(modes)}; the server must accept one of those"
