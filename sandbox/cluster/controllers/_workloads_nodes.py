"""Which nodes a pod may run on: node selectors, node affinity, taints and tolerations.

The DaemonSet controller decides itself which nodes should run a daemon pod
(``NodeShouldRunDaemonPod``), with the same rules the scheduler filters by:
the pod's ``nodeSelector`` and required node affinity must match the node's
labels (and ``metadata.name`` for ``matchFields``), and every ``NoSchedule``
/ ``NoExecute`` taint of the node must be tolerated. This module holds those
rules as pure functions of plain dicts, Kubernetes' semantics:

- ``nodeSelectorTerms`` are ORed, the requirements inside a term ANDed; a
  term with no requirement matches nothing; ``NotIn`` and ``DoesNotExist``
  match a node without the label; ``Gt``/``Lt`` compare integers;
- a toleration with an empty ``effect`` tolerates every effect, an empty
  ``key`` with ``Exists`` tolerates every taint, the default operator is
  ``Equal``.

It also knows what DaemonSet pods get on top of their template: the
tolerations Kubernetes adds so daemons keep running on not-ready,
unreachable, pressured or cordoned nodes, and the node affinity that pins a
daemon pod to its node (the scheduler then binds it there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.objects import meta
from sandbox.api.tolerations import find_untolerated_taint, tolerates

__all__ = [
    "daemon_tolerations",
    "find_untolerated_taint",
    "matches_node_affinity",
    "pin_to_node",
    "target_node_name",
    "tolerates",
]

_NODE_NAME_FIELD = "metadata.name"


def _expression_matches(expr: Mapping[str, Any], value: str | None) -> bool:
    operator = expr.get("operator")
    values = [str(v) for v in expr.get("values") or ()]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            left, right = int(value), int(values[0])
        except ValueError:
            return False
        return left > right if operator == "Gt" else left < right
    return False


def _term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    node_labels = meta(node).get("labels") or {}
    for expr in expressions:
        if not _expression_matches(expr, node_labels.get(expr.get("key", ""))):
            return False
    for expr in fields:
        value = meta(node).get("name") if expr.get("key") == _NODE_NAME_FIELD else None
        if not _expression_matches(expr, value):
            return False
    return True


def matches_node_affinity(pod_spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``GetRequiredNodeAffinity(pod).Match(node)``: nodeSelector and required affinity."""
    node_labels = meta(node).get("labels") or {}
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if node_labels.get(key) != value:
            return False
    required = (
        ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
        .get("requiredDuringSchedulingIgnoredDuringExecution")
    )
    if required is None:
        return True
    return any(_term_matches(term, node) for term in required.get("nodeSelectorTerms") or ())


def daemon_tolerations(pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pod's tolerations plus those Kubernetes gives every daemon pod
    (``AddOrUpdateDaemonPodTolerations``)."""
    added = [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
    if pod_spec.get("hostNetwork"):
        added.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    tolerations = [dict(t) for t in pod_spec.get("tolerations") or ()]
    for key, effect in added:
        wanted = {"key": key, "operator": "Exists", "effect": effect}
        tolerations = [t for t in tolerations if not (t.get("key") == key and t.get("effect") == effect)]
        tolerations.append(wanted)
    return tolerations


def pin_to_node(affinity: Mapping[str, Any] | None, node_name: str) -> dict[str, Any]:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: required affinity to this node only.

    Preferred terms and pod (anti-)affinity are kept; required node terms are
    replaced, since the controller has already checked them for this node.
    """
    result = {k: v for k, v in (affinity or {}).items()}
    node_affinity = dict(result.get("nodeAffinity") or {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{
            "matchFields": [{"key": _NODE_NAME_FIELD, "operator": "In", "values": [node_name]}]
        }]
    }
    result["nodeAffinity"] = node_affinity
    return result


def target_node_name(pod: Mapping[str, Any]) -> str | None:
    """``GetTargetNodeName``: where the pod runs, or is pinned to run before binding."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {})
        .get("requiredDuringSchedulingIgnoredDuringExecution")
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if len(terms) != 1:
        return None
    fields = terms[0].get("matchFields") or []
    if len(fields) != 1:
        return None
    field = fields[0]
    if field.get("key") != _NODE_NAME_FIELD or field.get("operator") != "In":
        return None
    values = field.get("values") or []
    return str(values[0]) if len(values) == 1 else None
