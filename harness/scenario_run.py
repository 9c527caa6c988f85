"""One scenario in one dialect against the target: its org (or the run prefix), the IdP org with the
scenario's people and groups (harness.idp_org), each step — an IdP action, a raw SCIM request, a
control-plane call — judged by the checks of `harness.checks`, then the cleanup of what it created.
`harness.runner.Runner` runs these in turn, all in one `harness.session.Session`.
"""
from __future__ import annotations

import json
from typing import Any

import httpx

from harness import checks
from harness.control_plane import CONTROL_OK, CONTROL_ROUTES, ControlPlaneError
from harness.expect import MISSING, MatcherError, check_value, lookup, match, resolve_path, show
from harness.idp_org import IdpOrg, Outcome
from harness.prober import Prober
from harness.results import CheckResult, ScenarioResult, StepResult
from harness.rules import RULES, Rule, request_accepted_source, task_rule
from harness.scenarios import Scenario, Step, VariableError, Variables
from harness.session import Session
from harness.transcript import Exchange

STEP_EXPECT = RULES["step.expect"]
RESPONSE_KEYS = {"status", "json", "headers", "schema", "elapsed_ms"}  # what a step may expect of a response


class StepError(Exception):
    """The step could not run (unknown variable, unreachable target, ...)."""


class _Abort(Exception):
    """A driver task failed unexpectedly: the rest of the scenario depends on it."""


def _check(check_id: str, ok: bool, message: str, *, rule: Rule, exchange: Exchange | None = None) -> CheckResult:
    return CheckResult(check_id, "pass" if ok else "fail", rule.source, rule.strength, message, exchange)


class ScenarioRun:
    """One scenario in one dialect: its org, prober, IdP org, variables and created resources."""

    def __init__(self, session: Session, scenario: Scenario, dialect: str, result: ScenarioResult) -> None:
        self.session, self.sc, self.dialect, self.result = session, scenario, dialect, result
        self.org_name = session.next_org_name() if session.isolate else ""
        self.prefix = "" if session.isolate else session.prefix
        self.token = session.target.token  # an org of its own brings its own
        self.org_requested = False
        self.responses: dict[str, Any] = {}  # step name -> its (last) response body, for a later step's only_if
        self.prober: Prober | None = None
        self.idp: IdpOrg | None = None
        self.vars = Variables(run={"prefix": self.prefix, "org": self.org_name, "domain": "example.com"},
                              person_attr=self._person_attr, group_attr=self._group_attr,
                              people={p["ref"] for p in scenario.setup.people},
                              groups={g["ref"] for g in scenario.setup.groups})

    # --- lifecycle ----------------------------------------------------------------------
    def execute(self) -> None:
        try:
            if self._setup():
                self._run_steps()
        finally:
            self._cleanup()

    def _setup(self) -> bool:
        try:
            if self.session.isolate:
                self._open_org()
            self.prober = self.session.prober(self.token, prefix=self.prefix)
            self.idp = IdpOrg.for_scenario(self.session, self.token, self.sc, self.dialect, self.prefix)
        except (ControlPlaneError, TypeError, ValueError) as exc:
            self.result.steps.append(StepResult(name="setup", action="setup", error=f"setup failed: {exc}"))
            return False
        return True

    def _open_org(self) -> None:
        control = self.session.control
        settings = {} if self.sc.setup.threshold is None else {"threshold": self.sc.setup.threshold}
        self.org_requested = True
        self.token = self.session.open_org(self.org_name, what="create the scenario's org", **settings).token
        for m in self.sc.setup.members:
            control.call("POST", f"/orgs/{self.org_name}/members", m, expect=201, what=f"seed member {m['email']}")

    def _run_steps(self) -> None:
        aborted: str | None = None
        for step in self.sc.steps_for(self.dialect):
            sr = StepResult(name=step.name, action=step.label)
            if aborted:
                # Once the target stopped answering, that (not the failed step) is why the rest is skipped.
                sr.skipped = f"skipped: {self.session.stopped}" if self.session.stopped else aborted
            elif self._precondition_holds(step, sr):  # else skipped with the reason (its claim is not about the target)
                aborted = self._run_step(step, sr)
            self.result.steps.append(sr)
            if self.session.reporter:
                self.session.reporter.step_finished(self.result.name, sr)

    def _cleanup(self) -> None:
        why = self.session.stopped
        if why:
            self._cleanup_skipped(why)
        elif self.org_requested:
            # The org and everything in it goes, and the faults the scenario set for it.
            if any(s.control == "faults" for s in self.sc.steps) and self.session.control.send(
                    "DELETE", "/faults", params={"org": self.org_name}).error:
                return
            self.session.close_org(self.org_name)
        elif self.prober is not None and self.idp is not None:
            self._remember_driver_ids()
            exchanges = self.prober.cleanup()  # the harness's cleanup, not Okta behaviour
            if exchanges:
                self.result.steps.append(StepResult(name="cleanup (best effort)", action="cleanup", exchanges=exchanges))

    def _cleanup_skipped(self, why: str) -> None:
        """The target stopped answering: no DELETE is sent; the step says what may remain."""
        left = [f"org {self.org_name}"] if self.org_requested else []
        if self.prober is not None and self.idp is not None:
            self._remember_driver_ids()
            left += [f"{c}/{i}" for c, i in self.prober.doomed()]
        if left:
            self.result.steps.append(StepResult(name="cleanup (best effort)", action="cleanup",
                                                error=f"cleanup not attempted: {why}; may remain: {', '.join(left)}"))

    def _remember_driver_ids(self) -> None:
        # Ids the driver knows now may be forgotten later (unlink without delete): keep them for cleanup.
        assert self.prober is not None and self.idp is not None
        for coll, rid in self.idp.scim_ids():
            self.prober.remember(coll, rid)

    # --- variables ----------------------------------------------------------------------
    def _person_attr(self, ref: str, attr: str) -> Any:
        assert self.idp is not None
        return self.idp.person_attr(ref, attr)

    def _group_attr(self, ref: str, attr: str) -> Any:
        assert self.idp is not None
        return self.idp.group_attr(ref, attr)

    # --- steps --------------------------------------------------------------------------
    def _precondition_holds(self, step: Step, sr: StepResult) -> bool:
        """A step's `only_if`: does the earlier step's response hold what this step builds on? When it does
        not, the step is skipped with `why` and what was found (a skip check says so in the counts)."""
        cond = step.only_if
        if not cond:
            return True
        ref = cond["step"]
        if ref not in self.responses:
            found = f"step {ref!r} gave no response"
        else:
            doc = self.responses[ref]
            try:
                wanted = self.vars.substitute(cond["json"])
            except VariableError as exc:  # a variable the earlier steps did not save
                sr.error = f"only_if: {exc}"
                return False
            for path, matcher in wanted.items():
                actual = lookup(doc, path)
                try:
                    ok, expected = match(actual, matcher)
                except MatcherError as exc:
                    sr.error = f"only_if: bad matcher for {path!r}: {exc}"
                    return False
                if not ok:
                    shown = "absent" if actual is MISSING else show(actual)
                    found = f"in the response to {ref!r}, {path} is {shown}; wanted {expected}"
                    break
            else:
                return True
        sr.skipped = f"skipped: {cond['why']} ({found})"
        sr.checks.append(CheckResult("step.precondition", "skip", STEP_EXPECT.source, STEP_EXPECT.strength, sr.skipped))
        return False

    def _run_step(self, step: Step, sr: StepResult) -> str | None:
        """Run one step into `sr`; returns a reason to skip the rest of the scenario, or None."""
        transcript = self.session.transcript
        mark = len(transcript)
        try:
            if step.kind == "action":
                self._action(step, sr, mark)
            elif step.kind == "request":
                self._request(step, sr)
            else:
                self._control(step, sr)
        except (VariableError, StepError) as exc:
            sr.error = str(exc)
        except _Abort as exc:
            sr.exchanges = transcript.since(mark)
            return f"skipped: step {step.name!r} failed ({exc})"
        sr.exchanges = transcript.since(mark)
        if sr.error:
            return f"skipped: step {step.name!r} could not run"
        return None

    def _action(self, step: Step, sr: StepResult, mark: int) -> None:
        assert self.idp is not None
        try:
            outcome = self.idp.perform(step, self.vars.substitute)
        except (TypeError, ValueError) as exc:  # e.g. an unknown Person field in `changes`
            raise StepError(f"the driver refused the action: {exc}") from None
        self._remember_driver_ids()
        exchanges = self.session.transcript.since(mark)
        failed = outcome.exchange
        if failed is not None and failed.error:
            sr.checks.extend(checks.check_exchange(failed))
            raise StepError(f"could not reach the target: {failed.error}")
        expect = self.vars.substitute(step.expect)
        last = self._judge_responses(step, sr, exchanges, expect)
        self._judge_outcome(step, sr, outcome, last)
        self._judge_result(step, sr, outcome.value, exchanges, expect, last)
        self._keep(step, last)

    def _judge_responses(self, step: Step, sr: StepResult, exchanges: list[Exchange],
                         expect: dict[str, Any]) -> Exchange | None:
        """The standard checks on every exchange the action caused, the step's expectations on the last."""
        last = exchanges[-1] if exchanges else None
        for ex in exchanges[:-1]:
            sr.checks.extend(checks.check_exchange(ex))
        if last is not None:
            # A refused IdP request (4xx/5xx) breaks what the IdP needs, not necessarily RFC 7644 (Entra's member
            # removal with a value is a shape the RFC does not define); a wrong success status keeps its RFC rule.
            refused = last.status is not None and last.status >= 400
            self._check_response(sr, last, expect, status_rule=(
                request_accepted_source(self.dialect, str(step.action)) if refused else None))
        elif set(expect) & RESPONSE_KEYS:
            sr.checks.append(_check("step.response", False, f"{step.action} sent no request, so there is no response to check",
                                    rule=STEP_EXPECT))
        return last

    def _judge_outcome(self, step: Step, sr: StepResult, outcome: Outcome, last: Exchange | None) -> None:
        """Did the task fail when (and as) the step expects? An unexpected failure aborts the scenario."""
        failure, rule = outcome.failure, task_rule(self.dialect)
        if step.expect_failure:
            sr.checks.append(_check("step.expect_failure", failure is not None,
                                    f"the action failed as expected: {failure}" if failure else
                                    f"{step.action} was expected to fail but succeeded", rule=rule, exchange=last))
            if failure is not None and step.expect_error:
                want = self.vars.substitute(step.expect_error)
                said = want.lower() in failure.message.lower()
                sr.checks.append(_check("step.expect_error", said, f"the task error says {want!r}" if said else
                                        f"the task error does not say {want!r}: {failure.message}",
                                        rule=task_rule(self.dialect, detail=True), exchange=outcome.exchange or last))
        elif failure is not None:
            sr.checks.append(_check("driver.task", False, f"{step.action} failed: {failure.message}", rule=rule,
                                    exchange=outcome.exchange or last))
            raise _Abort(failure.message)

    def _judge_result(self, step: Step, sr: StepResult, value: Any, exchanges: list[Exchange],
                      expect: dict[str, Any], last: Exchange | None) -> None:
        """expect.result (what the action returned) and expect.requests (what it sent)."""
        if "result" in expect:
            sr.checks.append(check_value("step.result", value, expect["result"], rule=STEP_EXPECT.source,
                                                strength=STEP_EXPECT.strength, exchange=last,
                                                label=f"the result of {step.action}"))
        if "requests" in expect:
            base = httpx.URL(self.session.target.base_url).path.rstrip("/")
            sent = [f"{ex.method} {ex.path.removeprefix(base)}" + (f"?{ex.query}" if ex.query else "") for ex in exchanges]
            sr.checks.append(check_value("step.requests", sent, expect["requests"], rule=STEP_EXPECT.source,
                                                strength=STEP_EXPECT.strength, exchange=last,
                                                label=f"the requests {step.action} sent"))

    def _check_response(self, sr: StepResult, ex: Exchange, expect: dict[str, Any], *, scim: bool = True,
                        status_rule: str | None = None) -> None:
        schema = expect.get("schema")
        if scim:
            sr.checks.extend(checks.check_exchange(ex, expect_status=expect.get("status"), rule=status_rule,
                                                   resource=schema if isinstance(schema, str) else None))
        elif "status" in expect:
            want = expect["status"]
            ok = ex.status in (want if isinstance(want, list) else [want])
            sr.checks.append(_check("http.status", ok, f"status {ex.status}" + ("" if ok else f", expected {want}"),
                                    rule=RULES["control.expect"], exchange=ex))
        own: dict[str, Any] = {k: expect[k] for k in ("json", "headers") if k in expect}
        if schema is not None and (not scim or isinstance(schema, dict)):
            own["schema"] = schema
        if own:
            sr.checks.extend(checks.check_expectations(ex, own))
        if "elapsed_ms" in expect:
            timing = RULES["step.response-time"]
            sr.checks.append(check_value("response.time", round(ex.elapsed_ms, 1), expect["elapsed_ms"],
                                                rule=timing.source, strength=timing.strength,
                                                exchange=ex, label="the response time in ms"))

    def _keep(self, step: Step, ex: Exchange | None) -> None:
        """The step's (last) response body, parsed once: kept for a later step's only_if, and its `save` variables."""
        doc = ex.json() if ex is not None else None
        if ex is not None:
            self.responses[step.name] = doc
        if step.save:
            self._save(step, doc)

    def _save(self, step: Step, doc: Any) -> None:
        for var, path in step.save.items():
            try:
                self.vars.saved[var] = resolve_path(doc, self.vars.substitute(path))
            except Exception as exc:  # PathMissing or a malformed path: the step cannot save
                raise StepError(f"cannot save {var!r}: nothing at {path!r} in the response ({exc})") from None

    def _request(self, step: Step, sr: StepResult) -> None:
        assert self.prober is not None and step.request is not None
        spec = self.vars.substitute(step.request)
        headers = {**self.sc.headers, **{k: str(v) for k, v in (spec.get("headers") or {}).items()}}
        content: bytes | None = None
        if "body" in spec:
            body = spec["body"]
            content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        query = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (spec.get("query") or {}).items()}
        ex = self.prober.request(spec["method"], spec["path"], params=query or None, headers=headers, content=content,
                                 auth=spec.get("auth", "default"))
        if ex.error:
            sr.checks.extend(checks.check_exchange(ex))
            raise StepError(f"could not reach the target: {ex.error}")
        self._check_response(sr, ex, self.vars.substitute(step.expect))
        coll = spec["path"].strip("/").split("/")[0]
        if spec["method"] == "POST" and ex.status == 201 and coll in ("Users", "Groups"):
            self.prober.remember_resource(coll, ex.json())
        self._keep(step, ex)

    def _control(self, step: Step, sr: StepResult) -> None:
        assert step.control is not None
        method, path = CONTROL_ROUTES[step.control]
        # The journal of this org; faults set and cleared for this org only (scenarios run side by side, --jobs).
        params = {"org": self.org_name} if step.control in ("journal", "faults", "clear_faults") else None
        body = self.vars.substitute(step.body) if step.body is not None else None
        if step.control == "faults" and isinstance(body, dict):
            # Faults are limited to this scenario's org, so they never touch another scenario.
            body = {"faults": [{**f, "org": self.org_name} if isinstance(f, dict) else f for f in body.get("faults", [])]}
        ex = self.session.control.send(method, path.format(org=self.org_name), params=params,
                                       body=body if method in ("POST", "PUT") else None)
        if ex.error:
            raise StepError(f"could not reach the control plane: {ex.error}")
        expect = self.vars.substitute(step.expect)
        if "status" not in expect:
            expect["status"] = CONTROL_OK[method]
        self._check_response(sr, ex, expect, scim=False)
        self._keep(step, ex)
