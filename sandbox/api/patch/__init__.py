"""Patches: the four ways a client changes an object without sending it whole.

One module per patch kind, each a pure function from the current object (a
plain dict) to a new one, never mutating its inputs:

* :mod:`~sandbox.api.patch.json_patch`: RFC 6902 operations
  (``application/json-patch+json``);
* :mod:`~sandbox.api.patch.merge_patch`: RFC 7386 merge patch
  (``application/merge-patch+json``);
* :mod:`~sandbox.api.patch.strategic`: Kubernetes' strategic merge patch for
  built-in kinds (``application/strategic-merge-patch+json``), driven by the
  patch extensions of the kind's OpenAPI schema;
* :mod:`~sandbox.api.patch.apply`: server-side apply
  (``application/apply-patch+yaml``) and the field ownership
  (``metadata.managedFields``) every write keeps, built on the field paths
  and sets of :mod:`~sandbox.api.patch.fieldsets`.

The store picks the function from the request's content type and raises what
they raise (:mod:`sandbox.api.errors`) as the Status Kubernetes would send.
"""

from sandbox.api.patch.apply import (
    BEFORE_FIRST_APPLY,
    DEFAULT_IGNORED_PATHS,
    ignored_paths,
    record_update,
    server_side_apply,
)
from sandbox.api.patch.fieldsets import FieldPath, decode_fields, encode_fields, field_path
from sandbox.api.patch.json_patch import apply_json_patch
from sandbox.api.patch.merge_patch import apply_merge_patch, create_merge_patch, merge_into, merged
from sandbox.api.patch.strategic import apply_strategic_merge_patch, strategic_merge_unsupported

__all__ = [
    "BEFORE_FIRST_APPLY",
    "DEFAULT_IGNORED_PATHS",
    "FieldPath",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "create_merge_patch",
    "decode_fields",
    "encode_fields",
    "field_path",
    "ignored_paths",
    "merge_into",
    "merged",
    "record_update",
    "server_side_apply",
    "strategic_merge_unsupported",
]
