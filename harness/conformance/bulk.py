"""Bulk (RFC 7644 §3.7), judged only when /ServiceProviderConfig advertises bulk.supported (Bulk is
optional; neither Okta nor Entra sends it): POST, PUT, PATCH and DELETE in one request, `bulkId`
references, failOnErrors, and the advertised maxOperations / maxPayloadSize limits answered with 413.

Every resource a BulkRequest creates is put in the prober's ledger (from the operation's `location`),
so the safety area removes it like any other.
"""
from __future__ import annotations

import json
from typing import Any

from harness.conformance.context import GROUP_URN, PATCH_URN, Ctx, abort, dicts, dig
from harness.conformance.crud import member_ids, unknown_id
from harness.prober import path_id
from harness.transcript import Exchange

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
CHECKS = ("rfc.discovery.advertised.bulk", "rfc.bulk.operations", "rfc.bulk.bulk-id", "rfc.bulk.fail-on-errors",
          "rfc.bulk.max-operations", "rfc.bulk.max-payload")
# The limits are probed by sending one more operation (a DELETE of an unknown id) / 1 KiB more than
# advertised; past these the probe would be a load test, so it is skipped with the reason.
MAX_PROBED_OPERATIONS = 1000
MAX_PROBED_PAYLOAD = 2 * 1024 * 1024


def run(ctx: Ctx) -> None:
    if not ctx.caps.bulk:
        with ctx.step("Bulk"):
            for cid in CHECKS:
                ctx.skip(cid, "bulk.supported is false in /ServiceProviderConfig; Bulk is optional (RFC 7644 §3.7)")
        return
    _operations(ctx)
    _bulk_ids(ctx)
    _fail_on_errors(ctx)
    _limits(ctx)


def send_bulk(ctx: Ctx, ops: list[dict[str, Any]], **extra: Any) -> tuple[Exchange, list[dict[str, Any]]]:
    """POST /Bulk with these operations; (exchange, the BulkResponse's operations). Whatever the answer
    says was created goes in the ledger."""
    ex = ctx.send("POST", "/Bulk", body={"schemas": [BULK_REQUEST], **extra, "Operations": ops})
    results = dicts(dig(ex.json(), "Operations"))
    for res in results:
        rid, coll = created_id(res)
        if rid is not None and coll is not None:
            ctx.prober.remember(coll, rid)
    return ex, results


def op_status(res: dict[str, Any] | None) -> int | None:
    """An operation's status: RFC 7644 §3.7.3 sends it as a string ("201"); an integer, or an older
    draft's {"code": …}, is read too."""
    value = res.get("status") if isinstance(res, dict) else None
    if isinstance(value, dict):
        value = value.get("code")
    try:
        return int(str(value))
    except ValueError:
        return None


def created_id(res: dict[str, Any]) -> tuple[str | None, str | None]:
    """(id, collection) of what a successful POST operation created, from its `location` (RFC 7644 §3.7.3)."""
    location = res.get("location")
    if str(res.get("method", "")).upper() != "POST" or (op_status(res) or 0) >= 300 or not isinstance(location, str):
        return None, None
    parts = [p for p in location.rstrip("/").split("/") if p]
    if len(parts) < 2 or parts[-2] not in ("Users", "Groups"):
        return None, None
    return parts[-1], parts[-2]


def by_bulk_id(results: list[dict[str, Any]], bulk_id: str) -> dict[str, Any] | None:
    return next((r for r in results if r.get("bulkId") == bulk_id), None)


def _operations(ctx: Ctx) -> None:
    with ctx.step("POST, PUT, PATCH and DELETE in one BulkRequest", needed=True):
        users = []
        for label in ("bulk-put", "bulk-patch", "bulk-delete"):
            ex, doc = ctx.create("Users", ctx.user_body(label))
            if doc is None:
                abort(f"could not create the user the Bulk operations work on ({ex.status})")
            users.append(doc)
        put, patched, deleted = users
        new = ctx.user_body("bulk-post")
        replacement = {k: v for k, v in put.items() if k not in ("meta", "groups")}
        replacement["name"] = {"givenName": "BulkPut", "familyName": "Scimh"}
        ops = [{"method": "POST", "path": "/Users", "bulkId": "scimh-new", "data": new},
               {"method": "PUT", "path": f"/Users/{path_id(put['id'])}", "data": replacement},
               {"method": "PATCH", "path": f"/Users/{path_id(patched['id'])}", "data": {
                   "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "name.givenName", "value": "BulkPatch"}]}},
               {"method": "DELETE", "path": f"/Users/{path_id(deleted['id'])}"}]
        ex, results = send_bulk(ctx, ops)
        ctx.standard(ex, 200)
        ctx.check("rfc.discovery.advertised.bulk", ex.status == 200 and bool(results),
                  f"POST /Bulk answered {ex.status} with {len(results)} operation result(s)", ex)
        if ex.status != 200 or not results:
            abort(f"POST /Bulk answered {ex.status}: {str(ex.json())[:200]}")
        _judge_operations(ctx, ex, results, put, patched, deleted, new)


def _judge_operations(ctx: Ctx, ex: Exchange, results: list[dict[str, Any]], put: dict[str, Any],
                      patched: dict[str, Any], deleted: dict[str, Any], new: dict[str, Any]) -> None:
    """Each method's status in the BulkResponse and its effect, read back."""
    by_method = {str(r.get("method", "")).upper(): r for r in results}
    _, got = ctx.query("Users", f'userName eq "{new["userName"]}"') if ctx.caps.filter else (None, None)
    rid, _ = created_id(by_method.get("POST") or {})
    for r in dicts(dig(got, "Resources")):  # created without a location: still the suite's to remove
        ctx.prober.remember_resource("Users", r)
    found = rid is not None or bool(dicts(dig(got, "Resources")))
    exg, after_put = ctx.get_json(f"/Users/{path_id(put['id'])}")
    exp, after_patch = ctx.get_json(f"/Users/{path_id(patched['id'])}")
    exd = ctx.send("GET", f"/Users/{path_id(deleted['id'])}")
    if exd.status in (404, 410):
        ctx.prober.forget("Users", deleted["id"])
    for method, want, held, shown in (
            ("POST", {201}, found, "the new user exists" if found else "no location, and the user is not found"),
            ("PUT", {200}, dig(after_put, "name", "givenName") == "BulkPut", f"name.givenName {dig(after_put, 'name', 'givenName')!r}"),
            ("PATCH", {200, 204}, dig(after_patch, "name", "givenName") == "BulkPatch",
             f"name.givenName {dig(after_patch, 'name', 'givenName')!r}"),
            ("DELETE", {204}, exd.status == 404, f"GET afterwards answered {exd.status}")):
        status = op_status(by_method.get(method))
        ok = status in want and held
        ctx.check("rfc.bulk.operations", ok, f"{method} operation: status {status!r} (expected "
                  f"{' or '.join(map(str, sorted(want)))}); {shown}", ex, subject=method)


def _bulk_ids(ctx: Ctx) -> None:
    with ctx.step("a bulkId reference"):
        user = ctx.user_body("bulk-ref")
        group = {"schemas": [GROUP_URN], "displayName": ctx.name("bulk-group"), "members": [{"value": "bulkId:scimh-u"}]}
        ops = [{"method": "POST", "path": "/Users", "bulkId": "scimh-u", "data": user},
               {"method": "POST", "path": "/Groups", "bulkId": "scimh-g", "data": group}]
        ex, results = send_bulk(ctx, ops)
        uid, _ = created_id(by_bulk_id(results, "scimh-u") or {})
        gid, _ = created_id(by_bulk_id(results, "scimh-g") or {})
        if ex.status != 200 or uid is None:
            ctx.skip("rfc.bulk.bulk-id", f"POST /Bulk answered {ex.status}; the user the reference names was not "
                     "created with a location (see rfc.bulk.operations)")
            return
        members: list[Any] = []
        if gid is not None:
            _, doc = ctx.get_json(f"/Groups/{path_id(gid)}")
            members = member_ids(doc)
        ok = gid is not None and members == [uid]
        ctx.check("rfc.bulk.bulk-id", ok, f"the group's member \"bulkId:scimh-u\" became {members} "
                  f"(the user created is {uid!r}); the group's operation answered "
                  f"{op_status(by_bulk_id(results, 'scimh-g'))!r}", ex)


def _fail_on_errors(ctx: Ctx) -> None:
    with ctx.step("failOnErrors 1 stops at the first error"):
        # RFC 7644 §3.7.3: with failOnErrors 1 the service provider stops after the first error.
        after = ctx.user_body("bulk-after-error")
        ops = [{"method": "DELETE", "path": f"/Users/{unknown_id()}"},
               {"method": "POST", "path": "/Users", "bulkId": "scimh-after", "data": after}]
        ex, results = send_bulk(ctx, ops, failOnErrors=1)
        first = op_status(results[0]) if results else None
        if ex.status != 200 or first is None or first < 400:
            ctx.skip("rfc.bulk.fail-on-errors", f"POST /Bulk answered {ex.status}, the DELETE of an unknown id "
                     f"{first!r}: no first error to stop at (see rfc.bulk.operations)")
            return
        performed = created_id(by_bulk_id(results, "scimh-after") or {})[0] is not None
        if not performed and ctx.caps.filter:
            exq, doc = ctx.query("Users", f'userName eq "{after["userName"]}"')
            performed = any([ctx.prober.remember_resource("Users", r) for r in dicts(dig(doc, "Resources"))])
        ctx.check("rfc.bulk.fail-on-errors", not performed, f"failOnErrors 1: the first operation answered {first}, "
                  + ("the POST after it was still performed" if performed else "the POST after it was not performed"), ex)


def _limits(ctx: Ctx) -> None:
    with ctx.step("maxOperations and maxPayloadSize answer 413"):
        n, size = ctx.caps.bulk_max_operations, ctx.caps.bulk_max_payload
        ops = [{"method": "DELETE", "path": f"/Users/{unknown_id()}"} for _ in range((n or 0) + 1)]
        length = len(json.dumps({"schemas": [BULK_REQUEST], "Operations": ops}))
        if n is None or n > MAX_PROBED_OPERATIONS:
            ctx.skip("rfc.bulk.max-operations", f"bulk.maxOperations is {n!r}: the suite probes a limit of at most "
                     f"{MAX_PROBED_OPERATIONS} operations only")
        elif size is not None and length > size:
            ctx.skip("rfc.bulk.max-operations", f"{n + 1} operations take {length} bytes, more than maxPayloadSize {size}: "
                     "the operation count cannot be probed alone")
        else:
            ex, _ = send_bulk(ctx, ops)
            ctx.standard(ex, 413)
            ctx.check("rfc.bulk.max-operations", ex.status == 413, f"{n + 1} operations (maxOperations {n}) answered "
                      f"{ex.status}", ex)
        if size is None or size > MAX_PROBED_PAYLOAD:
            ctx.skip("rfc.bulk.max-payload", f"bulk.maxPayloadSize is {size!r}: the suite probes a limit of at most "
                     f"{MAX_PROBED_PAYLOAD} bytes only")
            return
        # One PATCH of an unknown user, padded past the limit: harmless if the server takes it anyway.
        pad = "x" * (size + 1024)
        ops = [{"method": "PATCH", "path": f"/Users/{unknown_id()}", "data": {
            "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "nickName", "value": pad}]}}]
        length = len(json.dumps({"schemas": [BULK_REQUEST], "Operations": ops}))
        ex, _ = send_bulk(ctx, ops)
        ctx.standard(ex, 413)
        ctx.check("rfc.bulk.max-payload", ex.status == 413, f"a BulkRequest of {length} bytes (maxPayloadSize {size}) "
                  f"answered {ex.status}", ex)
