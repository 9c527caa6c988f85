"""Queries: filters (RFC 7644 §3.4.2.2), pagination (§3.4.2.4) and sorting (§3.4.2.3); projection
(§3.4.2.5) is in harness.conformance.projection, on the same population.

Every query is scoped by `userName sw "<run prefix>q-"`, so only the suite's own users are ever
expected in an answer and a server holding 100,000 other users is judged exactly like an empty one.
"""
from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

from harness.conformance.context import ENTERPRISE_URN, GROUP_URN, USER_URN, Ctx, abort, dicts, dig, stop_area, wire
from harness.conformance.crud import meta_of, parse_time
from harness.conformance.discovery import resources
from harness.conformance.stored import Stored, stored
from harness.prober import path_id

LABELS = ("alpha", "bravo", "charlie", "delta")
# Given names sort in the reverse order of userNames, so a sort on name.givenName is distinguishable.
GIVEN = {"alpha": "Zed", "bravo": "Yan", "charlie": "Xia", "delta": "Wes"}
TITLE = {"alpha": "Engineer", "bravo": "Manager", "delta": "engineer"}
MAX_FILL = 200  # users the maxResults check may add to exceed the advertised limit (removed right after)


class Population:
    """Four users (and one group) the query areas share; created once per run."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.scope = f"{ctx.prober.prefix}q-"
        self.users: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}  # label -> the userName sent (the answer's may be anything)
        self.group: dict[str, Any] | None = None
        self.group_name = ""
        self.has_enterprise = any(str(e.get("schema", "")).lower() == ENTERPRISE_URN.lower()
                                  for e in dicts(dig(ctx.resource_types.get("User"), "schemaExtensions")))

    def create(self) -> None:
        ctx = self.ctx
        for label in LABELS:
            body = ctx.user_body(f"q-{label}", name={"givenName": GIVEN[label], "familyName": label.capitalize()},
                                 active=label != "bravo")
            body["externalId"] = f"{body['userName']}-ext"
            body["emails"] = [{"value": f"{body['userName']}@example.com", "type": "work", "primary": True},
                              {"value": f"{label}-home@{ctx.run_id}.example.org", "type": "home"}]
            if label in TITLE:
                body["title"] = TITLE[label]
            if self.has_enterprise:
                body["schemas"] = [USER_URN, ENTERPRISE_URN]
                body[ENTERPRISE_URN] = {"department": f"Scimh-{label}"}
            ex, doc = ctx.create("Users", body)
            if doc is None:
                abort(f"could not create the user {label!r} the query checks need (answered {ex.status})")
            self.users[label], self.names[label] = doc, body["userName"]
        self.group_name = ctx.name("q-group")
        ex, grp = ctx.create("Groups", {"schemas": [GROUP_URN], "displayName": self.group_name,
                                        "members": [{"value": self.users["alpha"]["id"]}]})
        self.group = grp

    def uname(self, label: str) -> str:
        return self.names[label]

    def label_of(self, doc: dict[str, Any]) -> str | None:
        by_id = {u["id"]: lab for lab, u in self.users.items()}
        rid = doc.get("id")
        return by_id.get(rid) if isinstance(rid, str) else None

    def scoped(self, flt: str | None) -> str:
        base = f'userName sw "{self.scope}"'
        return base if flt is None else f"{base} and ({flt})"

    def labels(self, doc: Any) -> list[str]:
        return [lab for lab in (self.label_of(r) for r in resources(doc)) if lab]


def population(ctx: Ctx) -> Population:
    """The shared users; when they cannot be created, the calling area stops (its checks skipped, saying why)."""
    if "population" not in ctx.shared:
        pop = Population(ctx)
        ctx.shared["population"] = None
        ctx.shared["population_error"] = "the query population was not created"
        try:
            with ctx.step("create the query population (4 users, 1 group)", action="setup", needed=True):
                pop.create()
        except Exception as exc:
            ctx.shared["population_error"] = str(exc)
            raise
        ctx.shared["population"] = pop
    if ctx.shared["population"] is None:
        stop_area(f"the users the query checks need could not be created ({ctx.shared['population_error']})")
    return ctx.shared["population"]


def _expect(ctx: Ctx, pop: Population, cid: str, flt: str, want: set[str], subject: str | None = None,
            scoped: bool = True) -> None:
    sent = pop.scoped(flt) if scoped else flt
    ex, doc = ctx.query("Users", sent, count=50)
    got = set(pop.labels(doc))
    ok = ex.status == 200 and got == want
    # The message quotes the whole filter sent (scope included): a server may refuse the nesting, not the inner part.
    ctx.check(cid, ok, f"filter {sent!r} " + (f"found {sorted(got)}" if ex.status == 200 else f"answered {ex.status}")
              + ("" if ok else f", expected {sorted(want)}"), ex, subject=subject)


def _chronological_probe(pop: Population) -> str:
    """A dateTime filter that a string comparison gets wrong: an hour before the first user's
    creation, written in a +05:00 offset, so its text sorts after the server's own (Z) timestamps.
    RFC 7644 §3.4.2.2: gt on a dateTime compares chronologically (RFC 7643 §2.3.5)."""
    created = parse_time(meta_of(pop.users["alpha"]).get("created"))
    if created is None or created.tzinfo is None:
        return 'meta.lastModified gt "2000-01-01T00:00:00Z"'
    probe = (created - timedelta(hours=1)).astimezone(timezone(timedelta(hours=5)))
    return f'meta.created gt "{probe.isoformat()}"'


def _case_exact(ctx: Ctx, attr: str) -> bool:
    core = ctx.schemas.get(USER_URN.lower()) or {}
    return any(str(a.get("name", "")).lower() == attr.lower() and a.get("caseExact") is True
               for a in dicts(core.get("attributes")))


def run_filters(ctx: Ctx) -> None:
    if not ctx.caps.filter:
        with ctx.step("filters"):
            ctx.skip("rfc.discovery.advertised.filter", "filter.supported is false in /ServiceProviderConfig; filter checks skipped")
        return
    pop = population(ctx)
    a, b, c, d = (pop.uname(x) for x in LABELS)
    with ctx.step("which optional attributes the server stores", action="setup"):
        kept = stored(ctx)
    _advertised_filter(ctx, pop, a)
    _operators(ctx, pop, a, b, c, d, kept)
    _logic(ctx, pop, a, b, c, kept)
    _attribute_paths(ctx, pop, a)
    _case(ctx, pop, a, kept)
    _no_match_and_invalid(ctx, a)
    _external_id(ctx, pop, a)
    _paging_search_groups(ctx, pop)
    _sparse(ctx, pop)


def _advertised_filter(ctx: Ctx, pop: Population, a: str) -> None:
    with ctx.step("the advertised filter works"):
        ex, doc = ctx.query("Users", f'userName eq "{a}"')
        ctx.standard(ex, 200, "ListResponse:User")
        ok = ex.status == 200 and pop.labels(doc) == ["alpha"]
        ctx.check("rfc.discovery.advertised.filter", ok, f"userName eq answered {ex.status} with {pop.labels(doc)}", ex)
        ctx.check("rfc.filters.eq", ok, f"userName eq found {pop.labels(doc)}", ex)


def _with_title(ctx: Ctx, pop: Population, kept: Stored, cid: str, flt: str, want: set[str], subject: str | None = None) -> None:
    """A filter check on title, judged only when the server stores title (harness.conformance.stored)."""
    if kept.keeps("title"):
        _expect(ctx, pop, cid, flt, want, subject=subject)
    else:
        ctx.skip(cid, kept.why_not("title"), subject=subject)


def _operators(ctx: Ctx, pop: Population, a: str, b: str, c: str, d: str, kept: Stored) -> None:
    with ctx.step("operators"):
        _expect(ctx, pop, "rfc.filters.ne", f'userName ne "{a}"', {"bravo", "charlie", "delta"})
        _expect(ctx, pop, "rfc.filters.co", 'userName co "q-brav"', {"bravo"})
        _expect(ctx, pop, "rfc.filters.sw", f'userName sw "{pop.scope}char"', {"charlie"})
        _expect(ctx, pop, "rfc.filters.ew", f'userName ew "{d[len(pop.scope):]}"', {"delta"})
        _with_title(ctx, pop, kept, "rfc.filters.pr", "title pr", {"alpha", "bravo", "delta"})
        _expect(ctx, pop, "rfc.filters.gt", f'userName gt "{b}"', {"charlie", "delta"})
        _expect(ctx, pop, "rfc.filters.ge", f'userName ge "{b}"', {"bravo", "charlie", "delta"})
        _expect(ctx, pop, "rfc.filters.lt", f'userName lt "{c}"', {"alpha", "bravo"})
        _expect(ctx, pop, "rfc.filters.le", f'userName le "{c}"', {"alpha", "bravo", "charlie"})


def _logic(ctx: Ctx, pop: Population, a: str, b: str, c: str, kept: Stored) -> None:
    with ctx.step("logical operators and precedence"):
        # Exact-case values: each operator check tests its operator only (value-case has its own check).
        _with_title(ctx, pop, kept, "rfc.filters.and", 'title eq "engineer" and name.givenName eq "Wes"', {"delta"})
        _expect(ctx, pop, "rfc.filters.or", f'userName eq "{a}" or userName eq "{c}"', {"alpha", "charlie"})
        _expect(ctx, pop, "rfc.filters.not", f'not (userName eq "{a}")', {"bravo", "charlie", "delta"})
        _expect(ctx, pop, "rfc.filters.precedence", f'userName eq "{a}" or userName eq "{b}" and title eq "Nobody"', {"alpha"})
        _with_title(ctx, pop, kept, "rfc.filters.grouping", f'(userName eq "{a}" or userName eq "{b}") and title eq "Manager"', {"bravo"})


def _attribute_paths(ctx: Ctx, pop: Population, a: str) -> None:
    with ctx.step("attribute paths"):
        _expect(ctx, pop, "rfc.filters.sub-attribute", 'name.familyName eq "Charlie"', {"charlie"})
        _expect(ctx, pop, "rfc.filters.value-path", 'emails[type eq "work" and value co "q-bravo"]', {"bravo"})
        _expect(ctx, pop, "rfc.filters.multi-valued", f'emails.value eq "alpha-home@{ctx.run_id}.example.org"', {"alpha"})
        _expect(ctx, pop, "rfc.filters.urn-qualified", f'{USER_URN}:userName eq "{a}"', {"alpha"})
        if pop.has_enterprise:
            _expect(ctx, pop, "rfc.filters.extension", f'{ENTERPRISE_URN}:department eq "Scimh-bravo"', {"bravo"})
        else:
            ctx.skip("rfc.filters.extension", "the User resource type declares no enterprise extension")
        _expect(ctx, pop, "rfc.filters.boolean", "active eq false", {"bravo"})
        _expect(ctx, pop, "rfc.filters.datetime", _chronological_probe(pop), set(LABELS))


def _case(ctx: Ctx, pop: Population, a: str, kept: Stored) -> None:
    with ctx.step("case-insensitivity"):
        _expect(ctx, pop, "rfc.filters.attribute-name-case", f'USERNAME EQ "{a}"', {"alpha"}, subject="USERNAME EQ")
        _expect(ctx, pop, "rfc.filters.attribute-name-case", 'NAME.FAMILYNAME eq "Delta"', {"delta"}, subject="NAME.FAMILYNAME")
        _expect(ctx, pop, "rfc.filters.value-case", f'userName eq "{a.upper()}"', {"alpha"}, subject="userName")
        if _case_exact(ctx, "title"):
            ctx.skip("rfc.filters.value-case", "the server declares title caseExact: true", subject="title")
        else:
            _with_title(ctx, pop, kept, "rfc.filters.value-case", 'title eq "ENGINEER"', {"alpha", "delta"}, subject="title")


def _no_match_and_invalid(ctx: Ctx, a: str) -> None:
    with ctx.step("no match, invalid filters"):
        ex, doc = ctx.query("Users", f'userName eq "{ctx.prober.prefix}nobody"')
        ctx.standard(ex, 200, "ListResponse:User")
        total = doc.get("totalResults") if isinstance(doc, dict) else None
        ctx.check("rfc.filters.no-match", ex.status == 200 and total == 0 and not resources(doc),
                  f"answered {ex.status} with totalResults {total!r}", ex)
        for bad in ("userName eq", 'userName zz "x"', f'(userName eq "{a}"', 'userName eq "unterminated'):
            ex = ctx.send("GET", "/Users", params={"filter": bad})
            ctx.standard(ex, 400)
            ctx.check("rfc.filters.invalid-400", ex.status == 400, f"filter {bad!r} answered {ex.status}", ex, subject=bad)
            err = ex.json() if isinstance(ex.json(), dict) else {}
            ctx.check("rfc.filters.invalid-scim-type", ex.status != 400 or err.get("scimType") == "invalidFilter",
                      f"scimType {err.get('scimType')!r}", ex, subject=bad)


def _sparse(ctx: Ctx, pop: Population) -> None:
    with ctx.step("filters while a user with only userName and a group without members exist"):
        # RFC 7643 §4.1, §4.2: only userName (displayName) is required; a filter on an attribute some
        # resource lacks simply does not match it (RFC 7644 §3.4.2.2), it is no error.
        exu, user = ctx.create("Users", {"schemas": [USER_URN], "userName": ctx.name("q-zz-sparse")})
        exg, grp = ctx.create("Groups", {"schemas": [GROUP_URN], "displayName": ctx.name("q-empty-group")})
        if user is None or grp is None:
            ctx.skip("rfc.filters.sparse-resources", f"the sparse user and group could not be created ({exu.status}, {exg.status})")
        else:
            for subject, flt, want in (("name.familyName", 'name.familyName eq "Charlie"', {"charlie"}),
                                       ("emails[…]", 'emails[type eq "work" and value co "q-bravo"]', {"bravo"}),
                                       ("emails.value", f'emails.value eq "alpha-home@{ctx.run_id}.example.org"', {"alpha"})):
                _expect(ctx, pop, "rfc.filters.sparse-resources", flt, want, subject=subject)
            if pop.group is not None:
                flt = f'members[value eq "{pop.users["alpha"]["id"]}"]'
                ex, doc = ctx.query("Groups", flt)
                ids = [r.get("id") for r in resources(doc)]
                ctx.check("rfc.filters.sparse-resources", ex.status == 200 and pop.group["id"] in ids and grp["id"] not in ids,
                          f"filter {flt!r} on Groups answered {ex.status} with {ids}", ex, subject="members")
        for coll, doc in (("Users", user), ("Groups", grp)):  # gone before paging counts the scope
            if doc is not None and ctx.send("DELETE", f"/{coll}/{path_id(doc['id'])}").status in (200, 204):
                ctx.prober.forget(coll, doc["id"])


def _external_id(ctx: Ctx, pop: Population, a: str) -> None:
    with ctx.step("externalId eq; a clause that matches nothing is not dropped"):
        ext = f"{a}-ext"
        exg, alpha = ctx.get_json(f"/Users/{path_id(pop.users['alpha']['id'])}")
        if not isinstance(alpha, dict) or alpha.get("externalId") != ext:
            why = (f"the user was created with externalId {ext!r}; read back it is "
                   f"{alpha.get('externalId') if isinstance(alpha, dict) else exg.status!r}")
            for cid in ("rfc.filters.external-id", "rfc.filters.clause-not-dropped"):
                ctx.skip(cid, why + ": a filter on it is not judged")
            return
        # Entra matches users with externalId eq (idp-wire.md); RFC 7643 §3.1: externalId is caseExact.
        _expect(ctx, pop, "rfc.filters.external-id", f'externalId eq "{ext}"', {"alpha"})
        # RFC 7644 §3.4.2.2: "and" needs both clauses; a server that cannot evaluate one answers 400
        # (invalidFilter), it never ignores it — ignoring returns alpha here.
        sent = f'userName eq "{a}" and externalId eq "{ctx.prober.prefix}nope"'
        ex, doc = ctx.query("Users", sent)
        got = pop.labels(doc)
        ok = ex.status == 400 or (ex.status == 200 and not got)
        ctx.check("rfc.filters.clause-not-dropped", ok, f"filter {sent!r} answered {ex.status}"
                  + (f" with {got}" if ex.status == 200 else "") + ("" if ok else ": the externalId clause was dropped"), ex)


def _paging_search_groups(ctx: Ctx, pop: Population) -> None:
    with ctx.step("filters with paging, POST .search, groups"):
        ex, doc = ctx.query("Users", pop.scoped(None), count=2)
        n, total = len(resources(doc)), doc.get("totalResults") if isinstance(doc, dict) else None
        ctx.check("rfc.filters.with-paging", ex.status == 200 and total == 4 and n == 2,
                  f"count=2 gave {n} resource(s) with totalResults {total!r} (expected 2 of 4)", ex)
        search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": pop.scoped(None), "count": 50}
        ex = ctx.send("POST", "/Users/.search", body=search)
        # RFC 7644 §3.4.3: POST /.search is a MAY; offered but wrong is a failure, not offered a skip.
        if ex.status == 200:
            got = set(pop.labels(ex.json()))
            ctx.check("rfc.filters.post-search", got == set(LABELS), f"found {sorted(got)}"
                      + ("" if got == set(LABELS) else f", expected {sorted(LABELS)}"), ex)
        elif ex.status in (403, 404, 405, 501):
            ctx.skip("rfc.filters.post-search", f"POST /Users/.search answered {ex.status}: not offered (RFC 7644 §3.4.3, MAY)")
        else:
            ctx.check("rfc.filters.post-search", False, f"POST /Users/.search answered {ex.status}", ex)
        if ex.status != 200 or set(pop.labels(ex.json())) != set(LABELS):
            ctx.skip("rfc.filters.post-search-paging", f"POST /Users/.search answered {ex.status}"
                     + ("" if ex.status != 200 else " without the 4 users") + ": its paging is not judged (see rfc.filters.post-search)")
        else:
            # RFC 7644 §3.4.3: startIndex and count are attributes of the SearchRequest body.
            paged = {**search, "startIndex": 3, "count": 2}
            ex, doc = ctx.send("POST", "/Users/.search", body=paged), None
            doc = ex.json()
            n = len(resources(doc))
            start = doc.get("startIndex") if isinstance(doc, dict) else None
            total = doc.get("totalResults") if isinstance(doc, dict) else None
            ok = ex.status == 200 and n == 2 and start == 3 and total == 4
            ctx.check("rfc.filters.post-search-paging", ok, f"POST /Users/.search {json.dumps(paged)} answered {ex.status}: "
                      f"{n} resource(s), startIndex {start!r}, totalResults {total!r}" + ("" if ok else " (expected 2 of 4 from 3)"), ex)
        if pop.group is not None:
            gname = pop.group_name
            ex, doc = ctx.query("Groups", f'displayName eq "{gname}"')
            ids = [r.get("id") for r in resources(doc)]
            ctx.check("rfc.filters.groups-display-name", ex.status == 200 and ids == [pop.group["id"]], f"found {ids}", ex)
            ex, doc = ctx.query("Groups", f'displayName eq "{gname}" and members[value eq "{pop.users["alpha"]["id"]}"]')
            ids = [r.get("id") for r in resources(doc)]
            ctx.check("rfc.filters.groups-member", ex.status == 200 and ids == [pop.group["id"]],
                      f"answered {ex.status} with {ids}", ex)


def _paging_scope(ctx: Ctx, pop: Population) -> tuple[str | None, int | None, str]:
    """What pagination is judged on: the suite's own users through the scope filter when filtering is
    advertised, else the whole collection (RFC 7644 §3.4.2.4 does not need filter support) — its
    total as first answered. Returns (filter or None, the expected totalResults, how it was chosen)."""
    if ctx.caps.filter:
        return pop.scoped(None), len(LABELS), "the suite's own users"
    ex, doc = ctx.query("Users", None, count=1)
    total = doc.get("totalResults") if isinstance(doc, dict) else None
    ok = isinstance(total, int) and not isinstance(total, bool) and total >= len(LABELS)
    return None, total if ok else None, "every user (filter.supported is false)"


def run_paging(ctx: Ctx) -> None:
    pop = population(ctx)
    with ctx.step("count, totalResults, startIndex"):
        flt, want_total, scope = _paging_scope(ctx, pop)
        _paging_first_pages(ctx, flt, want_total, scope)
    with ctx.step("walk the pages one by one"):
        _paging_walk(ctx, pop, flt, want_total, scope)
    with ctx.step("edge cases"):
        _paging_edge_cases(ctx, flt, want_total)
    with ctx.step("itemsPerPage is the number returned"):
        _paging_items_per_page(ctx, flt, want_total)
    with ctx.step("the advertised maxResults is enforced"):
        _paging_max_results(ctx, flt, want_total, scope)
    with ctx.step("groups page too"):
        _paging_groups(ctx)


def _paging_first_pages(ctx: Ctx, flt: str | None, want_total: int | None, scope: str) -> None:
    """count, totalResults and startIndex on the first two pages (RFC 7644 §3.4.2.4)."""
    ex, doc = ctx.query("Users", flt, count=2)
    ctx.standard(ex, 200, "ListResponse:User")
    items = resources(doc)
    ok = ex.status == 200 and len(items) <= 2 and dig(doc, "itemsPerPage") == len(items)
    ctx.check("rfc.paging.count", ok, f"{wire(ex)}: {len(items)} resource(s), itemsPerPage {dig(doc, 'itemsPerPage')!r}", ex)
    total = doc.get("totalResults") if isinstance(doc, dict) else None
    # Unscoped (filter.supported false) other clients provision meanwhile: the total read first and a
    # fresh one read after bound the answer's.
    after = _total_now(ctx, flt) if flt is None and want_total is not None else want_total
    lo, hi = (want_total, want_total) if after is None or want_total is None else sorted((want_total, after))
    ok = want_total is not None and isinstance(total, int) and lo <= total <= hi
    wanted = ("at least 4" if want_total is None else f"{lo}" if lo == hi else f"{lo}-{hi}, the totals read around it")
    ctx.check("rfc.paging.total", ok, f"{wire(ex)}: totalResults {total!r}, expected {wanted} ({scope})", ex)
    fields = {k: doc.get(k) for k in ("totalResults", "startIndex", "itemsPerPage")} if isinstance(doc, dict) else {}
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in fields.values()) and len(fields) == 3
    ctx.check("rfc.paging.integers", ints, f"{fields}", ex)
    ex1, doc1 = ctx.query("Users", flt, startIndex=1, count=2)
    first = {str(r.get("id")) for r in resources(doc1)}
    if ex1.status != 200 or len(first) != 2:
        # RFC 7644 §3.4.2.4: the second page is judged against a working first page.
        ctx.skip("rfc.paging.start-index", f"{wire(ex1)} answered {ex1.status} with {len(first)} resource(s): "
                 "no first page of 2 to compare the second with (see rfc.paging.count)")
    else:
        ex, doc = ctx.query("Users", flt, startIndex=3, count=2)
        # RFC 7644 §3.4.2.4: startIndex is applied, not just echoed — the second page holds the next two.
        second = {str(r.get("id")) for r in resources(doc)}
        ok = (ex.status == 200 and isinstance(doc, dict) and doc.get("startIndex") == 3 and len(second) == 2
              and not first & second)
        ctx.check("rfc.paging.start-index", ok, f"{wire(ex)}: startIndex {doc.get('startIndex') if isinstance(doc, dict) else None!r}, "
                  f"ids {sorted(second)} after {sorted(first)} on page 1", ex)


def _total_now(ctx: Ctx, flt: str | None) -> int | None:
    """totalResults of a fresh one-resource page (None when it is not an integer)."""
    _, doc = ctx.query("Users", flt, count=1)
    total = doc.get("totalResults") if isinstance(doc, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _snapshot(ctx: Ctx, flt: str | None, want_total: int) -> tuple[int | None, list[str]]:
    """totalResults and the ids of one page holding the whole collection, to see whether it moved."""
    _, doc = ctx.query("Users", flt, startIndex=1, count=want_total)
    total = doc.get("totalResults") if isinstance(doc, dict) else None
    return total, [str(r.get("id")) for r in resources(doc)]


def _paging_walk(ctx: Ctx, pop: Population, flt: str | None, want_total: int | None, scope: str) -> None:
    """Every page of count=1 in turn, up to totalResults (as an importer walks): each user exactly once."""
    ex1, doc1 = ctx.query("Users", flt, startIndex=1, count=1)
    if ex1.status != 200 or len(resources(doc1)) != 1:
        ctx.skip("rfc.paging.walk", f"{wire(ex1)} answered {ex1.status} with {len(resources(doc1))} resource(s): "
                 "the walk needs a working first page (see rfc.paging.count)")
        return
    if want_total is None or want_total > 50:
        ctx.skip("rfc.paging.walk", f"the collection holds {want_total!r} users; the walk one by one is judged on at "
                 "most 50 (the suite's own users, scoped by a filter, when filter.supported is true)")
        return
    before = _snapshot(ctx, flt, want_total) if flt is None else None
    seen: list[str] = [str(r.get("id")) for r in resources(doc1)]
    last = ex1
    # idp-wire.md, Import: Okta walks startIndex += count until totalResults, never past it; the page past
    # the end is judged by rfc.paging.past-end, not here.
    for start in range(2, want_total + 1):
        last, doc = ctx.query("Users", flt, startIndex=start, count=1)
        seen.extend(str(r.get("id")) for r in resources(doc))
    if before is not None and _snapshot(ctx, flt, want_total) != before:
        # Unscoped (filter.supported false), the collection is every user: other clients, and the other
        # scenarios of this run, add and remove users during the walk, which shifts the pages.
        ctx.skip("rfc.paging.walk", f"the collection changed during the walk ({scope}; {before[0]!r} users before): "
                 "other clients or scenarios provisioned meanwhile, so the pages cannot be judged")
        return
    mine = [pop.label_of({"id": i}) for i in seen if pop.label_of({"id": i})]
    ok = len(seen) == len(set(seen)) == want_total and sorted(mine) == sorted(LABELS)
    ctx.check("rfc.paging.walk", ok, f"{want_total} pages of count=1 ({scope}) gave {len(seen)} resource(s), "
              f"{len(set(seen))} distinct, the suite's users in order {mine}"
              + ("" if ok else f"; expected each of {want_total} once"), last)


def _paging_edge_cases(ctx: Ctx, flt: str | None, want_total: int | None) -> None:
    """startIndex < 1 and count < 1 are clamped; past the end is an empty page (RFC 7644 §3.4.2.4)."""
    past = (want_total or 0) + 100
    for cid, params, want_n, want_start in (("rfc.paging.start-zero", {"startIndex": 0, "count": 1}, 1, 1),
                                            ("rfc.paging.start-negative", {"startIndex": -5, "count": 1}, 1, 1),
                                            ("rfc.paging.count-zero", {"count": 0}, 0, None),
                                            ("rfc.paging.count-negative", {"count": -1}, 0, None),
                                            ("rfc.paging.past-end", {"startIndex": past, "count": 10}, 0, None)):
        # Scoped to the suite's users the total is known; unscoped (filter.supported false) other clients
        # provision meanwhile, so the answer's total is judged against fresh totals read around it.
        lo = hi = want_total
        if flt is None and want_total is not None:
            lo = _total_now(ctx, flt)
        ex, doc = ctx.query("Users", flt, **params)
        if flt is None and want_total is not None:
            hi = _total_now(ctx, flt)
            lo, hi = (min(lo, hi), max(lo, hi)) if lo is not None and hi is not None else (want_total, want_total)
        ctx.standard(ex, 200)
        n = len(resources(doc))
        total = doc.get("totalResults") if isinstance(doc, dict) else None
        ok = (ex.status == 200 and n == want_n and lo is not None and hi is not None and isinstance(total, int)
              and lo <= total <= hi)
        if want_start is not None and isinstance(doc, dict) and "startIndex" in doc:
            ok = ok and doc.get("startIndex") == want_start
        wanted = f"{lo!r}" if lo == hi else f"{lo}-{hi}, the totals read around it"
        ctx.check(cid, ok, f"{wire(ex)}: answered {ex.status}, {n} resource(s), totalResults {total!r}"
                  + ("" if ok else f" (expected {want_n} of {wanted})"), ex)


def _paging_items_per_page(ctx: Ctx, flt: str | None, want_total: int | None) -> None:
    """itemsPerPage is the number of resources returned (RFC 7644 §3.4.2)."""
    # RFC 7644 §3.4.2: itemsPerPage is "the number of resources returned in a list response page",
    # not the count asked for. Judged on lists with and without count, short of and past the end.
    wrong: list[str] = []
    last = None
    for params in ({"count": 50}, {}, {"count": 3}, {"startIndex": (want_total or 0) + 100, "count": 5}):
        last, doc = ctx.query("Users", flt, **params)
        if last.status == 200 and isinstance(doc, dict) and "itemsPerPage" in doc and doc["itemsPerPage"] != len(resources(doc)):
            wrong.append(f"{wire(last)}: itemsPerPage {doc['itemsPerPage']!r} for {len(resources(doc))} resource(s)")
    last, doc = ctx.query("Groups", None, count=50)
    if last.status == 200 and isinstance(doc, dict) and "itemsPerPage" in doc and doc["itemsPerPage"] != len(resources(doc)):
        wrong.append(f"{wire(last)}: itemsPerPage {doc['itemsPerPage']!r} for {len(resources(doc))} group(s)")
    ctx.check("rfc.paging.items-per-page", not wrong, "; ".join(wrong) if wrong else
              "itemsPerPage equals the number of resources on every list", last)


def _paging_max_results(ctx: Ctx, flt: str | None, want_total: int | None, scope: str) -> None:
    """RFC 7643 §5: filter.maxResults is "the maximum number of resources returned in a response"; judged
    when more resources than that match — the suite adds the users missing for it (at most MAX_FILL) and
    removes them right after, so the areas after paging see the population unchanged."""
    n = ctx.caps.max_results
    if n is None:
        ctx.skip("rfc.paging.max-results", "filter.maxResults is not a positive integer in /ServiceProviderConfig "
                 "(see rfc.discovery.spc.filter-max-results)")
        return
    missing = n + 1 - (want_total or 0)
    if want_total is None or missing > MAX_FILL:
        ctx.skip("rfc.paging.max-results", f"maxResults is {n} and the query matches {want_total!r} resource(s) "
                 f"({scope}): more than {n} must match, and the suite adds at most {MAX_FILL} users to get there")
        return
    fill = _fill(ctx, max(missing, 0))
    try:
        if fill is not None:
            for params in ({"count": n + 1}, {}):
                ex, doc = ctx.query("Users", flt, **params)
                got, total = len(resources(doc)), dig(doc, "totalResults")
                ctx.check("rfc.paging.max-results", ex.status == 200 and got <= n,
                          f"{wire(ex)}: answered {ex.status} with {got} resource(s) of {total!r}; maxResults is {n}", ex,
                          subject=f"count={n + 1}" if params else "no count")
    finally:
        for uid in fill or []:
            if ctx.send("DELETE", f"/Users/{path_id(uid)}").status in (200, 204):
                ctx.prober.forget("Users", uid)


def _fill(ctx: Ctx, k: int) -> list[str] | None:
    """k more users in the query scope (their ids), or None (skipped, saying why) when one cannot be created."""
    made: list[str] = []
    for i in range(k):
        ex, doc = ctx.create("Users", {"schemas": [USER_URN], "userName": ctx.name(f"q-fill{i}")})
        if doc is None:
            ctx.skip("rfc.paging.max-results", f"could not create the users needed to exceed maxResults ({ex.status})")
            for uid in made:
                if ctx.send("DELETE", f"/Users/{path_id(uid)}").status in (200, 204):
                    ctx.prober.forget("Users", uid)
            return None
        made.append(doc["id"])
    return made


def _paging_groups(ctx: Ctx) -> None:
    """Groups page too."""
    ex, doc = ctx.query("Groups", None, count=1)
    ctx.standard(ex, 200, "ListResponse:Group")
    total = doc.get("totalResults") if isinstance(doc, dict) else None
    ok = ex.status == 200 and len(resources(doc)) <= 1 and isinstance(total, int) and total >= 1
    ctx.check("rfc.paging.groups", ok, f"count=1: {len(resources(doc))} group(s), totalResults {total!r}", ex)


def run_sort(ctx: Ctx) -> None:
    if not (ctx.caps.sort and ctx.caps.filter):
        with ctx.step("sorting"):
            why = "sort.supported is false in /ServiceProviderConfig" if not ctx.caps.sort else "sorting is checked with a filter"
            for cid in ("rfc.discovery.advertised.sort", "rfc.sort.ascending"):
                ctx.skip(cid, why)
        return
    pop = population(ctx)
    flt = pop.scoped(None)
    asc, desc = list(LABELS), list(reversed(LABELS))
    with ctx.step("sortBy and sortOrder"):
        for cid, params, want in (("rfc.sort.ascending", {"sortBy": "userName", "sortOrder": "ascending"}, asc),
                                  ("rfc.sort.descending", {"sortBy": "userName", "sortOrder": "descending"}, desc),
                                  ("rfc.sort.default-order", {"sortBy": "userName"}, asc),
                                  ("rfc.sort.sub-attribute", {"sortBy": "name.givenName"}, desc),
                                  ("rfc.sort.paged", {"sortBy": "userName", "sortOrder": "descending", "startIndex": 2, "count": 2},
                                   desc[1:3])):
            ex, doc = ctx.query("Users", flt, **params)
            got = pop.labels(doc)
            ok = ex.status == 200 and got == want
            ctx.check(cid, ok, f"{params}: {got if ex.status == 200 else ex.status}" + ("" if ok else f", expected {want}"), ex)
            if cid == "rfc.sort.ascending":
                ctx.check("rfc.discovery.advertised.sort", ex.status == 200, f"sortBy answered {ex.status}", ex)
