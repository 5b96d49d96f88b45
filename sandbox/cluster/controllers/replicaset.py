"""The ReplicaSet controller: keep ``spec.replicas`` pods matching the selector.

Kubernetes' ``pkg/controller/replicaset``, level-triggered. Each reconcile of
a ReplicaSet:

1. reads the ReplicaSet and the pods of its namespace from the informer
   caches, keeps the *active* ones (not finished, not being deleted) and
   claims them (adopting matching orphans, releasing pods that stopped
   matching; see :mod:`._workloads_claim`);
2. if its :class:`~._workloads_expectations.Expectations` are satisfied (the
   cache has seen every pod it created or deleted before), creates or deletes
   pods to reach ``spec.replicas``:

   - creation from ``spec.template`` with ``generateName: <rs>-`` and the
     ReplicaSet as controller owner, in "slow start" batches of 1, 2, 4 …
     so a create that keeps failing (quota, a terminating namespace) fails
     once, not 500 times; each success records ``SuccessfulCreate``
     (``Created pod: web-5d4f9-x7k2p``), a failure ``FailedCreate``;
   - deletion of the pods Kubernetes would pick first: unscheduled before
     scheduled, Pending before Unknown before Running, not Ready before Ready,
     lower ``controller.kubernetes.io/pod-deletion-cost`` first, pods sharing
     a node with more sibling pods first, recently Ready before long Ready,
     more restarts first, newer before older; ``SuccessfulDelete``
     (``Deleted pod: …``) per pod;
3. writes ``status``: ``replicas`` (active pods it owns),
   ``fullyLabeledReplicas`` (those carrying all template labels),
   ``readyReplicas``, ``availableReplicas`` (Ready for ``minReadySeconds``),
   ``observedGeneration`` and a ``ReplicaFailure`` condition while creates or
   deletes fail. When pods are Ready but not yet available it asks to be
   looked at again once ``minReadySeconds`` have passed.

Burst: at most 500 pods are created or deleted per reconcile, like
``BurstReplicas``.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.api.errors import ApiError, Forbidden, NotFound
from sandbox.api.objects import controller_of, deep_copy, find_condition, meta
from sandbox.clock import format_time, parse_time
from sandbox.runtime import Controller, Manager, Request, Result, get_logger

from ._workloads import (
    active_pods,
    error_message,
    is_pod_available,
    is_pod_ready,
    pod_from_template,
    pod_phase,
    ready_since,
    selector_of,
    write_status,
)
from ._workloads_claim import claim
from ._workloads_expectations import Expectations
from ._workloads_handlers import ChildEventHandler, owners_selecting

__all__ = ["BURST_REPLICAS", "ReplicaSetReconciler", "controller", "deletion_order"]

log = get_logger(__name__)

RS = ("apps/v1", "ReplicaSet")
POD = ("v1", "Pod")
BURST_REPLICAS = 500
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def controller(manager: Manager) -> Controller:
    """The ReplicaSet controller (events from ``replicaset-controller``)."""
    reconciler = ReplicaSetReconciler(manager)
    return Controller(
        "replicaset-controller",
        for_=RS,
        reconciler=reconciler,
        watches=[(*POD, reconciler.pod_events)],
    )


def deletion_order(
    pods: list[dict[str, Any]], *, ranks: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """``pods`` sorted so the first are the ones Kubernetes deletes first.

    ``ranks`` maps a node name to how many related pods (of this workload's
    sibling ReplicaSets) run there; pods on crowded nodes go first.
    """
    ranks = ranks or {}

    def key(pod: dict[str, Any]) -> tuple[Any, ...]:
        spec = pod.get("spec") or {}
        node = spec.get("nodeName") or ""
        ready = is_pod_ready(pod)
        since = ready_since(pod) if ready else None
        restarts = max(
            (int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or ()),
            default=0,
        )
        try:
            cost = int((meta(pod).get("annotations") or {}).get(DELETION_COST_ANNOTATION, 0))
        except ValueError:
            cost = 0
        created = meta(pod).get("creationTimestamp")
        return (
            bool(node),
            _PHASE_ORDER.get(pod_phase(pod), 3),
            ready,
            cost,
            -ranks.get(node, 0),
            -since.timestamp() if since else 0.0,
            -restarts,
            -parse_time(created).timestamp() if created else -math.inf,
        )

    return sorted(pods, key=key)


class ReplicaSetReconciler:
    """Converges one ReplicaSet (see the module docstring)."""

    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.recorder = manager.event_recorder("replicaset-controller")
        self.replicasets = manager.informer(*RS)
        self.pods = manager.informer(*POD)
        self.expectations = Expectations(manager.clock)
        self.pod_events = ChildEventHandler(
            *RS,
            orphan_owners=owners_selecting(self.replicasets),
            expectations=self.expectations,
        )

    async def reconcile(self, request: Request) -> Result | None:
        key = str(request)
        rs = self.replicasets.get(request.namespace, request.name)
        if rs is None:
            self.expectations.forget(key)
            return None
        needs_sync = self.expectations.satisfied(key)
        selector = selector_of(rs)
        candidates = active_pods(self.pods.list(request.namespace, copy=False))
        pods = await claim(self.client, rs, candidates, selector=selector, child=POD)
        failure: tuple[str, ApiError] | None = None
        if needs_sync and not meta(rs).get("deletionTimestamp"):
            failure = await self._manage_replicas(rs, pods)
        now = self.clock.now()
        status = _status(rs, pods, failure=failure, now=now)
        try:
            await write_status(self.client, rs, status)
        except NotFound:
            return None
        if failure is not None:
            raise failure[1]
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        replicas = int(spec.get("replicas", 1))
        if (
            min_ready > 0
            and status.get("readyReplicas", 0) == replicas
            and status.get("availableReplicas", 0) != replicas
        ):
            return Result(requeue_after=float(min_ready))
        return None

    # Creating and deleting -------------------------------------------------------------

    async def _manage_replicas(
        self, rs: dict[str, Any], pods: list[dict[str, Any]]
    ) -> tuple[str, ApiError] | None:
        """Create or delete pods towards ``spec.replicas``; the first failure, if any,
        with its ReplicaFailure reason."""
        key = f"{meta(rs)['namespace']}/{meta(rs)['name']}"
        wanted = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(pods) - wanted
        if diff < 0:
            count = min(-diff, BURST_REPLICAS)
            log.info("Too few replicas: need %d, creating %d", wanted, count)
            self.expectations.expect(key, creations=count)
            failed = await self._create_pods(rs, key, count)
            return None if failed is None else ("FailedCreate", failed)
        if diff > 0:
            count = min(diff, BURST_REPLICAS)
            log.info("Too many replicas: need %d, deleting %d", wanted, count)
            victims = self._pods_to_delete(rs, pods, count)
            self.expectations.expect(key, deletions=[_pod_key(p) for p in victims])
            failed = await self._delete_pods(rs, key, victims)
            return None if failed is None else ("FailedDelete", failed)
        return None

    async def _create_pods(self, rs: dict[str, Any], key: str, count: int) -> ApiError | None:
        """Slow start: batches of 1, 2, 4 … stopping at the first batch with a failure."""
        template = (rs.get("spec") or {}).get("template") or {}
        namespace = meta(rs)["namespace"]
        created = 0
        batch = 1
        while created < count:
            size = min(batch, count - created)
            results = await asyncio.gather(
                *(self._create_one(rs, template, namespace) for _ in range(size))
            )
            created += size
            failures = [r for r in results if r is not None]
            for _ in failures:
                self.expectations.creation_observed(key)
            if failures:
                for _ in range(count - created):
                    self.expectations.creation_observed(key)
                return failures[0]
            batch *= 2
        return None

    async def _create_one(
        self, rs: dict[str, Any], template: Mapping[str, Any], namespace: str
    ) -> ApiError | None:
        pod = pod_from_template(template, owner=rs, namespace=namespace)
        try:
            created = await self.client.create(pod)
        except ApiError as exc:
            if not _namespace_terminating(exc):
                await self.recorder.warning(
                    rs, reason="FailedCreate", message=f"Error creating: {error_message(exc)}"
                )
            return exc
        await self.recorder.normal(
            rs, reason="SuccessfulCreate", message=f"Created pod: {meta(created)['name']}"
        )
        return None

    def _pods_to_delete(
        self, rs: dict[str, Any], pods: list[dict[str, Any]], count: int
    ) -> list[dict[str, Any]]:
        if count >= len(pods):
            return pods
        ranks: Counter[str] = Counter()
        for pod in self._related_pods(rs):
            ranks[(pod.get("spec") or {}).get("nodeName") or ""] += 1
        return deletion_order(pods, ranks=ranks)[:count]

    def _related_pods(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        """Active pods of this ReplicaSet and of its siblings (same controller owner)."""
        namespace = meta(rs)["namespace"]
        owner = controller_of(rs)
        if owner is None:
            siblings = {meta(rs)["uid"]}
        else:
            siblings = {
                meta(other)["uid"]
                for other in self.replicasets.list(namespace, copy=False)
                if (controller_of(other) or {}).get("uid") == owner.get("uid")
            }
        return [
            pod
            for pod in active_pods(self.pods.list(namespace, copy=False))
            if (controller_of(pod) or {}).get("uid") in siblings
        ]

    async def _delete_pods(
        self, rs: dict[str, Any], key: str, victims: list[dict[str, Any]]
    ) -> ApiError | None:
        results = await asyncio.gather(*(self._delete_one(rs, key, pod) for pod in victims))
        return next((r for r in results if r is not None), None)

    async def _delete_one(self, rs: dict[str, Any], key: str, pod: dict[str, Any]) -> ApiError | None:
        name = meta(pod)["name"]
        try:
            await self.client.delete(
                "v1", "Pod", name, namespace=meta(pod)["namespace"],
                preconditions={"uid": meta(pod)["uid"]},
            )
        except NotFound:
            self.expectations.deletion_observed(key, _pod_key(pod))
            return None
        except ApiError as exc:
            self.expectations.deletion_observed(key, _pod_key(pod))
            await self.recorder.warning(
                rs, reason="FailedDelete", message=f"Error deleting: {error_message(exc)}"
            )
            return exc
        await self.recorder.normal(rs, reason="SuccessfulDelete", message=f"Deleted pod: {name}")
        return None


def _pod_key(pod: Mapping[str, Any]) -> str:
    return f"{meta(pod).get('namespace') or ''}/{meta(pod).get('name')}"


def _namespace_terminating(exc: ApiError) -> bool:
    """Creates fail this way while a namespace is deleted; Kubernetes stays quiet about it."""
    return isinstance(exc, Forbidden) and "because it is being terminated" in exc.message


def _status(
    rs: dict[str, Any],
    pods: list[dict[str, Any]],
    *,
    failure: tuple[str, ApiError] | None,
    now: datetime,
) -> dict[str, Any]:
    """``calculateStatus``: counts from the claimed pods, plus ReplicaFailure."""
    template_labels = (((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels"
    ) or {}
    min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
    fully_labeled = ready = available = 0
    for pod in pods:
        pod_labels = meta(pod).get("labels") or {}
        if all(pod_labels.get(k) == v for k, v in template_labels.items()):
            fully_labeled += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready, now):
                available += 1
    status: dict[str, Any] = {"replicas": len(pods)}
    for field, value in (
        ("fullyLabeledReplicas", fully_labeled),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("observedGeneration", meta(rs).get("generation", 0)),
    ):
        if value:
            status[field] = value
    # A failure keeps the first ReplicaFailure condition; a clean sync removes it.
    conditions = [deep_copy(c) for c in (rs.get("status") or {}).get("conditions") or ()]
    if failure is None:
        conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
    elif find_condition(rs, "ReplicaFailure") is None:
        reason, error = failure
        conditions.append({
            "type": "ReplicaFailure",
            "status": "True",
            "lastTransitionTime": format_time(now),
            "reason": reason,
            "message": error_message(error),
        })
    if conditions:
        status["conditions"] = conditions
    return status
