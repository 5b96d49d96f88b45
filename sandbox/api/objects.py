"""Helpers for objects as plain dicts: metadata, owners, conditions.

Objects stay dicts end to end (what YAML gives, what the REST facade sends,
what the store keeps); these functions read and write their common parts so
no module pokes at ``obj["metadata"]["ownerReferences"]`` by hand.

Conditions follow ``metav1.Condition``: ``type``, ``status`` ("True",
"False", "Unknown"), ``reason``, ``message``, ``lastTransitionTime`` (which
moves only when ``status`` changes) and ``observedGeneration``.
"""

from __future__ import annotations

import copy
import marshal
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.api.kinds import split_api_version
from sandbox.clock import format_time

__all__ = [
    "ObjectKey",
    "annotations",
    "condition_is",
    "controller_of",
    "deep_copy",
    "fast_copy",
    "find_condition",
    "is_being_deleted",
    "key_of",
    "labels",
    "meta",
    "owned_by",
    "owner_reference",
    "remove_condition",
    "set_condition",
    "set_owner",
    "split_api_version",
]

ObjectKey = tuple[str, str]
"""(namespace, name); the namespace is ``""`` for cluster-scoped objects."""


def deep_copy(obj: Any) -> Any:
    """A deep copy of a JSON-like value (faster than :func:`copy.deepcopy`)."""
    if isinstance(obj, dict):
        return {k: deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [deep_copy(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return copy.deepcopy(obj)


def fast_copy(obj: Any) -> Any:
    """A deep copy of a JSON-like value the store keeps, at C speed (a :mod:`marshal` round trip).

    About five times faster than :func:`deep_copy` on a large object, which
    matters on the hot paths (every read of the store and every watch event
    is a copy of a stored object). One difference: a container referenced
    twice inside ``obj`` stays shared in the copy (as with
    :func:`copy.deepcopy`), where :func:`deep_copy` makes two. So use it on
    objects known to share nothing within themselves — the store's own,
    built from :func:`deep_copy` copies of what callers hand in (versions of
    one object may share parts with each other, never with themselves). A
    value marshal cannot carry (a datetime, a ``str`` subclass, any other
    object) falls back to :func:`deep_copy`.
    """
    try:
        return marshal.loads(marshal.dumps(obj))
    except ValueError:
        return deep_copy(obj)


def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's metadata (an empty dict if it has none; not inserted)."""
    return obj.get("metadata") or {}


def key_of(obj: Mapping[str, Any]) -> ObjectKey:
    m = meta(obj)
    return (m.get("namespace") or "", m.get("name") or "")


def labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return meta(obj).get("labels") or {}


def annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return meta(obj).get("annotations") or {}


def is_being_deleted(obj: Mapping[str, Any]) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


# Owners --------------------------------------------------------------------


def owner_reference(
    owner: Mapping[str, Any], *, controller: bool = True, block_owner_deletion: bool = True
) -> dict[str, Any]:
    """An ``ownerReference`` pointing at ``owner``."""
    m = meta(owner)
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": m["name"],
        "uid": m["uid"],
        "controller": controller,
        "blockOwnerDeletion": block_owner_deletion,
    }


def set_owner(obj: dict[str, Any], owner: Mapping[str, Any], *, controller: bool = True) -> None:
    """Make ``owner`` an owner of ``obj`` (replacing a reference with the same uid)."""
    ref = owner_reference(owner, controller=controller)
    refs = obj.setdefault("metadata", {}).setdefault("ownerReferences", [])
    if controller and any(r.get("controller") and r.get("uid") != ref["uid"] for r in refs):
        other = next(r for r in refs if r.get("controller"))
        raise ValueError(
            f"{obj.get('kind')} {meta(obj).get('name')!r} is already controlled by "
            f"{other['kind']} {other['name']!r}"
        )
    refs[:] = [r for r in refs if r.get("uid") != ref["uid"]] + [ref]


def controller_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for ref in meta(obj).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = meta(owner).get("uid")
    return any(ref.get("uid") == uid for ref in meta(obj).get("ownerReferences") or ())


# Conditions ----------------------------------------------------------------


def find_condition(obj: Mapping[str, Any], type_: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_:
            return cond
    return None


def condition_is(obj: Mapping[str, Any], type_: str, status: str = "True") -> bool:
    cond = find_condition(obj, type_)
    return cond is not None and cond.get("status") == status


def set_condition(
    obj: dict[str, Any],
    type_: str,
    status: str | bool,
    *,
    reason: str,
    message: str = "",
    now: datetime,
    observed_generation: int | None = None,
) -> bool:
    """Set one condition in ``obj.status.conditions``; returns whether it changed.

    ``lastTransitionTime`` moves only when ``status`` flips, as Kubernetes
    requires; reason, message and observedGeneration are refreshed always.
    """
    if isinstance(status, bool):
        status = "True" if status else "False"
    if status not in ("True", "False", "Unknown"):
        raise ValueError(f"condition status must be True, False or Unknown, not {status!r}")
    if observed_generation is None:
        observed_generation = meta(obj).get("generation")
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    new: dict[str, Any] = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": format_time(now),
    }
    if observed_generation is not None:
        new["observedGeneration"] = observed_generation
    for i, cond in enumerate(conditions):
        if cond.get("type") != type_:
            continue
        if cond.get("status") == status:
            new["lastTransitionTime"] = cond.get("lastTransitionTime", new["lastTransitionTime"])
        if cond == new:
            return False
        conditions[i] = new
        return True
    conditions.append(new)
    return True


def remove_condition(obj: dict[str, Any], type_: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions")
    if not conditions:
        return False
    kept = [c for c in conditions if c.get("type") != type_]
    changed = len(kept) != len(conditions)
    conditions[:] = kept
    return changed
