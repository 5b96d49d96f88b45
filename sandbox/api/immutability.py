"""What an update may not change: Kubernetes' update-time validation.

Create-time validation (:mod:`sandbox.api.validation`) asks "is this object
well formed?"; update-time validation asks "may it become this?". Learners
meet these rules as ``field is immutable`` errors — changing a Deployment's
selector, a Job's template, a running Pod's command — and the fix is always
the same lesson: delete and recreate, or change the owner. So the common
rules are here, with Kubernetes' field paths and words:

- Deployment, ReplicaSet, StatefulSet, DaemonSet: ``spec.selector`` (apps/v1);
- StatefulSet: everything in ``spec`` but replicas, template, updateStrategy,
  persistentVolumeClaimRetentionPolicy, minReadySeconds, ordinals;
- Job: ``spec.selector``, ``spec.template`` (while not suspended),
  ``spec.completions``, ``spec.completionMode``;
- Pod: ``spec`` except container images, ``activeDeadlineSeconds`` and
  added tolerations (``nodeName`` is set through ``pods/binding`` only);
- Service: ``spec.clusterIP``; PVC: ``spec`` except storage requests growing;
- ConfigMap and Secret marked ``immutable: true``; a Secret's ``type``;
- CRD: ``spec.scope``.

``validate_update(old, new)`` dispatches by kind through ``UPDATE_VALIDATORS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.api.errors import FieldError
from sandbox.api.kinds import split_api_version

__all__ = ["UPDATE_VALIDATORS", "validate_update"]

Obj = Mapping[str, Any]
UpdateValidator = Callable[[Obj, Obj], list[FieldError]]

_IMMUTABLE = "field is immutable"


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def _unchanged(old: Obj, new: Obj, *paths: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for path in paths:
        before, after = _get(old, path), _get(new, path)
        if before != after:
            errors.append(FieldError("Invalid", path, value=after, detail=_IMMUTABLE))
    return errors


def _apps_selector(old: Obj, new: Obj) -> list[FieldError]:
    return _unchanged(old, new, "spec.selector")


_STS_UPDATABLE = ("replicas", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                  "minReadySeconds", "ordinals", "revisionHistoryLimit")


def _statefulset(old: Obj, new: Obj) -> list[FieldError]:
    def rest(obj: Obj) -> dict[str, Any]:
        return {k: v for k, v in (obj.get("spec") or {}).items() if k not in _STS_UPDATABLE}

    if rest(old) != rest(new):
        return [FieldError(
            "Forbidden", "spec",
            detail="updates to statefulset spec for fields other than 'replicas', 'ordinals', "
            "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
            "'minReadySeconds' are forbidden",
        )]
    return []


def _job(old: Obj, new: Obj) -> list[FieldError]:
    errors = _unchanged(old, new, "spec.selector", "spec.completionMode")
    if _get(old, "spec.completions") != _get(new, "spec.completions"):
        errors.append(FieldError("Invalid", "spec.completions", value=_get(new, "spec.completions"),
                                 detail=_IMMUTABLE))
    suspended = bool(_get(old, "spec.suspend")) and bool(_get(new, "spec.suspend"))
    if not suspended:
        errors += _unchanged(old, new, "spec.template")
    return errors


_POD_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _pod_spec_mutable_view(spec: Mapping[str, Any], old_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec with every field an update may change replaced by the old value."""
    view = dict(spec)
    for field in ("containers", "initContainers"):
        old_list = old_spec.get(field) or []
        new_list = spec.get(field) or []
        if new_list and len(old_list) == len(new_list):
            view[field] = [
                {**new, "image": old.get("image")} if isinstance(new, Mapping) else new
                for old, new in zip(old_list, new_list, strict=True)
            ]
    view["activeDeadlineSeconds"] = old_spec.get("activeDeadlineSeconds")
    old_tolerations = old_spec.get("tolerations") or []
    new_tolerations = spec.get("tolerations") or []
    if new_tolerations[: len(old_tolerations)] == old_tolerations:
        view["tolerations"] = old_spec.get("tolerations")
    return {k: v for k, v in view.items() if v is not None}


def _pod(old: Obj, new: Obj) -> list[FieldError]:
    old_spec = old.get("spec") or {}
    new_spec = new.get("spec") or {}
    if _pod_spec_mutable_view(new_spec, old_spec) != {
        k: v for k, v in old_spec.items() if v is not None
    }:
        # spec.nodeName too: a pod is bound through pods/binding, never by update.
        return [FieldError("Forbidden", "spec", detail=_POD_MESSAGE)]
    return []


def _service(old: Obj, new: Obj) -> list[FieldError]:
    before = _get(old, "spec.clusterIP")
    if before and _get(new, "spec.clusterIP") not in (before, None, ""):
        return [FieldError("Invalid", "spec.clusterIP", value=_get(new, "spec.clusterIP"),
                           detail=_IMMUTABLE)]
    return []


def _pvc(old: Obj, new: Obj) -> list[FieldError]:
    def rest(obj: Obj) -> dict[str, Any]:
        spec = dict(obj.get("spec") or {})
        spec.pop("resources", None)
        if not _get(old, "spec.volumeName"):
            spec.pop("volumeName", None)  # binding an unbound claim to a volume
        if not _get(old, "spec.storageClassName"):
            spec.pop("storageClassName", None)  # unset → the default class (1.28+)
        return spec

    if rest(old) != rest(new):
        return [FieldError(
            "Forbidden", "spec",
            detail="spec is immutable after creation except resources.requests and "
            "volumeAttributesClassName for bound claims",
        )]
    return []


def _immutable_data(*fields: str) -> UpdateValidator:
    def check(old: Obj, new: Obj) -> list[FieldError]:
        if not old.get("immutable"):
            return []
        errors: list[FieldError] = []
        if not new.get("immutable"):
            errors.append(FieldError("Forbidden", "immutable",
                                     detail="field is immutable when `immutable` is set"))
        for field in fields:
            if (old.get(field) or {}) != (new.get(field) or {}):
                errors.append(FieldError("Forbidden", field,
                                         detail="field is immutable when `immutable` is set"))
        return errors

    return check


def _secret(old: Obj, new: Obj) -> list[FieldError]:
    errors = _immutable_data("data", "stringData")(old, new)
    if (old.get("type") or "Opaque") != (new.get("type") or "Opaque"):
        errors.append(FieldError("Invalid", "type", value=new.get("type"), detail=_IMMUTABLE))
    return errors


def _crd(old: Obj, new: Obj) -> list[FieldError]:
    return _unchanged(old, new, "spec.scope")


UPDATE_VALIDATORS: dict[tuple[str, str], UpdateValidator] = {
    ("apps", "Deployment"): _apps_selector,
    ("apps", "ReplicaSet"): _apps_selector,
    ("apps", "DaemonSet"): _apps_selector,
    ("apps", "StatefulSet"): lambda o, n: _apps_selector(o, n) or _statefulset(o, n),
    ("batch", "Job"): _job,
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "ConfigMap"): _immutable_data("data", "binaryData"),
    ("", "Secret"): _secret,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def validate_update(old: Obj, new: Obj) -> list[FieldError]:
    """Errors for changes Kubernetes refuses on update of a built-in kind."""
    group, _ = split_api_version(str(new.get("apiVersion") or ""))
    check = UPDATE_VALIDATORS.get((group, str(new.get("kind") or "")))
    return check(old, new) if check else []
