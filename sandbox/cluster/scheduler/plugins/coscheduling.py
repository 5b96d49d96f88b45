"""Coscheduling: gang scheduling by PodGroup, as scheduler-plugins' plugin does it.

Distributed training needs all its workers at once: a PyTorchJob whose
worker 3 cannot start holds three GPUs for nothing. A ``PodGroup``
(``scheduling.x-k8s.io/v1alpha1``, the kind the Kubeflow training operator
creates for its jobs) says "schedule at least ``spec.minMember`` of these
together, or none"; its pods carry the label
``scheduling.x-k8s.io/pod-group: <podgroup name>`` and live in its
namespace.

How the gang is held together (scheduler-plugins ``pkg/coscheduling``):

- **PreFilter** rejects a pod whose group has fewer than ``minMember``
  (non-finished) pods in existence — ``pre-filter pod w-0 cannot find enough
  sibling pods, current pods number: 2, minMember of group: 3`` — or whose
  group failed recently (``podGroupBackoffSeconds``, off by default). It is
  UnschedulableAndUnresolvable: preemption cannot create pods.
- **Permit** holds each pod that found a node (it is assumed there, so its
  resources stay reserved) with Wait, until the pods of the group assigned
  or assumed reach ``minMember``; the pod that completes the gang allows all
  the waiting ones and they all bind. The first pod of a gang to wait asks
  for its siblings to be tried at once (``PodsToActivate``). A pod whose
  PodGroup does not exist is rejected here: ``PodGroup not found``.
- A pod waits at most ``spec.scheduleTimeoutSeconds`` (else the plugin's
  ``permitWaitingTimeSeconds``, 60 s), on the injected clock; then it is
  rejected (``rejected due to timeout after waiting 1m0s at plugin
  Coscheduling``) and **Unreserve** rejects every other waiting pod of the
  group (``rejection in Unreserve``), releasing their resources.
- **PostFilter**: when a pod of a group fits no node and the group is more
  than 10% short of ``minMember``, the waiting pods of the group are
  rejected at once (``optimistic rejection in PostFilter``) rather than held
  until the timeout, and the pod's message says ``PodGroup ns/name gets
  rejected due to Pod p is unschedulable even after PostFilter``.

PodGroup status, written where scheduler-plugins' controller and plugin
would: phase ``Pending`` while the group lacks pods, ``Scheduling`` (with
``scheduleStartTime``) once it has enough, ``Scheduled`` (with
``scheduled``) when ``minMember`` pods are bound. ``Running``, ``Finished``
and ``Failed`` follow pod phases and belong to a PodGroup controller.

One sandbox deviation: upstream PostFilter answers ``can not find pod
group`` for a pod that has no PodGroup label at all, which would append
those words to every ordinary pod's FailedScheduling message when the
plugin runs in the default profile. Here a pod without the label is none
of this plugin's business: it adds no reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sandbox.clock import format_time
from sandbox.cluster.scheduler.framework import (
    PODS_TO_ACTIVATE_KEY,
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PodInfo,
    Status,
)

__all__ = [
    "DEFAULT_PERMIT_WAITING_TIME",
    "NAME",
    "PODGROUP_API_VERSION",
    "POD_GROUP_LABEL",
    "Coscheduling",
    "new",
]

NAME = "Coscheduling"
POD_GROUP_LABEL = "scheduling.x-k8s.io/pod-group"
PODGROUP_API_VERSION = "scheduling.x-k8s.io/v1alpha1"
DEFAULT_PERMIT_WAITING_TIME = 60.0
_INDEX = "podGroup"
_NOT_ASSIGNED_TOLERANCE = 0.1


def _index_pod_group(pod: Mapping[str, Any]) -> Iterable[str]:
    """``namespace/group`` for a pod of a group that has not finished."""
    m = pod.get("metadata") or {}
    group = (m.get("labels") or {}).get(POD_GROUP_LABEL)
    if not group or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return ()
    return (f"{m.get('namespace') or ''}/{group}",)


class Coscheduling:
    name = NAME

    def __init__(self, handle: Handle, *, permit_waiting_time: float, backoff: float) -> None:
        self._handle = handle
        self._pod_groups = handle.informer(PODGROUP_API_VERSION, "PodGroup")
        handle.pods.add_indexer(_INDEX, _index_pod_group)
        self._permit_waiting_time = permit_waiting_time
        self._backoff = backoff
        self._backed_off: dict[str, float] = {}
        self._phases_written: dict[str, str] = {}

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("PodAdd", "PodGroupAdd", "PodGroupUpdate")

    # Lookups -------------------------------------------------------------------------------

    def _pod_group(self, pod: PodInfo) -> tuple[str, Mapping[str, Any] | None]:
        group = pod.labels.get(POD_GROUP_LABEL, "")
        if not group:
            return "", None
        return f"{pod.namespace}/{group}", self._pod_groups.get(pod.namespace, group, copy=False)

    def _siblings(self, full_name: str) -> list[Mapping[str, Any]]:
        return self._handle.pods.by_index(_INDEX, full_name, copy=False)

    def _assigned(self, full_name: str, *, besides: str = "") -> int:
        """Pods of the group assigned or assumed to a node (``CalculateAssignedPods``)."""
        pod_nodes = self._handle.snapshot.pod_nodes
        count = 0
        for sibling in self._siblings(full_name):
            m = sibling["metadata"]
            key = f"{m.get('namespace') or ''}/{m.get('name')}"
            if key != besides and key in pod_nodes:
                count += 1
        return count

    def _reject_waiting(self, pod: PodInfo, message: str) -> None:
        group = pod.labels.get(POD_GROUP_LABEL)
        for waiting in self._handle.waiting_pods():
            other = waiting.pod
            if other.namespace == pod.namespace and other.labels.get(POD_GROUP_LABEL) == group:
                waiting.reject(NAME, message)

    # Extension points --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        full_name, pg = self._pod_group(pod)
        if pg is None:
            return None
        until = self._backed_off.get(full_name)
        if until is not None:
            if self._handle.clock.monotonic() < until:
                return Status(
                    Code.UnschedulableAndUnresolvable, f"podGroup {full_name} failed recently"
                )
            del self._backed_off[full_name]
        min_member = _min_member(pg)
        count = len(self._siblings(full_name))
        if count < min_member:
            self._set_phase(pg, "Pending")
            return Status(
                Code.UnschedulableAndUnresolvable,
                f"pre-filter pod {pod.name} cannot find enough sibling pods, "
                f"current pods number: {count}, minMember of group: {min_member}",
            )
        self._set_phase(pg, "Scheduling", scheduleStartTime=format_time(self._handle.clock.now()))
        return None

    def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> Status:
        full_name, pg = self._pod_group(pod)
        if not full_name:
            return Status(Code.Unschedulable)
        if pg is None:
            return Status(Code.Unschedulable, "can not find pod group")
        min_member = _min_member(pg)
        assigned = self._assigned(full_name)
        if assigned >= min_member:
            return Status(Code.Unschedulable)
        if min_member and (min_member - assigned) / min_member <= _NOT_ASSIGNED_TOLERANCE:
            # Close to quorum: let the next pods of the group try.
            return Status(Code.Unschedulable)
        self._reject_waiting(pod, "optimistic rejection in PostFilter")
        if self._backoff and len(self._siblings(full_name)) >= min_member:
            self._backed_off[full_name] = self._handle.clock.monotonic() + self._backoff
        return Status(
            Code.Unschedulable,
            f"PodGroup {full_name} gets rejected due to Pod {pod.name} "
            "is unschedulable even after PostFilter",
        )

    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status | None, float]:
        full_name, pg = self._pod_group(pod)
        if not full_name:
            return None, 0.0
        if pg is None:
            return Status(Code.Unschedulable, "PodGroup not found"), 0.0
        assigned = self._assigned(full_name, besides=pod.key)
        if assigned + 1 >= _min_member(pg):
            group = pod.labels[POD_GROUP_LABEL]
            for waiting in self._handle.waiting_pods():
                other = waiting.pod
                if other.namespace == pod.namespace and other.labels.get(POD_GROUP_LABEL) == group:
                    waiting.allow(NAME)
            return None, 0.0
        if assigned == 0:
            state.write(
                PODS_TO_ACTIVATE_KEY,
                {
                    f"{s['metadata'].get('namespace') or ''}/{s['metadata']['name']}"
                    for s in self._siblings(full_name)
                }
                - {pod.key},
            )
        timeout = (pg.get("spec") or {}).get("scheduleTimeoutSeconds")
        return Status(Code.Wait), float(timeout) if timeout else self._permit_waiting_time

    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        return None

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        _, pg = self._pod_group(pod)
        if pg is not None:
            self._reject_waiting(pod, "rejection in Unreserve")

    def post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        full_name, pg = self._pod_group(pod)
        if pg is None:
            return
        assigned = self._assigned(full_name)
        if assigned >= _min_member(pg):
            self._set_phase(pg, "Scheduled", scheduled=assigned)

    # PodGroup status ---------------------------------------------------------------------------

    def _set_phase(self, pg: Mapping[str, Any], phase: str, **fields: Any) -> None:
        """Move the group to ``phase`` (never backwards from a later one), once."""
        m = pg["metadata"]
        full_name = f"{m.get('namespace')}/{m['name']}"
        uid = m.get("uid") or full_name
        current = (pg.get("status") or {}).get("phase") or ""
        if phase == current or self._phases_written.get(uid) == phase:
            return
        order = ("", "Pending", "Scheduling", "Scheduled")
        if current not in order or order.index(current) > order.index(phase):
            return
        self._phases_written[uid] = phase
        self._handle.spawn(
            self._handle.client.patch_status(
                PODGROUP_API_VERSION,
                "PodGroup",
                m["name"],
                {"status": {"phase": phase, **fields}},
                namespace=m.get("namespace"),
            ),
            name=f"podgroup-status-{full_name}",
        )


def _min_member(pg: Mapping[str, Any]) -> int:
    return int((pg.get("spec") or {}).get("minMember") or 0)


def new(args: Mapping[str, Any], handle: Handle) -> Coscheduling:
    return Coscheduling(
        handle,
        permit_waiting_time=float(args.get("permitWaitingTimeSeconds", DEFAULT_PERMIT_WAITING_TIME)),
        backoff=float(args.get("podGroupBackoffSeconds", 0)),
    )
