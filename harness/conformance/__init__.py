"""The `rfc` conformance suite: every RFC 7643/7644 rule Okta and Entra lean on, as checks.

`run_suite(prober)` (or `run_rfc(client, transcript)`, which makes the prober) runs the areas in
order — discovery, schema, users, groups, filters, paging, sort, projection, patch, bulk, etag, auth,
errors — and returns one ScenarioResult per area plus the `safety` area, which always runs
(try/finally) and checks that nothing the suite created is left.

`Suite` holds the run as units a parallel run schedules (harness.parallel): discovery first (every
other area reads what the server advertises); then each area on a prober of its own — its own name
prefix under the suite's, its own fixtures (the query population, what the server stores), its own
clean-up at its end — so they can run side by side; errors after all of them (it judges every error
answer they provoked); safety last. A sequential run goes through the same units in plan order, so
both runs send the same requests and report the same results.
"""
from __future__ import annotations

import secrets
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import httpx

from harness.breaker import GuardedTranscript
from harness.conformance import bulk, crud, discovery, patch, projection, protocol, query, server_schema
from harness.conformance.areas import areas_for
from harness.conformance.context import AreaStop, Ctx, StepAbort
from harness.prober import Prober
from harness.results import ScenarioResult, StepResult
from harness.rules import CATALOGUE
from harness.session import Reporter, run_prefix
from harness.transcript import Exchange, Transcript

SUITE_FILE = "harness/conformance (rfc suite)"
AREA_RUNNERS: dict[str, Callable[[Ctx], None]] = {
    "discovery": discovery.run, "schema": server_schema.run, "users": crud.run_users, "groups": crud.run_groups,
    "filters": query.run_filters, "paging": query.run_paging, "sort": query.run_sort,
    "projection": projection.run_projection, "patch": patch.run, "bulk": bulk.run, "etag": protocol.run_etag,
    # auth before errors: rfc.errors.error-body then judges every 401 the auth probes provoked too
    "auth": protocol.run_auth, "errors": protocol.run_errors,
}
DESCRIPTIONS = {
    "discovery": "ServiceProviderConfig, ResourceTypes, Schemas; what is advertised is what is done (RFC 7644 §4)",
    "schema": "responses against the server's own /Schemas (RFC 7643 §2, §3, §7)",
    "users": "Users create/read/replace/delete and meta (RFC 7644 §3.3-3.6)",
    "groups": "Groups create/read/replace/delete and membership (RFC 7643 §4.2)",
    "filters": "every filter operator, logic, precedence, paths and case rules (RFC 7644 §3.4.2.2)",
    "paging": "startIndex/count and their edge cases (RFC 7644 §3.4.2.4)",
    "sort": "sortBy/sortOrder when advertised (RFC 7644 §3.4.2.3)",
    "projection": "attributes/excludedAttributes (RFC 7644 §3.4.2.5)",
    "patch": "PATCH operations, paths, atomicity and errors; 200 or 204 (RFC 7644 §3.5.2)",
    "bulk": "POST /Bulk when advertised: the four methods, bulkId references, failOnErrors, 413 limits (RFC 7644 §3.7)",
    "etag": "ETags and conditional requests when advertised (RFC 7644 §3.14)",
    "errors": "SCIM Error responses (RFC 7644 §3.12)",
    "auth": "401 for a missing or wrong token on every endpoint (RFC 7644 §2)",
    "safety": "the suite's own resources are prefixed and removed",
}


def run_rfc(client: httpx.Client, transcript: Transcript | None = None, *, areas: list[str] | None = None,
            checks: list[str] | None = None, reporter: Reporter | None = None,
            run_id: str | None = None) -> list[ScenarioResult]:
    """Run the rfc suite with `client` (base URL = the SCIM base, Authorization set), recording into
    `transcript` (default: one with a breaker). Never raises. See run_suite."""
    run_id = run_id or secrets.token_hex(3)
    prober = Prober(client, transcript if transcript is not None else GuardedTranscript(), prefix=run_prefix(run_id))
    return run_suite(prober, run_id=run_id, areas=areas, checks=checks, reporter=reporter)


# What each area costs, relative to the others (its duration against a server 50 ms away, measured on the
# mock): only the order matters, a parallel run starts the longest chains of work first.
AREA_COST = {"discovery": 0.9, "schema": 0.4, "users": 1.5, "groups": 1.1, "filters": 5.6, "paging": 1.7, "sort": 0.5,
             "projection": 1.1, "patch": 4.2, "bulk": 1.0, "etag": 0.5, "auth": 0.5, "errors": 0.3, "safety": 0.5}
# Without filter support paging walks every user of the target: it runs while no other area writes.
UNSCOPED_ALONE = ("paging",)


def run_suite(prober: Prober, *, run_id: str, areas: list[str] | None = None, checks: list[str] | None = None,
              reporter: Reporter | None = None) -> list[ScenarioResult]:
    """Run the rfc suite through `prober` (its names carry the run prefix), area after area. Never raises.
    `areas` and/or `checks` (catalogue ids) narrow the run to the areas they need; discovery and the
    safety cleanup always run, so results may hold other checks of those areas too."""
    return Suite(prober, run_id=run_id, areas=areas, checks=checks).run_in_order(reporter)


class Suite:
    """The rfc suite's areas as units of work (the module docstring); `run(area)` once each, after the
    areas `plan()` says it runs after; areas without an order between them may run at once."""

    def __init__(self, prober: Prober, *, run_id: str, areas: list[str] | None = None,
                 checks: list[str] | None = None) -> None:
        if checks is not None:
            areas = list(dict.fromkeys([*(areas or []), *areas_for(checks)]))
        self.prober, self.run_id = prober, run_id
        self.wanted = [a for a in AREA_RUNNERS if areas is None or a in areas or a == "discovery"]
        self.base = Ctx(prober, run_id=run_id)  # discovery's: what the server advertises, read by every area
        self.done: dict[str, ScenarioResult] = {}
        self.cleaned: dict[str, list[Exchange]] = {}  # what each area deleted at its end
        self.before: tuple[int | None, int | None] = (None, None)
        self.gate = Gate()
        self._lock = threading.Lock()

    def plan(self) -> list[tuple[str, tuple[str, ...]]]:
        """(area, the areas it runs after), in plan order: discovery, the others, errors, safety."""
        out: list[tuple[str, tuple[str, ...]]] = [("discovery", ())]
        out += [(a, ("discovery",)) for a in self.wanted if a not in ("discovery", "errors")]
        if "errors" in self.wanted:  # it judges every error answer the areas before it provoked
            out.append(("errors", tuple(a for a, _ in out)))
        return out + [("safety", tuple(a for a, _ in out))]

    def run_in_order(self, reporter: Reporter | None = None) -> list[ScenarioResult]:
        """Every area, one after another in plan order; safety whatever happens (try/finally)."""
        try:
            for area, _ in self.plan()[:-1]:
                self.run(area, reporter)
        finally:
            self.run("safety", reporter)
        return self.results()

    def results(self) -> list[ScenarioResult]:
        """The areas run so far, in plan order."""
        return [self.done[a] for a, _ in self.plan() if a in self.done]

    def run(self, area: str, reporter: Reporter | None = None) -> ScenarioResult:
        """Run one area (its reporter events to `reporter`); never raises for what the target does."""
        if area == "discovery":
            self.before = protocol.totals(self.base)
            ctx = self.base
            _run_area(ctx, area, AREA_RUNNERS[area], reporter)
        elif area == "safety":
            ctx = self._safety_ctx()
            _run_area(ctx, area, lambda c: protocol.run_safety(c, *self.before), reporter)
        else:
            ctx = self._area_ctx(area)
            with self.gate.alone() if area in UNSCOPED_ALONE and not ctx.caps.filter else self.gate.shared():
                _run_area(ctx, area, AREA_RUNNERS[area], reporter)
            self._clean_up(area, ctx.prober)
        with self._lock:
            self.done[area] = ctx.areas[-1]
        return ctx.areas[-1]

    def _area_ctx(self, area: str) -> Ctx:
        prober = Prober(self.prober.client, self.prober.transcript, prefix=f"{self.prober.prefix}{area}-")
        ctx = Ctx(prober, run_id=self.run_id)
        ctx.caps, ctx.schemas, ctx.resource_types = self.base.caps, self.base.schemas, self.base.resource_types
        if area == "errors":
            ctx.areas = self.results()  # every area before it, in plan order
        return ctx

    def _clean_up(self, area: str, prober: Prober) -> None:
        """The area's own resources deleted at its end; what could not be is left to the safety area."""
        deleted = prober.cleanup()
        with self._lock:
            self.cleaned[area] = deleted
            for coll, rid in prober.created:
                self.prober.remember(coll, rid)

    def _safety_ctx(self) -> Ctx:
        with self._lock:
            deleted = [e for a, _ in self.plan() for e in self.cleaned.get(a, [])]
        ctx = Ctx(SuiteLedger(self.prober, deleted), run_id=self.run_id)
        ctx.caps = self.base.caps
        return ctx


class SuiteLedger(Prober):
    """The suite's prober at its end: cleanup() deletes what is left and counts what the areas deleted."""

    def __init__(self, prober: Prober, deleted: list[Exchange]) -> None:
        super().__init__(prober.client, prober.transcript, prefix=prober.prefix)
        self.created = prober.created
        self.deleted = deleted

    def cleanup(self) -> list[Exchange]:
        return [*self.deleted, *super().cleanup()]


class Gate:
    """Areas share the target (`shared`), or one runs while no other does (`alone`); a waiting `alone`
    goes before later `shared` ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._alone = False
        self._waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._alone and not self._waiting)
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._alone and not self._shared)
            self._waiting -= 1
            self._alone = True
        try:
            yield
        finally:
            with self._cond:
                self._alone = False
                self._cond.notify_all()


def _run_area(ctx: Ctx, area: str, fn: Callable[[Ctx], None], reporter: Reporter | None) -> None:
    name = f"rfc: {area}"
    if reporter:
        reporter.scenario_started(name)
    sc = ScenarioResult(name=name, file=SUITE_FILE, description=DESCRIPTIONS.get(area, ""), tags=["rfc", area],
                        rules=sorted({d.source for d in CATALOGUE.values() if d.area == area}), dialect="rfc")
    ctx.areas.append(sc)
    ctx.scenario = sc
    t0 = time.perf_counter()
    why = ctx.prober.stopped
    if why is not None and area != "safety":  # the target stopped answering: nothing more is sent
        sc.skipped = f"skipped: {why}"
        if reporter:
            reporter.scenario_finished(sc)
        return
    try:
        fn(ctx)
        failed = next((st for st in sc.steps if st.error), None)
        if failed is not None and area != "safety":  # a step that could not finish leaves checks unjudged
            ctx.skip_rest(area, f"not judged: step {failed.name!r} could not finish ({failed.error})", always=False)
    except AreaStop as exc:  # what the rest of the area needs failed: its checks are skipped, saying why
        ctx.current = None
        ctx.skip_rest(area, f"skipped: {exc.reason}")
    except StepAbort as exc:  # an abort outside any step (a defect of the area's code, but not a crash)
        ctx.current = None
        ctx.skip_rest(area, f"skipped: {exc.reason or 'the area stopped'}")
    except Exception as exc:  # a harness bug must not stop the suite (and must not skip the cleanup)
        sc.steps.append(StepResult(name="harness error", action="internal",
                                   error=f"internal error in the rfc suite: {type(exc).__name__}: {exc}"))
    sc.duration_s = time.perf_counter() - t0
    if reporter:
        for st in sc.steps:
            reporter.step_finished(name, st)
        reporter.scenario_finished(sc)


__all__ = ["AREA_COST", "AREA_RUNNERS", "CATALOGUE", "SUITE_FILE", "Suite", "areas_for", "run_rfc", "run_suite"]
