"""Running a profile's plugins at each extension point (``framework/runtime``).

A :class:`Framework` is built from a profile (which plugins, in which
order, with which weights and arguments) and a registry (how to build each
plugin by name). Every plugin is enabled at every extension point it
implements, as kube-scheduler's ``multiPoint`` does, in profile order.

The rules of each point follow kube-scheduler 1.31:

- PreFilter runs every plugin; Skip removes that plugin from this pod's
  Filter; UnschedulableAndUnresolvable stops at once, Unschedulable lets
  the others run (preemption may still need their state);
- Filter (driven by the scheduler, per node) stops at a node's first
  rejection;
- PostFilter runs until one succeeds or answers UnschedulableAndUnresolvable;
  otherwise the reasons of all of them are joined;
- PreScore Skip removes the plugin from this pod's Score; scores are
  normalised per plugin, then weighted and summed;
- Reserve stops at the first failure, Unreserve runs in reverse order;
- Permit: any rejection rejects; any Wait holds the pod in the
  :class:`WaitingPods` map until every waiting plugin allows it, one rejects
  it, or its timeout (at most 15 minutes, on the injected clock) passes —
  then the message is ``rejected due to timeout after waiting 1m0s at
  plugin Coscheduling``;
- Bind asks binders in order until one does not Skip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import Clock
from sandbox.cluster.scheduler.framework import (
    BatchFilterPlugin,
    BatchScorePlugin,
    BindPlugin,
    ClusterEvent,
    Code,
    CycleState,
    FilterPlugin,
    Handle,
    NodeInfo,
    PermitPlugin,
    Plugin,
    PluginFactory,
    PodInfo,
    PostBindPlugin,
    PostFilterPlugin,
    PreFilterPlugin,
    PreScorePlugin,
    ReservePlugin,
    ScoreExtensions,
    ScorePlugin,
    Status,
)

__all__ = ["MAX_PERMIT_TIMEOUT", "Framework", "PluginSpec", "Profile", "WaitingPods", "go_duration"]

log = logging.getLogger(__name__)

MAX_PERMIT_TIMEOUT = 15 * 60.0
"""Permit waits are capped at 15 minutes, as in kube-scheduler."""


@dataclass(frozen=True)
class PluginSpec:
    """A plugin enabled in a profile; ``weight`` counts for Score only."""

    name: str
    weight: int = 1


@dataclass(frozen=True)
class Profile:
    """A ``KubeSchedulerProfile``: the pods it schedules and its plugins."""

    scheduler_name: str = "default-scheduler"
    plugins: tuple[PluginSpec, ...] = ()
    #: plugin name -> its arguments (``pluginConfig``).
    plugin_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: 0..100, ``None`` for the scheduler-wide (adaptive) setting.
    percentage_of_nodes_to_score: int | None = None


def go_duration(seconds: float) -> str:
    """A duration as Go's ``time.Duration.String`` prints it (``1m0s``, ``10s``, ``500ms``)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1:
        for unit, scale in (("ms", 1e3), ("µs", 1e6), ("ns", 1e9)):
            amount = seconds * scale
            if amount >= 1 or unit == "ns":
                return f"{sign}{_trim(amount)}{unit}"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{_trim(secs)}s"
    if hours or minutes:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return sign + text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


NodesFilter = Callable[[CycleState, PodInfo, list[NodeInfo]], list[Status | None]]
NodesScorer = Callable[[CycleState, PodInfo, list[NodeInfo]], list[int]]


def _one_by_one(per_node: Callable[[CycleState, PodInfo, NodeInfo], Any]) -> Callable[..., list[Any]]:
    """The batch form of a per-node Filter or Score method."""

    def over(state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[Any]:
        return [per_node(state, pod, node) for node in nodes]

    return over


class _WaitingPod:
    """A pod held at Permit: one timer per waiting plugin, one outcome."""

    def __init__(
        self, pod: PodInfo, node_name: str, waits: Mapping[str, float], *, clock: Clock
    ) -> None:
        self.pod = pod
        self.node_name = node_name
        self._outcome: asyncio.Future[Status | None] = asyncio.get_running_loop().create_future()
        self._timers: dict[str, asyncio.Task[None]] = {
            plugin: asyncio.create_task(
                self._expire(plugin, timeout, clock), name=f"permit-timeout-{pod.key}-{plugin}"
            )
            for plugin, timeout in waits.items()
        }

    async def _expire(self, plugin: str, timeout: float, clock: Clock) -> None:
        await clock.sleep(timeout)
        self._timers.pop(plugin, None)
        self.reject(plugin, f"rejected due to timeout after waiting {go_duration(timeout)} at plugin {plugin}")

    def allow(self, plugin: str) -> None:
        timer = self._timers.pop(plugin, None)
        if timer is not None:
            timer.cancel()
        if not self._timers and not self._outcome.done():
            self._outcome.set_result(None)

    def reject(self, plugin: str, message: str) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if not self._outcome.done():
            self._outcome.set_result(Status(Code.Unschedulable, message, plugin=plugin))

    async def wait(self) -> Status | None:
        return await self._outcome


class WaitingPods:
    """Pods held at Permit, by pod key (``waitingPodsMap``)."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._pods: dict[str, _WaitingPod] = {}

    def add(self, pod: PodInfo, node_name: str, waits: Mapping[str, float]) -> None:
        self._pods[pod.key] = _WaitingPod(pod, node_name, waits, clock=self._clock)

    def get(self, key: str) -> _WaitingPod | None:
        return self._pods.get(key)

    def all(self) -> list[_WaitingPod]:
        return list(self._pods.values())

    async def wait(self, key: str) -> Status | None:
        waiting = self._pods.get(key)
        if waiting is None:
            return None
        try:
            return await waiting.wait()
        finally:
            self._pods.pop(key, None)

    def reject_all(self, message: str) -> None:
        for waiting in self.all():
            waiting.reject("", message)


class Framework:
    """The plugins of one profile, run extension point by extension point."""

    def __init__(
        self, profile: Profile, *, registry: Mapping[str, PluginFactory], handle: Handle, clock: Clock
    ) -> None:
        self.profile = profile
        self.plugins: dict[str, Plugin] = {}
        weights: dict[str, int] = {}
        for spec in profile.plugins:
            factory = registry.get(spec.name)
            if factory is None:
                raise ValueError(
                    f"profile {profile.scheduler_name!r}: no plugin named {spec.name!r} "
                    f"in the registry (known: {', '.join(sorted(registry))})"
                )
            self.plugins[spec.name] = factory(profile.plugin_config.get(spec.name) or {}, handle)
            weights[spec.name] = spec.weight
        plugins = list(self.plugins.values())
        self.pre_filter_plugins = [p for p in plugins if isinstance(p, PreFilterPlugin)]
        self.filter_plugins = [p for p in plugins if isinstance(p, FilterPlugin)]
        self.post_filter_plugins = [p for p in plugins if isinstance(p, PostFilterPlugin)]
        self.pre_score_plugins = [p for p in plugins if isinstance(p, PreScorePlugin)]
        self.score_plugins: list[tuple[ScorePlugin, int, Callable[..., None] | None]] = [
            (p, weights[p.name], p.normalize_score if isinstance(p, ScoreExtensions) else None)
            for p in plugins
            if isinstance(p, ScorePlugin)
        ]
        self._score_nodes: dict[str, NodesScorer] = {
            p.name: p.score_nodes if isinstance(p, BatchScorePlugin) else _one_by_one(p.score)
            for p, _, _ in self.score_plugins
        }
        self.reserve_plugins = [p for p in plugins if isinstance(p, ReservePlugin)]
        self.permit_plugins = [p for p in plugins if isinstance(p, PermitPlugin)]
        self.bind_plugins = [p for p in plugins if isinstance(p, BindPlugin)]
        self.post_bind_plugins = [p for p in plugins if isinstance(p, PostBindPlugin)]
        self._filters: list[tuple[str, NodesFilter]] = [
            (p.name, p.filter_nodes if isinstance(p, BatchFilterPlugin) else _one_by_one(p.filter))
            for p in self.filter_plugins
        ]
        self.events: dict[str, frozenset[ClusterEvent]] = {
            p.name: frozenset(p.events_to_register()) for p in plugins
        }
        self.waiting_pods = WaitingPods(clock=clock)

    # PreFilter / Filter / PostFilter ------------------------------------------------------

    def run_pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        result: Status | None = None
        for plugin in self.pre_filter_plugins:
            status = plugin.pre_filter(state, pod, nodes)
            if status is None or status.code == Code.Success:
                continue
            if status.code == Code.Skip:
                state.skip_filter_plugins.add(plugin.name)
                continue
            status.plugin = plugin.name
            if status.code == Code.UnschedulableAndUnresolvable:
                return status
            if status.code == Code.Unschedulable:
                result = status
                continue
            return Status(
                Code.Error, f'running PreFilter plugin "{plugin.name}": {status.message}',
                plugin=plugin.name,
            )
        return result

    def filters(self, state: CycleState) -> list[tuple[str, NodesFilter]]:
        """``(plugin name, filter over a list of nodes)`` of the Filter plugins this
        pod did not skip, in profile order."""
        skipped = state.skip_filter_plugins
        if not skipped:
            return self._filters
        return [(name, f) for name, f in self._filters if name not in skipped]

    def run_post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> Status:
        reasons: list[str] = []
        rejector = ""
        for plugin in self.post_filter_plugins:
            status = plugin.post_filter(state, pod, statuses)
            if status.code == Code.Success:
                return status.with_plugin(plugin.name)
            if status.code == Code.UnschedulableAndUnresolvable:
                return status.with_plugin(plugin.name)
            if not status.is_rejected():
                return Status(Code.Error, status.message, plugin=plugin.name)
            reasons.extend(status.reasons)
            rejector = rejector or plugin.name
        return Status(Code.Unschedulable, *reasons, plugin=rejector)

    # PreScore / Score ------------------------------------------------------------------------

    def run_pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        for plugin in self.pre_score_plugins:
            status = plugin.pre_score(state, pod, nodes)
            if status is None or status.code == Code.Success:
                continue
            if status.code == Code.Skip:
                state.skip_score_plugins.add(plugin.name)
                continue
            return Status(
                Code.Error, f'running PreScore plugin "{plugin.name}": {status.message}',
                plugin=plugin.name,
            )
        return None

    def run_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        """The weighted total score of each node, in the order of ``nodes``."""
        totals: list[int] | None = None
        skipped = state.skip_score_plugins
        for plugin, weight, normalize in self.score_plugins:
            if plugin.name in skipped:
                continue
            scores = self._score_nodes[plugin.name](state, pod, nodes)
            if normalize is not None:
                normalize(state, pod, scores)
            if weight != 1:
                scores = [s * weight for s in scores]
            totals = scores if totals is None else [t + s for t, s in zip(totals, scores, strict=True)]
        return totals if totals is not None else [0] * len(nodes)

    # Reserve / Permit -------------------------------------------------------------------------

    def run_reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.reserve_plugins:
            status = plugin.reserve(state, pod, node_name)
            if status is None or status.code == Code.Success:
                continue
            if status.is_rejected():
                return status.with_plugin(plugin.name)
            return Status(
                Code.Error, f'running Reserve plugin "{plugin.name}": {status.message}',
                plugin=plugin.name,
            )
        return None

    def run_unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for plugin in reversed(self.reserve_plugins):
            plugin.unreserve(state, pod, node_name)

    def run_permit(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        waits: dict[str, float] = {}
        for plugin in self.permit_plugins:
            status, timeout = plugin.permit(state, pod, node_name)
            if status is None or status.code == Code.Success:
                continue
            if status.is_rejected():
                return status.with_plugin(plugin.name)
            if status.code == Code.Wait:
                waits[plugin.name] = min(timeout, MAX_PERMIT_TIMEOUT)
                continue
            return Status(
                Code.Error, f'running Permit plugin "{plugin.name}": {status.message}',
                plugin=plugin.name,
            )
        if waits:
            self.waiting_pods.add(pod, node_name, waits)
            return Status(Code.Wait)
        return None

    async def wait_on_permit(self, pod: PodInfo) -> Status | None:
        return await self.waiting_pods.wait(pod.key)

    def reject_waiting_pod(self, key: str, message: str) -> bool:
        waiting = self.waiting_pods.get(key)
        if waiting is None:
            return False
        waiting.reject("", message)
        return True

    # Bind -----------------------------------------------------------------------------------------

    async def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.bind_plugins:
            status = await plugin.bind(state, pod, node_name)
            if status is not None and status.code == Code.Skip:
                continue
            if status is None or status.code == Code.Success:
                return None
            if status.is_rejected():
                return status.with_plugin(plugin.name)
            return Status(
                Code.Error, f'running Bind plugin "{plugin.name}": {status.message}',
                plugin=plugin.name,
            )
        return Status(Code.Skip)

    def run_post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for plugin in self.post_bind_plugins:
            try:
                plugin.post_bind(state, pod, node_name)
            except Exception:
                log.exception("PostBind plugin %s failed for pod %s", plugin.name, pod.key)

    # Requeueing -------------------------------------------------------------------------------

    def moves_on(self, event: ClusterEvent, plugins: set[str]) -> bool:
        """Whether ``event`` may make a pod rejected by ``plugins`` schedulable
        (a pod no plugin rejected — an error — moves on any event)."""
        if not plugins:
            return True
        events = self.events
        return any(event in events.get(name, ()) for name in plugins)

    def close(self) -> None:
        """Release the pods still waiting at Permit (and cancel their timers)."""
        self.waiting_pods.reject_all("scheduler stopped")
