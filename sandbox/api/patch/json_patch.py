"""JSON Patch (RFC 6902): ``application/json-patch+json``.

``kubectl patch --type=json`` and the Python client's ``patch_*`` with a list
body send a list of operations. :func:`apply_json_patch` applies them one at a
time to a copy of the object with the ``jsonpatch`` library and turns the
library's exceptions into the errors kube-apiserver answers with.

What kube-apiserver does (``handlers/patch.go``, ``applyJSPatch``), and so what
we do:

* A body that does not decode as a list of operation objects is a **400
  BadRequest** with Go's decoding message, e.g. ``json: cannot unmarshal
  object into Go value of type jsonpatch.Patch``.
* Every failure while *applying* the operations — an unknown ``op``, a missing
  ``path`` or ``value``, a path that does not exist, a failed ``test`` — is a
  **422 Invalid** built by ``NewGenericServerResponse``, whose message is the
  fixed ``the server rejected our request due to an error in our request``
  (kubectl prints ``The request is invalid: …``). Kubernetes drops the
  library's reason; we keep its message and add one cause
  (``{"field": "patch", "message": "testing value /spec/replicas failed:
  test failed"}``) so the failure stays visible. The code, reason and message
  are Kubernetes' own.
* A patch that replaces the whole document with something other than an
  object fails later in Kubernetes, when the result is decoded; here it is the
  same 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer

from sandbox.api.errors import BadRequest, FieldError, Invalid
from sandbox.api.objects import deep_copy
from sandbox.api.patch._values import go_json_type

__all__ = ["REJECTED_MESSAGE", "apply_json_patch"]

#: The message of Kubernetes' 422 for a JSON patch that cannot be applied.
REJECTED_MESSAGE = "the server rejected our request due to an error in our request"


def _rejected(reason: str) -> Invalid:
    cause = FieldError("Invalid", "patch", text=reason)
    return Invalid(REJECTED_MESSAGE, details={"causes": [cause.cause]}, errors=[cause])


def _describe(op: Mapping[str, Any], exc: Exception) -> str:
    """A short reason in the words of Go's json-patch, naming the failing operation."""
    kind = op.get("op")
    path = op.get("path")
    if isinstance(exc, jsonpatch.InvalidJsonPatch):
        return f"invalid JSON patch operation {kind!s}: {exc}"
    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return f"testing value {path} failed: test failed"
    if kind in ("move", "copy") and isinstance(exc, jsonpatch.JsonPatchConflict):
        return f"jsonpatch {kind} operation does not apply: doc is missing from path: {op.get('from')}"
    return f"jsonpatch {kind} operation does not apply: doc is missing path: {path}"


def apply_json_patch(obj: Mapping[str, Any], ops: Any) -> dict[str, Any]:
    """``obj`` with the RFC 6902 operations ``ops`` applied; ``obj`` is not changed.

    Raises :class:`BadRequest` when ``ops`` is not a list of objects and
    :class:`Invalid` (422) when an operation cannot be applied (see the module
    docstring for why these codes).
    """
    if not isinstance(ops, list):
        raise BadRequest(
            f"json: cannot unmarshal {go_json_type(ops)} into Go value of type jsonpatch.Patch"
        )
    for op in ops:
        if not isinstance(op, Mapping):
            raise BadRequest(
                f"json: cannot unmarshal {go_json_type(op)} into Go value of type jsonpatch.Operation"
            )
    doc: Any = deep_copy(dict(obj))
    # Values the patch adds must not stay shared with the caller's patch.
    for op in deep_copy([dict(op) for op in ops]):
        try:
            doc = jsonpatch.apply_patch(doc, [op], in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _rejected(_describe(op, exc)) from exc
    if not isinstance(doc, dict):
        raise _rejected(f"the patched document is a JSON {go_json_type(doc)}, not an object")
    return doc
