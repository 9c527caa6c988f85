"""One scenario in one dialect against the target: its org (or run prefix), the Okta people and
groups, each step — driver actions, raw SCIM requests, control-plane calls — judged by the checks of
`harness.checks`, then the cleanup of what it created. `harness.runner.Runner` runs these in turn.
"""
from __future__ import annotations

import json
import secrets
import zlib
from typing import TYPE_CHECKING, Any

import httpx

from harness import checks
from harness.actions import ACTIONS, REFS, ActionCall
from harness.breaker import NOT_SENT
from harness.results import CheckResult, ScenarioResult, StepResult
from harness.rules import RULES, Rule, request_accepted_source, task_rule
from harness.scenarios import Step, VariableError, Variables
from mock_okta import OktaOrg, ProvisioningError
from mock_okta.transcript import Exchange

if TYPE_CHECKING:
    from harness.runner import Runner
    from harness.scenarios import Scenario

CONTROL_ROUTES = {  # control step -> (method, path under /_mock; {org} is the scenario's org)
    "plan": ("GET", "/orgs/{org}/plan"),
    "events": ("GET", "/orgs/{org}/events"),
    "members": ("GET", "/orgs/{org}/members"),
    "journal": ("GET", "/journal"),
    "add_member": ("POST", "/orgs/{org}/members"),
    "admin_panel": ("POST", "/orgs/{org}/admin-panel/members"),
    "faults": ("PUT", "/faults"),
    "clear_faults": ("DELETE", "/faults"),
}
CONTROL_OK = {"GET": 200, "POST": 201, "PUT": 200, "DELETE": 204}
SCIM_JSON = "application/scim+json; charset=utf-8"
STEP_EXPECT = RULES["step.expect"]


class StepError(Exception):
    """The step could not run (unknown variable, unreachable target, ...)."""


class _Abort(Exception):
    """A driver task failed unexpectedly: the rest of the scenario depends on it."""


def _check(check_id: str, ok: bool, message: str, *, rule: Rule, exchange: Exchange | None = None) -> CheckResult:
    return CheckResult(check_id, "pass" if ok else "fail", rule.source, rule.strength, message, exchange)


class ScenarioRun:
    """One scenario in one dialect: its org, driver, variables and created resources."""

    def __init__(self, runner: "Runner", scenario: "Scenario", dialect: str, result: ScenarioResult) -> None:
        self.r, self.sc, self.dialect, self.result = runner, scenario, dialect, result
        runner._count += 1
        self.org_name = f"h{runner.run_id}-{runner._count}" if runner.isolate else ""
        self.token = secrets.token_urlsafe(18) if runner.isolate else runner.target.token
        if runner.isolate:
            runner.secrets.append(self.token)
        self.prefix = "" if runner.isolate else runner.prefix
        self.people: dict[str, Any] = {}
        self.groups: dict[str, Any] = {}
        self.created: list[tuple[str, str]] = []  # (collection, id) made by raw POSTs
        self.vars = Variables(run={"prefix": self.prefix, "org": self.org_name, "domain": "example.com"},
                              person_attr=self._person_attr, group_attr=self._group_attr,
                              people={p["ref"] for p in scenario.setup.people},
                              groups={g["ref"] for g in scenario.setup.groups})
        self.client: httpx.Client | None = None
        self.control: httpx.Client | None = None
        self.org: OktaOrg | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def execute(self) -> None:
        try:
            if not self._setup():
                return
            aborted: str | None = None
            for step in self.sc.steps_for(self.dialect):
                sr = StepResult(name=step.name, action=step.label)
                if aborted:
                    # Once the target stopped answering, that (not the failed step) is why the rest is skipped.
                    sr.skipped = f"skipped: {self.r.stopped}" if self.r.stopped else aborted
                else:
                    aborted = self._run_step(step, sr)
                self.result.steps.append(sr)
                if self.r.reporter:
                    self.r.reporter.step_finished(self.result.name, sr)
        finally:
            self._cleanup()

    def _setup(self) -> bool:
        t = self.r.target
        self.client = self.r.scim_client(self.token)
        setup_step = StepResult(name="setup", action="setup")
        try:
            if self.r.isolate:
                self.control = self.r.control_client()
                body: dict[str, Any] = {"name": self.org_name, "tokens": [self.token]}
                if self.sc.setup.threshold is not None:
                    body["threshold"] = self.sc.setup.threshold
                self._control_call("POST", "/orgs", body, expect=201, what="create the scenario's org")
                for m in self.sc.setup.members:
                    self._control_call("POST", f"/orgs/{self.org_name}/members", m, expect=201,
                                       what=f"seed member {m['email']}")
            seed = zlib.crc32(f"{self.sc.name}/{self.dialect}".encode())
            self.org = OktaOrg(self.client, dialect=self.dialect, seed=seed, transcript=self.r.transcript,
                               time_scale=self.r.time_scale, timeout=t.timeout)
            for spec in self.sc.setup.people:
                overrides = {k: v for k, v in spec.items() if k != "ref"}
                p = self.org.add_person(**overrides)
                if self.prefix and "email" not in overrides and "login" not in overrides:
                    # Isolation on a shared target: every generated userName carries the run prefix.
                    p.email, p.login = self.prefix + p.email, self.prefix + p.login
                self.people[spec["ref"]] = p
            for g in self.sc.setup.groups:
                self.groups[g["ref"]] = self.org.add_group(self.prefix + g["name"], [self.people[m] for m in g["members"]])
        except (StepError, TypeError, ValueError) as exc:
            setup_step.error = f"setup failed: {exc}"
            self.result.steps.append(setup_step)
            return False
        return True

    def _control_call(self, method: str, path: str, body: Any, *, expect: int, what: str) -> httpx.Response:
        assert self.control is not None
        if self.r.stopped:
            raise StepError(f"cannot {what}: {NOT_SENT}{self.r.stopped}")
        try:
            resp = self.control.request(method, path, json=body)
        except httpx.HTTPError as exc:
            self.r.note(f"control plane: {type(exc).__name__}")
            raise StepError(f"cannot {what}: control plane unreachable ({type(exc).__name__})") from None
        self.r.note(None)
        if resp.status_code != expect:
            detail = _detail(resp)
            raise StepError(f"cannot {what}: control plane answered {resp.status_code} {detail}".strip())
        return resp

    def _cleanup(self) -> None:
        if self.r.stopped:
            self._cleanup_skipped(self.r.stopped)
        elif self.r.isolate and self.control is not None:
            try:
                if any(s.control == "faults" for s in self.sc.steps):
                    self.control.delete("/faults")
                self.control.delete(f"/orgs/{self.org_name}")
            except httpx.HTTPError:
                pass
        elif self.client is not None and self.org is not None:
            self._cleanup_scim()

    def _cleanup_skipped(self, why: str) -> None:
        """The target stopped answering: no DELETE is sent; the step says what may remain."""
        left = [f"org {self.org_name}"] if self.r.isolate and self.control is not None else []
        if self.org is not None:
            left += [f"Groups/{gid}" for gid in (self.org.group_scim_id(g) for g in self.groups.values()) if gid]
            left += [f"Users/{uid}" for uid in (self.org.scim_id(p) for p in self.people.values()) if uid]
        left += [f"{c}/{i}" for c, i in self.created if f"{c}/{i}" not in left]
        if left:
            self.result.steps.append(StepResult(name="cleanup (best effort)", action="cleanup",
                                                error=f"cleanup not attempted: {why}; may remain: {', '.join(left)}"))

    def _cleanup_scim(self) -> None:
        """Best effort: DELETE what this scenario created (the harness's cleanup, not Okta behaviour)."""
        assert self.client is not None and self.org is not None
        doomed = [("Groups", gid) for gid in (self.org.group_scim_id(g) for g in self.groups.values()) if gid]
        doomed += [c for c in self.created if c[0] == "Groups"]
        doomed += [("Users", uid) for uid in (self.org.scim_id(p) for p in self.people.values()) if uid]
        doomed += [c for c in self.created if c[0] == "Users"]
        seen: set[tuple[str, str]] = set()
        step = StepResult(name="cleanup (best effort)", action="cleanup")
        mark = len(self.r.transcript)
        for coll, rid in doomed:
            if (coll, rid) in seen:
                continue
            seen.add((coll, rid))
            self.r.transcript.send(self.client, self.client.build_request("DELETE", f"/{coll}/{rid}"))
        if seen:
            step.exchanges = self.r.transcript.since(mark)
            self.result.steps.append(step)

    # --- variables ----------------------------------------------------------------------
    def _person_attr(self, ref: str, attr: str) -> Any:
        p = self.people[ref]
        if attr == "id":
            assert self.org is not None
            return self.org.scim_id(p)
        if attr == "userName":
            return p.login
        if attr == "externalId":
            return p.okta_id
        return getattr(p, attr, None)

    def _group_attr(self, ref: str, attr: str) -> Any:
        g = self.groups[ref]
        if attr == "id":
            assert self.org is not None
            return self.org.group_scim_id(g)
        return g.name

    # --- steps --------------------------------------------------------------------------
    def _run_step(self, step: Step, sr: StepResult) -> str | None:
        """Run one step into `sr`; returns a reason to skip the rest of the scenario, or None."""
        mark = len(self.r.transcript)
        try:
            if step.kind == "action":
                self._action(step, sr, mark)
            elif step.kind == "request":
                self._request(step, sr)
            else:
                self._control(step, sr)
        except VariableError as exc:
            sr.error = str(exc)
        except StepError as exc:
            sr.error = str(exc)
        except _Abort as exc:
            sr.exchanges = self.r.transcript.since(mark)
            return f"skipped: step {step.name!r} failed ({exc})"
        sr.exchanges = self.r.transcript.since(mark)
        if sr.error:
            return f"skipped: step {step.name!r} could not run"
        return None

    def _action(self, step: Step, sr: StepResult, mark: int) -> None:
        assert self.org is not None
        org, params = self.org, step.params
        people = [self.people[r] for r in params.get("people", [])] or ([self.people[params["person"]]] if "person" in params else [])
        group = self.groups.get(params.get("group", ""))
        value: Any = None
        failure: ProvisioningError | None = None
        try:
            given = self.vars.substitute({k: v for k, v in params.items() if k not in REFS})
            value = ACTIONS[str(step.action)].run(ActionCall(org, people, group, given, self.prefix))
        except ProvisioningError as exc:
            failure = exc
        except (TypeError, ValueError) as exc:  # e.g. an unknown Person field in `changes`
            raise StepError(f"the driver refused the action: {exc}") from None
        self._remember_driver_ids()
        exchanges = self.r.transcript.since(mark)
        if failure is not None and failure.exchange is not None and failure.exchange.error:
            sr.checks.extend(checks.check_exchange(failure.exchange))
            raise StepError(f"could not reach the target: {failure.exchange.error}")
        last = exchanges[-1] if exchanges else None
        expect = self.vars.substitute(step.expect)
        for ex in exchanges[:-1]:
            sr.checks.extend(checks.check_exchange(ex))
        if last is not None:
            # A refused IdP request (4xx/5xx) breaks what the IdP needs, not necessarily RFC 7644 (Entra's member
            # removal with a value is a shape the RFC does not define); a wrong success status keeps its RFC rule.
            refused = last.status is not None and last.status >= 400
            self._check_response(sr, last, expect, status_rule=(
                request_accepted_source(self.dialect, str(step.action)) if refused else None))
        elif set(expect) & {"status", "json", "headers", "schema", "elapsed_ms"}:
            sr.checks.append(_check("step.response", False, f"{step.action} sent no request, so there is no response to check",
                                    rule=RULES["step.expect"]))
        rule = task_rule(self.dialect)
        if step.expect_failure:
            sr.checks.append(_check("step.expect_failure", failure is not None,
                                    f"the action failed as expected: {failure}" if failure else
                                    f"{step.action} was expected to fail but succeeded", rule=rule, exchange=last))
            if failure is not None and step.expect_error:
                want = self.vars.substitute(step.expect_error)
                sr.checks.append(_check("step.expect_error", want.lower() in failure.message.lower(),
                                        f"the task error says {want!r}" if want.lower() in failure.message.lower() else
                                        f"the task error does not say {want!r}: {failure.message}",
                                        rule=task_rule(self.dialect, detail=True),
                                        exchange=failure.exchange or last))
        elif failure is not None:
            sr.checks.append(_check("driver.task", False, f"{step.action} failed: {failure.message}", rule=rule,
                                    exchange=failure.exchange or last))
            raise _Abort(failure.message)
        if "result" in expect:
            sr.checks.append(checks.check_value("step.result", value, expect["result"], rule=STEP_EXPECT.source,
                                                strength=STEP_EXPECT.strength, exchange=last, label=f"the result of {step.action}"))
        if "requests" in expect:
            base = httpx.URL(self.r.target.base_url).path.rstrip("/")
            sent = [f"{ex.method} {ex.path.removeprefix(base)}" + (f"?{ex.query}" if ex.query else "") for ex in exchanges]
            sr.checks.append(checks.check_value("step.requests", sent, expect["requests"], rule=STEP_EXPECT.source,
                                                strength=STEP_EXPECT.strength, exchange=last, label=f"the requests {step.action} sent"))
        if step.save:
            self._save(step, last)

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
        own = {k: expect[k] for k in ("json", "headers") if k in expect}
        if schema is not None and (not scim or isinstance(schema, dict)):
            own["schema"] = schema
        if own:
            sr.checks.extend(checks.check_expectations(ex, own))
        if "elapsed_ms" in expect:
            timing = RULES["step.response-time"]
            sr.checks.append(checks.check_value("response.time", round(ex.elapsed_ms, 1), expect["elapsed_ms"],
                                                rule=timing.source, strength=timing.strength,
                                                exchange=ex, label="the response time in ms"))

    def _save(self, step: Step, ex: Exchange | None) -> None:
        doc = ex.json() if ex is not None else None
        for var, path in step.save.items():
            try:
                self.vars.saved[var] = checks.resolve_path(doc, self.vars.substitute(path))
            except Exception as exc:  # PathMissing or a malformed path: the step cannot save
                raise StepError(f"cannot save {var!r}: nothing at {path!r} in the response ({exc})") from None

    def _request(self, step: Step, sr: StepResult) -> None:
        assert self.client is not None and step.request is not None
        spec = self.vars.substitute(step.request)
        headers = {**self.sc.headers, **{k: str(v) for k, v in (spec.get("headers") or {}).items()}}
        content: bytes | None = None
        if "body" in spec:
            body = spec["body"]
            content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers.setdefault("Content-Type", SCIM_JSON)
        query = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (spec.get("query") or {}).items()}
        req = self.client.build_request(spec["method"], spec["path"], params=query or None, headers=headers, content=content)
        auth = spec.get("auth", "default")
        if auth == "none" and "authorization" not in {k.lower() for k in headers}:
            del req.headers["Authorization"]
        elif auth == "wrong":
            req.headers["Authorization"] = f"Bearer wrong-{secrets.token_hex(8)}"
        _, ex = self.r.transcript.send(self.client, req)
        if ex.error:
            sr.checks.extend(checks.check_exchange(ex))
            raise StepError(f"could not reach the target: {ex.error}")
        self._check_response(sr, ex, self.vars.substitute(step.expect))
        if spec["method"] == "POST" and ex.status == 201:
            self._remember_created(spec["path"], ex)
        if step.save:
            self._save(step, ex)

    def _remember_driver_ids(self) -> None:
        # Ids the driver knows now may be forgotten later (unlink without delete): keep them for cleanup.
        assert self.org is not None
        for g in self.groups.values():
            gid = self.org.group_scim_id(g)
            if gid and ("Groups", gid) not in self.created:
                self.created.append(("Groups", gid))
        for p in self.people.values():
            uid = self.org.scim_id(p)
            if uid and ("Users", uid) not in self.created:
                self.created.append(("Users", uid))

    def _remember_created(self, path: str, ex: Exchange) -> None:
        doc = ex.json()
        coll = path.strip("/").split("/")[0]
        if coll in ("Users", "Groups") and isinstance(doc, dict) and isinstance(doc.get("id"), str):
            self.created.append((coll, doc["id"]))

    def _control(self, step: Step, sr: StepResult) -> None:
        assert self.control is not None and step.control is not None
        method, path = CONTROL_ROUTES[step.control]
        params = {"org": self.org_name} if step.control == "journal" else None
        body = self.vars.substitute(step.body) if step.body is not None else None
        if step.control == "faults" and isinstance(body, dict):
            # Faults are limited to this scenario's org, so they never touch another scenario.
            body = {"faults": [{**f, "org": self.org_name} if isinstance(f, dict) else f for f in body.get("faults", [])]}
        req = self.control.build_request(method, path.format(org=self.org_name), params=params,
                                         json=body if method in ("POST", "PUT") else None)
        _, ex = self.r.transcript.send(self.control, req)
        if ex.error:
            raise StepError(f"could not reach the control plane: {ex.error}")
        expect = self.vars.substitute(step.expect)
        if "status" not in expect:
            expect["status"] = CONTROL_OK[method]
        self._check_response(sr, ex, expect, scim=False)
        if step.save:
            self._save(step, ex)


def _detail(resp: httpx.Response) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return ""
    return str(doc.get("detail", "")) if isinstance(doc, dict) else ""
