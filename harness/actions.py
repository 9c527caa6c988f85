"""The IdP actions a scenario step can name: what each needs, what it accepts, and how it runs on the
driver (mock_okta's `OktaOrg`, whose methods emit the IdP's HTTP calls).

One table for every use: the scenario loader (harness.scenarios) checks a step's parameters against it,
the scenario schema's `action` enum lists its names (tests/harness/test_actions.py holds them equal),
and a scenario run (harness.scenario_run) performs an action step through it.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # pragma: no cover  (typing only: the loader reads this table without loading the driver, ~0.25 s)
    from mock_okta import OktaGroup, OktaOrg, Person

# Every parameter an action step may carry (beyond name, dialects, expect*, save).
PARAMS = ("person", "people", "group", "changes", "new_name", "link_existing", "delete", "password")
# The parameters that name the scenario's people and groups (refs, never variables).
REFS = ("person", "people", "group")


@dataclass(frozen=True)
class ActionCall:
    """An action step, resolved: the driver, the people and group it names, its other parameters
    (variables substituted) and the run prefix new names get."""
    org: "OktaOrg"
    people: "list[Person]"
    group: "OktaGroup | None"
    params: dict[str, Any]
    prefix: str = ""

    @property
    def the_group(self) -> "OktaGroup":
        """The group of a group action (the loader makes sure the step names one)."""
        assert self.group is not None, "a group action without a group"
        return self.group


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[ActionCall], Any]  # performs the action; returns what a step's `expect.result` judges
    needs: frozenset[str] = frozenset()
    accepts: frozenset[str] = frozenset()
    people: bool = False  # needs `person` or `people`


def _each(method: str) -> Callable[[ActionCall], Any]:
    """One driver call per person; the result is the one value, or the list of them."""
    def run(call: ActionCall) -> Any:
        values = [getattr(call.org, method)(p) for p in call.people]
        return values[0] if len(values) == 1 else values
    return run


def _no_result(run: Callable[[ActionCall], Any]) -> Callable[[ActionCall], None]:
    """An action whose step has no result to judge (whatever the driver returns)."""
    def quiet(call: ActionCall) -> None:
        run(call)
    return quiet


_ONE_OR_MORE = frozenset({"person", "people"})
ACTIONS: Mapping[str, Action] = MappingProxyType({a.name: a for a in [
    Action("test_connection", _no_result(lambda c: c.org.test_connection())),
    Action("import_users", lambda c: c.org.import_users()),
    Action("import_groups", lambda c: c.org.import_groups()),
    Action("assign", _each("assign"), accepts=_ONE_OR_MORE, people=True),
    Action("assign_many", lambda c: c.org.assign_many(c.people), needs=frozenset({"people"}), people=True),
    Action("deactivate", _each("deactivate"), accepts=_ONE_OR_MORE, people=True),
    Action("unassign", _each("unassign"), accepts=_ONE_OR_MORE, people=True),
    Action("reactivate", _each("reactivate"), accepts=_ONE_OR_MORE, people=True),
    Action("deprovision", _each("deprovision"), accepts=_ONE_OR_MORE, people=True),
    Action("update_profile", lambda c: c.org.update_profile(c.people[0], **c.params["changes"]),
           needs=frozenset({"person", "changes"})),
    Action("push_group", lambda c: c.org.push_group(c.the_group, link_existing=bool(c.params.get("link_existing", False))),
           needs=frozenset({"group"}), accepts=frozenset({"link_existing"})),
    Action("add_to_group", _no_result(lambda c: c.org.add_to_group(c.the_group, c.people)),
           needs=frozenset({"group", "people"})),
    Action("remove_from_group", _no_result(lambda c: c.org.remove_from_group(c.the_group, c.people)),
           needs=frozenset({"group", "people"})),
    Action("push_now", _no_result(lambda c: c.org.push_now(c.the_group)), needs=frozenset({"group"})),
    # The new name gets the run prefix, like every group name on a shared target.
    Action("rename_group", lambda c: c.org.rename_group(c.the_group, c.prefix + c.params["new_name"]),
           needs=frozenset({"group", "new_name"})),
    Action("unlink_group", _no_result(lambda c: c.org.unlink_group(c.the_group, delete=bool(c.params.get("delete", True)))),
           needs=frozenset({"group"}), accepts=frozenset({"delete"})),
    # idp-wire.md: re-assignment is the activation followed by a profile push (Okta).
    Action("reassign", _no_result(_each("reassign")), accepts=_ONE_OR_MORE, people=True),
    Action("sync_password", _no_result(lambda c: c.org.sync_password(c.people[0], c.params.get("password"))),
           needs=frozenset({"person"}), accepts=frozenset({"password"})),
    # idp-wire.md: Okta's "Import User Schema" reads /Schemas and /ResourceTypes.
    Action("import_schema", lambda c: c.org.import_schema()),
]})
