"""The StatefulSet controller: stable identities, ordered starts, per-pod storage.

Kubernetes' ``pkg/controller/statefulset`` (``stateful_set_control.go``,
``stateful_pod_control.go``, ``stateful_set_utils.go``). A StatefulSet named
``web`` with 3 replicas owns pods ``web-0``, ``web-1``, ``web-2``; each pod
keeps its name, its hostname (``spec.hostname`` = pod name, ``spec.subdomain``
= ``serviceName``) and its volumes (``<claim>-web-<ordinal>`` from
``volumeClaimTemplates``) across restarts and replacements.

One reconcile:

1. claims the pods whose name is ``<set>-<ordinal>`` and that match the
   selector, and syncs the set's ControllerRevisions (see
   :mod:`._workloads_history`): the *update* revision is the current
   template, the *current* revision the one pods ran before the rollout;
2. sorts pods into *replicas* (ordinals in ``[start, start+replicas)``,
   missing ones to be created) and *condemned* (ordinals beyond);
3. walks the replicas in ordinal order. A pod that finished (Failed or
   Succeeded) is deleted and recreated; a missing pod is created after its
   PersistentVolumeClaims. With ``podManagementPolicy: OrderedReady`` the
   walk stops at the first pod that is not yet Running and Ready (and
   available for ``minReadySeconds``) or is terminating, so ``web-1`` starts
   only once ``web-0`` is Ready; with ``Parallel`` it does everything at once;
4. deletes condemned pods from the highest ordinal down, one at a time (and
   only while every lower pod is healthy) under OrderedReady. Claims are kept:
   scaling back up finds the data where it was;
5. for ``updateStrategy: RollingUpdate``, deletes the highest-ordinal pod
   (down to ``partition``) that is not at the update revision, one at a
   time, waiting for each replacement to be healthy; pods are recreated at
   the update revision by step 3. ``OnDelete`` leaves that to the user;
6. writes status: ``replicas``, ``readyReplicas``, ``availableReplicas``,
   ``currentReplicas``/``updatedReplicas`` (pods at each revision),
   ``currentRevision``/``updateRevision`` (the current one catches up when
   every pod is updated and Ready), ``collisionCount``, ``observedGeneration``.

Events follow Kubernetes' ``StatefulPodControl``: ``SuccessfulCreate``
``create Pod web-0 in StatefulSet web successful``, ``SuccessfulDelete``,
``create Claim data-web-0 Pod web-0 in StatefulSet web success``, and the
``Failed…`` variants. ``persistentVolumeClaimRetentionPolicy.whenDeleted:
Delete`` makes the set an owner of the claims it creates, so the garbage
collector removes them with the set; ``whenScaled: Delete`` is not
implemented (claims are kept, as with ``Retain``), nor is ``maxUnavailable``
(an alpha feature), nor the repair of a pod whose identity labels or claim
volumes were edited by hand (Kubernetes updates such a pod in place).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sandbox.api.errors import AlreadyExists, ApiError, NotFound
from sandbox.api.objects import controller_of, deep_copy, is_being_deleted, meta, owner_reference
from sandbox.runtime import Controller, Manager, Request, Result, get_logger

from ._workloads import (
    REVISION_HASH_LABEL,
    error_message,
    is_pod_available,
    is_pod_ready,
    pod_from_template,
    pod_phase,
    selector_of,
    write_status,
)
from ._workloads_claim import claim
from ._workloads_handlers import ChildEventHandler, owners_selecting
from ._workloads_history import REVISION, sync_revisions, template_of, truncate_history

__all__ = [
    "StatefulSetReconciler",
    "claim_name",
    "controller",
    "new_pod",
    "parent_and_ordinal",
    "persistent_volume_claims",
]

log = get_logger(__name__)

STS = ("apps/v1", "StatefulSet")
POD = ("v1", "Pod")
PVC = ("v1", "PersistentVolumeClaim")
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")

Obj = dict[str, Any]


def controller(manager: Manager) -> Controller:
    """The StatefulSet controller (events from ``statefulset-controller``)."""
    reconciler = StatefulSetReconciler(manager)
    return Controller(
        "statefulset-controller",
        for_=STS,
        reconciler=reconciler,
        watches=[(*POD, reconciler.pod_events)],
    )


def parent_and_ordinal(pod: Mapping[str, Any]) -> tuple[str, int]:
    """``web-2`` → ``("web", 2)``; ``("", -1)`` for a name that is no set member's."""
    match = _ORDINAL.match(meta(pod).get("name") or "")
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def claim_name(claim_template: Mapping[str, Any], set_name: str, ordinal: int) -> str:
    return f"{meta(claim_template)['name']}-{set_name}-{ordinal}"


def _running_and_ready(pod: Mapping[str, Any]) -> bool:
    return pod_phase(pod) == "Running" and is_pod_ready(pod)


def _healthy(pod: Mapping[str, Any]) -> bool:
    return _created(pod) and _running_and_ready(pod) and not is_being_deleted(pod)


def _created(pod: Mapping[str, Any]) -> bool:
    """Whether the pod exists in the cluster (not just planned by this reconcile)."""
    return bool(meta(pod).get("uid"))


def _revision_of(pod: Mapping[str, Any]) -> str:
    return (meta(pod).get("labels") or {}).get(REVISION_HASH_LABEL, "")


class StatefulSetReconciler:
    """Converges one StatefulSet (see the module docstring)."""

    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.recorder = manager.event_recorder("statefulset-controller")
        self.sets = manager.informer(*STS)
        self.pods = manager.informer(*POD)
        self.revisions = manager.informer(*REVISION)
        self.pod_events = ChildEventHandler(*STS, orphan_owners=owners_selecting(self.sets))

    async def reconcile(self, request: Request) -> Result | None:
        sts = self.sets.get(request.namespace, request.name)
        if sts is None:
            return None
        name = request.name
        candidates = self.pods.list(request.namespace, copy=False)
        pods = await claim(
            self.client, sts, candidates, selector=selector_of(sts), child=POD,
            member=lambda pod: parent_and_ordinal(pod)[0] == name,
        )
        owned_revisions = [
            r for r in self.revisions.list(request.namespace)
            if (controller_of(r) or {}).get("uid") == meta(sts)["uid"]
        ]
        status = sts.get("status") or {}
        current, update, collisions = await sync_revisions(
            self.client, sts, owned_revisions,
            template=(sts.get("spec") or {}).get("template") or {},
            current_name=status.get("currentRevision"),
            collision_count=int(status.get("collisionCount") or 0),
        )
        sync = _Sync(self, sts, pods, current=current, update=update)
        failure: ApiError | None = None
        try:
            await sync.run()
        except ApiError as exc:
            failure = exc
        new_status = sync.status(collisions, now=self.clock.now())
        try:
            await write_status(self.client, sts, new_status)
        except NotFound:
            return None
        live = {meta(current)["name"], meta(update)["name"]} | {_revision_of(p) for p in pods}
        await truncate_history(
            self.client, [*owned_revisions, update], live=live,
            limit=int((sts.get("spec") or {}).get("revisionHistoryLimit", 10)),
        )
        if failure is not None:
            raise failure
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and new_status.get("readyReplicas", 0) != new_status.get("availableReplicas", 0):
            return Result(requeue_after=float(min_ready))
        return None

    # Pod and claim control (StatefulPodControl) -----------------------------------------------

    async def create_pod(self, sts: Obj, pod: Obj) -> Obj:
        """Create the pod's claims, then the pod; records the events Kubernetes records."""
        pod_name = meta(pod)["name"]
        set_name = meta(sts)["name"]
        try:
            await self.create_claims(sts, pod)
            created = await self.client.create(pod)
        except AlreadyExists:
            raise
        except ApiError as exc:
            await self.recorder.warning(
                sts, reason="FailedCreate",
                message=f"create Pod {pod_name} in StatefulSet {set_name} failed error: {error_message(exc)}",
            )
            raise
        await self.recorder.normal(
            sts, reason="SuccessfulCreate",
            message=f"create Pod {pod_name} in StatefulSet {set_name} successful",
        )
        return created

    async def create_claims(self, sts: Obj, pod: Obj) -> None:
        """Create the pod's missing claims; one being deleted is an error (wait for it)."""
        pod_name = meta(pod)["name"]
        set_name = meta(sts)["name"]
        for claim_obj in persistent_volume_claims(sts, parent_and_ordinal(pod)[1]):
            claim_meta = claim_obj["metadata"]
            try:
                existing = await self.client.get(*PVC, claim_meta["name"], namespace=claim_meta["namespace"])
            except NotFound:
                existing = None
            if existing is not None:
                if is_being_deleted(existing):
                    raise ApiError(f"pvc {claim_meta['name']} is being deleted")
                continue
            try:
                await self.client.create(claim_obj)
            except AlreadyExists:
                continue
            except ApiError as exc:
                await self.recorder.warning(
                    sts, reason="FailedCreate",
                    message=f"create Claim {claim_meta['name']} for Pod {pod_name} in StatefulSet "
                    f"{set_name} failed error: {error_message(exc)}",
                )
                raise ApiError(f"failed to create PVC {claim_meta['name']}: {error_message(exc)}") from exc
            await self.recorder.normal(
                sts, reason="SuccessfulCreate",
                message=f"create Claim {claim_meta['name']} Pod {pod_name} in StatefulSet {set_name} success",
            )

    async def delete_pod(self, sts: Obj, pod: Obj) -> None:
        pod_name = meta(pod)["name"]
        set_name = meta(sts)["name"]
        try:
            await self.client.delete(
                *POD, pod_name, namespace=meta(pod)["namespace"], preconditions={"uid": meta(pod)["uid"]}
            )
        except NotFound:
            return
        except ApiError as exc:
            await self.recorder.warning(
                sts, reason="FailedDelete",
                message=f"delete Pod {pod_name} in StatefulSet {set_name} failed error: {error_message(exc)}",
            )
            raise
        await self.recorder.normal(
            sts, reason="SuccessfulDelete",
            message=f"delete Pod {pod_name} in StatefulSet {set_name} successful",
        )


def persistent_volume_claims(sts: Mapping[str, Any], ordinal: int) -> list[Obj]:
    """The claims of one ordinal, from ``volumeClaimTemplates`` (``getPersistentVolumeClaims``)."""
    spec = sts.get("spec") or {}
    selector_labels = (spec.get("selector") or {}).get("matchLabels") or {}
    delete_with_set = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted") == "Delete"
    claims = []
    for claim_template in spec.get("volumeClaimTemplates") or ():
        template_meta = claim_template.get("metadata") or {}
        claim_meta: Obj = {
            "name": claim_name(claim_template, meta(sts)["name"], ordinal),
            "namespace": meta(sts)["namespace"],
            "labels": {**(template_meta.get("labels") or {}), **selector_labels},
        }
        if template_meta.get("annotations"):
            claim_meta["annotations"] = dict(template_meta["annotations"])
        if delete_with_set:
            claim_meta["ownerReferences"] = [
                owner_reference(sts, controller=False, block_owner_deletion=False)
            ]
        claims.append({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": claim_meta,
            "spec": deep_copy(claim_template.get("spec") or {}),
        })
    return claims


def new_pod(sts: Mapping[str, Any], template: Mapping[str, Any], ordinal: int, revision: str) -> Obj:
    """``newStatefulSetPod`` at ``revision``: identity labels, hostname, claim volumes."""
    name = f"{meta(sts)['name']}-{ordinal}"
    pod = pod_from_template(
        template, owner=sts, namespace=meta(sts)["namespace"], name=name,
        labels={POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), REVISION_HASH_LABEL: revision},
    )
    spec = pod["spec"]
    spec["hostname"] = name
    service = (sts.get("spec") or {}).get("serviceName")
    if service:
        spec["subdomain"] = service
    claims = {
        meta(t)["name"]: claim_name(t, meta(sts)["name"], ordinal)
        for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or ()
    }
    volumes = [{"name": v, "persistentVolumeClaim": {"claimName": c}} for v, c in claims.items()]
    volumes += [v for v in spec.get("volumes") or () if v.get("name") not in claims]
    if volumes:
        spec["volumes"] = volumes
    return pod


class _Sync:
    """One pass of ``updateStatefulSet`` over a set's pods."""

    def __init__(self, reconciler: StatefulSetReconciler, sts: Obj, pods: list[Obj], *, current: Obj, update: Obj) -> None:
        self.reconciler = reconciler
        self.sts = sts
        spec = sts.get("spec") or {}
        self.spec = spec
        self.current = current
        self.update = update
        self.monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        self.min_ready = int(spec.get("minReadySeconds") or 0)
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        self.start = start
        count = int(spec.get("replicas", 1))
        by_ordinal: dict[int, Obj] = {}
        self.condemned: list[Obj] = []
        for pod in pods:
            ordinal = parent_and_ordinal(pod)[1]
            if start <= ordinal < start + count:
                by_ordinal[ordinal] = pod
            elif ordinal >= 0:
                self.condemned.append(pod)
        self.replicas = [by_ordinal.get(o) or self._planned(o) for o in range(start, start + count)]
        self.condemned.sort(key=lambda p: parent_and_ordinal(p)[1])  # highest last
        unhealthy = [p for p in self.replicas if not _healthy(p)]
        unhealthy += [p for p in self.condemned if not _healthy(p)]
        self.first_unhealthy = unhealthy[0] if unhealthy else None

    def _planned(self, ordinal: int) -> Obj:
        """``newVersionedStatefulSetPod``: below the partition, at the current revision."""
        strategy = self.spec.get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate")
        at_current = strategy.get("type", "RollingUpdate") == "RollingUpdate" and (
            (rolling is None and ordinal < self.start + int((self.sts.get("status") or {}).get("currentReplicas") or 0))
            or (rolling is not None and ordinal < self.start + int(rolling.get("partition") or 0))
        )
        revision = self.current if at_current else self.update
        return new_pod(self.sts, template_of(revision), ordinal, meta(revision)["name"])

    async def run(self) -> None:
        if is_being_deleted(self.sts):
            return
        if await self._for_all(self.replicas, self._process_replica):
            return
        if await self._for_all(self.condemned[::-1], self._process_condemned):
            return
        strategy = self.spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        update_name = meta(self.update)["name"]
        for index in range(len(self.replicas) - 1, partition - 1, -1):
            pod = self.replicas[index]
            if _revision_of(pod) != update_name and not is_being_deleted(pod):
                log.info("Pod %s of StatefulSet is terminating for update", meta(pod)["name"])
                await self.reconciler.delete_pod(self.sts, pod)
                self._mark_deleted(pod)
                return
            if not _healthy(pod):
                return

    async def _for_all(self, pods: list[Obj], step: Callable[[int, list[Obj]], Awaitable[bool]]) -> bool:
        """Run ``step`` over ``pods``: in order, stopping when it says so (OrderedReady), or all at once."""
        if self.monotonic:
            for index in range(len(pods)):
                if await step(index, pods):
                    return True
            return False
        results = await asyncio.gather(*(step(i, pods) for i in range(len(pods))), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return False

    async def _process_replica(self, index: int, pods: list[Obj]) -> bool:
        pod = pods[index]
        reconciler = self.reconciler
        if _created(pod) and pod_phase(pod) in ("Failed", "Succeeded"):
            namespace, name = meta(self.sts)["namespace"], meta(self.sts)["name"]
            if pod_phase(pod) == "Failed":
                await reconciler.recorder.warning(
                    self.sts, reason="RecreatingFailedPod",
                    message=f"StatefulSet {namespace}/{name} is recreating failed Pod {meta(pod)['name']}",
                )
            else:
                await reconciler.recorder.normal(
                    self.sts, reason="RecreatingTerminatedPod",
                    message=f"StatefulSet {namespace}/{name} is recreating terminated Pod {meta(pod)['name']}",
                )
            await reconciler.delete_pod(self.sts, pod)
            pod = pods[index] = self._planned(parent_and_ordinal(pod)[1])
        if not _created(pod):
            pods[index] = await reconciler.create_pod(self.sts, pod)
            return self.monotonic
        if pod_phase(pod) == "Pending":
            await reconciler.create_claims(self.sts, pod)
        if not self.monotonic:
            return False
        if is_being_deleted(pod) or not _running_and_ready(pod):
            return True
        return not is_pod_available(pod, self.min_ready, reconciler.clock.now())

    async def _process_condemned(self, index: int, pods: list[Obj]) -> bool:
        pod = pods[index]
        if is_being_deleted(pod):
            return self.monotonic
        if self.monotonic and pod is not self.first_unhealthy and (
            not _running_and_ready(pod)
            or not is_pod_available(pod, self.min_ready, self.reconciler.clock.now())
        ):
            return True
        await self.reconciler.delete_pod(self.sts, pod)
        self._mark_deleted(pod)
        return True

    def _mark_deleted(self, pod: Obj) -> None:
        """What this reconcile deleted no longer counts as current, updated or ready."""
        pod.setdefault("metadata", {})["deletionTimestamp"] = "deleted"

    def status(self, collision_count: int, *, now: datetime) -> Obj:
        counts = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentReplicas": 0, "updatedReplicas": 0}
        current_name, update_name = meta(self.current)["name"], meta(self.update)["name"]
        for pod in [*self.replicas, *self.condemned]:
            if not _created(pod):
                continue
            counts["replicas"] += 1
            if _running_and_ready(pod):
                counts["readyReplicas"] += 1
                if is_pod_available(pod, self.min_ready, now):
                    counts["availableReplicas"] += 1
            if not is_being_deleted(pod):
                revision = _revision_of(pod)
                counts["currentReplicas"] += revision == current_name
                counts["updatedReplicas"] += revision == update_name
        if (
            (self.spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
            and counts["updatedReplicas"] == counts["replicas"]
            and counts["readyReplicas"] == counts["replicas"]
        ):
            counts["currentReplicas"] = counts["updatedReplicas"]
            current_name = update_name
        status: Obj = {}
        generation = int(meta(self.sts).get("generation") or 0)
        if generation:
            status["observedGeneration"] = generation
        status["replicas"] = counts["replicas"]
        for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if counts[field]:
                status[field] = counts[field]
        status["currentRevision"] = current_name
        status["updateRevision"] = update_name
        status["collisionCount"] = collision_count
        status["availableReplicas"] = counts["availableReplicas"]
        conditions = (self.sts.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = deep_copy(conditions)
        return status
