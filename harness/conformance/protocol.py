"""ETags (RFC 7644 §3.14), errors (§3.12), authentication (§2) and the suite's own safety checks."""
from __future__ import annotations

from harness.conformance.context import PATCH_URN, USER_URN, Ctx, abort, dig
from harness.conformance.crud import unknown_id
from harness.conformance.discovery import resources
from harness.prober import path_id
from harness.session import another_jobs_name
from harness.transcript import Exchange


def run_etag(ctx: Ctx) -> None:
    if not ctx.caps.etag:
        with ctx.step("ETags"):
            ctx.skip("rfc.discovery.advertised.etag", "etag.supported is false in /ServiceProviderConfig; ETag checks skipped")
        return
    with ctx.step("versions and conditional requests"):
        ex, user = ctx.create("Users", ctx.user_body("etag"))
        if user is None:
            abort(f"could not create the user ({ex.status})")
        path = f"/Users/{path_id(user['id'])}"
        ex, doc = ctx.get_json(path)
        etag = ex.header("etag")
        ctx.check("rfc.discovery.advertised.etag", etag is not None, f"ETag {etag!r}", ex)
        ctx.check("rfc.etag.header", etag is not None, f"ETag {etag!r}", ex)
        if etag is None:
            abort("no ETag to condition on")
        version = dig(doc, "meta", "version")
        ctx.check("rfc.etag.meta-version", version == etag, f"meta.version {version!r}, ETag {etag!r}", ex)
        ex304 = ctx.send("GET", path, headers={"If-None-Match": etag})
        ctx.check("rfc.etag.if-none-match-304", ex304.status == 304, f"answered {ex304.status}", ex304)
        # name.givenName: every user of the suite has it, while a server may not store title (harness.conformance.stored).
        patch = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "name.givenName", "value": "Versioned"}]}
        exok = ctx.send("PATCH", path, body=patch, headers={"If-Match": etag})
        ctx.check("rfc.etag.if-match-ok", exok.status in (200, 204), f"answered {exok.status}", exok)
        ex2, doc2 = ctx.get_json(path)
        etag2 = ex2.header("etag")
        ctx.check("rfc.etag.changes", etag2 is not None and etag2 != etag, f"ETag {etag!r} -> {etag2!r}", ex2)
        ex200 = ctx.send("GET", path, headers={"If-None-Match": etag})
        ctx.check("rfc.etag.if-none-match-stale", ex200.status == 200, f"a stale If-None-Match answered {ex200.status}", ex200)
        stale = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "name.givenName", "value": "MustNotStick"}]}
        ex412 = ctx.send("PATCH", path, body=stale, headers={"If-Match": etag})
        ctx.standard(ex412, 412)
        ex3, doc3 = ctx.get_json(path)
        given = dig(doc3, "name", "givenName")
        before = dig(doc2, "name", "givenName")  # "Versioned" when the conditional PATCH above held
        ctx.check("rfc.etag.if-match-412", ex412.status == 412 and given == before,
                  f"a stale If-Match answered {ex412.status}; name.givenName {before!r} -> {given!r}", ex412)


def run_errors(ctx: Ctx) -> None:
    with ctx.step("error responses"):
        ex = ctx.send("GET", "/ScimhNoSuchEndpoint")
        ctx.check("rfc.errors.unknown-endpoint-404", ex.status == 404, f"answered {ex.status}", ex)
        ctx.standard(ex, 404)
        ex = ctx.send("POST", "/Users", raw=b'{"schemas": ["' + USER_URN.encode() + b'"], "userName": ')
        ctx.standard(ex, 400)
        err = ex.json() if isinstance(ex.json(), dict) else {}
        ctx.check("rfc.errors.invalid-json-400", ex.status == 400, f"a truncated JSON body answered {ex.status}", ex)
        ctx.check("rfc.errors.invalid-json-scim-type", ex.status != 400 or err.get("scimType") == "invalidSyntax",
                  f"scimType {err.get('scimType')!r}", ex)
        ex = ctx.send("DELETE", "/Users")
        ok = ex.status is not None and (400 <= ex.status < 500 or ex.status == 501)
        ctx.check("rfc.errors.collection-delete-refused", ok, f"DELETE /Users answered {ex.status}", ex)
        big = b'{"schemas": ["' + USER_URN.encode() + b'"], "userName": "' + ctx.name("big").encode() + b'", "nickName": "' \
            + b"x" * 2_100_000 + b'"}'
        ex = ctx.send("POST", "/Users", raw=big)
        if ex.status == 201:
            ctx.prober.remember_resource("Users", ex.json())
            ctx.skip("rfc.errors.too-large-413", "the server accepts a 2 MB user (the RFC sets no size limit for a single resource)")
        else:
            ctx.check("rfc.errors.too-large-413", ex.status in (400, 413), f"a 2 MB body answered {ex.status}", ex)
        # RFC 7644 §3.12: every error answer the suite saw so far, 4xx and 5xx, must be a SCIM Error
        # (an empty body is none; the standard checks judge each exchange too).
        seen = [e for sc in ctx.areas for st in sc.steps for e in st.exchanges if e.status is not None and e.status >= 400]
        bad = [e for e in seen if not is_scim_error(e)]
        statuses = sorted({e.status for e in bad if e.status is not None})
        empty = sum(1 for e in bad if not (e.response_body or "").strip())
        # RFC 7644 §3.12: a 403 is a SCIM Error like any other. No generic probe is forbidden by
        # every server, so this judges the 403s the suite happened to provoke (discovery writes, a
        # Basic credential…) and is skipped when there were none.
        forbidden = [e for e in seen if e.status == 403]
        if forbidden:
            bad403 = [e for e in forbidden if not is_scim_error(e)]
            ctx.check("rfc.errors.403", not bad403, f"{len(forbidden)} 403 answer(s), all SCIM Errors" if not bad403 else
                      f"{bad403[0].method} {bad403[0].path} answered 403 without a SCIM Error body", (bad403 or forbidden)[0])
        else:
            ctx.skip("rfc.errors.403", "the suite provoked no 403 (no operation is forbidden on a generic target; "
                     "the clockwise suite provokes one)")
        ctx.check("rfc.errors.error-body", not bad, f"{len(seen)} error answer(s) seen" + (
            "" if not bad else f"; {len(bad)} are not SCIM Errors (status {', '.join(map(str, statuses))}"
            + (f"; {empty} with an empty body" if empty else "") + f"), e.g. {bad[0].method} {bad[0].path} -> {bad[0].status}"),
            bad[0] if bad else None)


def is_scim_error(e: Exchange) -> bool:
    """RFC 7644 §3.12: the Error schema, and "status" the HTTP status as a string."""
    doc = e.json()
    schemas = dig(doc, "schemas")
    return (isinstance(doc, dict) and isinstance(doc.get("status"), str) and doc["status"] == str(e.status)
            and isinstance(schemas, list) and any(str(s).endswith(":Error") for s in schemas))


ENDPOINTS = [("GET", "/ServiceProviderConfig"), ("GET", "/ResourceTypes"), ("GET", "/Schemas"), ("GET", "/Users"),
             ("GET", "/Users/{uid}"), ("POST", "/Users"), ("PUT", "/Users/{uid}"), ("PATCH", "/Users/{uid}"),
             ("DELETE", "/Users/{uid}"), ("GET", "/Groups"), ("POST", "/Groups"), ("POST", "/Users/.search")]
DISCOVERY = ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas")


def run_auth(ctx: Ctx) -> None:
    with ctx.step("every endpoint refuses a missing or wrong token"):
        ex, user = ctx.create("Users", ctx.user_body("auth"))
        uid = path_id(user["id"]) if user else unknown_id()
        for method, template in ENDPOINTS:
            path = template.format(uid=uid)
            body = None
            if method in ("POST", "PUT"):
                body = {"schemas": [USER_URN], "userName": ctx.name("unauth")}
            elif method == "PATCH":
                body = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}
            for mode, cid in (("none", "rfc.auth.missing-401"), ("wrong", "rfc.auth.wrong-401")):
                ex = ctx.send(method, path, body=body, auth=mode)
                ok = ex.status == 401
                msg = f"{method} {template} without a valid token answered {ex.status}"
                if template in DISCOVERY and ex.status == 200:
                    # The RFC leaves open whether discovery documents need a credential: not a failure.
                    ok, msg = True, msg + " (discovery served without a credential; allowed)"
                ctx.check(cid, ok, msg, ex, subject=f"{method} {template}")
                if ex.status == 401 and template == "/Users" and mode == "none":
                    ctx.check("rfc.auth.www-authenticate", ex.header("www-authenticate") is not None,
                              f"WWW-Authenticate {ex.header('www-authenticate')!r}", ex)
                    ctx.standard(ex, 401)
                if ex.status is not None and ex.status < 300 and method == "POST" and template in ("/Users", "/Groups"):
                    ctx.prober.remember_resource(template.strip("/"), ex.json())
        ex = ctx.send("GET", "/Users", auth="basic")
        ctx.check("rfc.auth.basic-401", ex.status == 401, f"a Basic credential answered {ex.status}", ex)
        ex, doc = ctx.query("Users", f'userName sw "{ctx.prober.prefix}unauth"')
        total = doc.get("totalResults") if isinstance(doc, dict) else None
        ctx.check("rfc.auth.no-side-effect", ex.status != 200 or total == 0,
                  f"users created without a valid token: {total!r}", ex)


def run_safety(ctx: Ctx, users_before: int | None, groups_before: int | None) -> None:
    with ctx.step("cleanup: the target is left as it was found", action="cleanup"):
        why = ctx.prober.stopped
        if why is not None:
            left = [f"{c}/{i}" for c, i in ctx.prober.created]
            abort(f"cleanup not attempted: {why}" + (f"; the suite's resources may remain: {left}" if left else ""))
        exchanges = ctx.prober.cleanup()
        for e in exchanges:
            ctx.current.exchanges.append(e)  # type: ignore[union-attr]
        leftovers = list(ctx.prober.created)
        found: list[str] = []
        if ctx.caps.filter:
            for coll, attr in (("Users", "userName"), ("Groups", "displayName")):
                ex, doc = ctx.query(coll, f'{attr} sw "{ctx.prober.prefix}"', count=50)
                # Under --jobs N the scenarios' jobs name under the same prefix and may still be running: theirs
                # are not the suite's leftovers (each job cleans up its own).
                found += [f"{coll}/{r.get('id')}" for r in resources(doc)
                          if not another_jobs_name(str(r.get(attr, "")), ctx.prober.prefix)]
        counts = totals(ctx)
        same = users_before is None or counts == (users_before, groups_before)
        ok = not leftovers and not found
        msg = (f"deleted {len(exchanges)} resource(s); nothing named {ctx.prober.prefix}… remains" if ok else
               f"left behind: {[f'{c}/{i}' for c, i in leftovers] + found}")
        if users_before is not None:
            msg += f"; users {users_before} -> {counts[0]}, groups {groups_before} -> {counts[1]}"
            if not same:
                msg += " (another client may have written meanwhile)"
        ctx.check("rfc.safety.cleanup", ok, msg)


def totals(ctx: Ctx) -> tuple[int | None, int | None]:
    out = []
    for coll in ("Users", "Groups"):
        doc = ctx.prober.request("GET", f"/{coll}", params={"count": "0"}).json()
        out.append(doc.get("totalResults") if isinstance(doc, dict) and isinstance(doc.get("totalResults"), int) else None)
    return out[0], out[1]
