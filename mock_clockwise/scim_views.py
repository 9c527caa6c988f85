"""The SCIM 2.0 endpoints under /scim/v2 (RFC 7644): parse the request, call the store,
serialise. The org comes from the bearer token (`g.org`, set in request_hooks.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Request, Response, g, request

from . import discovery
from .errors import InvalidValue, NotFound, NotImplementedScim
from .filters import parse_filter
from .projection import parse_attr_list, project
from .representation import decorate, import_page_text, list_response
from .schema import GROUP, USER, ResourceType
from .wire import MAX_JSON_INT, SCIM_PREFIX, MockState, read_json, scim_response, scim_text_response, state

bp = Blueprint("scim", __name__, url_prefix=SCIM_PREFIX)

SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
def base_url(st: MockState | None = None) -> str:
    # meta.location and $ref are absolute URLs built from the request's own host.
    return (st or state()).url_root().rstrip("/") + SCIM_PREFIX


def _projection_args(req: Request, source: dict[str, Any] | None = None) -> tuple[list[str] | None, list[str] | None]:
    # RFC 7644 §3.4.2.5 (attributes / excludedAttributes), also on POST/PUT/PATCH (§3.9).
    if source is not None:
        return _attr_list(source.get("attributes")), _attr_list(source.get("excludedAttributes"))
    if not req.query_string:
        return None, None  # most requests have no query: no need to parse one
    return parse_attr_list(req.args.get("attributes")), parse_attr_list(req.args.get("excludedAttributes"))


def _attr_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_attr_list(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return parse_attr_list(",".join(value))
    raise InvalidValue("attributes / excludedAttributes must be a list of attribute names")


def _single(resource: dict[str, Any], rtype: ResourceType, status: int, st: MockState, req: Request) -> Response:
    base = base_url(st)
    resource = decorate(resource, rtype, base)
    attributes, excluded = _projection_args(req)
    headers = {"ETag": resource["meta"]["version"]}
    if status == 201:
        # RFC 7644 §3.3: 201 Created with Location = meta.location.
        headers["Location"] = resource["meta"]["location"]
    return scim_response(project(resource, rtype, attributes, excluded, owned=True), status, headers)


def _if_match(req: Request) -> list[str] | None:
    value = req.headers.get("If-Match")
    return [t for t in (v.strip() for v in value.split(",")) if t] if value else None


def _int_param(params: dict[str, Any], name: str) -> int | None:
    """An integer query/SearchRequest parameter (RFC 7644 §3.4.2.4: startIndex, count), or None.
    Query strings are text; a SearchRequest gives JSON integers (the decoder already bounds them,
    wire.py). Anything else is 400 invalidValue."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        # RFC 7644 §3.12 invalidValue: 1e30 or 1.5 is a JSON number, not an integer.
        raise InvalidValue(f"{name} must be an integer")
    try:
        number = int(value)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer, got {value!r:.40}") from None
    return number


def _list(rtype: ResourceType, params: dict[str, Any], attributes: list[str] | None,
          excluded: list[str] | None, st: MockState) -> Response:
    flt_text = params.get("filter")
    if flt_text is not None and not isinstance(flt_text, str):
        raise InvalidValue("filter must be a string")
    flt = parse_filter(flt_text) if flt_text is not None and flt_text.strip() else None
    # RFC 7644 §3.4.2.4: startIndex < 1 is interpreted as 1; a negative count as 0;
    # the server may return fewer than `count` (we cap at maxResults).
    start = max(1, _int_param(params, "startIndex") or 1)
    if start > MAX_JSON_INT:
        # SQLite's OFFSET is a 64-bit integer; RFC 7644 §3.12 invalidValue.
        raise InvalidValue(f"startIndex must be at most {MAX_JSON_INT}")
    count = _int_param(params, "count")
    count = st.max_results if count is None else min(max(0, count), st.max_results)
    sort_by = params.get("sortBy") or None
    if sort_by is not None and not isinstance(sort_by, str):
        raise InvalidValue("sortBy must be an attribute name")
    order = str(params.get("sortOrder") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise InvalidValue(f"sortOrder must be 'ascending' or 'descending', got {params.get('sortOrder')!r}")
    base, org = base_url(st), g.org
    if rtype is USER and flt is None and not sort_by and not attributes and not excluded:
        total, rows, groups = st.store.user_page_text(org, start, count, st.max_page_bytes)
        return scim_text_response(import_page_text(total, start, rows, groups, base))
    total, page = st.store.list_resources(org, rtype, flt, start, count, sort_by, order == "descending",
                                          st.max_page_bytes)
    resources = [project(decorate(r, rtype, base), rtype, attributes, excluded, owned=True) for r in page]
    return scim_response(list_response(total, start, resources))


def _search(rtype: ResourceType) -> Response:
    # RFC 7644 §3.4.3: POST /.search with a SearchRequest body.
    body = read_json()
    if not isinstance(body, dict):
        raise InvalidValue("the search request must be a JSON object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or SEARCH_REQUEST not in schemas:
        raise InvalidValue(f"the search request's schemas must contain {SEARCH_REQUEST}")
    attributes, excluded = _projection_args(request, body)
    return _list(rtype, body, attributes, excluded, state())


def _resource_routes(rtype: ResourceType) -> None:
    kind = rtype.name.lower()

    def collection() -> Response:
        # The proxies resolved once: each use of `request` or `g` looks up the context again.
        req, st = request._get_current_object(), state()  # type: ignore[attr-defined]
        if req.method == "POST":
            create = st.store.create_user if rtype.name == "User" else st.store.create_group
            return _single(create(g.org, read_json()), rtype, 201, st, req)
        attributes, excluded = _projection_args(req)
        return _list(rtype, req.args.to_dict(), attributes, excluded, st)

    def item(rid: str) -> Response:
        req, st = request._get_current_object(), state()  # type: ignore[attr-defined]
        s, org, method = st.store, g.org, req.method
        user = rtype.name == "User"
        if method == "GET":
            resource = (s.get_user if user else s.get_group)(org, rid)
            inm = req.headers.get("If-None-Match")
            if inm and any(t.strip() in ("*", resource["meta"]["version"]) for t in inm.split(",")):
                # RFC 7232 §3.2: the client's copy is current.
                return Response(status=304, headers={"ETag": resource["meta"]["version"]})
            return _single(resource, rtype, 200, st, req)
        if method == "PUT":
            return _single((s.replace_user if user else s.replace_group)(org, rid, read_json(), _if_match(req)), rtype,
                           200, st, req)
        if method == "PATCH":
            return _single((s.patch_user if user else s.patch_group)(org, rid, read_json(), _if_match(req)), rtype,
                           200, st, req)
        (s.delete_user if user else s.delete_group)(org, rid, _if_match(req))
        return Response(status=204)

    def search() -> Response:
        return _search(rtype)

    bp.add_url_rule(rtype.endpoint, f"{kind}_collection", collection, methods=["GET", "POST"])
    bp.add_url_rule(f"{rtype.endpoint}/.search", f"{kind}_search", search, methods=["POST"])
    bp.add_url_rule(f"{rtype.endpoint}/<rid>", f"{kind}_item", item, methods=["GET", "PUT", "PATCH", "DELETE"])


_resource_routes(USER)
_resource_routes(GROUP)


@bp.post("/.search")
def root_search() -> Response:
    raise NotImplementedScim("POST /.search across resource types is not supported; "
                             "use /Users/.search or /Groups/.search")


# ---------------------------------------------------------------------------- discovery (RFC 7644 §4)
@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    return scim_response(discovery.service_provider_config(base_url(), max_results=state().max_results))


def _list_of(items: list[dict[str, Any]]) -> Response:
    return scim_response(list_response(len(items), 1, items))


def _by_id(items: list[dict[str, Any]], rid: str, what: str) -> Response:
    for item in items:
        if item.get("id") == rid or item.get("name") == rid:
            return scim_response(item)
    raise NotFound(f"{what} {rid!r} not found")


@bp.get("/ResourceTypes")
def resource_types() -> Response:
    return _list_of(discovery.resource_types(base_url()))


@bp.get("/ResourceTypes/<rid>")
def resource_type(rid: str) -> Response:
    return _by_id(discovery.resource_types(base_url()), rid, "ResourceType")


@bp.get("/Schemas")
def schemas() -> Response:
    return _list_of(discovery.schemas(base_url()))


@bp.get("/Schemas/<path:rid>")
def schema(rid: str) -> Response:
    return _by_id(discovery.schemas(base_url()), rid, "Schema")


# ---------------------------------------------------------------------------- not supported
@bp.route("/Bulk", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def bulk() -> Response:
    # RFC 7644 §3.7; ServiceProviderConfig advertises bulk.supported = false.
    raise NotImplementedScim("Bulk operations are not supported by this service provider")


@bp.route("/Me", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def me() -> Response:
    # RFC 7644 §3.11: /Me is optional; a bearer token here names a directory, not a user.
    raise NotImplementedScim("/Me is not supported: the bearer token identifies a directory, not a user")
