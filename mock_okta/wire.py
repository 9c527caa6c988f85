"""What goes on the wire in every dialect: the Call a dialect asks for, JSON bytes, paths, PatchOp.

Bodies are built as dicts in the documented key order and serialised compactly by
``dumps`` so the bytes on the wire match ``shared/reference/idp-wire.md`` exactly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

Member = tuple[str, str]  # (SCIM user id, display = the user's userName)


@dataclass(frozen=True)
class Call:
    """One request a dialect asks the org to send, in the order it must go.

    ``doing`` says what the request does, in the words of Okta's task error ("Error while
    <doing> user <login>"); ``ok`` lists non-2xx statuses that do not fail the task; on a
    group call, ``members`` is the membership the target holds once the call succeeded;
    ``lookup`` marks an existence check or connection probe (Entra quarantines a job whose
    lookups answer 404: idp-wire.md "Entra corrections").
    """

    method: str
    path: str
    body: Any = None
    query: str = ""
    ok: tuple[int, ...] = ()
    doing: str = ""
    members: list[Member] | None = None
    lookup: bool = False
    retried: bool = True  # False: an interactive request (Entra's test connection) is not retried in later cycles


# How a dialect reads a resource in the middle of a sequence: the org sends the GET Call
# (with the task's back-off and error wording) and returns the object the server answered.
Reader = Callable[[Call], dict[str, Any]]


def dumps(body: Any) -> bytes:
    """Compact JSON, key order kept, UTF-8 (Okta sends charset=utf-8)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def filter_value(value: str) -> str:
    """A string literal for a SCIM filter (RFC 7644 §3.4.2.2: a JSON string)."""
    return json.dumps(value, ensure_ascii=False)


def patch(ops: list[dict[str, Any]]) -> dict[str, Any]:
    # RFC 7644 §3.5.2: a PatchOp message.
    return {"schemas": [PATCH_OP], "Operations": ops}


def resource_path(kind: str, scim_id: str) -> str:
    """/Users/{id} or /Groups/{id}, the id percent-encoded so any server id stays one segment."""
    return f"/{kind}/{quote(scim_id, safe='')}"


def user_path(scim_id: str) -> str:
    return resource_path("Users", scim_id)


def group_path(scim_id: str) -> str:
    return resource_path("Groups", scim_id)
