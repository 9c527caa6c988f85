"""PATCH (RFC 7644 §3.5.2): add/remove/replace on simple, complex, multi-valued and extension
attributes, with and without path, value-filter paths, atomicity and the errors. A success is
200 with the resource or 204 (both allowed); the result is always read back with GET.
"""
from __future__ import annotations

import json
from typing import Any

from harness.conformance.context import ENTERPRISE_URN, GROUP_URN, PATCH_URN, USER_URN, Ctx, abort, dicts, dig, wire
from harness.conformance.crud import last_modified_changes, member_ids, meta_of, unknown_id
from harness.conformance.stored import Stored, stored, stored_value
from harness.prober import path_id
from harness.transcript import Exchange


def _ops(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(ops)}


class _Patcher:
    def __init__(self, ctx: Ctx, coll: str, rid: str) -> None:
        self.ctx, self.coll, self.rid = ctx, coll, rid

    def patch(self, *ops: dict[str, Any], headers: dict[str, str] | None = None) -> Exchange:
        return self.ctx.send("PATCH", f"/{self.coll}/{path_id(self.rid)}", body=_ops(*ops), headers=headers)

    def read(self) -> dict[str, Any]:
        ex, doc = self.ctx.get_json(f"/{self.coll}/{path_id(self.rid)}")
        if not isinstance(doc, dict):
            abort(f"cannot read the resource back ({ex.status})")
        return doc

    def apply(self, cid: str, ops: list[dict[str, Any]], verify: Any, describe: Any, *, rfc_form: bool = True) -> Exchange:
        """PATCH, then judge the status (200 or 204) and the state read back with GET. An IdP's own
        (non-RFC) form is judged only by its own check, with that check's strength. Every message
        names the operations exactly as sent."""
        ex = self.patch(*ops)
        sent = f"PATCH {json.dumps(ops)}"
        self.ctx.standard(ex, [200, 204] if rfc_form else None, self.coll[:-1])
        ok_status = ex.status in (200, 204)
        if rfc_form:
            self.ctx.check("rfc.patch.status", ok_status, f"answered {ex.status}", ex, subject=cid.rsplit(".", 1)[-1])
        if ex.status == 200 and rfc_form:
            body = ex.json()
            if not (isinstance(body, dict) and body.get("id") == self.rid):
                self.ctx.check("rfc.patch.status", False, "a 200 answer must carry the whole resource", ex,
                               subject=cid.rsplit(".", 1)[-1] + " body")
        exr, state = self.ctx.get_json(f"/{self.coll}/{path_id(self.rid)}")
        if not isinstance(state, dict):
            self.ctx.check(cid, False, f"{sent} answered {ex.status}; reading the resource back answered {exr.status} "
                           "without a JSON object", exr)
            return ex
        ok = ok_status and bool(verify(state))
        self.ctx.check(cid, ok, f"{sent}: " + (describe(state) if ok_status else f"answered {ex.status}: {str(ex.json())[:200]}"), ex)
        return ex


def _emails(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return dicts(doc.get("emails"))


def _ext(doc: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in doc.items() if k.lower() == ENTERPRISE_URN.lower() and isinstance(v, dict)), {})


def run(ctx: Ctx) -> None:
    if not ctx.caps.patch:
        with ctx.step("PATCH"):
            ctx.skip("rfc.discovery.advertised.patch", "patch.supported is false in /ServiceProviderConfig; PATCH checks skipped")
        return
    body = ctx.user_body("patch")
    body["emails"].append({"value": f"{body['userName']}@home.example.org", "type": "home"})
    user = _advertised(ctx, body)
    with ctx.step("which optional attributes the server stores", action="setup"):
        kept = stored(ctx)
    p = _Patcher(ctx, "Users", user["id"])
    _simple(ctx, p, kept)
    _complex(ctx, p, kept)
    _multi_valued(ctx, p, body)
    _extension(ctx, p)
    _op_case(ctx, p)
    _last_modified(ctx, p)
    _projection(ctx, p)
    _sparse(ctx)
    _failures(ctx, p, user, kept)
    _groups(ctx)


def _advertised(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    with ctx.step("the advertised PATCH works", needed=True):
        ex, user = ctx.create("Users", body)
        if user is None:
            abort(f"could not create the user to patch ({ex.status})")
        exp = ctx.send("PATCH", f"/Users/{path_id(user['id'])}",
                       body=_ops({"op": "replace", "path": "title", "value": "Patched"}))
        ctx.check("rfc.discovery.advertised.patch", exp.status in (200, 204), f"PATCH answered {exp.status}", exp)
    assert user is not None  # else the step stopped the area
    return user


def _simple(ctx: Ctx, p: _Patcher, kept: Stored) -> None:
    with ctx.step("simple attributes"):
        # An optional attribute the server stores, else userName (simple, stored by every server).
        attr = kept.first("displayName", "title", "nickName", default="userName")
        assert attr is not None
        value = ctx.name("replaced") if attr == "userName" else "Scimh Replaced"
        p.apply("rfc.patch.replace-simple", [{"op": "replace", "path": attr, "value": value}],
                lambda d: stored_value(d, attr) == value, lambda d: f"{attr} {stored_value(d, attr)!r}")
        if kept.keeps("nickName"):
            p.apply("rfc.patch.add-simple", [{"op": "add", "path": "nickName", "value": "Added"}],
                    lambda d: d.get("nickName") == "Added", lambda d: f"nickName {d.get('nickName')!r}")
            after_add = p.read()
            if after_add.get("nickName") != "Added":  # remove needs a value to remove
                ctx.skip("rfc.patch.remove-simple", "the add of nickName before it did not hold (see rfc.patch.add-simple)")
            else:
                p.apply("rfc.patch.remove-simple", [{"op": "remove", "path": "nickName"}],
                        lambda d: d.get("nickName") in (None, ""), lambda d: f"nickName {d.get('nickName')!r}")
        else:
            for cid in ("rfc.patch.add-simple", "rfc.patch.remove-simple"):
                ctx.skip(cid, kept.why_not("nickName"))


def _complex(ctx: Ctx, p: _Patcher, kept: Stored) -> None:
    with ctx.step("complex attributes"):
        p.apply("rfc.patch.replace-sub-attribute", [{"op": "replace", "path": "name.givenName", "value": "Sub"}],
                lambda d: dig(d, "name", "givenName") == "Sub" and dig(d, "name", "familyName") == "Scimh",
                lambda d: f"name {d.get('name')!r}")
        p.apply("rfc.patch.replace-complex", [{"op": "replace", "path": "name", "value": {"givenName": "Whole", "familyName": "Name"}}],
                lambda d: dig(d, "name", "givenName") == "Whole" and dig(d, "name", "familyName") == "Name",
                lambda d: f"name {d.get('name')!r}")
        attrs = [a for a in ("title", "nickName") if kept.keeps(a)]
        if attrs:
            value = {a: f"NoPath {a}" for a in attrs}
            p.apply("rfc.patch.add-no-path", [{"op": "add", "value": value}],
                    lambda d: all(stored_value(d, a) == v for a, v in value.items()),
                    lambda d: ", ".join(f"{a} {stored_value(d, a)!r}" for a in attrs))
        else:
            ctx.skip("rfc.patch.add-no-path", kept.why_not("title"))
        p.apply("rfc.patch.replace-no-path", [{"op": "replace", "value": {"active": False}}],
                lambda d: d.get("active") is False, lambda d: f"active {d.get('active')!r}")


def _multi_valued(ctx: Ctx, p: _Patcher, body: dict[str, Any]) -> None:
    with ctx.step("multi-valued attributes and value paths"):
        extra = f"{body['userName']}@other.example.org"
        p.apply("rfc.patch.add-multi-valued", [{"op": "add", "path": "emails", "value": [{"value": extra, "type": "other"}]}],
                lambda d: len(_emails(d)) == 3 and extra in [e.get("value") for e in _emails(d)],
                lambda d: f"emails {[e.get('value') for e in _emails(d)]}")
        # Each value-path operation is judged against the emails read just before it, so an add that
        # failed above is reported once (rfc.patch.add-multi-valued), not again here.
        work = f"{body['userName']}@work2.example.com"
        n = len(_emails(p.read()))
        p.apply("rfc.patch.replace-value-path", [{"op": "replace", "path": 'emails[type eq "work"].value', "value": work}],
                lambda d: [e.get("value") for e in _emails(d) if e.get("type") == "work"] == [work] and len(_emails(d)) == n,
                lambda d: f"emails {[(e.get('type'), e.get('value')) for e in _emails(d)]}")
        current = _emails(p.read())
        homes = [e.get("type") for e in current].count("home")
        if not homes:
            ctx.skip("rfc.patch.remove-value-path", f"the user has no home email to remove (emails {[e.get('value') for e in current]})")
        else:
            p.apply("rfc.patch.remove-value-path", [{"op": "remove", "path": 'emails[type eq "home"]'}],
                    lambda d: [e.get("type") for e in _emails(d)].count("home") == 0 and len(_emails(d)) == len(current) - homes,
                    lambda d: f"emails {[(e.get('type'), e.get('value')) for e in _emails(d)]}")


def _extension(ctx: Ctx, p: _Patcher) -> None:
    with ctx.step("extension attributes"):
        has_ext = any(str(e.get("schema", "")).lower() == ENTERPRISE_URN.lower()
                      for e in dicts(dig(ctx.resource_types.get("User"), "schemaExtensions")))
        if has_ext:
            p.apply("rfc.patch.extension-path", [{"op": "replace", "path": f"{ENTERPRISE_URN}:department", "value": "PathDept"}],
                    lambda d: _ext(d).get("department") == "PathDept", lambda d: f"extension {_ext(d)!r}")
            p.apply("rfc.patch.extension-no-path", [{"op": "add", "value": {ENTERPRISE_URN: {"costCenter": "CC-7"}}}],
                    lambda d: _ext(d).get("costCenter") == "CC-7", lambda d: f"extension {_ext(d)!r}")
            # RFC 7643 §3.3: the extension's attributes sit in a container named by its URN, so the URN
            # alone is a path to that complex attribute (RFC 7644 §3.5.2: path is an attribute path).
            p.apply("rfc.patch.extension-urn-path", [{"op": "replace", "path": ENTERPRISE_URN, "value": {"department": "UrnDept"}}],
                    lambda d: _ext(d).get("department") == "UrnDept", lambda d: f"extension {_ext(d)!r}")
        else:
            for cid in ("rfc.patch.extension-path", "rfc.patch.extension-no-path", "rfc.patch.extension-urn-path"):
                ctx.skip(cid, "the User resource type declares no enterprise extension")


def _op_case(ctx: Ctx, p: _Patcher) -> None:
    with ctx.step("capitalised op names (Entra)"):
        attr = "name.givenName"  # Entra replaces name.givenName; every user of the suite has it
        # The same operation in lower case first: op-case judges the capitalisation only (RFC 7644
        # §3.5.2 spells op lower case; Entra sends "Replace"), not whether the server patches attr at all.
        lower = p.patch({"op": "replace", "path": attr, "value": "Lower"})
        if lower.status not in (200, 204) or stored_value(p.read(), attr) != "Lower":
            ctx.skip("rfc.patch.op-case", f"PATCH {json.dumps([{'op': 'replace', 'path': attr, 'value': 'Lower'}])} "
                     f"(lower case) answered {lower.status} or did not hold: the capitalised form is not judged")
            return
        p.apply("rfc.patch.op-case", [{"op": "Replace", "path": attr, "value": "Capital"}],
                lambda d: stored_value(d, attr) == "Capital", lambda d: f"{attr} {stored_value(d, attr)!r}", rfc_form=False)


def _last_modified(ctx: Ctx, p: _Patcher, subject: str = "User", value: Any = None) -> None:
    """RFC 7643 §3.1: a successful PATCH moves meta.lastModified (judged on a user here, on a group by _groups)."""
    with ctx.step(f"PATCH moves meta.lastModified ({subject})"):
        before = p.read()
        op = ({"op": "replace", "path": "name.givenName", "value": "Moved"} if value is None
              else {"op": "replace", "path": "displayName", "value": value})
        ex = p.patch(op)
        if ex.status not in (200, 204):
            ctx.skip("rfc.patch.last-modified-changes", f"PATCH {json.dumps([op])} answered {ex.status}: no successful "
                     "PATCH to judge (see its own check)", subject=subject)
            return
        last_modified_changes(ctx, "rfc.patch.last-modified-changes", meta_of(before), meta_of(p.read()), ex,
                              verb="PATCH", subject=subject)


def _projection(ctx: Ctx, p: _Patcher) -> None:
    with ctx.step("PATCH with ?attributes keeps what it does not list"):
        plain = p.patch({"op": "replace", "path": "name.givenName", "value": "Plain"})
        before = p.read()
        if plain.status not in (200, 204) or dig(before, "name", "givenName") != "Plain":
            ctx.skip("rfc.patch.projection-keeps-unlisted", f"the same PATCH without ?attributes answered {plain.status} "
                     "or did not hold (see rfc.patch.replace-sub-attribute)")
            return
        ops = [{"op": "replace", "path": "name.givenName", "value": "Projected"}]
        # RFC 7644 §3.9: attributes/excludedAttributes shape the response only; the PATCH applies as sent.
        ex = ctx.send("PATCH", f"/Users/{path_id(p.rid)}", body=_ops(*ops), params={"attributes": "userName"})
        after = p.read()
        lost = [k for k in ("emails", "active", "name.familyName", "userName")
                if stored_value(before, k) is not None and stored_value(after, k) != stored_value(before, k)]
        ok = ex.status in (200, 204) and dig(after, "name", "givenName") == "Projected" and not lost
        ctx.check("rfc.patch.projection-keeps-unlisted", ok,
                  f"{wire(ex)} {json.dumps(ops)} answered {ex.status}; "
                  + (f"changed or lost: {lost}" if lost else f"name.givenName {dig(after, 'name', 'givenName')!r}, the rest kept"), ex)


def _sparse(ctx: Ctx) -> None:
    with ctx.step("PATCH on a user with only a userName"):
        # RFC 7643 §4.1: only userName is required; a PATCH must not depend on optional attributes being there.
        # Only operations that worked on the full user are sent: this judges the sparseness, nothing else.
        ops: list[dict[str, Any]] = []
        if ctx.status_of("rfc.patch.replace-sub-attribute") == "pass":
            ops.append({"op": "replace", "path": "name.givenName", "value": "Sparse"})
        email = f"{ctx.prober.prefix}sparse@example.com"
        if ctx.status_of("rfc.patch.add-multi-valued") == "pass":
            ops.append({"op": "add", "path": "emails", "value": [{"value": email, "type": "work"}]})
        if not ops:
            ctx.skip("rfc.patch.sparse-resources", "neither replace name.givenName nor add emails worked on a full user "
                     "(see rfc.patch.replace-sub-attribute, rfc.patch.add-multi-valued)")
            return
        ex, sparse = ctx.create("Users", {"schemas": [USER_URN], "userName": ctx.name("sparse")})
        if sparse is None:
            ctx.skip("rfc.patch.sparse-resources", f"a user with only userName could not be created ({ex.status})")
            return
        p = _Patcher(ctx, "Users", sparse["id"])
        paths = [o["path"] for o in ops]
        p.apply("rfc.patch.sparse-resources", ops,
                lambda d: ("name.givenName" not in paths or dig(d, "name", "givenName") == "Sparse")
                and ("emails" not in paths or email in [e.get("value") for e in _emails(d)]),
                lambda d: f"name {d.get('name')!r}, emails {[e.get('value') for e in _emails(d)]}")


def _failures(ctx: Ctx, p: _Patcher, user: dict[str, Any], kept: Stored) -> None:
    with ctx.step("failures: atomicity, noTarget, syntax, mutability"):
        attr = kept.first("title", "displayName", "nickName", default="name.givenName") or "name.givenName"
        before = p.read()
        ops = [{"op": "replace", "path": attr, "value": "MustNotStick"},
               {"op": "replace", "path": 'emails[type eq "scimh-none"]', "value": {"value": "x@example.com"}}]
        ex = p.patch(*ops)
        sent = f"PATCH {json.dumps(ops)}"
        ctx.standard(ex, 400)
        after = p.read()
        scim_type = dig(ex.json(), "scimType")
        ctx.check("rfc.patch.value-path-no-match", ex.status == 400 and scim_type == "noTarget",
                  f"{sent} answered {ex.status} scimType {scim_type!r}", ex)
        # RFC 7644 §3.5.2: atomicity is observable only when the failing operation is refused; a server
        # that accepted it is reported by value-path-no-match, not here too.
        if ex.status in (200, 204):
            ctx.skip("rfc.patch.atomic", f"{sent} answered {ex.status}: the operation meant to fail was accepted "
                     "(see rfc.patch.value-path-no-match), so atomicity cannot be observed")
        else:
            ctx.check("rfc.patch.atomic", stored_value(after, attr) == stored_value(before, attr),
                      f"{sent} answered {ex.status}; {attr} {stored_value(before, attr)!r} -> {stored_value(after, attr)!r}", ex)
        ex = p.patch({"op": "remove"})
        ctx.standard(ex, 400)
        err = ex.json() if isinstance(ex.json(), dict) else {}
        ctx.check("rfc.patch.remove-no-path", ex.status == 400 and err.get("scimType") == "noTarget",
                  f"answered {ex.status} scimType {err.get('scimType')!r}", ex)
        ex = p.patch({"op": "frobnicate", "path": "title", "value": "x"})
        ctx.standard(ex, 400)
        ctx.check("rfc.patch.invalid-op", ex.status == 400, f"answered {ex.status}", ex)
        ex = p.patch({"op": "replace", "path": "emails[type eq", "value": "x"})
        ctx.standard(ex, 400)
        ctx.check("rfc.patch.invalid-path", ex.status == 400, f"answered {ex.status}", ex)
        ex = p.patch({"op": "replace", "path": "id", "value": "scimh-new-id"})
        ctx.standard(ex, 400)
        still = p.read()
        ctx.check("rfc.patch.mutability", ex.status == 400 and still.get("id") == user["id"], f"answered {ex.status}; id {still.get('id')!r}", ex)
        ex = ctx.send("PATCH", f"/Users/{unknown_id()}", body=_ops({"op": "replace", "path": "title", "value": "x"}))
        ctx.standard(ex, 404)
        ctx.check("rfc.patch.unknown-404", ex.status == 404, f"answered {ex.status}", ex)


def _groups(ctx: Ctx) -> None:
    with ctx.step("group membership and rename", needed=True):
        ex1, u1 = ctx.create("Users", ctx.user_body("pm1"))
        ex2, u2 = ctx.create("Users", ctx.user_body("pm2"))
        exg, grp = ctx.create("Groups", {"schemas": [GROUP_URN], "displayName": ctx.name("pgroup"), "members": []})
        if u1 is None or u2 is None or grp is None:
            abort(f"could not create the group and users to patch ({ex1.status}, {ex2.status}, {exg.status})")
        p = _Patcher(ctx, "Groups", grp["id"])
        p.apply("rfc.patch.group-add-member", [{"op": "add", "path": "members", "value": [{"value": u1["id"]}, {"value": u2["id"]}]}],
                lambda d: sorted(member_ids(d), key=str) == sorted([u1["id"], u2["id"]]), lambda d: f"members {member_ids(d)}")
        # Each removal is judged against the members read just before it (an earlier removal that
        # failed is reported by its own check, not again here); it needs the member to be there.
        for cid, who, op, form in (
                ("rfc.patch.group-remove-member", u1, {"op": "remove", "path": f'members[value eq "{u1["id"]}"]'}, True),
                ("rfc.patch.group-remove-member-value", u2,
                 {"op": "remove", "path": "members", "value": [{"value": u2["id"]}]}, False)):
            present = member_ids(p.read())
            if who["id"] not in present:
                ctx.skip(cid, f"the member {who['id']!r} to remove is not in the group (members {present}; "
                         "see rfc.patch.group-add-member)")
                continue
            rest = sorted((m for m in present if m != who["id"]), key=str)
            p.apply(cid, [op], lambda d, rest=rest: sorted(member_ids(d), key=str) == rest,
                    lambda d, rest=rest: f"members {member_ids(d)}, expected {rest}", rfc_form=form)
        new_name = ctx.name("pgroup-renamed")
        p.apply("rfc.patch.group-rename", [{"op": "replace", "path": "displayName", "value": new_name}],
                lambda d: d.get("displayName") == new_name, lambda d: f"displayName {d.get('displayName')!r}")
    _last_modified(ctx, p, "Group", ctx.name("pgroup-moved"))

