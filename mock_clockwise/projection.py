"""RFC 7644 §3.4.2.5 / §3.9 attribute projection (`attributes`, `excludedAttributes`) and the
RFC 7644 §3.4.2.3 sort key for `sortBy`."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from mock_clockwise.representation import default_view
from mock_clockwise.schema import Attribute, ResourceType, get_ci

# Selection: container ("" = core, else the extension URN) -> None (all of it) or
# {lower-case attribute name -> None (whole attribute) or set of lower-case sub-attribute names}.
Selection = dict[str, "dict[str, set[str] | None] | None"]

_ALWAYS = ("schemas", "id")  # RFC 7643 §3.1 / §3: returned "always"


def parse_attr_list(text: str | None) -> list[str] | None:
    """Split a comma-separated `attributes`/`excludedAttributes` value; None when absent or empty."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    return names or None


def _select(names: list[str], rtype: ResourceType) -> Selection:
    sel: Selection = {}
    for name in names:
        urn = rtype.extension_urn(name)
        if urn is not None:
            sel[urn] = None
            continue
        ref = rtype.resolve(name)
        if ref is None:
            continue  # unknown names are ignored (RFC 7644 §3.9 does not make them errors)
        container = ref.schema if ref.is_extension else ""
        if container in sel and sel[container] is None:
            continue
        attrs = sel.setdefault(container, {})
        assert attrs is not None
        key = ref.name.lower()
        if ref.sub_attribute is None:
            attrs[key] = None
        elif key not in attrs or attrs[key] is not None:
            subs = attrs.setdefault(key, set())
            assert subs is not None
            subs.add(ref.sub_attribute.name.lower())
    return sel


_NO_NAMES: frozenset[str] = frozenset()


def _never(rtype: ResourceType, container: str) -> frozenset[str]:
    return rtype.never_returned if container == "" else _NO_NAMES


def _pick(value: Any, subs: set[str]) -> Any:
    if isinstance(value, dict):
        picked = {k: copy.deepcopy(v) for k, v in value.items() if k.lower() in subs}
        return picked or None
    if isinstance(value, list):
        items = [_pick(v, subs) for v in value]
        items = [i for i in items if i]
        return items or None
    return None


def _drop(value: Any, subs: set[str]) -> Any:
    if isinstance(value, dict):
        kept = {k: copy.deepcopy(v) for k, v in value.items() if k.lower() not in subs}
        return kept or None
    if isinstance(value, list):
        items = [_drop(v, subs) for v in value]
        items = [i for i in items if i]
        return items or None
    return copy.deepcopy(value)


def _include(src: dict[str, Any], spec: dict[str, set[str] | None] | None, never: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in src.items():
        low = key.lower()
        if low in never:
            continue
        if spec is None or (low in spec and spec[low] is None):
            out[key] = copy.deepcopy(value)
        elif low in spec:
            picked = _pick(value, spec[low] or set())
            if picked is not None:
                out[key] = picked
    return out


def _exclude(src: dict[str, Any], spec: dict[str, set[str] | None], never: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in src.items():
        low = key.lower()
        if low in never or (low in spec and spec[low] is None):
            continue
        if low in spec:
            kept = _drop(value, spec[low] or set())
            if kept is not None:
                out[key] = kept
        else:
            out[key] = copy.deepcopy(value)
    return out


def project(resource: dict[str, Any], rtype: ResourceType, attributes: list[str] | None,
            excluded: list[str] | None, *, owned: bool = False) -> dict[str, Any]:
    """A NEW dict with the attributes to return. `returned: never` (password) is always removed;
    `returned: always` (id, schemas) is always kept (RFC 7643 §2.2, RFC 7644 §3.9).

    `owned=True`: the caller owns `resource` and will not use it again (the views serialise a
    resource fresh from the store), so the result may share its values instead of deep-copying
    them; with neither `attributes` nor `excludedAttributes` that is a single shallow pass."""
    if owned and not attributes and not excluded:
        return default_view(resource, rtype)
    include = _select(attributes, rtype) if attributes else None
    exclude = _select(excluded, rtype) if excluded else {}
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key in _ALWAYS:
            out[key] = copy.deepcopy(value)
            continue
        urn = rtype.extension_urn(key)
        container = urn or ""
        never = _never(rtype, container)
        if urn is None and key.lower() in never:
            continue
        if urn is not None:
            if not isinstance(value, dict):
                continue
            if include is not None and urn not in include:
                continue
            if urn in exclude and exclude[urn] is None:
                continue
            kept = _include(value, include[urn] if include is not None else None, never)
            kept = _exclude(kept, exclude.get(urn) or {}, never)
            if kept:
                out[urn] = kept
            continue
        if include is not None:
            if "" not in include:
                continue  # only extension attributes were asked for
            part = _include({key: value}, include[""], never)
        else:
            part = {key: copy.deepcopy(value)}
        out.update(_exclude(part, exclude.get("") or {}, never))
    return out


# --- sorting ---------------------------------------------------------------------------------
def _pick_multi(values: list[Any]) -> Any:
    """RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, else the first."""
    for v in values:
        if isinstance(v, dict) and v.get("primary") is True:
            return v
    return values[0] if values else None


def sort_key(resource: dict[str, Any], rtype: ResourceType, sort_by: str) -> tuple[Any, ...]:
    """Key for `sorted()`: assigned values first (ascending), unassigned last. Strings of
    caseExact=false attributes compare lower-cased; dateTime by instant; numbers numerically."""
    missing = (1, 0, "")
    ref = rtype.resolve(sort_by) if isinstance(sort_by, str) else None
    if ref is None:
        return missing
    container: Any = resource
    if ref.is_extension:
        container = get_ci(resource, ref.schema)[1]
    if not isinstance(container, dict):
        return missing
    value = get_ci(container, ref.name)[1]
    if isinstance(value, list):
        value = _pick_multi(value)
    leaf: Attribute = ref.leaf
    if ref.sub_attribute is not None:
        value = get_ci(value, ref.sub_attribute.name)[1] if isinstance(value, dict) else None
    elif ref.attribute.is_complex:
        value = get_ci(value, "value")[1] if isinstance(value, dict) else None
        leaf = ref.attribute.sub("value") or leaf
    return _key(value, leaf, missing)


def _key(value: Any, attr: Attribute, missing: tuple[Any, ...]) -> tuple[Any, ...]:
    if value is None or value == "":
        return missing
    if isinstance(value, bool):
        return (0, 0, int(value))
    if isinstance(value, (int, float)):
        return (0, 0, value)
    if isinstance(value, str):
        if attr.type == "dateTime":
            try:
                dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
                dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
                return (0, 0, dt.timestamp())
            except ValueError:
                pass
        return (0, 1, value if attr.case_exact else value.lower())
    return missing
