"""The scheduler: binds pending pods to nodes, one pod at a time, like kube-scheduler.

Data flow::

    Node informer ──► cache (NodeInfo per node) ◄── Pod informer (assigned pods)
                        │ snapshot                       │ pending pods of this profile
                        ▼                                ▼
    loop: queue.pop() ─► scheduling cycle (synchronous) ─► assume in cache ─► binding task
            ▲             PreFilter, Filter over nodes,                        WaitOnPermit, Bind,
            │             Score, Reserve, Permit                               PostBind, "Scheduled"
            │                  │ no node fits                                        │ fails
            └── requeue ◄──────┴─ PostFilter, FitError ─► PodScheduled=False + ◄────┘
                (backoff /        "FailedScheduling" event
                 unschedulable)

- **Which pods.** Pods without ``spec.nodeName`` whose ``spec.schedulerName``
  is this profile's (``default-scheduler``; unset means that too) and that
  have not finished. Pods created with a node name are already bound: they
  only count in the cache.
- **One at a time.** The scheduling cycle runs without awaiting, so the
  cache cannot change under it; binding (an API call, possibly a Permit
  wait) runs in its own task, and the next pod is considered meanwhile.
  The assumed-pod cache keeps those in-flight decisions counted.
- **Which nodes.** All nodes are filtered in a rotating order until
  ``numFeasibleNodesToFind`` fit: every node in clusters under 100 nodes;
  otherwise ``percentageOfNodesToScore`` of them (adaptive by default:
  ``50 - nodes/125`` percent, at least 5%, at least 100 nodes), starting
  where the previous cycle stopped, so a 1,000-node cluster stays fast and
  pods still spread. The best-scored node wins; ties are broken at random.
- **Failure.** The pod goes back to the queue (see ``queue``), its
  ``PodScheduled`` condition becomes ``False``/``Unschedulable`` with
  kube-scheduler's aggregated message (written only when it changed) and a
  ``FailedScheduling`` Warning event is recorded (identical ones aggregate
  into a count). Errors (not rejections) use the reason ``SchedulerError``.
- **Success.** A Normal ``Scheduled`` event: ``Successfully assigned
  <ns>/<pod> to <node>``.

Events go through an :class:`~sandbox.runtime.EventRecorder` (component
``default-scheduler``), which a caller may replace.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Mapping
from contextlib import suppress
from typing import Any, Protocol

from sandbox.api.errors import ApiError
from sandbox.client.protocol import Client
from sandbox.clock import Clock, format_time
from sandbox.cluster.scheduler.cache import Cache
from sandbox.cluster.scheduler.framework import (
    PODS_TO_ACTIVATE_KEY,
    ClusterEvent,
    Code,
    CycleState,
    Diagnosis,
    FitError,
    NodeInfo,
    PluginFactory,
    PodInfo,
    Snapshot,
    Status,
    WaitingPod,
    pod_key,
)
from sandbox.cluster.scheduler.framework_runtime import Framework, Profile
from sandbox.cluster.scheduler.queue import QueuedPodInfo, SchedulingQueue
from sandbox.cluster.scheduler.registry import DEFAULT_PROFILE, IN_TREE
from sandbox.runtime.events import EventRecorder, EventType
from sandbox.runtime.informer import SharedInformer

__all__ = ["Scheduler", "num_feasible_nodes_to_find"]

log = logging.getLogger(__name__)

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NO_NODES_MESSAGE = "no nodes available to schedule pods"
_TERMINAL = ("Succeeded", "Failed")
_EVENT_MESSAGE_LIMIT = 1024


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int) -> int:
    """How many feasible nodes a cycle looks for (``numFeasibleNodesToFind``);
    ``percentage`` 0 means adaptive."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


class Recorder(Protocol):
    """Where the scheduler's events go (an :class:`EventRecorder` by default)."""

    async def event(
        self, obj: Mapping[str, Any], *, type: EventType, reason: str, message: str
    ) -> Any: ...


class _SchedulingError(Exception):
    """A plugin failed (an Error status, not a rejection)."""


class _NoNodesAvailable(Exception):
    """The cluster has no nodes at all (``ErrNoNodesAvailable``)."""


def _is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in _TERMINAL


def _node_name(pod: Mapping[str, Any]) -> str:
    return (pod.get("spec") or {}).get("nodeName") or ""


def _scheduling_properties(node: Mapping[str, Any]) -> tuple[Any, ...]:
    """What of a node can change a scheduling decision (not its heartbeats)."""
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    ready = next(
        (c.get("status") for c in status.get("conditions") or () if c.get("type") == "Ready"), None
    )
    return (
        status.get("allocatable"),
        (node.get("metadata") or {}).get("labels"),
        spec.get("taints"),
        bool(spec.get("unschedulable")),
        ready,
    )


class _Handlers:
    """Adapts three callables to the informer's handler protocol."""

    def __init__(self, on_add: Any, on_update: Any, on_delete: Any) -> None:
        self.on_add = on_add
        self.on_update = on_update
        self.on_delete = on_delete


class _Handle:
    """What plugins see of the scheduler (``framework.Handle``)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self.client = scheduler.client
        self.clock = scheduler.clock

    @property
    def snapshot(self) -> Snapshot:
        return self._scheduler.cache.snapshot()

    @property
    def pods(self) -> SharedInformer:
        return self._scheduler.pod_informer

    def informer(self, api_version: str, kind: str) -> SharedInformer:
        return self._scheduler.informer_for(api_version, kind)

    def waiting_pods(self) -> list[WaitingPod]:
        return list(self._scheduler.framework.waiting_pods.all())

    def spawn(self, work: Awaitable[Any], *, name: str) -> None:
        self._scheduler.spawn(work, name=name)


class Scheduler:
    """kube-scheduler for one profile, over the client protocol.

    ``registry`` and ``profile`` default to :data:`~sandbox.cluster.scheduler.registry.IN_TREE`
    and :data:`~sandbox.cluster.scheduler.registry.DEFAULT_PROFILE`;
    ``percentage_of_nodes_to_score`` (0..100, 0 or ``None`` adaptive) applies
    unless the profile sets its own. ``recorder`` receives the events
    (an :class:`EventRecorder` as ``default-scheduler`` by default), ``rng``
    breaks ties between equally scored nodes (seed it for reproducible
    placement), and ``pod_max_in_unschedulable_pods_duration`` is how long an
    unschedulable pod waits for a helpful event before it is retried anyway.
    """

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock,
        registry: Mapping[str, PluginFactory] | None = None,
        profile: Profile | None = None,
        percentage_of_nodes_to_score: int | None = None,
        recorder: Recorder | None = None,
        rng: random.Random | None = None,
        pod_max_in_unschedulable_pods_duration: float = 300.0,
    ) -> None:
        if percentage_of_nodes_to_score is not None and not 0 <= percentage_of_nodes_to_score <= 100:
            raise ValueError("percentage_of_nodes_to_score must be between 0 and 100")
        self.client = client
        self.clock = clock
        self.profile = profile or DEFAULT_PROFILE
        self.scheduler_name = self.profile.scheduler_name
        self._percentage = (
            self.profile.percentage_of_nodes_to_score
            if self.profile.percentage_of_nodes_to_score is not None
            else percentage_of_nodes_to_score or 0
        )
        self._recorder: Recorder = recorder or EventRecorder(
            client, component=self.scheduler_name, clock=clock
        )
        self._rng = rng or random.Random()
        self.cache = Cache()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._informers: dict[tuple[str, str], SharedInformer] = {}
        self.node_informer = self.informer_for("v1", "Node")
        self.pod_informer = self.informer_for("v1", "Pod")
        self.framework = Framework(
            self.profile, registry=IN_TREE if registry is None else registry,
            handle=_Handle(self), clock=clock,
        )
        self._registered_events = frozenset().union(*self.framework.events.values())
        self.queue = SchedulingQueue(
            clock=clock,
            moves_on=self.framework.moves_on,
            max_in_unschedulable=pod_max_in_unschedulable_pods_duration,
        )
        self._next_start_node_index = 0

    def __repr__(self) -> str:
        return f"<Scheduler {self.scheduler_name}: {self.cache!r}, {len(self.queue)} queued>"

    # Lifecycle -----------------------------------------------------------------------------

    def informer_for(self, api_version: str, kind: str) -> SharedInformer:
        """The scheduler's shared informer of a kind (created on first request, before start)."""
        informer = self._informers.get((api_version, kind))
        if informer is None:
            if self._loop_task is not None:
                raise RuntimeError("informers must be requested before the scheduler starts")
            informer = SharedInformer(self.client, api_version, kind, clock=self.clock)
            self._informers[(api_version, kind)] = informer
        return informer

    async def start(self) -> None:
        """Start the informers, wait for their first list, then start scheduling."""
        if self._loop_task is not None:
            return
        self.node_informer.add_event_handler(
            _Handlers(self._on_node_add, self._on_node_update, self._on_node_delete)
        )
        self.pod_informer.add_event_handler(
            _Handlers(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        )
        for (_, kind), informer in self._informers.items():
            if kind not in ("Node", "Pod"):
                informer.add_event_handler(self._kind_events(kind))
        for informer in self._informers.values():
            informer.start()
        await asyncio.gather(*(i.wait_for_sync() for i in self._informers.values()))
        self._loop_task = asyncio.create_task(self._run(), name=f"scheduler-{self.scheduler_name}")
        self._flush_task = asyncio.create_task(self.queue.run_flushes(), name="scheduler-flush")
        log.info("scheduler %s started: %d nodes", self.scheduler_name, len(self.cache.snapshot()))

    async def stop(self) -> None:
        """Stop scheduling; pods waiting at Permit are released, nothing more is bound."""
        for task in (self._loop_task, self._flush_task):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        self._loop_task = self._flush_task = None
        self.framework.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        for informer in self._informers.values():
            await informer.stop()

    async def __aenter__(self) -> Scheduler:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def spawn(self, work: Awaitable[Any], *, name: str) -> None:
        """Run ``work`` in a task the scheduler tracks (and cancels at stop)."""
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduler task %s failed", task.get_name(), exc_info=task.exception())

    # Informer events -------------------------------------------------------------------------

    def _responsible(self, pod: Mapping[str, Any]) -> bool:
        name = (pod.get("spec") or {}).get("schedulerName") or DEFAULT_PROFILE.scheduler_name
        return name == self.scheduler_name

    def _event(self, event: ClusterEvent, *, besides: str = "") -> None:
        if event in self._registered_events:
            self.queue.move_all_to_active_or_backoff(event, besides=besides)

    def _on_node_add(self, node: Mapping[str, Any]) -> None:
        self.cache.add_node(node)
        self._event("NodeAdd")

    def _on_node_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.cache.update_node(new)
        if _scheduling_properties(old) != _scheduling_properties(new):
            self._event("NodeUpdate")

    def _on_node_delete(self, node: Mapping[str, Any]) -> None:
        self.cache.remove_node((node.get("metadata") or {}).get("name") or "")

    def _on_pod_add(self, pod: Mapping[str, Any]) -> None:
        if _is_terminal(pod):
            return
        if _node_name(pod):
            self.cache.add_pod(PodInfo(pod))
            self._event("AssignedPodAdd")
        elif self._responsible(pod):
            self.queue.add(PodInfo(pod))
            self._event("PodAdd")

    def _on_pod_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        key = pod_key(new)
        if _node_name(new):
            if not _node_name(old):
                self.queue.delete(key)
            if _is_terminal(new):
                if self.cache.remove_pod(key):
                    self._event("AssignedPodDelete")
            else:
                self.cache.add_pod(PodInfo(new, previous=self.cache.pod(key)))
                if not _node_name(old):
                    self._event("AssignedPodAdd")
        elif self._responsible(new) and not _is_terminal(new):
            self.queue.add(PodInfo(new))
        else:
            self.queue.delete(key)

    def _on_pod_delete(self, pod: Mapping[str, Any]) -> None:
        key = pod_key(pod)
        if _node_name(pod):
            if self.cache.remove_pod(key):
                self._event("AssignedPodDelete")
            return
        self.queue.delete(key)
        self.framework.reject_waiting_pod(key, "removed")

    def _kind_events(self, kind: str) -> _Handlers:
        return _Handlers(
            lambda obj: self._event(f"{kind}Add"),
            lambda old, new: self._event(f"{kind}Update"),
            lambda obj: self._event(f"{kind}Delete"),
        )

    # The scheduling loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            qpi = await self.queue.pop()
            try:
                self._schedule_one(qpi)
            except Exception as err:
                log.exception("scheduling pod %s failed", qpi.key)
                self.cache.forget_pod(qpi.key)
                self._fail(qpi, self.queue.scheduling_cycle, Status(Code.Error, str(err)), str(err))
            # Let bindings, informers and status writes progress between pods.
            await asyncio.sleep(0)

    def _schedule_one(self, qpi: QueuedPodInfo) -> None:
        """One scheduling cycle: decide, assume, reserve, permit; binding continues in a task."""
        pod = qpi.pod
        cycle = self.queue.scheduling_cycle
        if self.cache.is_assumed(pod.key) or (pod.pod.get("metadata") or {}).get("deletionTimestamp"):
            self.queue.done(pod.key)
            return
        state = CycleState()
        try:
            node_name = self._schedule_pod(state, pod)
        except FitError as fit:
            if self.framework.post_filter_plugins:
                status = self.framework.run_post_filter(state, pod, fit.diagnosis.node_statuses)
                fit.diagnosis.post_filter_msg = status.message
            self._fail(
                qpi, cycle, Status(Code.Unschedulable), str(fit),
                plugins=fit.diagnosis.unschedulable_plugins,
            )
            return
        except _SchedulingError as err:
            self._fail(qpi, cycle, Status(Code.Error, str(err)), str(err))
            return
        except _NoNodesAvailable:
            self._fail(qpi, cycle, Status(Code.UnschedulableAndUnresolvable), NO_NODES_MESSAGE)
            return

        self.cache.assume_pod(pod, node_name)
        status = self.framework.run_reserve(state, pod, node_name)
        waiting = False
        if status is None:
            status = self.framework.run_permit(state, pod, node_name)
            if status is not None and status.code == Code.Wait:
                status, waiting = None, True
        if status is not None:
            self.framework.run_unreserve(state, pod, node_name)
            self.cache.forget_pod(pod.key)
            self._fail_on_node(qpi, cycle, node_name, status)
            return
        self._activate(state)
        self.spawn(
            self._binding_cycle(state, qpi, cycle, node_name, waiting=waiting),
            name=f"bind-{pod.key}",
        )

    def _schedule_pod(self, state: CycleState, pod: PodInfo) -> str:
        """The node for ``pod`` (``schedulePod``); raises FitError when none fits."""
        nodes = self.cache.snapshot().node_infos
        if not nodes:
            raise _NoNodesAvailable
        feasible, diagnosis = self._find_nodes_that_fit(state, pod, nodes)
        if not feasible:
            raise FitError(pod, num_all_nodes=len(nodes), diagnosis=diagnosis)
        if len(feasible) == 1:
            return feasible[0].name
        status = self.framework.run_pre_score(state, pod, feasible)
        if status is not None:
            raise _SchedulingError(status.message)
        totals = self.framework.run_score(state, pod, feasible)
        best = max(totals)
        winners = [i for i, total in enumerate(totals) if total == best]
        chosen = winners[0] if len(winners) == 1 else self._rng.choice(winners)
        return feasible[chosen].name

    def _find_nodes_that_fit(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[list[NodeInfo], Diagnosis]:
        diagnosis = Diagnosis()
        status = self.framework.run_pre_filter(state, pod, nodes)
        if status is not None:
            if not status.is_rejected():
                raise _SchedulingError(status.message)
            diagnosis.node_statuses = {node.name: status for node in nodes}
            diagnosis.pre_filter_msg = status.message
            diagnosis.unschedulable_plugins.add(status.plugin)
            return [], diagnosis

        count = len(nodes)
        wanted = num_feasible_nodes_to_find(count, self._percentage)
        start = self._next_start_node_index % count
        ordered = nodes[start:] + nodes[:start] if start else nodes
        filters = self.framework.filters(state)
        if not filters:
            feasible = ordered[:wanted]
            self._next_start_node_index = (start + len(feasible)) % count
            return feasible, diagnosis

        # kube-scheduler checks nodes one by one, each against every plugin
        # until one rejects it, and stops once ``wanted`` nodes fit. Here the
        # same nodes get the same verdicts, computed plugin by plugin over a
        # chunk of exactly as many nodes as are still wanted (none of them
        # can be spared), which costs Python far fewer loop steps.
        feasible: list[NodeInfo] = []
        statuses = diagnosis.node_statuses
        processed = 0
        while processed < count and len(feasible) < wanted:
            chunk = ordered[processed : processed + wanted - len(feasible)]
            processed += len(chunk)
            for name, check in filters:
                verdicts = check(state, pod, chunk)
                if verdicts.count(None) == len(verdicts):
                    continue
                passed = []
                for node, status in zip(chunk, verdicts, strict=True):
                    if status is None:
                        passed.append(node)
                        continue
                    if status.code == Code.Error:
                        raise _SchedulingError(f'running Filter plugin "{name}": {status.message}')
                    status.plugin = name
                    statuses[node.name] = status
                    diagnosis.unschedulable_plugins.add(name)
                chunk = passed
                if not chunk:
                    break
            feasible.extend(chunk)
        self._next_start_node_index = (start + processed) % count
        return feasible, diagnosis

    def _activate(self, state: CycleState) -> None:
        if PODS_TO_ACTIVATE_KEY in state:
            self.queue.activate(state.read(PODS_TO_ACTIVATE_KEY))
            state.delete(PODS_TO_ACTIVATE_KEY)

    # Binding ------------------------------------------------------------------------------------

    async def _binding_cycle(
        self, state: CycleState, qpi: QueuedPodInfo, cycle: int, node_name: str, *, waiting: bool
    ) -> None:
        pod = qpi.pod
        status = await self.framework.wait_on_permit(pod) if waiting else None
        if status is None:
            status = await self.framework.run_bind(state, pod, node_name)
        if status is not None:
            self.framework.run_unreserve(state, pod, node_name)
            self.cache.forget_pod(pod.key)
            self._fail_on_node(qpi, cycle, node_name, status)
            # Its resources are free again: pods waiting for room may try
            # (not this one, which was just found wanting).
            self._event("AssignedPodDelete", besides=pod.key)
            return
        self.queue.done(pod.key)
        self.framework.run_post_bind(state, pod, node_name)
        self._activate(state)
        # Recorded beside the binding, as kube-scheduler's event broadcaster does: the kubelet
        # need not wait for it.
        self.spawn(self._recorder.event(
            pod.pod,
            type="Normal",
            reason="Scheduled",
            message=f"Successfully assigned {pod.namespace}/{pod.name} to {node_name}",
        ), name=f"scheduled-event-{pod.key}")

    # Failures ------------------------------------------------------------------------------------

    def _fail_on_node(self, qpi: QueuedPodInfo, cycle: int, node_name: str, status: Status) -> None:
        """A failure after a node was chosen (Reserve, Permit, Bind): one node, one status."""
        if status.is_rejected():
            diagnosis = Diagnosis(node_statuses={node_name: status})
            if status.plugin:
                diagnosis.unschedulable_plugins.add(status.plugin)
            fit = FitError(qpi.pod, num_all_nodes=1, diagnosis=diagnosis)
            self._fail(qpi, cycle, status, str(fit), plugins=diagnosis.unschedulable_plugins)
        else:
            self._fail(qpi, cycle, status, status.message)

    def _fail(
        self,
        qpi: QueuedPodInfo,
        cycle: int,
        status: Status,
        message: str,
        *,
        plugins: set[str] | None = None,
    ) -> None:
        """Requeue the pod and report why (``handleSchedulingFailure``)."""
        rejected = status.is_rejected()
        qpi.unschedulable_plugins = set(plugins or ())
        self.queue.requeue_failed(qpi, cycle=cycle, rejected=rejected)
        log.debug("pod %s could not be scheduled: %s", qpi.key, message)
        reason = "Unschedulable" if rejected else "SchedulerError"
        self.spawn(self._report_failure(qpi.pod, reason, message), name=f"report-{qpi.key}")

    async def _report_failure(self, pod: PodInfo, reason: str, message: str) -> None:
        current = self.pod_informer.get(pod.namespace, pod.name, copy=False)
        if current is None or _node_name(current):
            return  # deleted or bound meanwhile
        await self._recorder.event(
            current, type="Warning", reason="FailedScheduling", message=message[:_EVENT_MESSAGE_LIMIT]
        )
        condition = next(
            (
                c
                for c in (current.get("status") or {}).get("conditions") or ()
                if c.get("type") == "PodScheduled"
            ),
            None,
        )
        if condition is not None and (
            condition.get("status"), condition.get("reason"), condition.get("message")
        ) == ("False", reason, message):
            return
        transition = (
            condition.get("lastTransitionTime")
            if condition is not None and condition.get("status") == "False"
            else None
        ) or format_time(self.clock.now())
        patch = {
            "status": {
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": reason,
                        "message": message,
                        "lastProbeTime": None,
                        "lastTransitionTime": transition,
                    }
                ]
            }
        }
        try:
            await self.client.patch_status(
                "v1", "Pod", pod.name, patch, namespace=pod.namespace, patch_type="strategic"
            )
        except ApiError as err:  # the pod may be gone; a later attempt writes it again
            log.info("could not update the PodScheduled condition of %s: %s", pod.key, err)
