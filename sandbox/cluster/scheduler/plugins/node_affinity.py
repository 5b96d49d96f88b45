"""NodeAffinity: ``spec.nodeSelector`` and ``spec.affinity.nodeAffinity``.

Filter: a node must carry every ``nodeSelector`` label, and match at least
one of the ``requiredDuringSchedulingIgnoredDuringExecution`` terms (a term
matches when all its ``matchExpressions`` on labels and ``matchFields`` on
``metadata.name`` hold). Otherwise the node is rejected with
``node(s) didn't match Pod's node affinity/selector``, UnschedulableAndUnresolvable.

Operators, as ``labels.Requirement`` evaluates them: ``In`` (label present
with one of the values), ``NotIn`` (absent, or none of the values),
``Exists``, ``DoesNotExist``, ``Gt``/``Lt`` (label and value read as
integers). A malformed term (``Gt`` without exactly one integer, ``In``
without values, an unknown operator, an empty term) matches no node, as the
parse errors Kubernetes ignores for compatibility do. ``matchFields``
supports ``metadata.name`` with ``In``/``NotIn`` and exactly one value.

Score: the sum of the weights of the ``preferredDuringScheduling...`` terms
a node matches, normalised so the best node scores 100.

A pod with no selector and no required affinity skips Filter (PreFilter
Skip); one without preferred terms skips Score. Terms are compiled once
per attempt in PreFilter/PreScore into tuples the per-node checks walk.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sandbox.cluster.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PodInfo,
    Status,
    default_normalize_score,
)

__all__ = [
    "ERR_REASON_POD",
    "NAME",
    "NodeAffinity",
    "RequiredNodeAffinity",
    "compile_term",
    "new",
    "required_node_affinity",
    "term_matches",
]

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME

# A compiled requirement: (on_name, key, operator, values, number). ``on_name``
# is True for a matchFields requirement on metadata.name.
Requirement = tuple[bool, str, str, frozenset[str], int]
Term = tuple[Requirement, ...]


def _parse_int(text: object) -> int | None:
    try:
        return int(str(text), 10)
    except ValueError:
        return None


def compile_term(term: Mapping[str, Any] | None) -> Term | None:
    """A NodeSelectorTerm as requirement tuples, or ``None`` if it can match no node."""
    if not term:
        return None
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return None
    compiled: list[Requirement] = []
    for expr in expressions:
        op = expr.get("operator", "")
        values = [str(v) for v in expr.get("values") or ()]
        number = 0
        if op in ("In", "NotIn"):
            if not values:
                return None
        elif op in ("Exists", "DoesNotExist"):
            if values:
                return None
        elif op in ("Gt", "Lt"):
            parsed = _parse_int(values[0]) if len(values) == 1 else None
            if parsed is None:
                return None
            number = parsed
        else:
            return None
        compiled.append((False, str(expr.get("key", "")), op, frozenset(values), number))
    for expr in fields:
        op = expr.get("operator", "")
        values = [str(v) for v in expr.get("values") or ()]
        if op not in ("In", "NotIn") or len(values) != 1:
            return None
        compiled.append((True, str(expr.get("key", "")), op, frozenset(values), 0))
    return tuple(compiled)


def term_matches(term: Term, node: NodeInfo) -> bool:
    labels = node.labels
    for on_name, key, op, values, number in term:
        if on_name:
            value: str | None = node.name if key == "metadata.name" else None
        else:
            value = labels.get(key)
        if op == "In":
            ok = value is not None and value in values
        elif op == "NotIn":
            ok = value is None or value not in values
        elif op == "Exists":
            ok = value is not None
        elif op == "DoesNotExist":
            ok = value is None
        else:
            have = _parse_int(value) if value is not None else None
            ok = have is not None and (have > number if op == "Gt" else have < number)
        if not ok:
            return False
    return True


class RequiredNodeAffinity:
    """What Filter checks for one pod: the nodeSelector and the required terms
    (``nodeaffinity.RequiredNodeAffinity``; PodTopologySpread asks it too)."""

    __slots__ = ("node_selector", "terms")

    def __init__(self, node_selector: Mapping[str, str] | None, terms: Sequence[Term] | None):
        self.node_selector = node_selector
        #: None: no required affinity; otherwise the terms that can match (maybe none).
        self.terms = terms

    def matches(self, node: NodeInfo) -> bool:
        if self.node_selector:
            labels = node.labels
            for key, value in self.node_selector.items():
                if labels.get(key) != value:
                    return False
        if self.terms is None:
            return True
        return any(term_matches(term, node) for term in self.terms)


def _node_affinity(pod: PodInfo) -> Mapping[str, Any]:
    return (pod.spec.get("affinity") or {}).get("nodeAffinity") or {}


def required_node_affinity(pod: PodInfo) -> RequiredNodeAffinity | None:
    """The pod's nodeSelector and required terms compiled, or ``None`` when it
    has neither (every node matches)."""
    node_selector = pod.spec.get("nodeSelector")
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None and node_selector is None:
        return None
    terms = None
    if required is not None:
        compiled = (compile_term(t) for t in required.get("nodeSelectorTerms") or ())
        terms = [t for t in compiled if t is not None]
    return RequiredNodeAffinity(node_selector, terms)


class NodeAffinity:
    name = NAME

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("NodeAdd", "NodeUpdate")

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        required = required_node_affinity(pod)
        if required is None:
            return Status(Code.Skip)
        state.write(_PRE_FILTER_KEY, required)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if state.read(_PRE_FILTER_KEY).matches(node):
            return None
        return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_POD)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        preferred: list[tuple[int, Term]] = []
        for item in _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or ():
            term = compile_term(item.get("preference"))
            weight = int(item.get("weight") or 0)
            if term is not None and weight:
                preferred.append((weight, term))
        if not preferred:
            return Status(Code.Skip)
        state.write(_PRE_SCORE_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return sum(weight for weight, term in state.read(_PRE_SCORE_KEY) if term_matches(term, node))

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize_score(scores)


def new(args: Mapping[str, Any], handle: Handle) -> NodeAffinity:
    return NodeAffinity()
