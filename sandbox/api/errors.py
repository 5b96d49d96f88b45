"""Kubernetes-shaped errors.

Every failure that crosses the API boundary is an :class:`ApiError` that knows
the ``Status`` object Kubernetes would answer with (kind, apiVersion, status,
message, reason, details, code). The store raises them, the REST facade
serialises them, the real-cluster client rebuilds them from a server's Status
with :func:`from_status`, so code above ``client/`` handles one family of
errors whichever backend it runs on.

Field-level problems are :class:`FieldError` values, formatted exactly like
Kubernetes' ``field.Error`` (``spec.replicas: Invalid value: -1: must be
greater than or equal to 0``); a list of them becomes one 422 :class:`Invalid`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "Gone",
    "InternalError",
    "Invalid",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "ServiceUnavailable",
    "Timeout",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "from_status",
    "resource_ref",
]


def resource_ref(plural: str, group: str = "") -> str:
    """The resource as Kubernetes names it in messages: ``pods``, ``tfjobs.kubeflow.org``."""
    return f"{plural}.{group}" if group else plural


class ApiError(Exception):
    """An error with the HTTP code and reason of a Kubernetes ``Status``."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    @property
    def status(self) -> dict[str, Any]:
        """The ``Status`` object for this error, as the API server answers it."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    # Named constructors with Kubernetes' exact wording. ------------------

    @staticmethod
    def _details(plural: str, group: str, name: str) -> dict[str, Any]:
        details: dict[str, Any] = {"name": name, "kind": plural}
        if group:
            details["group"] = group
        return details


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Unauthorized(ApiError):
    code = 401
    reason = "Unauthorized"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"

    @classmethod
    def of(cls, plural: str, name: str, *, group: str = "") -> NotFound:
        return cls(
            f'{resource_ref(plural, group)} "{name}" not found',
            details=cls._details(plural, group, name),
        )


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(ApiError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"

    @classmethod
    def of(cls, plural: str, name: str, *, group: str = "") -> AlreadyExists:
        return cls(
            f'{resource_ref(plural, group)} "{name}" already exists',
            details=cls._details(plural, group, name),
        )


class Conflict(ApiError):
    code = 409
    reason = "Conflict"

    @classmethod
    def modified(cls, plural: str, name: str, *, group: str = "") -> Conflict:
        return cls(
            f'Operation cannot be fulfilled on {resource_ref(plural, group)} "{name}": '
            "the object has been modified; please apply your changes to the latest "
            "version and try again",
            details=cls._details(plural, group, name),
        )


class Gone(ApiError):
    """410: a watch or list asked for a resourceVersion older than the history."""

    code = 410
    reason = "Expired"

    @classmethod
    def too_old(cls, requested: int | str, oldest: int | str) -> Gone:
        return cls(f"too old resource version: {requested} ({oldest})")


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(ApiError):
    """422: the object failed validation; ``causes`` carry the field paths."""

    code = 422
    reason = "Invalid"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.errors = list(errors or [])

    @classmethod
    def of(
        cls, kind: str, name: str, errors: list[FieldError], *, plural: str = "", group: str = ""
    ) -> Invalid:
        """``Pod "bad" is invalid: spec.containers: Required value`` (several joined
        as a list); kinds of a named group are qualified: ``Deployment.apps "web"``."""
        if len(errors) == 1:
            summary = errors[0].message
        else:
            summary = "[" + ", ".join(e.message for e in errors) + "]"
        details: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "causes": [e.cause for e in errors],
        }
        if group:
            details["group"] = group
        # Kubernetes names the qualified kind: `Deployment.apps "web" is invalid`.
        qualified = f"{kind}.{group}" if group else kind
        return cls(f'{qualified} "{name}" is invalid: {summary}', details=details, errors=errors)


class TooManyRequests(ApiError):
    code = 429
    reason = "TooManyRequests"


class InternalError(ApiError):
    code = 500
    reason = "InternalError"


class ServiceUnavailable(ApiError):
    code = 503
    reason = "ServiceUnavailable"


class Timeout(ApiError):
    code = 504
    reason = "Timeout"


_BY_REASON: dict[str, type[ApiError]] = {
    c.reason: c
    for c in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        AlreadyExists,
        Conflict,
        Gone,
        UnsupportedMediaType,
        Invalid,
        TooManyRequests,
        InternalError,
        ServiceUnavailable,
        Timeout,
    )
}
_BY_CODE: dict[int, type[ApiError]] = {}
for _cls in _BY_REASON.values():
    _BY_CODE.setdefault(_cls.code, _cls)


def from_status(status: dict[str, Any] | str | bytes, *, code: int | None = None) -> ApiError:
    """Rebuild the matching :class:`ApiError` from a ``Status`` body (dict or JSON text)."""
    if isinstance(status, (str, bytes)):
        try:
            status = json.loads(status)
        except ValueError:
            cls = _BY_CODE.get(code or 500, InternalError)
            return cls(status.decode() if isinstance(status, bytes) else status)
    assert isinstance(status, dict)
    reason = status.get("reason") or ""
    status_code = status.get("code") or code or 500
    cls = _BY_REASON.get(reason) or _BY_CODE.get(int(status_code), InternalError)
    message = status.get("message") or reason or f"HTTP {status_code}"
    details = status.get("details") or {}
    if cls is Invalid:
        errors = [FieldError.from_cause(c) for c in details.get("causes", [])]
        return Invalid(message, details=details, errors=errors)
    return cls(message, details=details)


# Field errors --------------------------------------------------------------

# Kubernetes' field.ErrorType: the cause reason and the words of the message.
_FIELD_ERROR_TYPES: dict[str, tuple[str, str]] = {
    "NotFound": ("FieldValueNotFound", "Not found"),
    "Required": ("FieldValueRequired", "Required value"),
    "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
    "Invalid": ("FieldValueInvalid", "Invalid value"),
    "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
    "Forbidden": ("FieldValueForbidden", "Forbidden"),
    "TooLong": ("FieldValueTooLong", "Too long"),
    "TooMany": ("FieldValueTooMany", "Too many"),
    "Internal": ("InternalError", "Internal error"),
    "TypeInvalid": ("FieldValueTypeInvalid", "Invalid value"),
}
_TYPE_BY_REASON = {reason: t for t, (reason, _) in _FIELD_ERROR_TYPES.items()}

_MISSING = object()


def _go_value(value: Any) -> str:
    """Render a value the way Kubernetes' field errors quote it."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class FieldError:
    """One problem at one field path, like Kubernetes' ``field.Error``.

    ``type`` is one of Required, Invalid, NotSupported, Forbidden, Duplicate,
    TooLong, TooMany, NotFound, TypeInvalid, Internal. ``value`` is the bad
    value (omitted from the message for Required/Forbidden/TooLong/Internal).
    For NotSupported, ``supported`` lists the allowed values.
    """

    type: str
    field: str
    detail: str = ""
    value: Any = _MISSING
    supported: tuple[Any, ...] = ()
    #: The whole message body, when rebuilt from a server's Status cause.
    text: str = ""

    def __post_init__(self) -> None:
        if self.type not in _FIELD_ERROR_TYPES:
            raise ValueError(f"unknown field error type {self.type!r}")

    @property
    def reason(self) -> str:
        return _FIELD_ERROR_TYPES[self.type][0]

    @property
    def body(self) -> str:
        """The message without the field path: ``Invalid value: -1: must be ...``."""
        if self.text:
            return self.text
        words = _FIELD_ERROR_TYPES[self.type][1]
        if self.type == "NotSupported":
            text = words
            if self.value is not _MISSING:
                text += f": {_go_value(self.value)}"
            if self.supported:
                text += ": supported values: " + ", ".join(
                    _go_value(v) for v in self.supported
                )
            return text + (f": {self.detail}" if self.detail else "")
        text = words
        shows_value = self.type not in ("Required", "Forbidden", "TooLong", "Internal", "TooMany")
        if shows_value and self.value is not _MISSING:
            text += f": {_go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    @property
    def message(self) -> str:
        return f"{self.field}: {self.body}" if self.field else self.body

    @property
    def cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.body, "field": self.field}

    @classmethod
    def from_cause(cls, cause: dict[str, Any]) -> FieldError:
        ftype = _TYPE_BY_REASON.get(cause.get("reason", ""), "Invalid")
        return cls(ftype, cause.get("field", ""), text=cause.get("message", ""))

    def __str__(self) -> str:
        return self.message
