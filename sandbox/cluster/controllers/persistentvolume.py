"""Persistent volumes: a default StorageClass that provisions a directory per claim.

Three pieces of a real cluster in one controller, reduced to what a
sandbox on one machine needs:

- the **default StorageClass** ``standard`` (``storageclass.kubernetes.io/is-default-class:
  "true"``, provisioner ``sandbox.local/hostpath``, reclaimPolicy Delete,
  volumeBindingMode Immediate), created when the controller starts if it is
  missing — what kind's and minikube's storage add-ons install;
- the **provisioner** for that provisioner name: a pending claim of such a
  class gets a PersistentVolume ``pvc-<claim uid>`` whose ``hostPath`` is a
  fresh directory under the sandbox home (``SandboxPaths.persistent_volume``),
  with the claim's requested capacity and access modes, the class's reclaim
  policy and a ``claimRef`` to the claim (Event ``ProvisioningSucceeded``).
  A ``WaitForFirstConsumer`` class waits until the scheduler names a node
  (annotation ``volume.kubernetes.io/selected-node``);
- the **binder** (``persistentvolume-binder``): the PV becomes ``Bound``, the
  claim gets ``spec.volumeName``, the bind annotations and ``status``
  (phase Bound, capacity, accessModes). When the claim is deleted its PV is
  reclaimed: ``Delete`` removes the PV and its directory, ``Retain`` leaves
  it ``Released``.

A claim without ``storageClassName`` is given the default class by a patch
(Kubernetes' retroactive default StorageClass assignment; the admission
plugin that does it at creation is not part of the sandbox). Data flow::

    PVC (Pending) ──► PV pvc-<uid> + directory ──► PV Bound ──► PVC Bound
    PVC deleted ──► PV deleted + directory removed   (or PV Released)

Not simulated: volume expansion, snapshots, static binding of pre-made PVs
to claims, and the pvc/pv-protection finalizers.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import AlreadyExists, Invalid, NotFound
from sandbox.api.objects import annotations, is_being_deleted, meta
from sandbox.cluster.paths import SandboxPaths
from sandbox.runtime import (
    Controller,
    EnqueueRequestsFromMapFunc,
    Manager,
    Request,
    Result,
    get_logger,
)

__all__ = ["DEFAULT_CLASS", "DEFAULT_CLASS_ANNOTATION", "PROVISIONER", "controller"]

log = get_logger(__name__)

PROVISIONER = "sandbox.local/hostpath"
DEFAULT_CLASS = "standard"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STORAGE_CLASS = ("storage.k8s.io/v1", "StorageClass")
_ENSURE_CLASS = Request(*STORAGE_CLASS, "", DEFAULT_CLASS)

Obj = dict[str, Any]


def default_storage_class() -> Obj:
    return {
        "apiVersion": STORAGE_CLASS[0],
        "kind": STORAGE_CLASS[1],
        "metadata": {"name": DEFAULT_CLASS, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def _claim_of_volume(volume: Mapping[str, Any]) -> list[Request]:
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    if not ref.get("name"):
        return []
    return [Request("v1", "PersistentVolumeClaim", ref.get("namespace", ""), ref["name"])]


class VolumeReconciler:
    def __init__(self, manager: Manager, *, paths: SandboxPaths) -> None:
        self.client = manager.client
        self.recorder = manager.event_recorder("persistentvolume-controller")
        self.classes = manager.informer(*STORAGE_CLASS)
        self.volumes = manager.informer("v1", "PersistentVolume")
        self.claims = manager.informer("v1", "PersistentVolumeClaim")
        self.paths = paths
        self._class_ensured = False

    async def reconcile(self, request: Request) -> Result | None:
        if request == _ENSURE_CLASS:
            await self._ensure_default_class()
            return None
        try:
            claim = await self.client.get(
                "v1", "PersistentVolumeClaim", request.name, namespace=request.namespace
            )
        except NotFound:
            claim = None
        await self._reclaim(request, claim)
        if claim is None or is_being_deleted(claim):
            return None
        return await self._provision_and_bind(claim)

    async def _ensure_default_class(self) -> None:
        if self._class_ensured:
            return
        try:
            await self.client.create(default_storage_class())
            log.info("created the default StorageClass %s", DEFAULT_CLASS)
        except AlreadyExists:
            pass
        self._class_ensured = True

    def claims_for_class(self, storage_class: Mapping[str, Any]) -> list[Request]:
        """Unbound claims a (new or changed) StorageClass may now provision."""
        name = meta(storage_class)["name"]
        return [
            Request("v1", "PersistentVolumeClaim", meta(c)["namespace"], meta(c)["name"])
            for c in self.claims.list(copy=False)
            if (c.get("status") or {}).get("phase") != "Bound"
            and (c.get("spec") or {}).get("storageClassName") in (None, name)
        ]

    def _default_class_name(self) -> str | None:
        for storage_class in self.classes.list(copy=False):
            if annotations(storage_class).get(DEFAULT_CLASS_ANNOTATION) == "true":
                return meta(storage_class)["name"]
        return None

    # Reclaiming ---------------------------------------------------------------------------

    async def _reclaim(self, request: Request, claim: Obj | None) -> None:
        """Reclaim the volumes whose claim (this name, or this uid) no longer exists."""
        uid = meta(claim)["uid"] if claim is not None else None
        for volume in self.volumes.list(copy=False):
            ref = (volume.get("spec") or {}).get("claimRef") or {}
            if (ref.get("namespace"), ref.get("name")) != (request.namespace, request.name):
                continue
            if uid is not None and ref.get("uid") == uid:
                continue
            if (volume.get("status") or {}).get("phase") == "Released":
                continue
            name = meta(volume)["name"]
            policy = (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy", "Retain")
            if policy == "Delete":
                try:
                    await self.client.delete("v1", "PersistentVolume", name)
                except NotFound:
                    pass
                self._remove_directory(volume)
                log.info("deleted volume %s: its claim is gone", name)
            else:
                await self.client.patch_status(
                    "v1", "PersistentVolume", name, {"status": {"phase": "Released"}}
                )

    def _remove_directory(self, volume: Mapping[str, Any]) -> None:
        """Remove the volume's directory if this provisioner made it (never anything else)."""
        path = ((volume.get("spec") or {}).get("hostPath") or {}).get("path")
        directory = self.paths.persistent_volume(meta(volume)["name"])
        if path == str(directory):
            shutil.rmtree(directory, ignore_errors=True)

    # Provisioning and binding -------------------------------------------------------------

    async def _provision_and_bind(self, claim: Obj) -> Result | None:
        spec = claim.get("spec") or {}
        class_name = spec.get("storageClassName")
        if class_name is None:
            class_name = self._default_class_name()
            if class_name is None:
                return None  # no default class: stays Pending, like Kubernetes
            claim = await self._assign_class(claim, class_name)
        if not class_name:
            return None  # "" asks for static binding only
        storage_class = self.classes.get("", class_name, copy=False)
        if storage_class is None:
            await self.recorder.warning(
                claim,
                reason="ProvisioningFailed",
                message=f'storageclass.storage.k8s.io "{class_name}" not found',
            )
            return None
        provisioner = storage_class.get("provisioner")
        if provisioner != PROVISIONER:
            if (claim.get("status") or {}).get("phase") != "Bound":
                await self.recorder.normal(
                    claim,
                    reason="ExternalProvisioning",
                    message="Waiting for a volume to be created either by the external "
                    f"provisioner '{provisioner}' or manually by the system administrator. If "
                    "volume creation is delayed, please verify that the provisioner is running "
                    "and correctly registered.",
                )
            return None
        if (
            storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"
            and not annotations(claim).get(SELECTED_NODE)
            and not spec.get("volumeName")
        ):
            await self.recorder.normal(
                claim,
                reason="WaitForFirstConsumer",
                message="waiting for first consumer to be created before binding",
            )
            return None
        name = spec.get("volumeName") or f"pvc-{meta(claim)['uid']}"
        volume = self.volumes.get("", name)
        if volume is None:
            volume = await self._provision(claim, name, storage_class)
        await self._bind(claim, volume)
        return None

    async def _assign_class(self, claim: Obj, class_name: str) -> Obj:
        m = meta(claim)
        try:
            return await self.client.patch(
                "v1",
                "PersistentVolumeClaim",
                m["name"],
                {"spec": {"storageClassName": class_name}},
                namespace=m["namespace"],
            )
        except Invalid as exc:
            # An API server that keeps storageClassName immutable: provision
            # with the default class anyway, the claim just does not show it.
            log.warning("could not give claim %s the default class: %s", m["name"], exc)
            claim["spec"]["storageClassName"] = class_name
            return claim

    async def _provision(self, claim: Obj, name: str, storage_class: Mapping[str, Any]) -> Obj:
        spec = claim.get("spec") or {}
        m = meta(claim)
        directory = self.paths.persistent_volume(name)
        directory.mkdir(parents=True, exist_ok=True)
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        volume: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            },
            "spec": {
                "capacity": {"storage": requested},
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "hostPath": {"path": str(directory), "type": ""},
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                "storageClassName": meta(storage_class)["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": m["namespace"],
                    "name": m["name"],
                    "uid": m["uid"],
                },
            },
        }
        try:
            created = await self.client.create(volume)
        except AlreadyExists:
            return await self.client.get("v1", "PersistentVolume", name)
        await self.recorder.normal(
            claim,
            reason="ProvisioningSucceeded",
            message=f"Successfully provisioned volume {name} using {PROVISIONER}",
        )
        return created

    async def _bind(self, claim: Obj, volume: Obj) -> None:
        m = meta(claim)
        name = meta(volume)["name"]
        if (volume.get("status") or {}).get("phase") != "Bound":
            await self.client.patch_status(
                "v1", "PersistentVolume", name, {"status": {"phase": "Bound"}}
            )
        provisioner = annotations(volume).get("pv.kubernetes.io/provisioned-by")
        wanted_annotations = {
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
        }
        if provisioner:
            wanted_annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
            wanted_annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
        if (claim.get("spec") or {}).get("volumeName") != name or any(
            annotations(claim).get(k) != v for k, v in wanted_annotations.items()
        ):
            claim = await self.client.patch(
                "v1",
                "PersistentVolumeClaim",
                m["name"],
                {"metadata": {"annotations": wanted_annotations}, "spec": {"volumeName": name}},
                namespace=m["namespace"],
            )
        status = {
            "phase": "Bound",
            "accessModes": list((volume.get("spec") or {}).get("accessModes") or []),
            "capacity": dict((volume.get("spec") or {}).get("capacity") or {}),
        }
        current = claim.get("status") or {}
        if any(current.get(k) != v for k, v in status.items()):
            await self.client.patch_status(
                "v1", "PersistentVolumeClaim", m["name"], {"status": status},
                namespace=m["namespace"],
            )


def controller(manager: Manager, *, paths: SandboxPaths) -> Controller:
    """Default StorageClass, hostPath provisioner and binder; volumes live under ``paths``."""
    reconciler = VolumeReconciler(manager, paths=paths)
    return Controller(
        "persistentvolume",
        for_=("v1", "PersistentVolumeClaim"),
        reconciler=reconciler,
        watches=[
            ("v1", "PersistentVolume", EnqueueRequestsFromMapFunc(_claim_of_volume)),
            # Namespaces always exist (the bootstrap ones): their first listing
            # at start is the moment to make sure the default class does too.
            ("v1", "Namespace", EnqueueRequestsFromMapFunc(lambda _ns: (_ENSURE_CLASS,))),
            (*STORAGE_CLASS, EnqueueRequestsFromMapFunc(reconciler.claims_for_class)),
        ],
    )
