"""PodTopologySpread: spread a workload's pods over nodes and zones.

A pod's ``spec.topologySpreadConstraints`` say how unevenly the pods a
``labelSelector`` picks (in the pod's namespace) may sit over the *domains*
of a ``topologyKey`` (every node label value is a domain: one per node for
``kubernetes.io/hostname``, one per zone for
``topology.kubernetes.io/zone``). The *skew* of a domain is its count of
matching pods, plus one if the incoming pod matches the selector itself,
minus the smallest count of any eligible domain.

- ``whenUnsatisfiable: DoNotSchedule`` constraints are a **Filter**: a node
  whose domain would exceed ``maxSkew`` is rejected with kube-scheduler's
  ``node(s) didn't match pod topology spread constraints`` (Unschedulable:
  moving pods could fix it), a node without the topology label with
  ``... (missing required label)`` (UnschedulableAndUnresolvable). When
  fewer domains than ``minDomains`` exist, the global minimum is taken as 0.
- ``whenUnsatisfiable: ScheduleAnyway`` constraints are a **Score**: a node
  scores the matching pods of its domain, weighted by ``log(domains + 2)``,
  plus ``maxSkew - 1`` (which waters down small differences), and the
  normalisation turns "fewest matching pods" into 100.

Which nodes count (``nodeAffinityPolicy`` / ``nodeTaintsPolicy``, defaults
Honor / Ignore, as in 1.31 where NodeInclusionPolicy is on): with Honor, a
node the pod's nodeSelector/required affinity excludes — or whose
NoSchedule/NoExecute taints it does not tolerate — is no domain and its pods
do not count. ``matchLabelKeys`` add ``key=<the pod's value>`` to the
selector. Only nodes holding every constraint's topology key count, and (for
explicit soft constraints) only such nodes are scored.

**System defaults** (``defaultingType: System``, kube-scheduler's default):
a pod that declares no constraints of its own is scored as if it had
``{maxSkew: 3, kubernetes.io/hostname, ScheduleAnyway}`` and ``{maxSkew: 5,
topology.kubernetes.io/zone, ScheduleAnyway}``, selecting the pods its
owners select (``helper.DefaultSelector``): the selectors of the Services
whose selector matches the pod, plus the selector of its controlling
ReplicaSet or StatefulSet. A pod nothing selects gets no constraints at
all, so bare pods cost one Service lookup and are skipped. With system
defaults, nodes missing the zone label are still scored (by hostname).
``defaultingType: List`` with ``defaultConstraints`` in the plugin's
arguments replaces the system defaults. ReplicationControllers are not
served by the sandbox, so none is looked up.

Counting never walks pods: the cache counts the assigned and assumed pods
of each namespace per exact label set and node (``Snapshot.label_sets``,
terminating pods left out), and PreFilter/PreScore test each selector once
per label set — replicas of a workload share theirs — then sum per domain
over the nodes holding a matching pod. The plugin asks the scheduler for
Service, ReplicaSet and StatefulSet informers.

Requeueing: a pod this plugin rejected is tried again when an assigned pod
appears or goes (``AssignedPodAdd``/``AssignedPodDelete``) or a node is
added or changes.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sandbox.api.errors import BadRequest
from sandbox.api.selectors import LabelSelector, Operator, Requirement
from sandbox.api.tolerations import find_untolerated_taint
from sandbox.cluster.scheduler.framework import (
    MAX_NODE_SCORE,
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PodInfo,
    Status,
)
from sandbox.cluster.scheduler.plugins.node_affinity import (
    RequiredNodeAffinity,
    required_node_affinity,
)
from sandbox.runtime.informer import INDEX_NAMESPACE, SharedInformer

__all__ = [
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "NAME",
    "SYSTEM_DEFAULT_CONSTRAINTS",
    "Constraint",
    "PodTopologySpread",
    "new",
    "parse_constraints",
]

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"

SYSTEM_DEFAULT_CONSTRAINTS: tuple[Mapping[str, Any], ...] = (
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
)
"""kube-scheduler's ``systemDefaultConstraints``."""

_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME
_IGNORED = -1
"""Score of a node missing a topology key; NormalizeScore makes it 0. (Upstream
marks such nodes by name in NormalizeScore, which here sees only the scores.)"""

_OWNER_KINDS = {("apps/v1", "ReplicaSet"): "ReplicaSet", ("apps/v1", "StatefulSet"): "StatefulSet"}


class Constraint:
    """One topology spread constraint, parsed (``topologySpreadConstraint``)."""

    __slots__ = ("honor_affinity", "honor_taints", "max_skew", "min_domains", "selector", "topology_key")

    def __init__(
        self,
        *,
        max_skew: int,
        topology_key: str,
        selector: LabelSelector,
        min_domains: int = 1,
        honor_affinity: bool = True,
        honor_taints: bool = False,
    ) -> None:
        self.max_skew = max_skew
        self.topology_key = topology_key
        self.selector = selector
        self.min_domains = min_domains
        self.honor_affinity = honor_affinity
        self.honor_taints = honor_taints

    def includes(self, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity | None) -> bool:
        """Whether ``node`` counts for this constraint (``matchNodeInclusionPolicies``)."""
        if self.honor_affinity and required is not None and not required.matches(node):
            return False
        return not (
            self.honor_taints
            and node.no_schedule_taints
            and find_untolerated_taint(node.no_schedule_taints, pod.tolerations) is not None
        )

    def __repr__(self) -> str:
        return f"<Constraint {self.topology_key} maxSkew={self.max_skew} selector={self.selector!r}>"


def parse_constraints(
    raw: Iterable[Mapping[str, Any]], pod_labels: Mapping[str, str], *, action: str
) -> list[Constraint]:
    """The constraints of ``raw`` with ``whenUnsatisfiable: action``
    (``filterTopologySpreadConstraints``); raises BadRequest on a bad selector."""
    result: list[Constraint] = []
    for c in raw:
        if c.get("whenUnsatisfiable") != action:
            continue
        selector = LabelSelector.from_dict(c.get("labelSelector"))
        if c.get("matchLabelKeys") and not selector.matches_nothing():
            extra = [
                Requirement(key, Operator.EQUALS, (pod_labels[key],))
                for key in c["matchLabelKeys"]
                if key in pod_labels
            ]
            if extra:
                selector = selector.add(*extra)
        result.append(
            Constraint(
                max_skew=int(c.get("maxSkew") or 0),
                topology_key=str(c.get("topologyKey") or ""),
                selector=selector,
                min_domains=int(c.get("minDomains") or 1),
                honor_affinity=(c.get("nodeAffinityPolicy") or "Honor") == "Honor",
                honor_taints=(c.get("nodeTaintsPolicy") or "Ignore") == "Honor",
            )
        )
    return result


def _has_keys(labels: Mapping[str, str], keys: Sequence[str]) -> bool:
    for key in keys:  # noqa: SIM110 - a plain loop: this runs per node
        if key not in labels:
            return False
    return True


def _round(value: float) -> int:
    """Go's ``math.Round`` for the non-negative scores here (half away from zero)."""
    return math.floor(value + 0.5)


class _FilterState:
    """PreFilter's counts: per hard constraint, matching pods per domain,
    the global minimum, and whether the pod matches its own selector."""

    __slots__ = ("constraints", "counts", "min_matches", "self_matches")

    def __init__(
        self,
        constraints: list[Constraint],
        counts: list[dict[str, int]],
        min_matches: list[int],
        self_matches: list[int],
    ) -> None:
        self.constraints = constraints
        self.counts = counts
        self.min_matches = min_matches
        self.self_matches = self_matches


class _ScoreState:
    """PreScore's counts: per soft constraint, matching pods per domain
    (``None`` for hostname, counted per node), the topology weights, the
    nodes left unscored, and matching pods per node by selector."""

    __slots__ = ("by_node", "constraints", "domain_counts", "ignored", "weights")

    def __init__(self) -> None:
        self.constraints: list[Constraint] = []
        self.domain_counts: list[dict[str, int] | None] = []
        self.weights: list[float] = []
        self.ignored: set[str] = set()
        self.by_node: list[Mapping[str, int]] = []


class PodTopologySpread:
    name = NAME

    def __init__(
        self,
        handle: Handle,
        *,
        default_constraints: Sequence[Mapping[str, Any]] = SYSTEM_DEFAULT_CONSTRAINTS,
        system_defaulted: bool = True,
    ) -> None:
        self._handle = handle
        self._default_constraints = tuple(default_constraints)
        self._system_defaulted = system_defaulted
        self._services: SharedInformer | None = None
        self._owners: dict[str, SharedInformer] = {}
        if self._default_constraints:
            self._services = handle.informer("v1", "Service")
            for (api_version, kind), name in _OWNER_KINDS.items():
                self._owners[name] = handle.informer(api_version, kind)

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("AssignedPodAdd", "AssignedPodDelete", "NodeAdd", "NodeUpdate")

    # Constraints ----------------------------------------------------------------------------

    def _constraints(self, pod: PodInfo, action: str) -> list[Constraint]:
        """The pod's own constraints with ``action``, else the defaults
        (``getConstraints`` / ``initPreScoreState``)."""
        explicit = pod.spec.get("topologySpreadConstraints")
        if explicit:
            return parse_constraints(explicit, pod.labels, action=action)
        constraints = parse_constraints(self._default_constraints, pod.labels, action=action)
        if not constraints:
            return constraints
        selector = self._default_selector(pod)
        if selector.is_empty():
            return []
        for c in constraints:
            c.selector = selector
        return constraints

    def _default_selector(self, pod: PodInfo) -> LabelSelector:
        """What the pod's Services and controlling ReplicaSet/StatefulSet select
        (``helper.DefaultSelector``)."""
        assert self._services is not None
        merged: dict[str, str] = {}
        labels = pod.labels
        for service in self._services.by_index(INDEX_NAMESPACE, pod.namespace, copy=False):
            wanted = (service.get("spec") or {}).get("selector")
            if wanted is None:  # a Service without a selector selects no pod
                continue
            if all(labels.get(k) == v for k, v in wanted.items()):
                merged.update(wanted)
        selector = LabelSelector.from_labels(merged)
        owner = next(
            (
                ref
                for ref in (pod.pod.get("metadata") or {}).get("ownerReferences") or ()
                if ref.get("controller")
            ),
            None,
        )
        if owner is None:
            return selector
        kind = _OWNER_KINDS.get((owner.get("apiVersion"), owner.get("kind")))
        if kind is None:
            return selector
        obj = self._owners[kind].get(pod.namespace, owner.get("name") or "", copy=False)
        if obj is None:
            return selector
        try:
            other = LabelSelector.from_dict((obj.get("spec") or {}).get("selector"))
        except BadRequest:
            return selector
        if other.matches_nothing():
            return selector
        return selector.add(*other.requirements)

    def _count_by_node(self, pod: PodInfo, selector: LabelSelector) -> Mapping[str, int]:
        """Node name -> assigned pods of the pod's namespace that ``selector``
        matches, terminating ones left out (``countPodsMatchSelector``; an
        empty selector counts none). Read-only: it may be the cache's own map."""
        if selector.is_empty() or selector.matches_nothing():
            return {}
        label_sets = self._handle.snapshot.label_sets.get(pod.namespace)
        if not label_sets:
            return {}
        matched = [group.nodes for group in label_sets.values() if selector.matches(group.labels)]
        if len(matched) <= 1:
            return matched[0] if matched else {}
        counts: dict[str, int] = {}
        for nodes in matched:
            for node, count in nodes.items():
                counts[node] = counts.get(node, 0) + count
        return counts

    # Filter -----------------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        try:
            constraints = self._constraints(pod, DO_NOT_SCHEDULE)
        except BadRequest as err:
            return Status(Code.Error, f"obtaining pod's hard topology spread constraints: {err}")
        if not constraints:
            return Status(Code.Skip)
        required = required_node_affinity(pod)
        keys = [c.topology_key for c in constraints]
        counts: list[dict[str, int]] = [{} for _ in constraints]
        for node in nodes:
            labels = node.labels
            if not _has_keys(labels, keys):
                continue
            for c, domains in zip(constraints, counts, strict=True):
                if c.includes(pod, node, required):
                    domains.setdefault(labels[c.topology_key], 0)
        by_selector: dict[LabelSelector, Mapping[str, int]] = {}
        snapshot = self._handle.snapshot
        for c, domains in zip(constraints, counts, strict=True):
            by_node = by_selector.get(c.selector)
            if by_node is None:
                by_node = by_selector[c.selector] = self._count_by_node(pod, c.selector)
            for node_name, count in by_node.items():
                node = snapshot.get(node_name)
                if node is None or not _has_keys(node.labels, keys):
                    continue
                if c.includes(pod, node, required):
                    domains[node.labels[c.topology_key]] += count
        min_matches = [
            min(domains.values()) if len(domains) >= c.min_domains else 0
            for c, domains in zip(constraints, counts, strict=True)
        ]
        self_matches = [1 if c.selector.matches(pod.labels) else 0 for c in constraints]
        state.write(_PRE_FILTER_KEY, _FilterState(constraints, counts, min_matches, self_matches))
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState = state.read(_PRE_FILTER_KEY)
        labels = node.labels
        for i, c in enumerate(s.constraints):
            value = labels.get(c.topology_key)
            if value is None:
                return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_NODE_LABEL_NOT_MATCH)
            skew = s.counts[i].get(value, 0) + s.self_matches[i] - s.min_matches[i]
            if skew > c.max_skew:
                return Status(Code.Unschedulable, ERR_REASON_CONSTRAINTS_NOT_MATCH)
        return None

    # Score ------------------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        snapshot = self._handle.snapshot
        if not len(snapshot):
            return Status(Code.Skip)
        try:
            constraints = self._constraints(pod, SCHEDULE_ANYWAY)
        except BadRequest as err:
            return Status(Code.Error, f"obtaining pod's soft topology spread constraints: {err}")
        if not constraints:
            return Status(Code.Skip)
        # Only explicit (or List-defaulted) constraints need every topology key
        # on a node: with system defaults, nodes without a zone still spread by host.
        require_all = bool(pod.spec.get("topologySpreadConstraints")) or not self._system_defaulted
        keys = [c.topology_key for c in constraints]
        s = _ScoreState()
        s.constraints = constraints
        s.domain_counts = [None if key == LABEL_HOSTNAME else {} for key in keys]
        for node in nodes:
            labels = node.labels
            if require_all and not _has_keys(labels, keys):
                s.ignored.add(node.name)
                continue
            for key, domains in zip(keys, s.domain_counts, strict=True):
                if domains is not None:
                    domains.setdefault(labels.get(key, ""), 0)
        for domains in s.domain_counts:
            size = len(nodes) - len(s.ignored) if domains is None else len(domains)
            s.weights.append(math.log(size + 2))

        required = required_node_affinity(pod)
        by_selector: dict[LabelSelector, Mapping[str, int]] = {}
        for c, domains in zip(constraints, s.domain_counts, strict=True):
            by_node = by_selector.get(c.selector)
            if by_node is None:
                by_node = by_selector[c.selector] = self._count_by_node(pod, c.selector)
            s.by_node.append(by_node)
            if domains is None:
                continue  # per node, in Score
            for node_name, count in by_node.items():
                node = snapshot.get(node_name)
                if node is None or (require_all and not _has_keys(node.labels, keys)):
                    continue
                if not c.includes(pod, node, required):
                    continue
                value = node.labels.get(c.topology_key, "")
                if value in domains:
                    domains[value] += count
        state.write(_PRE_SCORE_KEY, s)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        s: _ScoreState = state.read(_PRE_SCORE_KEY)
        if node.name in s.ignored:
            return _IGNORED
        labels = node.labels
        total = 0.0
        for i, c in enumerate(s.constraints):
            value = labels.get(c.topology_key)
            if value is None:
                continue
            domains = s.domain_counts[i]
            count = s.by_node[i].get(node.name, 0) if domains is None else domains[value]
            total += count * s.weights[i] + (c.max_skew - 1)
        return _round(total)

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        """Fewest matching pods -> 100: ``100 * (max + min - score) / max``."""
        valid = [score for score in scores if score != _IGNORED]
        lowest = min(valid, default=0)
        highest = max(valid, default=0)
        for i, score in enumerate(scores):
            if score == _IGNORED:
                scores[i] = 0
            elif highest == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (highest + lowest - score) // highest


def new(args: Mapping[str, Any], handle: Handle) -> PodTopologySpread:
    """``PodTopologySpreadArgs``: ``defaultingType`` ``System`` (the default) or
    ``List`` with ``defaultConstraints`` (no ``labelSelector``: the owners' is used)."""
    defaulting = args.get("defaultingType") or "System"
    if defaulting == "System":
        if args.get("defaultConstraints"):
            raise ValueError(
                "PodTopologySpread: defaultConstraints must be empty when defaultingType is System"
            )
        return PodTopologySpread(handle)
    if defaulting != "List":
        raise ValueError(f"PodTopologySpread: unknown defaultingType {defaulting!r}")
    constraints = list(args.get("defaultConstraints") or ())
    if any(c.get("labelSelector") is not None for c in constraints):
        raise ValueError("PodTopologySpread: defaultConstraints may not set a labelSelector")
    return PodTopologySpread(handle, default_constraints=constraints, system_defaulted=False)
