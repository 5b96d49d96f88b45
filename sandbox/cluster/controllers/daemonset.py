"""The DaemonSet controller: one pod on every node that should run it.

Kubernetes' ``pkg/controller/daemon`` (``daemon_controller.go``, ``update.go``).
For each DaemonSet, every node is judged with ``NodeShouldRunDaemonPod``
(:mod:`._workloads_nodes`): the template's ``nodeSelector`` and required node
affinity must match the node, and its taints with effect ``NoSchedule`` or
``NoExecute`` must be tolerated, counting the tolerations Kubernetes adds to
every daemon pod (not-ready, unreachable, pressure, unschedulable: a cordoned
node still runs its daemons). A pod already on a node that gained an
untolerated ``NoSchedule`` taint may stay ("should continue running"); one
with an untolerated ``NoExecute`` taint goes.

One reconcile, data flow::

    nodes (cache) ─┐
    pods (cache) ──┴─ claim ─► pods per node (``spec.nodeName``, or the node the pod is pinned to)
        │
        ├─ a node that should run a pod and has none  → create one, pinned to the node with
        │  ``spec.affinity.nodeAffinity`` (``matchFields metadata.name In [node]``); the scheduler binds it
        ├─ a node that should not run one              → delete its pods
        ├─ failed pods, and extra pods on one node     → delete (the oldest running pod stays)
        └─ RollingUpdate: replace pods whose ``controller-revision-hash`` is not the template's,
           keeping at most ``maxUnavailable`` nodes without an available pod, or, with
           ``maxSurge``, starting the new pod first and deleting the old one once it is available
        ▼
    status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
            numberAvailable, numberUnavailable, updatedNumberScheduled, observedGeneration

Creates and deletes go through expectations (:mod:`._workloads_expectations`)
and record ``SuccessfulCreate``/``SuccessfulDelete`` (``Created pod: …``) like
the ReplicaSet controller; a failed daemon pod records ``FailedDaemonPod``.

Differences from Kubernetes: the revision hash is the template's hash, kept
on pods only (no ControllerRevision objects, so ``kubectl rollout history
daemonset`` shows nothing); failed pods are replaced without the
controller's per-node backoff; and with ``maxSurge``, an old available pod on
a node the DaemonSet no longer schedules to (but may keep running on, such
as a node newly tainted ``NoSchedule``) is kept, where Kubernetes deletes it
once enough pods elsewhere are available.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.api.errors import ApiError, NotFound
from sandbox.api.objects import deep_copy, find_condition, is_being_deleted, labels, meta
from sandbox.runtime import Controller, Manager, Request, Result, WorkQueue, get_logger

from ._workloads import (
    REVISION_HASH_LABEL,
    error_message,
    is_pod_available,
    is_pod_ready,
    pod_from_template,
    pod_phase,
    scaled_value,
    selector_of,
    template_hash,
    write_status,
)
from ._workloads_claim import claim
from ._workloads_expectations import Expectations
from ._workloads_handlers import ChildEventHandler, owners_selecting
from ._workloads_nodes import (
    daemon_tolerations,
    find_untolerated_taint,
    matches_node_affinity,
    pin_to_node,
    target_node_name,
)

__all__ = ["DaemonSetReconciler", "controller", "node_should_run_daemon_pod"]

log = get_logger(__name__)

DS = ("apps/v1", "DaemonSet")
POD = ("v1", "Pod")
NODE = ("v1", "Node")
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
_SCHEDULING_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
_EXECUTE_EFFECTS = frozenset({"NoExecute"})

Obj = dict[str, Any]


def controller(manager: Manager) -> Controller:
    """The DaemonSet controller (events from ``daemonset-controller``)."""
    reconciler = DaemonSetReconciler(manager)
    return Controller(
        "daemonset-controller",
        for_=DS,
        reconciler=reconciler,
        watches=[(*POD, reconciler.pod_events), (*NODE, reconciler.node_events)],
    )


def node_should_run_daemon_pod(node: Mapping[str, Any], ds: Mapping[str, Any]) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (should run a new pod, may keep a running one)."""
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    node_name = meta(node).get("name")
    if spec.get("nodeName") and spec["nodeName"] != node_name:
        return False, False
    if not matches_node_affinity(spec, node):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or ()
    tolerations = daemon_tolerations(spec)
    if find_untolerated_taint(taints, tolerations, effects=_SCHEDULING_EFFECTS) is None:
        return True, True
    return False, find_untolerated_taint(taints, tolerations, effects=_EXECUTE_EFFECTS) is None


def _by_age(pods: list[Obj]) -> list[Obj]:
    """``podByCreationTimestampAndPhase``: scheduled before unscheduled, then oldest first."""
    return sorted(
        pods,
        key=lambda p: (
            not (p.get("spec") or {}).get("nodeName"),
            meta(p).get("creationTimestamp") or "",
            meta(p).get("name") or "",
        ),
    )


class _NodeChanges:
    """Node changes that can change where daemons run enqueue every DaemonSet."""

    def __init__(self, reconciler: DaemonSetReconciler) -> None:
        self._reconciler = reconciler

    def _enqueue_all(self, queue: WorkQueue[Request]) -> None:
        for ds in self._reconciler.daemonsets.list(copy=False):
            queue.add(Request(*DS, meta(ds).get("namespace") or "", meta(ds)["name"]))

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        self._enqueue_all(queue)

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        def shape(node: Mapping[str, Any]) -> tuple[Any, ...]:
            ready = find_condition(node, "Ready")
            return (labels(node), (node.get("spec") or {}).get("taints"), (ready or {}).get("status"))

        if shape(old) != shape(new):
            self._enqueue_all(queue)

    def on_delete(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        self._enqueue_all(queue)


class DaemonSetReconciler:
    """Converges one DaemonSet (see the module docstring)."""

    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.recorder = manager.event_recorder("daemonset-controller")
        self.daemonsets = manager.informer(*DS)
        self.pods = manager.informer(*POD)
        self.nodes = manager.informer(*NODE)
        self.expectations = Expectations(manager.clock)
        self.pod_events = ChildEventHandler(
            *DS, orphan_owners=owners_selecting(self.daemonsets), expectations=self.expectations
        )
        self.node_events = _NodeChanges(self)

    async def reconcile(self, request: Request) -> Result | None:
        key = str(request)
        ds = self.daemonsets.get(request.namespace, request.name)
        if ds is None:
            self.expectations.forget(key)
            return None
        template = (ds.get("spec") or {}).get("template") or {}
        digest = template_hash(template)
        nodes = self.nodes.list(copy=False)
        failure: ApiError | None = None
        observed = False
        if is_being_deleted(ds):
            pass
        elif self.expectations.satisfied(key):
            observed = True
            try:
                await self._manage(ds, key, nodes, digest)
                if self.expectations.satisfied(key):
                    await self._rolling_update(ds, key, nodes, digest)
            except ApiError as exc:
                failure = exc
        status = self._status(ds, nodes, await self._pods_by_node(ds), digest, observed=observed)
        try:
            await write_status(self.client, ds, status)
        except NotFound:
            return None
        if failure is not None:
            raise failure
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and status["numberReady"] != status.get("numberAvailable", 0):
            return Result(requeue_after=float(min_ready))
        return None

    async def _pods_by_node(self, ds: Obj) -> dict[str, list[Obj]]:
        """Claimed pods grouped by target node (finished pods being deleted left out)."""
        candidates = self.pods.list(meta(ds)["namespace"], copy=False)
        pods = await claim(self.client, ds, candidates, selector=selector_of(ds), child=POD)
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            if is_being_deleted(pod) and pod_phase(pod) in ("Succeeded", "Failed"):
                continue
            node = target_node_name(pod)
            if node is None:
                log.warning("no node name found for pod %s/%s", meta(pod)["namespace"], meta(pod)["name"])
                continue
            by_node.setdefault(node, []).append(pod)
        return by_node

    # manage --------------------------------------------------------------------------------

    async def _manage(self, ds: Obj, key: str, nodes: list[Obj], digest: str) -> None:
        by_node = await self._pods_by_node(ds)
        create_on: list[str] = []
        delete: list[Obj] = []
        surge = self._allows_surge(ds)
        for node in nodes:
            node_name = meta(node)["name"]
            should_run, should_continue = node_should_run_daemon_pod(node, ds)
            pods = by_node.get(node_name, [])
            if should_run and not pods:
                create_on.append(node_name)
            elif should_continue:
                running = []
                for pod in pods:
                    if is_being_deleted(pod):
                        continue
                    if pod_phase(pod) == "Failed":
                        await self.recorder.warning(
                            ds, reason="FailedDaemonPod",
                            message=f"Found failed daemon pod {meta(pod)['namespace']}/{meta(pod)['name']} "
                            f"on node {node_name}, will try to kill it",
                        )
                        delete.append(pod)
                    elif pod_phase(pod) == "Succeeded":
                        delete.append(pod)
                    else:
                        running.append(pod)
                if not surge:
                    delete += _by_age(running)[1:]
                elif not running and should_run:
                    create_on.append(node_name)
                elif len(running) > 1:
                    delete += self._surge_excess(ds, running, digest)
            elif pods:
                delete += [p for p in pods if not is_being_deleted(p)]
        await self._sync_nodes(ds, key, delete, create_on, digest)

    def _surge_excess(self, ds: Obj, running: list[Obj], digest: str) -> list[Obj]:
        """With surge, keep the oldest new pod and, until it is available, the oldest old one."""
        newest: Obj | None = None
        oldest_old: Obj | None = None
        excess: list[Obj] = []
        for pod in _by_age(running):
            if labels(pod).get(REVISION_HASH_LABEL) == digest:
                if newest is None:
                    newest = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            excess.append(pod)
        if newest is not None and oldest_old is not None and (
            not is_pod_ready(oldest_old)
            or is_pod_available(newest, int((ds.get("spec") or {}).get("minReadySeconds") or 0), self.clock.now())
        ):
            excess.append(oldest_old)
        return excess

    async def _sync_nodes(self, ds: Obj, key: str, delete: list[Obj], create_on: list[str], digest: str) -> None:
        """Create pods on ``create_on`` and delete ``delete``, under expectations."""
        if not delete and not create_on:
            return
        self.expectations.expect(
            key,
            creations=len(create_on),
            deletions=[f"{meta(p)['namespace']}/{meta(p)['name']}" for p in delete],
        )
        failure = await self._create_pods(ds, key, create_on, digest)
        results = await asyncio.gather(*(self._delete_one(ds, key, pod) for pod in delete))
        failure = failure or next((r for r in results if r is not None), None)
        if failure is not None:
            raise failure

    async def _create_pods(self, ds: Obj, key: str, node_names: list[str], digest: str) -> ApiError | None:
        """Slow start batches, as the ReplicaSet controller does."""
        created, batch = 0, 1
        while created < len(node_names):
            chunk = node_names[created : created + batch]
            results = await asyncio.gather(*(self._create_one(ds, node, digest) for node in chunk))
            created += len(chunk)
            failures = [r for r in results if r is not None]
            for _ in failures:
                self.expectations.creation_observed(key)
            if failures:
                for _ in range(len(node_names) - created):
                    self.expectations.creation_observed(key)
                return failures[0]
            batch *= 2
        return None

    async def _create_one(self, ds: Obj, node_name: str, digest: str) -> ApiError | None:
        template = deep_copy((ds.get("spec") or {}).get("template") or {})
        spec = template.setdefault("spec", {})
        spec["tolerations"] = daemon_tolerations(spec)
        spec["affinity"] = pin_to_node(spec.get("affinity"), node_name)
        extra = {REVISION_HASH_LABEL: digest}
        generation = (meta(ds).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
        if generation:
            extra[TEMPLATE_GENERATION_LABEL] = generation
        pod = pod_from_template(template, owner=ds, namespace=meta(ds)["namespace"], labels=extra)
        try:
            created = await self.client.create(pod)
        except ApiError as exc:
            if "because it is being terminated" not in exc.message:
                await self.recorder.warning(
                    ds, reason="FailedCreate", message=f"Error creating: {error_message(exc)}"
                )
            return exc
        await self.recorder.normal(
            ds, reason="SuccessfulCreate", message=f"Created pod: {meta(created)['name']}"
        )
        return None

    async def _delete_one(self, ds: Obj, key: str, pod: Obj) -> ApiError | None:
        name = meta(pod)["name"]
        pod_key = f"{meta(pod)['namespace']}/{name}"
        try:
            await self.client.delete(
                *POD, name, namespace=meta(pod)["namespace"], preconditions={"uid": meta(pod)["uid"]}
            )
        except NotFound:
            self.expectations.deletion_observed(key, pod_key)
            return None
        except ApiError as exc:
            self.expectations.deletion_observed(key, pod_key)
            await self.recorder.warning(ds, reason="FailedDelete", message=f"Error deleting: {error_message(exc)}")
            return exc
        await self.recorder.normal(ds, reason="SuccessfulDelete", message=f"Deleted pod: {name}")
        return None

    # Rolling update -----------------------------------------------------------------------

    @staticmethod
    def _rolling(ds: Mapping[str, Any]) -> Mapping[str, Any] | None:
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return None
        return strategy.get("rollingUpdate") or {}

    def _allows_surge(self, ds: Mapping[str, Any]) -> bool:
        rolling = self._rolling(ds)
        return rolling is not None and scaled_value(rolling.get("maxSurge", 0), 1, round_up=True) > 0

    async def _rolling_update(self, ds: Obj, key: str, nodes: list[Obj], digest: str) -> None:
        rolling = self._rolling(ds)
        if rolling is None:
            return
        by_node = await self._pods_by_node(ds)
        desired = sum(node_should_run_daemon_pod(n, ds)[0] for n in nodes)
        max_surge = scaled_value(rolling.get("maxSurge", 0), desired, round_up=True)
        max_unavailable = scaled_value(rolling.get("maxUnavailable", 1), desired, round_up=True)
        if max_surge == 0 and max_unavailable == 0:
            max_unavailable = 1
        now = self.clock.now()
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        nodes_by_name = {meta(n)["name"]: n for n in nodes}
        if max_surge == 0:
            unavailable = 0
            replace: list[Obj] = []
            candidates: list[Obj] = []
            for node_name in sorted(by_node):
                found = _updated_and_old(by_node[node_name], digest)
                if found is None:
                    unavailable += 1
                    continue
                new, old = found
                if (old is None) == (new is None):
                    unavailable += 1
                elif new is not None:
                    unavailable += not is_pod_available(new, min_ready, now)
                elif old is not None and not is_pod_available(old, min_ready, now):
                    replace.append(old)
                    unavailable += 1
                elif old is not None and unavailable < max_unavailable:
                    candidates.append(old)
            budget = min(max(max_unavailable - unavailable, 0), len(candidates))
            await self._sync_nodes(ds, key, replace + candidates[:budget], [], digest)
            return
        surging = 0
        delete: list[Obj] = []
        allowed_new: list[str] = []
        candidate_new: list[str] = []
        for node_name in sorted(by_node):
            found = _updated_and_old(by_node[node_name], digest)
            if found is None:
                surging += 1
                continue
            new, old = found
            if old is None:
                continue
            node = nodes_by_name.get(node_name)
            should_run = node is not None and node_should_run_daemon_pod(node, ds)[0]
            if new is None:
                if not should_run:
                    if not is_pod_available(old, min_ready, now):
                        delete.append(old)
                    continue
                if not is_pod_available(old, min_ready, now):
                    allowed_new.append(node_name)
                elif surging < max_surge:
                    candidate_new.append(node_name)
            elif not is_pod_available(new, min_ready, now):
                surging += 1
            else:
                delete.append(old)
        budget = min(max(max_surge - surging, 0), len(candidate_new))
        await self._sync_nodes(ds, key, delete, allowed_new + candidate_new[:budget], digest)

    # Status ---------------------------------------------------------------------------------

    def _status(
        self, ds: Obj, nodes: list[Obj], by_node: dict[str, list[Obj]], digest: str, *, observed: bool
    ) -> Obj:
        now: datetime = self.clock.now()
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        desired = current = misscheduled = ready = available = updated = 0
        for node in nodes:
            should_run, _ = node_should_run_daemon_pod(node, ds)
            pods = by_node.get(meta(node)["name"], [])
            if not should_run:
                misscheduled += bool(pods)
                continue
            desired += 1
            if not pods:
                continue
            current += 1
            pod = _by_age(pods)[0]
            if is_pod_ready(pod):
                ready += 1
                available += is_pod_available(pod, min_ready, now)
            updated += labels(pod).get(REVISION_HASH_LABEL) == digest
        old = ds.get("status") or {}
        status: Obj = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
        }
        generation = int(meta(ds).get("generation") or 0) if observed else int(old.get("observedGeneration") or 0)
        for field, value in (
            ("observedGeneration", generation),
            ("updatedNumberScheduled", updated),
            ("numberAvailable", available),
            ("numberUnavailable", desired - available),
            ("collisionCount", old.get("collisionCount")),
        ):
            if value:
                status[field] = value
        if old.get("conditions"):
            status["conditions"] = deep_copy(old["conditions"])
        return status


def _updated_and_old(pods: list[Obj], digest: str) -> tuple[Obj | None, Obj | None] | None:
    """``findUpdatedPodsOnNode``: (new pod, old pod), or None if a node has two of a kind."""
    new: Obj | None = None
    old: Obj | None = None
    for pod in pods:
        if is_being_deleted(pod):
            continue
        if labels(pod).get(REVISION_HASH_LABEL) == digest:
            if new is not None:
                return None
            new = pod
        else:
            if old is not None:
                return None
            old = pod
    return new, old
