"""The scheduling framework's vocabulary: statuses, cycle state, node and pod info, plugins.

kube-scheduler is a small loop around a plugin framework
(``pkg/scheduler/framework``): every decision is made by plugins hooked into
named extension points, and the loop only runs them in order. This module is
that framework's API, shaped after Kubernetes 1.31 so that a reader of the
upstream code finds the same names:

- :class:`Status` and :class:`Code` — what a plugin answers. ``None`` means
  Success on the hot paths (Filter, Reserve ...), as a nil ``*Status`` does
  in Go. ``reasons`` are the short phrases a user sees aggregated in the
  ``FailedScheduling`` message (``Insufficient cpu``).
- :class:`CycleState` — per-pod, per-attempt scratch space plugins write in
  PreFilter/PreScore and read in Filter/Score, plus the sets of plugins that
  asked to be skipped for this pod.
- :class:`PodInfo` / :class:`NodeInfo` — a pod and a node with everything
  the plugins need precomputed as integers (cpu in millis, memory and
  ephemeral storage in bytes, pod slots, extended resources), so filtering a
  node is a handful of integer comparisons and never a quantity parse.
- :class:`Snapshot` — the ordered NodeInfos one scheduling cycle looks at.
- The plugin protocols, one per extension point, and :class:`Handle`, what
  a plugin may use of the scheduler (client, clock, caches, waiting pods).
  Filter and Score are called per node, thousands of times per pod in a
  large cluster; a plugin may also offer a batch form of either
  (:class:`BatchFilterPlugin`, :class:`BatchScorePlugin`), one Python loop
  instead of one call per node, which must give the same answers.
- :class:`FitError` — formats the aggregated "0/3 nodes are available: ..."
  message exactly like kube-scheduler 1.31.

Data flow::

    informers ─► cache (NodeInfo per node, assumed pods) ─► Snapshot
    queue ─► PodInfo ─► PreFilter ─► Filter per node ─► PostFilter (on failure)
                        └► PreScore ─► Score per feasible node ─► NormalizeScore
                        └► Reserve ─► Permit (Success | Wait | Reject) ─► Bind ─► PostBind

The loop that runs these points lives in ``framework_runtime`` and
``scheduler``; plugins live one per module in ``plugins/``.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sandbox.api.quantity import cpu_millis, to_bytes
from sandbox.clock import Clock

if TYPE_CHECKING:
    from sandbox.client.protocol import Client
    from sandbox.runtime.informer import SharedInformer

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "MAX_NODE_SCORE",
    "PODS_TO_ACTIVATE_KEY",
    "BatchFilterPlugin",
    "BatchScorePlugin",
    "BindPlugin",
    "ClusterEvent",
    "Code",
    "CycleState",
    "Diagnosis",
    "FilterPlugin",
    "FitError",
    "Handle",
    "LabelSetKey",
    "LabelSetPods",
    "NodeInfo",
    "PermitPlugin",
    "Plugin",
    "PluginFactory",
    "PodInfo",
    "PostBindPlugin",
    "PostFilterPlugin",
    "PreFilterPlugin",
    "PreScorePlugin",
    "ReservePlugin",
    "Resource",
    "ScoreExtensions",
    "ScorePlugin",
    "Snapshot",
    "Status",
    "WaitingPod",
    "default_normalize_score",
    "is_scalar_resource",
    "pod_key",
]

MAX_NODE_SCORE = 100
"""The highest score a Score plugin may give a node after normalisation."""

DEFAULT_MILLI_CPU_REQUEST = 100
"""Scoring counts a container without a cpu request as asking for 100m."""

DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
"""Scoring counts a container without a memory request as asking for 200Mi."""

PODS_TO_ACTIVATE_KEY = "kubernetes.io/pods-to-activate"
"""CycleState key of a set of pod keys a plugin wants tried again right after
this cycle, backoff or not (``framework.PodsToActivateKey``)."""

_TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
_NOT_READY_TAINT = "node.kubernetes.io/not-ready"
_UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
_ZONE_LABEL = "topology.kubernetes.io/zone"
_REGION_LABEL = "topology.kubernetes.io/region"


# Statuses -----------------------------------------------------------------------------


class Code(enum.IntEnum):
    """A plugin's verdict, with the names and order of ``framework.Code``."""

    Success = 0
    #: Something went wrong inside the scheduler; the pod is retried with backoff.
    Error = 1
    #: The pod does not fit now; preemption might help.
    Unschedulable = 2
    #: The pod does not fit and preemption cannot change that.
    UnschedulableAndUnresolvable = 3
    #: Permit only: hold the pod before binding until allowed, rejected or timed out.
    Wait = 4
    #: PreFilter/PreScore only: the plugin has nothing to check for this pod.
    Skip = 5


class Status:
    """A plugin's answer: a code, the reasons shown to users, and who said it."""

    __slots__ = ("code", "plugin", "reasons")

    def __init__(self, code: Code, *reasons: str, plugin: str = "") -> None:
        self.code = code
        self.reasons: tuple[str, ...] = reasons
        self.plugin = plugin

    @property
    def message(self) -> str:
        """The reasons joined with ", ", as ``Status.Message()``."""
        return ", ".join(self.reasons)

    def is_success(self) -> bool:
        return self.code == Code.Success

    def is_rejected(self) -> bool:
        """Unschedulable or UnschedulableAndUnresolvable."""
        return self.code in (Code.Unschedulable, Code.UnschedulableAndUnresolvable)

    def with_plugin(self, plugin: str) -> Status:
        self.plugin = plugin
        return self

    def __repr__(self) -> str:
        by = f" by {self.plugin}" if self.plugin else ""
        return f"<Status {self.code.name}{by}: {self.message!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return (self.code, self.reasons, self.plugin) == (other.code, other.reasons, other.plugin)

    __hash__ = None  # type: ignore[assignment]


# Cycle state ----------------------------------------------------------------------------


class CycleState:
    """Scratch data of one scheduling attempt of one pod.

    Plugins store what they computed in PreFilter/PreScore under their own
    key and read it back per node. ``skip_filter_plugins`` and
    ``skip_score_plugins`` hold the plugins that answered Skip, so the
    framework never calls them for this pod.
    """

    __slots__ = ("_data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def read(self, key: str) -> Any:
        """The value written under ``key``; ``KeyError`` if none was."""
        return self._data[key]

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return key in self._data


# Resources ------------------------------------------------------------------------------


def is_scalar_resource(name: str) -> bool:
    """Whether the scheduler counts ``name`` as a scalar resource
    (``IsScalarResourceName``): extended (``nvidia.com/gpu``), prefixed native
    (``*kubernetes.io/*``), hugepages and attachable volumes. Other unprefixed
    names (a typo such as ``gpu``) are ignored, as in Kubernetes."""
    return "/" in name or name.startswith(("hugepages-", "attachable-volumes-"))


class Resource:
    """Amounts of resources as integers (``framework.Resource``)."""

    __slots__ = ("allowed_pod_number", "ephemeral_storage", "memory", "milli_cpu", "scalar")

    def __init__(
        self,
        *,
        milli_cpu: int = 0,
        memory: int = 0,
        ephemeral_storage: int = 0,
        allowed_pod_number: int = 0,
        scalar: dict[str, int] | None = None,
    ) -> None:
        self.milli_cpu = milli_cpu
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.allowed_pod_number = allowed_pod_number
        self.scalar: dict[str, int] = scalar if scalar is not None else {}

    @classmethod
    def from_list(cls, values: Mapping[str, Any] | None) -> Resource:
        """A ResourceList (``{"cpu": "500m", "memory": "1Gi", "pods": "110"}``)."""
        res = cls()
        res.add_list(values)
        return res

    def add_list(self, values: Mapping[str, Any] | None) -> None:
        for name, amount in (values or {}).items():
            if name == "cpu":
                self.milli_cpu += cpu_millis(amount)
            elif name == "memory":
                self.memory += to_bytes(amount)
            elif name == "ephemeral-storage":
                self.ephemeral_storage += to_bytes(amount)
            elif name == "pods":
                self.allowed_pod_number += to_bytes(amount)
            elif is_scalar_resource(name):
                self.scalar[name] = self.scalar.get(name, 0) + to_bytes(amount)

    def add(self, other: Resource, sign: int = 1) -> None:
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        self.ephemeral_storage += sign * other.ephemeral_storage
        self.allowed_pod_number += sign * other.allowed_pod_number
        for name, amount in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + sign * amount

    def set_max(self, other: Resource) -> None:
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        for name, amount in other.scalar.items():
            self.scalar[name] = max(self.scalar.get(name, 0), amount)

    def copy(self) -> Resource:
        return Resource(
            milli_cpu=self.milli_cpu,
            memory=self.memory,
            ephemeral_storage=self.ephemeral_storage,
            allowed_pod_number=self.allowed_pod_number,
            scalar=dict(self.scalar),
        )

    def is_zero(self) -> bool:
        return not (
            self.milli_cpu or self.memory or self.ephemeral_storage or any(self.scalar.values())
        )

    def __repr__(self) -> str:
        scalar = f", scalar={self.scalar}" if self.scalar else ""
        return (
            f"Resource(milli_cpu={self.milli_cpu}, memory={self.memory}, "
            f"ephemeral_storage={self.ephemeral_storage}, pods={self.allowed_pod_number}{scalar})"
        )


def _container_requests(container: Mapping[str, Any]) -> Mapping[str, Any]:
    return (container.get("resources") or {}).get("requests") or {}


def _non_zero(requests: Mapping[str, Any]) -> Resource:
    """One container's cpu/memory for scoring: a missing request counts as the default."""
    res = Resource()
    res.milli_cpu = cpu_millis(requests["cpu"]) if "cpu" in requests else DEFAULT_MILLI_CPU_REQUEST
    res.memory = to_bytes(requests["memory"]) if "memory" in requests else DEFAULT_MEMORY_REQUEST
    return res


def _pod_requests(spec: Mapping[str, Any], *, non_zero: bool) -> Resource:
    """``resourcehelper.PodRequests``: what a pod asks of a node.

    The sum over containers, raised to what any init container needs (an
    init container runs alone, after the restartable "sidecar" init
    containers before it, which keep running), plus the pod overhead.
    With ``non_zero``, containers without a cpu/memory request count the
    scoring defaults (100m, 200Mi).
    """

    def of(container: Mapping[str, Any]) -> Resource:
        requests = _container_requests(container)
        if non_zero:
            return _non_zero(requests)
        return Resource.from_list(requests)

    total = Resource()
    for container in spec.get("containers") or ():
        total.add(of(container))
    sidecars = Resource()
    init_max = Resource()
    for container in spec.get("initContainers") or ():
        requests = of(container)
        if container.get("restartPolicy") == "Always":
            total.add(requests)
            sidecars.add(requests)
            init_max.set_max(sidecars)
        else:
            running = requests.copy()
            running.add(sidecars)
            init_max.set_max(running)
    total.set_max(init_max)
    overhead = spec.get("overhead")
    if overhead:
        total.add_list(overhead)
    return total


# Pods ------------------------------------------------------------------------------------


def pod_key(pod: Mapping[str, Any]) -> str:
    """``namespace/name``, the key pods go by in the queue, the cache and messages."""
    m = pod.get("metadata") or {}
    return f"{m.get('namespace') or ''}/{m.get('name') or ''}"


class PodInfo:
    """A pod with what scheduling needs precomputed once per pod version.

    ``pod`` is the informer's shared object: read it, never mutate it.
    ``requests`` follows the init-container rule and includes overhead;
    ``non_zero_cpu``/``non_zero_memory`` are what scoring counts.
    """

    __slots__ = (
        "key",
        "labels",
        "name",
        "namespace",
        "node_name",
        "non_zero_cpu",
        "non_zero_memory",
        "pod",
        "priority",
        "requests",
        "spec",
        "terminal",
        "tolerations",
        "uid",
    )

    def __init__(self, pod: Mapping[str, Any], *, previous: PodInfo | None = None) -> None:
        """``previous``: this pod's info at an older version, whose requests are
        reused (the API server lets a pod's spec change only in its images)."""
        m = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        self.pod = pod
        self.spec = spec
        self.namespace: str = m.get("namespace") or ""
        self.name: str = m.get("name") or ""
        self.key = f"{self.namespace}/{self.name}"
        self.uid: str = m.get("uid") or ""
        self.labels: Mapping[str, str] = m.get("labels") or {}
        self.node_name: str = spec.get("nodeName") or ""
        self.priority: int = int(spec.get("priority") or 0)
        self.tolerations: list[Mapping[str, Any]] = spec.get("tolerations") or []
        self.terminal = (pod.get("status") or {}).get("phase") in _TERMINAL_PHASES
        if previous is not None and previous.uid == self.uid:
            self.requests = previous.requests
            self.non_zero_cpu = previous.non_zero_cpu
            self.non_zero_memory = previous.non_zero_memory
            return
        self.requests = _pod_requests(spec, non_zero=False)
        non_zero = _pod_requests(spec, non_zero=True)
        self.non_zero_cpu = non_zero.milli_cpu
        self.non_zero_memory = non_zero.memory

    def __repr__(self) -> str:
        return f"<PodInfo {self.key}>"


# Nodes ------------------------------------------------------------------------------------


def _ready_status(node: Mapping[str, Any]) -> str:
    for cond in (node.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return str(cond.get("status") or "Unknown")
    return "Unknown"


class NodeInfo:
    """One node and the pods assigned (or assumed) to it, as integers.

    ``allocatable`` comes from ``status.allocatable``; ``requested`` is the
    sum of the requests of ``pods`` (terminated pods are never added);
    ``non_zero_cpu``/``non_zero_memory`` the sums scoring uses.

    ``taints`` are the node's effective taints. A node whose Ready
    condition is not True also carries the taint the node lifecycle
    controller would put on it (``node.kubernetes.io/not-ready`` or
    ``node.kubernetes.io/unreachable``, effect NoSchedule), so not-ready
    nodes are filtered the way they are in a real cluster.
    ``no_schedule_taints`` and ``prefer_no_schedule_taints`` split them by
    effect so that the common untainted node costs the taint plugins one
    truth test.
    """

    __slots__ = (
        "allocatable",
        "generation",
        "labels",
        "name",
        "no_schedule_taints",
        "node",
        "non_zero_cpu",
        "non_zero_memory",
        "pods",
        "prefer_no_schedule_taints",
        "requested",
        "taints",
        "unschedulable",
        "zone",
    )

    def __init__(self, node: Mapping[str, Any] | None = None, *, name: str = "") -> None:
        self.node: Mapping[str, Any] | None = None
        self.name = name
        self.labels: Mapping[str, str] = {}
        self.taints: list[Mapping[str, Any]] = []
        self.no_schedule_taints: tuple[Mapping[str, Any], ...] = ()
        self.prefer_no_schedule_taints: tuple[Mapping[str, Any], ...] = ()
        self.unschedulable = False
        self.zone = ""
        self.allocatable = Resource()
        self.requested = Resource()
        self.non_zero_cpu = 0
        self.non_zero_memory = 0
        self.pods: dict[str, PodInfo] = {}
        self.generation = 0
        if node is not None:
            self.set_node(node)

    def set_node(self, node: Mapping[str, Any]) -> None:
        m = node.get("metadata") or {}
        spec = node.get("spec") or {}
        self.node = node
        self.name = m.get("name") or ""
        self.labels = m.get("labels") or {}
        taints = list(spec.get("taints") or ())
        ready = _ready_status(node)
        if ready != "True":
            key = _NOT_READY_TAINT if ready == "False" else _UNREACHABLE_TAINT
            if not any(t.get("key") == key and t.get("effect") == "NoSchedule" for t in taints):
                taints.append({"key": key, "effect": "NoSchedule"})
        self.taints = taints
        self.no_schedule_taints = tuple(
            t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute")
        )
        self.prefer_no_schedule_taints = tuple(
            t for t in taints if t.get("effect") == "PreferNoSchedule"
        )
        self.unschedulable = bool(spec.get("unschedulable"))
        self.zone = f"{self.labels.get(_REGION_LABEL, '')}:\x00:{self.labels.get(_ZONE_LABEL, '')}"
        self.allocatable = Resource.from_list((node.get("status") or {}).get("allocatable"))
        self.generation += 1

    def add_pod(self, pod: PodInfo) -> None:
        self.pods[pod.key] = pod
        self.requested.add(pod.requests)
        self.non_zero_cpu += pod.non_zero_cpu
        self.non_zero_memory += pod.non_zero_memory
        self.generation += 1

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is not None:
            self.requested.add(pod.requests, -1)
            self.non_zero_cpu -= pod.non_zero_cpu
            self.non_zero_memory -= pod.non_zero_memory
            self.generation += 1
        return pod

    def __repr__(self) -> str:
        return f"<NodeInfo {self.name}: {len(self.pods)} pods, requested {self.requested}>"


LabelSetKey = frozenset[tuple[str, str]]
"""A pod's labels as a hashable key."""


class LabelSetPods:
    """The pods of one namespace with one exact set of labels: how many on each node.

    Replicas of a workload share their labels, so a namespace holds a few
    label sets however many pods it runs. A plugin counting the pods a
    selector matches (PodTopologySpread, every cycle) tests the selector once
    per label set and adds up ``nodes``, never walking pods one by one.
    """

    __slots__ = ("labels", "nodes")

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels
        #: node name -> number of these pods there (never 0).
        self.nodes: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<LabelSetPods {dict(self.labels)}: {self.nodes}>"


class Snapshot:
    """The nodes one scheduling cycle considers, in kube-scheduler's order.

    Nodes are listed zone by zone in turn (the node tree's round robin), so
    a cycle that stops after enough feasible nodes still spreads across
    zones. The NodeInfos are the cache's own objects, not copies: a
    scheduling cycle runs without yielding to the event loop, so nothing
    can change them while it filters and scores.
    """

    __slots__ = ("by_name", "generation", "label_sets", "node_infos", "pod_nodes")

    def __init__(self) -> None:
        self.node_infos: list[NodeInfo] = []
        self.by_name: dict[str, NodeInfo] = {}
        #: pod key -> node name for every assigned or assumed pod.
        self.pod_nodes: Mapping[str, str] = {}
        #: namespace -> label set -> the assigned or assumed pods (not
        #: terminating) that carry exactly those labels, counted per node.
        self.label_sets: Mapping[str, Mapping[LabelSetKey, LabelSetPods]] = {}
        self.generation = -1

    def rebuild(self, nodes: Iterable[NodeInfo]) -> None:
        zones: dict[str, list[NodeInfo]] = {}
        for info in nodes:
            zones.setdefault(info.zone, []).append(info)
        ordered: list[NodeInfo] = []
        columns = list(zones.values())
        for i in range(max((len(c) for c in columns), default=0)):
            ordered.extend(c[i] for c in columns if i < len(c))
        self.node_infos = ordered
        self.by_name = {info.name: info for info in ordered}

    def get(self, name: str) -> NodeInfo | None:
        return self.by_name.get(name)

    def __len__(self) -> int:
        return len(self.node_infos)

    def __iter__(self) -> Iterator[NodeInfo]:
        return iter(self.node_infos)


# Failure diagnosis -------------------------------------------------------------------------


@dataclass
class Diagnosis:
    """Why a pod fits no node: each rejected node's status and who rejected it."""

    node_statuses: dict[str, Status] = field(default_factory=dict)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""


class FitError(Exception):
    """No node fits the pod. ``str()`` is kube-scheduler's message, e.g.
    ``0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 Insufficient cpu.``"""

    def __init__(self, pod: PodInfo, *, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis

    def __str__(self) -> str:
        message = f"0/{self.num_all_nodes} nodes are available:"
        if self.diagnosis.pre_filter_msg:
            # Every node carries the PreFilter status then; counting it per
            # node would only repeat it.
            message += f" {self.diagnosis.pre_filter_msg}."
        else:
            histogram: dict[str, int] = {}
            for status in self.diagnosis.node_statuses.values():
                for reason in status.reasons:
                    histogram[reason] = histogram.get(reason, 0) + 1
            # Go sorts the "<count> <reason>" strings, so "10 x" comes before "2 y".
            parts = sorted(f"{count} {reason}" for reason, count in histogram.items())
            if parts:
                message += f" {', '.join(parts)}."
        if self.diagnosis.post_filter_msg:
            message += f" {self.diagnosis.post_filter_msg}"
        return message


def default_normalize_score(scores: list[int], *, reverse: bool = False) -> None:
    """Scale scores to 0..MAX_NODE_SCORE by the highest one (``DefaultNormalizeScore``);
    ``reverse`` turns a count of bad things into a score where fewer is better."""
    highest = max(scores, default=0)
    if highest == 0:
        if reverse:
            scores[:] = [MAX_NODE_SCORE] * len(scores)
        return
    for i, score in enumerate(scores):
        score = MAX_NODE_SCORE * score // highest
        scores[i] = MAX_NODE_SCORE - score if reverse else score


# Plugins --------------------------------------------------------------------------------------


ClusterEvent = str
"""What changed in the cluster, named as kube-scheduler labels events:
``NodeAdd``, ``NodeUpdate``, ``AssignedPodAdd``, ``AssignedPodDelete``, ``PodAdd``, ``PodGroupAdd`` ..."""


@runtime_checkable
class Plugin(Protocol):
    """Every plugin has a name (the registry key) and may say which cluster
    events can make a pod it rejected schedulable (``EventsToRegister``)."""

    name: str

    def events_to_register(self) -> Collection[ClusterEvent]: ...


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> Status | None:
        """Once per attempt before Filter; Skip means "no Filter call for this pod"."""
        ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """Whether ``pod`` may run on ``node``; ``None`` for yes. Called per node: keep it cheap."""
        ...


@runtime_checkable
class BatchFilterPlugin(FilterPlugin, Protocol):
    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> list[Status | None]:
        """:meth:`FilterPlugin.filter` for many nodes at once, same answers in the same
        order. Optional: a plugin offers it when one Python loop over the nodes is
        much cheaper than one call per node (the scheduler's hottest path)."""
        ...


@runtime_checkable
class PostFilterPlugin(Plugin, Protocol):
    def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> Status:
        """After no node fit: make the pod schedulable later (preemption), or explain why not."""
        ...


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        """Once before Score over the feasible nodes; Skip means "no Score call for this pod"."""
        ...


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        """A score for one feasible node (then normalised to 0..MAX_NODE_SCORE)."""
        ...


@runtime_checkable
class BatchScorePlugin(ScorePlugin, Protocol):
    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        """:meth:`ScorePlugin.score` for many nodes at once, same scores in the same
        order (optional, like :meth:`BatchFilterPlugin.filter_nodes`)."""
        ...


@runtime_checkable
class ScoreExtensions(Protocol):
    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        """Rescale, in place, the scores of all feasible nodes (``NormalizeScore``)."""
        ...


@runtime_checkable
class ReservePlugin(Plugin, Protocol):
    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        """Undo ``reserve``; called when anything after it fails. Must be idempotent."""
        ...


@runtime_checkable
class PermitPlugin(Plugin, Protocol):
    def permit(
        self, state: CycleState, pod: PodInfo, node_name: str
    ) -> tuple[Status | None, float]:
        """Success, a rejection, or Wait with a timeout in seconds."""
        ...


@runtime_checkable
class BindPlugin(Plugin, Protocol):
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        """Bind the pod; Skip hands it to the next binder."""
        ...


@runtime_checkable
class PostBindPlugin(Plugin, Protocol):
    def post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


class WaitingPod(Protocol):
    """A pod held at Permit (``framework.WaitingPod``)."""

    pod: PodInfo
    node_name: str

    def allow(self, plugin: str) -> None:
        """This plugin lets the pod go; it binds when every waiting plugin has."""
        ...

    def reject(self, plugin: str, message: str) -> None:
        """The pod fails this attempt with ``message``."""
        ...


class Handle(Protocol):
    """What the scheduler lends its plugins (``framework.Handle``)."""

    client: Client
    clock: Clock

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot of the cycle in progress."""
        ...

    @property
    def pods(self) -> SharedInformer:
        """The scheduler's pod informer (plugins may add indexers before start)."""
        ...

    def informer(self, api_version: str, kind: str) -> SharedInformer:
        """A shared informer of another kind, started and synced with the scheduler;
        its changes are reported to the queue as ``<Kind>Add`` / ``Update`` / ``Delete``."""
        ...

    def waiting_pods(self) -> list[WaitingPod]:
        """The pods held at Permit right now."""
        ...

    def spawn(self, work: Awaitable[Any], *, name: str) -> None:
        """Run API calls a synchronous extension point cannot await, tracked
        so that ``Scheduler.stop`` waits for them; failures are logged."""
        ...


PluginFactory = Callable[[Mapping[str, Any], Handle], Plugin]
"""Builds a plugin from its arguments (``pluginConfig``) and the handle."""
