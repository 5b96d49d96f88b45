"""JSON Merge Patch (RFC 7386): ``application/merge-patch+json``.

The patch type of ``kubectl label``/``annotate``, ``kubectl patch --type=merge``,
client-side ``kubectl apply`` on custom resources and the Python client's
``CustomObjectsApi.patch_*``. The rules are RFC 7386's and need no schema:

* an object in the patch merges into the target recursively;
* ``null`` deletes the key;
* anything else — a list, a string, a number — replaces the target value
  whole (lists are never merged element-wise);
* a patch that is not an object replaces the whole document.

:func:`create_merge_patch` is the inverse: the patch that turns one document
into another. It cannot express a ``null`` that should stay in the result
(``null`` means "delete"), so ``apply_merge_patch(a, create_merge_patch(a, b))
== b`` holds for every ``b`` without ``null`` values in its objects.

Kubernetes note: kube-apiserver answers a top-level merge patch that is not an
object with 400 ``Invalid JSON Patch`` (or fails to decode a list). Here the
RFC result is returned and the store, which knows it needs an object, refuses
it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.objects import deep_copy
from sandbox.api.patch._values import json_equal

__all__ = ["apply_merge_patch", "create_merge_patch", "merge_into", "merged"]


def merge_into(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Merge the object patch ``patch`` into ``target`` in place and return it.

    For a caller that owns ``target`` (a fresh copy): :func:`apply_merge_patch`
    without copying the whole object once more.
    """
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping):
            current = target.get(key)
            base = current if isinstance(current, dict) else {}
            target[key] = merge_into(base, value)
        else:
            target[key] = deep_copy(value)
    return target


def merged(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` with the object patch ``patch`` merged, as a new object that copies only the
    objects along the patch and shares every other part with ``target`` (which is left as it was).

    For targets nothing changes in place, such as the store's objects.
    """
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            current = out.get(key)
            out[key] = merged(current if isinstance(current, Mapping) else {}, value)
        else:
            out[key] = deep_copy(value)
    return out


def apply_merge_patch(obj: Any, patch: Any) -> Any:
    """``obj`` with the merge patch applied (RFC 7386); neither argument is changed.

    Called with an object and an object patch, as Kubernetes does, it returns a
    new dict.
    """
    if not isinstance(patch, Mapping):
        return deep_copy(patch)
    base = deep_copy(dict(obj)) if isinstance(obj, Mapping) else {}
    return merge_into(base, patch)


def create_merge_patch(original: Any, modified: Any) -> Any:
    """The merge patch that turns ``original`` into ``modified`` (empty when equal)."""
    if not (isinstance(original, Mapping) and isinstance(modified, Mapping)):
        return deep_copy(modified)
    patch: dict[str, Any] = {key: None for key in original if key not in modified}
    for key, value in modified.items():
        if key not in original:
            patch[key] = deep_copy(value)
        elif not json_equal(original[key], value):
            if isinstance(value, Mapping) and isinstance(original[key], Mapping):
                patch[key] = create_merge_patch(original[key], value)
            else:
                patch[key] = deep_copy(value)
    return patch
