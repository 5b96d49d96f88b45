"""The ``scale`` subresource: an ``autoscaling/v1 Scale`` view of a workload.

``kubectl scale`` and the HorizontalPodAutoscaler never touch a Deployment
directly: they read and write its Scale, which carries only
``spec.replicas`` and, in ``status``, the observed replicas and the pod
selector as a string. Built-in kinds keep those at ``spec.replicas``,
``status.replicas`` and ``spec.selector``; a CustomResourceDefinition names
its own paths (``subresources.scale.specReplicasPath`` …), its label
selector being a string already.

Pure functions: the handler reads the object, converts, patches the Scale,
and writes the new replica count back through the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import FieldError, Invalid, NotFound
from sandbox.api.kinds import ResourceType
from sandbox.api.selectors import LabelSelector

__all__ = ["replicas_patch", "scale_of", "validate_scale"]

_BUILTIN_PATHS = {
    "specReplicasPath": ".spec.replicas",
    "statusReplicasPath": ".status.replicas",
}


def _paths(rt: ResourceType) -> Mapping[str, str]:
    if "scale" not in rt.subresources:
        raise NotFound("the server could not find the requested resource")
    if rt.builtin:
        return _BUILTIN_PATHS
    return rt.scale_paths or {}


def _segments(path: str) -> list[str]:
    return [p for p in path.strip().lstrip(".").split(".") if p]


def _read(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for key in _segments(path):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def scale_of(rt: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The Scale of a stored object."""
    paths = _paths(rt)
    meta = obj.get("metadata") or {}
    scale_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp") if k in meta}
    status: dict[str, Any] = {"replicas": int(_read(obj, paths.get("statusReplicasPath", "")) or 0)}
    if rt.builtin:
        selector = (obj.get("spec") or {}).get("selector")
        if selector:
            status["selector"] = str(LabelSelector.from_dict(selector))
    elif paths.get("labelSelectorPath"):
        selector = _read(obj, paths["labelSelectorPath"])
        if selector:
            status["selector"] = str(selector)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": int(_read(obj, paths.get("specReplicasPath", "")) or 0)},
        "status": status,
    }


def validate_scale(scale: Mapping[str, Any]) -> int:
    """The requested replicas, or kube-apiserver's 422 for a bad Scale."""
    name = (scale.get("metadata") or {}).get("name", "")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        error = FieldError("Invalid", "spec.replicas", value=replicas, detail="must be an integer")
    elif replicas < 0:
        error = FieldError("Invalid", "spec.replicas", value=replicas,
                           detail="must be greater than or equal to 0")
    else:
        return replicas
    return _invalid(name, error)


def _invalid(name: str, error: FieldError) -> int:
    raise Invalid(
        f'Scale.autoscaling "{name}" is invalid: {error.message}',
        details={"name": name, "group": "autoscaling", "kind": "Scale", "causes": [error.cause]},
        errors=[error],
    )


def replicas_patch(
    rt: ResourceType, replicas: int, *, resource_version: str | None = None
) -> dict[str, Any]:
    """A merge patch setting the workload's replicas (with an optional version precondition)."""
    patch: dict[str, Any] = {}
    node = patch
    *parents, leaf = _segments(_paths(rt).get("specReplicasPath", ".spec.replicas"))
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = replicas
    if resource_version:
        patch.setdefault("metadata", {})["resourceVersion"] = resource_version
    return patch
