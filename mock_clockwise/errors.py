"""One SCIM error hierarchy (RFC 7644 §3.12), rendered in one place (`app.render_error`)."""
from __future__ import annotations

import errno
import sqlite3
from typing import Any

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """Base of every error the mock returns. `status` is the HTTP status;
    `scim_type` is RFC 7644 Table 9's keyword where one applies."""

    status: int = 400
    scim_type: str | None = None

    def __init__(self, detail: str, *, status: int | None = None, scim_type: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if scim_type is not None:
            self.scim_type = scim_type
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        # RFC 7644 §3.12: "status" is a string.
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


# --- 400 with a scimType (RFC 7644 §3.12, Table 9) --------------------------------------
class InvalidFilter(ScimError):
    scim_type = "invalidFilter"


class Uniqueness(ScimError):
    status = 409
    scim_type = "uniqueness"


class Mutability(ScimError):
    scim_type = "mutability"


class InvalidSyntax(ScimError):
    scim_type = "invalidSyntax"


class InvalidPath(ScimError):
    scim_type = "invalidPath"


class NoTarget(ScimError):
    scim_type = "noTarget"


class InvalidValue(ScimError):
    scim_type = "invalidValue"


# --- other statuses ----------------------------------------------------------------------
class Unauthorized(ScimError):
    status = 401


class Forbidden(ScimError):
    status = 403


class NotFound(ScimError):
    status = 404


class MethodNotAllowed(ScimError):
    status = 405


class PreconditionFailed(ScimError):
    status = 412


class PayloadTooLarge(ScimError):
    status = 413


class UnsupportedMediaType(ScimError):
    status = 415


class TooManyRequests(ScimError):
    status = 429


class InternalError(ScimError):
    status = 500


class NotImplementedScim(ScimError):
    status = 501


class InsufficientStorage(ScimError):
    # RFC 4918 §11.5 (507): the server cannot store what the request needs; a client may retry later.
    status = 507


def storage_error(exc: BaseException) -> ScimError | None:
    """The SCIM error for a full disk (SQLite's SQLITE_FULL "database or disk is full", or an
    OSError ENOSPC/EDQUOT from a file the mock writes), else None. The write that hit it was rolled
    back (store_base._tx), so nothing changed."""
    if isinstance(exc, sqlite3.OperationalError):
        full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    else:
        full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if not full:
        return None
    return InsufficientStorage("The mock's storage is full: the request was not carried out and changed nothing; "
                               "retry once space is freed", headers={"Retry-After": "60"})


_BY_STATUS: dict[int, type[ScimError]] = {cls.status: cls for cls in (
    Unauthorized, Forbidden, NotFound, MethodNotAllowed, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
    TooManyRequests, InternalError, NotImplementedScim, InsufficientStorage)}


def status_error(status: int, detail: str, headers: dict[str, str] | None = None) -> ScimError:
    """An error with this HTTP status and no scimType (a status werkzeug raised, or one a fault
    forces): the class above for that status, else a plain ScimError carrying it."""
    return _BY_STATUS.get(status, ScimError)(detail, status=status, headers=headers)
