"""NodeAffinity: nodeSelector, required terms with every operator, preferred-term scores."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_helpers import node_info, pod_info

from sandbox.cluster.scheduler.framework import Code, CycleState, PodInfo
from sandbox.cluster.scheduler.plugins.node_affinity import ERR_REASON_POD, NodeAffinity

NODES = {
    "gpu": node_info("gpu", labels={"accelerator": "t4", "zone": "a", "cores": "32"}),
    "cpu": node_info("cpu", labels={"zone": "b", "cores": "8"}),
    "bare": node_info("bare"),
}


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    e: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        e["values"] = list(values)
    return e


def fitting(pod: PodInfo) -> list[str]:
    plugin = NodeAffinity()
    state = CycleState()
    assert plugin.pre_filter(state, pod, []) is None
    return [name for name, n in NODES.items() if plugin.filter(state, pod, n) is None]


def test_node_selector_requires_every_label() -> None:
    assert fitting(pod_info("p", nodeSelector={"zone": "a"})) == ["gpu"]
    assert fitting(pod_info("p", nodeSelector={"zone": "a", "accelerator": "v100"})) == []


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        (expr("zone", "In", "a", "b"), ["gpu", "cpu"]),
        (expr("zone", "NotIn", "a"), ["cpu", "bare"]),  # an absent label is "not in"
        (expr("accelerator", "Exists"), ["gpu"]),
        (expr("accelerator", "DoesNotExist"), ["cpu", "bare"]),
        (expr("cores", "Gt", "16"), ["gpu"]),
        (expr("cores", "Lt", "16"), ["cpu"]),
    ],
)
def test_required_affinity_operators(requirement: dict[str, Any], expected: list[str]) -> None:
    pod = pod_info("p", affinity=required({"matchExpressions": [requirement]}))
    assert fitting(pod) == expected


def test_terms_are_ored_and_expressions_within_a_term_anded() -> None:
    pod = pod_info(
        "p",
        affinity=required(
            {"matchExpressions": [expr("zone", "In", "a"), expr("cores", "Gt", "64")]},
            {"matchExpressions": [expr("zone", "In", "b")]},
        ),
    )
    assert fitting(pod) == ["cpu"]


def test_match_fields_select_by_node_name() -> None:
    pod = pod_info("p", affinity=required({"matchFields": [expr("metadata.name", "In", "bare")]}))
    assert fitting(pod) == ["bare"]


@pytest.mark.parametrize(
    "term",
    [
        {},  # an empty term selects nothing
        {"matchExpressions": [expr("cores", "Gt", "many")]},
        {"matchExpressions": [expr("zone", "In")]},
        {"matchExpressions": [expr("zone", "Like", "a")]},
        {"matchFields": [expr("metadata.name", "In", "gpu", "cpu")]},
    ],
)
def test_a_malformed_term_matches_no_node(term: dict[str, Any]) -> None:
    assert fitting(pod_info("p", affinity=required(term))) == []


def test_the_rejection_names_the_selector_and_cannot_be_resolved() -> None:
    plugin = NodeAffinity()
    state = CycleState()
    pod = pod_info("p", nodeSelector={"zone": "z"})
    plugin.pre_filter(state, pod, [])
    status = plugin.filter(state, pod, NODES["gpu"])
    assert status is not None and status.code == Code.UnschedulableAndUnresolvable
    assert status.reasons == (ERR_REASON_POD,) == ("node(s) didn't match Pod's node affinity/selector",)


def test_a_pod_without_selector_or_required_affinity_skips_filter_and_score() -> None:
    plugin = NodeAffinity()
    assert plugin.pre_filter(CycleState(), pod_info(), []).code == Code.Skip  # type: ignore[union-attr]
    assert plugin.pre_score(CycleState(), pod_info(), []).code == Code.Skip  # type: ignore[union-attr]


def test_preferred_terms_add_their_weights_and_normalise_to_100() -> None:
    pod = pod_info(
        "p",
        affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 80, "preference": {"matchExpressions": [expr("accelerator", "Exists")]}},
            {"weight": 20, "preference": {"matchExpressions": [expr("zone", "In", "b")]}},
        ]}},
    )
    plugin = NodeAffinity()
    state = CycleState()
    nodes = list(NODES.values())
    assert plugin.pre_score(state, pod, nodes) is None
    scores = [plugin.score(state, pod, n) for n in nodes]
    assert scores == [80, 20, 0]
    plugin.normalize_score(state, pod, scores)
    assert scores == [100, 25, 0]
