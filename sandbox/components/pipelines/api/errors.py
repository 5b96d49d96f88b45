"""Errors of the KFP REST API, in the JSON shape KFP's gateway answers with.

KFP's API server is gRPC behind grpc-gateway; a failed call answers with the
HTTP status grpc-gateway derives from the gRPC code, and a body like::

    {"error": "Failed to get run: ResourceNotFoundError: Run 42 not found",
     "code": 5,
     "message": "Failed to get run: ResourceNotFoundError: Run 42 not found",
     "details": [{"@type": "type.googleapis.com/api.Error",
                  "error_message": "Run 42 not found",
                  "error_details": "Failed to get run: ResourceNotFoundError: Run 42 not found"}]}

``kfp_server_api`` does not parse the body (an ``ApiException`` carries the
status and the raw text), so what matters to a client is the status code and
a message a person can act on; the shape is KFP's so people and tools that
read it see what they know.

:class:`KfpError` and its subclasses are what the API modules raise;
:func:`from_exception` turns anything else — the sandbox's Kubernetes-shaped
:class:`~sandbox.api.errors.ApiError` family coming back from the cluster
client, the graph layer's :class:`PipelineSpecInvalid` (whose problem list
becomes a ``google.rpc.BadRequest`` detail) — into one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sandbox.api.errors import AlreadyExists, ApiError, Conflict, Forbidden, NotFound, Unauthorized
from sandbox.components.pipelines.graph import PipelineSpecInvalid

__all__ = [
    "AlreadyExistsError",
    "FailedPrecondition",
    "InternalError",
    "InvalidArgument",
    "KfpError",
    "NotFoundError",
    "error_body",
    "from_exception",
]


class KfpError(Exception):
    """An API failure: a gRPC code, the HTTP status grpc-gateway maps it to, a message."""

    grpc_code: ClassVar[int] = 13
    http_status: ClassVar[int] = 500
    kind: ClassVar[str] = "InternalServerError"

    def __init__(self, message: str, *, action: str = "", details: list[dict[str, Any]] | None = None
                 ) -> None:
        super().__init__(message)
        #: What the problem is ("Run 42 not found").
        self.message = message
        #: What failed ("Failed to get run"), the prefix KFP puts before the kind.
        self.action = action
        self.extra_details = list(details or [])

    @property
    def full_message(self) -> str:
        return f"{self.action}: {self.kind}: {self.message}" if self.action else f"{self.kind}: {self.message}"

    def during(self, action: str) -> KfpError:
        """Name what failed, unless something inner already did."""
        if not self.action:
            self.action = action
        return self


class InvalidArgument(KfpError):
    grpc_code = 3
    http_status = 400
    kind = "InvalidInputError"


class NotFoundError(KfpError):
    grpc_code = 5
    http_status = 404
    kind = "ResourceNotFoundError"


class AlreadyExistsError(KfpError):
    grpc_code = 6
    http_status = 409
    kind = "AlreadyExistError"


class PermissionDenied(KfpError):
    grpc_code = 7
    http_status = 403
    kind = "PermissionDeniedError"


class FailedPrecondition(KfpError):
    grpc_code = 9
    http_status = 400
    kind = "FailedPreconditionError"


class Aborted(KfpError):
    grpc_code = 10
    http_status = 409
    kind = "AbortedError"


class Unauthenticated(KfpError):
    grpc_code = 16
    http_status = 401
    kind = "UnauthenticatedError"


class InternalError(KfpError):
    pass


def _problem_details(err: PipelineSpecInvalid) -> list[dict[str, Any]]:
    violations = [{"field": problem.location or "pipeline_spec",
                   "description": f"{problem.reason}: {problem.message}"} for problem in err.problems]
    return [{"@type": "type.googleapis.com/google.rpc.BadRequest", "field_violations": violations}]


def from_exception(exc: BaseException) -> KfpError:
    """Any failure as a :class:`KfpError` (unknown ones become ``Internal``)."""
    if isinstance(exc, KfpError):
        return exc
    if isinstance(exc, PipelineSpecInvalid):
        return InvalidArgument(exc.message, details=_problem_details(exc))
    if isinstance(exc, ApiError):
        mapping: list[tuple[type[ApiError], type[KfpError]]] = [
            (NotFound, NotFoundError), (AlreadyExists, AlreadyExistsError), (Conflict, Aborted),
            (Forbidden, PermissionDenied), (Unauthorized, Unauthenticated)]
        for source, target in mapping:
            if isinstance(exc, source):
                return target(exc.message)
        if 400 <= exc.code < 500:
            return InvalidArgument(exc.message)
        return InternalError(exc.message)
    return InternalError(f"{type(exc).__name__}: {exc}")


def error_body(err: KfpError) -> dict[str, Any]:
    """The JSON body of an error answer."""
    text = err.full_message
    details = [{"@type": "type.googleapis.com/api.Error", "error_message": err.message,
                "error_details": text}, *err.extra_details]
    return {"error": text, "code": err.grpc_code, "message": text, "details": details}
