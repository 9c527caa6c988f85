"""The control plane under /_mock (moto-style, not SCIM): orgs, members, plan, the simulated
admin panel, events, journal, faults and reset. Authenticated by the admin token (request_hooks.py).
The routes are a fixed contract (common brief); errors are SCIM Error bodies like everywhere."""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, request

from . import plan
from .auth_store import validate_auth
from .errors import InvalidValue, NotFound
from .openapi import openapi_document
from .identifiers import ORG_NAME_RULE, token_problem, valid_org_name
from .wire import MAX_JSON_DEPTH, read_json, scim_response, state

bp = Blueprint("control", __name__, url_prefix="/_mock")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _object() -> dict[str, Any]:
    body = read_json()
    if not isinstance(body, dict):
        raise InvalidValue("the request body must be a JSON object")
    return body


def _threshold(value: Any) -> int:
    if value is None:
        return plan.DEFAULT_THRESHOLD
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue("threshold must be a positive integer")
    return value


def _tokens(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise InvalidValue("tokens must be a list of non-empty strings")
    for t in value:
        problem = token_problem(t)
        if problem:
            raise InvalidValue(f"a token {problem}")
    if len(value) > 2:
        # WorkOS: at most two active tokens per directory (rotation).
        raise InvalidValue("an organization has at most two active tokens")
    if any(t == state().admin_token for t in value):
        raise InvalidValue("a SCIM token must differ from the control plane's admin token")
    return list(value)


def _email(body: dict[str, Any]) -> str:
    email = body.get("email")
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise InvalidValue("email must be an e-mail address such as 'a@example.com'")
    return email.strip().lower()


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidValue(f"{name} must be true or false")
    return value


# ---------------------------------------------------------------------------- orgs
@bp.post("/orgs")
def create_org() -> Response:
    body = _object()
    name = body.get("name")
    if not valid_org_name(name):
        raise InvalidValue(f"name must be {ORG_NAME_RULE}")
    auth = validate_auth(body["auth"]) if body.get("auth") is not None else None
    store = state().store
    org = store.create_org(name, _tokens(body.get("tokens")), _threshold(body.get("threshold")))
    if auth is not None:
        store.set_auth(name, auth)
        org = {**org, "auth": store.auth_of(name)}
    return scim_response(org, 201)


@bp.put("/orgs/<org>/auth")
def put_auth(org: str) -> Response:
    """The org's auth mode and credentials (auth_store.py), replacing the earlier ones."""
    auth = validate_auth(_object())
    state().store.set_auth(org, auth)
    return scim_response(state().store.auth_of(org))


@bp.post("/orgs/<org>/auth/expire")
def expire_tokens(org: str) -> Response:
    """Every OAuth access token of the org expires now (to test a client's refresh)."""
    state().store.get_org(org)
    return scim_response({"expired": state().store.expire_access_tokens(org)})


@bp.get("/orgs")
def list_orgs() -> Response:
    return scim_response({"data": state().store.list_orgs()})


@bp.get("/orgs/<org>")
def get_org(org: str) -> Response:
    # Looked up in the list first: the store's own not-found path is not to be relied on here
    # (it raised NameError → 500 at one point, found by the fuzz test).
    for item in state().store.list_orgs():
        if item["name"] == org:
            return scim_response(state().store.get_org(org))
    raise NotFound(f"organization {org!r} not found")


@bp.delete("/orgs/<org>")
def delete_org(org: str) -> Response:
    state().store.delete_org(org)
    return Response(status=204)


# ---------------------------------------------------------------------------- members and plan
@bp.post("/orgs/<org>/members")
def add_member(org: str) -> Response:
    # Seeding members that existed before the IdP: always allowed.
    return _add_member(org, source="seed")


def _add_member(org: str, *, source: str) -> Response:
    body = _object()
    plan_name = body.get("plan", plan.PAID)
    if plan_name not in plan.PLANS:
        raise InvalidValue(f"plan must be one of {list(plan.PLANS)}")
    member = state().store.add_member(org, _email(body), plan_name, _bool(body, "admin"), source=source)
    return scim_response(member, 201)


@bp.get("/orgs/<org>/members")
def list_members(org: str) -> Response:
    return scim_response({"data": state().store.list_members(org)})


@bp.get("/orgs/<org>/plan")
def get_plan(org: str) -> Response:
    return scim_response(state().store.plan_state(org))


@bp.post("/orgs/<org>/admin-panel/members")
def admin_panel_add(org: str) -> Response:
    # Clockwise: the admin panel is disabled once the org's IdP directory has provisioned
    # (the store answers 403 with plan.ADMIN_PANEL_DETAIL).
    return _add_member(org, source="admin-panel")


@bp.get("/orgs/<org>/events")
def events(org: str) -> Response:
    return scim_response({"data": state().store.events(org)})


# ---------------------------------------------------------------------------- the API description
@bp.get("/openapi.json")
def openapi() -> Response:
    st = state()
    doc = openapi_document(st.url_root(), max_results=st.max_results,
                           max_content_length=st.max_content_length, json_depth=MAX_JSON_DEPTH)
    return Response(json.dumps(doc, indent=1), mimetype="application/json")


# ---------------------------------------------------------------------------- journal, faults, reset
@bp.get("/journal")
def journal() -> Response:
    limit_text = request.args.get("limit")
    limit = None
    if limit_text is not None:
        try:
            limit = int(limit_text)
        except ValueError:
            raise InvalidValue("limit must be an integer") from None
        if limit < 0:
            raise InvalidValue("limit must not be negative")
    return scim_response({"data": state().journal.entries(request.args.get("org"), limit)})


@bp.put("/faults")
def put_faults() -> Response:
    body = _object()
    if "faults" not in body:
        raise InvalidValue("the body must be {\"faults\": [...]}")
    # ?org=X replaces only org X's faults: scenarios side by side (`run --jobs`) keep each other's.
    return scim_response({"faults": state().faults.set(body["faults"], request.args.get("org"))})


@bp.get("/faults")
def get_faults() -> Response:
    return scim_response({"faults": state().faults.list()})


@bp.delete("/faults")
def delete_faults() -> Response:
    state().faults.clear(request.args.get("org"))  # ?org=X: only org X's faults
    return Response(status=204)


@bp.post("/reset")
def reset() -> Response:
    state().reset()
    return Response(status=204)
