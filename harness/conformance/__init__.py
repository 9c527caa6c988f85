"""The `rfc` conformance suite: every RFC 7643/7644 rule Okta and Entra lean on, as checks.

`run_suite(prober)` (or `run_rfc(client, transcript)`, which makes the prober) runs the areas in
order — discovery, schema, users, groups, filters, paging, sort, projection, patch, bulk, etag, auth,
errors — and returns one ScenarioResult per area plus the `safety` area, which always runs
(try/finally) and deletes everything the suite created (the prober's ledger).
"""
from __future__ import annotations

import secrets
import time
from typing import Callable

import httpx

from harness.breaker import GuardedTranscript
from harness.conformance import bulk, crud, discovery, patch, projection, protocol, query, server_schema
from harness.conformance.areas import areas_for
from harness.conformance.context import AreaStop, Ctx, StepAbort
from harness.prober import Prober
from harness.results import ScenarioResult, StepResult
from harness.rules import CATALOGUE
from harness.session import Reporter, run_prefix
from harness.transcript import Transcript

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


def run_suite(prober: Prober, *, run_id: str, areas: list[str] | None = None, checks: list[str] | None = None,
              reporter: Reporter | None = None) -> list[ScenarioResult]:
    """Run the rfc suite through `prober` (its names carry the run prefix). Never raises.
    `areas` and/or `checks` (catalogue ids) narrow the run to the areas they need; discovery and the
    safety cleanup always run, so results may hold other checks of those areas too."""
    if checks is not None:
        areas = list(dict.fromkeys([*(areas or []), *areas_for(checks)]))
    ctx = Ctx(prober, run_id=run_id)
    wanted = [a for a in AREA_RUNNERS if areas is None or a in areas or a == "discovery"]
    users_before, groups_before = protocol.totals(ctx)
    try:
        for area in wanted:
            _run_area(ctx, area, AREA_RUNNERS[area], reporter)
    finally:
        _run_area(ctx, "safety", lambda c: protocol.run_safety(c, users_before, groups_before), reporter)
    return ctx.areas


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


__all__ = ["AREA_RUNNERS", "CATALOGUE", "SUITE_FILE", "areas_for", "run_rfc", "run_suite"]
