"""The identity-provider side of a scenario run: the mock_okta driver (`OktaOrg`) holding the scenario's
people and groups by ref, what the scenario's variables read of them, the SCIM ids the driver learnt,
and an action step performed through the action table (harness.actions).

The harness makes a driver (`new_okta_org`) and reads the exchange a failed task ended on
(`Outcome.exchange`, from the transcript that recorded the driver's client) here only.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from harness.actions import ACTIONS, REFS, ActionCall
from harness.scenarios import Scenario, Step
from harness.session import Session
from mock_okta import OktaGroup, OktaOrg, Person, ProvisioningError
from harness.transcript import Exchange, exchange_of


def new_okta_org(client: httpx.Client, *, dialect: str = "okta", seed: int = 0, time_scale: float = 1.0,
                 timeout: float = 60.0, options: dict[str, Any] | None = None) -> OktaOrg:
    """An Okta-like org provisioning the target behind `client` (whose transport records, when the
    exchanges are wanted), with Okta's 429 waits scaled by `time_scale`, its request timeout, and the
    admin's settings `options` (a scenario's `dialect_options` for this dialect: Okta's `rename_groups`,
    the others the dialect's own, mock_okta.dialects.get_dialect)."""
    settings = dict(options or {})
    rename_groups = settings.pop("rename_groups", None)
    return OktaOrg(client, dialect=dialect, seed=seed, time_scale=time_scale, timeout=timeout,
                   rename_groups=rename_groups, dialect_options=settings)


@dataclass(frozen=True)
class Outcome:
    """What an action did: its result, or the task that failed."""
    value: Any = None
    failure: ProvisioningError | None = None

    @property
    def exchange(self) -> Exchange | None:
        """The exchange the failed task ended on (None when the action succeeded or sent nothing)."""
        return exchange_of(self.failure.request) if self.failure is not None else None


class IdpOrg:
    """The scenario's Okta org: its driver, and the people and groups of setup by their refs."""

    def __init__(self, org: OktaOrg, prefix: str = "") -> None:
        self.org = org
        self.prefix = prefix  # the run prefix of generated userNames and group names ("" in an org of its own)
        self.people: dict[str, Person] = {}
        self.groups: dict[str, OktaGroup] = {}

    @classmethod
    def for_scenario(cls, session: Session, token: str | None, scenario: Scenario, dialect: str,
                     prefix: str) -> "IdpOrg":
        """The org of one scenario run: deterministic identities (seeded by scenario and dialect), every
        request recorded in the session's transcript, and setup's people and groups added."""
        seed = zlib.crc32(f"{scenario.name}/{dialect}".encode())
        idp = cls(new_okta_org(session.driver_client(token), dialect=dialect, seed=seed,
                               time_scale=session.time_scale, timeout=session.target.timeout,
                               options=scenario.dialect_options.get(dialect)), prefix)
        idp.org.backoff.max_wait, idp.org.backoff.on_wait = session.max_wait, session.note_wait
        managers: dict[str, str] = {}
        for spec in scenario.setup.people:
            overrides = {k: v for k, v in spec.items() if k not in ("ref", "manager")}
            p = idp.org.add_person(**overrides)
            if prefix and "email" not in overrides and "login" not in overrides:
                # Isolation on a shared target: every generated userName carries the run prefix.
                p.email, p.login = prefix + p.email, prefix + p.login
            idp.people[spec["ref"]] = p
            if "manager" in spec:
                managers[spec["ref"]] = str(spec["manager"])
        for ref, manager in managers.items():
            if manager not in idp.people or manager == ref:
                raise ValueError(f"setup.people {ref}: manager {manager!r} is not another person of setup.people")
            idp.people[ref].manager = idp.people[manager]
        for g in scenario.setup.groups:
            idp.groups[g["ref"]] = idp.org.add_group(prefix + g["name"], [idp.people[m] for m in g["members"]])
        return idp

    # --- what variables read --------------------------------------------------------------
    def person_attr(self, ref: str, attr: str) -> Any:
        p = self.people[ref]
        if attr == "id":
            return self.org.scim_id(p)
        if attr == "userName":
            return p.login
        if attr == "externalId":
            return p.okta_id
        return getattr(p, attr, None)

    def group_attr(self, ref: str, attr: str) -> Any:
        g = self.groups[ref]
        if attr == "id":
            return self.org.group_scim_id(g)
        return g.name

    def scim_ids(self) -> list[tuple[str, str]]:
        """(collection, id) of every group, then every person, the target gave an id to."""
        groups = [("Groups", gid) for gid in (self.org.group_scim_id(g) for g in self.groups.values()) if gid]
        return groups + [("Users", uid) for uid in (self.org.scim_id(p) for p in self.people.values()) if uid]

    # --- actions ------------------------------------------------------------------------
    def perform(self, step: Step, substitute: Callable[[Any], Any]) -> Outcome:
        """Run an action step through the action table; its parameters other than refs get `substitute`.
        A failed task is the outcome; TypeError/ValueError mean the driver refused the call itself."""
        params = step.params
        people = [self.people[r] for r in params.get("people", [])] or (
            [self.people[params["person"]]] if "person" in params else [])
        call = ActionCall(self.org, people, self.groups.get(params.get("group", "")),
                          substitute({k: v for k, v in params.items() if k not in REFS}), self.prefix)
        try:
            return Outcome(value=ACTIONS[str(step.action)].run(call))
        except ProvisioningError as exc:
            return Outcome(failure=exc)
