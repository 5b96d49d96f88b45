"""How storage kinds print: PersistentVolumes, PersistentVolumeClaims, StorageClasses.

Access modes print short (``RWO,ROX,RWX,RWOP``), capacities canonical
(``10Gi``), the storage class comes from the beta annotation when set, a
deleting volume or claim reads ``Terminating``, and the default class is
named ``standard (default)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.printers.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    Column,
    Printer,
    PrintOptions,
    age_of,
    get,
    name_of,
    quantity_text,
)

__all__ = ["PERSISTENT_VOLUME", "PERSISTENT_VOLUME_CLAIM", "PRINTERS", "STORAGE_CLASS"]

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def _access_modes(modes: Any) -> str:
    present = set(modes or ())
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


def _storage_class_of(obj: Mapping[str, Any]) -> str:
    annotations = get(obj, "metadata", "annotations", default={})
    if _BETA_STORAGE_CLASS in annotations:
        return str(annotations[_BETA_STORAGE_CLASS])
    return str(get(obj, "spec", "storageClassName", default=""))


def _pv_cells(pv: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = pv.get("spec") or {}
    claim = spec.get("claimRef")
    phase = get(pv, "status", "phase", default="")
    if get(pv, "metadata", "deletionTimestamp"):
        phase = "Terminating"
    storage = get(spec, "capacity", "storage")
    return [
        name_of(pv),
        "0" if storage is None else quantity_text(storage),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy") or "",
        phase,
        f"{claim.get('namespace') or ''}/{claim.get('name') or ''}" if claim else "",
        _storage_class_of(pv),
        spec.get("volumeAttributesClassName") or "<unset>",
        get(pv, "status", "reason", default=""),
        age_of(pv, opts),
        spec.get("volumeMode") or "<unset>",
    ]


PERSISTENT_VOLUME = Printer(
    columns=(
        NAME_COLUMN,
        Column("Capacity", description=("core.v1.PersistentVolumeSpec", "capacity")),
        Column("Access Modes", description=("core.v1.PersistentVolumeSpec", "accessModes")),
        Column(
            "Reclaim Policy",
            description=("core.v1.PersistentVolumeSpec", "persistentVolumeReclaimPolicy"),
        ),
        Column("Status", description=("core.v1.PersistentVolumeStatus", "phase")),
        Column("Claim", description=("core.v1.PersistentVolumeSpec", "claimRef")),
        Column("StorageClass", description="StorageClass of the pv"),
        Column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
        Column("Reason", description=("core.v1.PersistentVolumeStatus", "reason")),
        AGE_COLUMN,
        Column(
            "VolumeMode", priority=1, description=("core.v1.PersistentVolumeSpec", "volumeMode")
        ),
    ),
    cells=_pv_cells,
)


def _pvc_cells(pvc: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = pvc.get("spec") or {}
    status = pvc.get("status") or {}
    phase = status.get("phase") or ""
    if get(pvc, "metadata", "deletionTimestamp"):
        phase = "Terminating"
    capacity = access = ""
    if spec.get("volumeName"):
        access = _access_modes(status.get("accessModes"))
        storage = get(status, "capacity", "storage")
        capacity = "0" if storage is None else quantity_text(storage)
    return [
        name_of(pvc),
        phase,
        spec.get("volumeName") or "",
        capacity,
        access,
        _storage_class_of(pvc),
        spec.get("volumeAttributesClassName") or "<unset>",
        age_of(pvc, opts),
        spec.get("volumeMode") or "<unset>",
    ]


PERSISTENT_VOLUME_CLAIM = Printer(
    columns=(
        NAME_COLUMN,
        Column("Status", description=("core.v1.PersistentVolumeClaimStatus", "phase")),
        Column("Volume", description=("core.v1.PersistentVolumeClaimSpec", "volumeName")),
        Column("Capacity", description=("core.v1.PersistentVolumeClaimStatus", "capacity")),
        Column("Access Modes", description=("core.v1.PersistentVolumeClaimStatus", "accessModes")),
        Column("StorageClass", description="StorageClass of the pvc"),
        Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
        AGE_COLUMN,
        Column(
            "VolumeMode",
            priority=1,
            description=("core.v1.PersistentVolumeClaimSpec", "volumeMode"),
        ),
    ),
    cells=_pvc_cells,
)

_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _storage_class_cells(sc: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    annotations = get(sc, "metadata", "annotations", default={})
    name = name_of(sc)
    if any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        sc.get("provisioner") or "",
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion")),
        age_of(sc, opts),
    ]


STORAGE_CLASS = Printer(
    columns=(
        NAME_COLUMN,
        Column("Provisioner", description=("storage.v1.StorageClass", "provisioner")),
        Column("ReclaimPolicy", description=("storage.v1.StorageClass", "reclaimPolicy")),
        Column("VolumeBindingMode", description=("storage.v1.StorageClass", "volumeBindingMode")),
        Column(
            "AllowVolumeExpansion", description=("storage.v1.StorageClass", "allowVolumeExpansion")
        ),
        AGE_COLUMN,
    ),
    cells=_storage_class_cells,
)


PRINTERS: dict[str, Printer] = {
    "PersistentVolume": PERSISTENT_VOLUME,
    "PersistentVolumeClaim": PERSISTENT_VOLUME_CLAIM,
    "StorageClass.storage.k8s.io": STORAGE_CLASS,
}
