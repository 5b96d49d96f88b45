"""Running a profile's plugins: extension-point rules, Permit waits, Go durations."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

import pytest
from scheduler_helpers import node_info, pod_info, settle

from sandbox.clock import FakeClock
from sandbox.cluster.scheduler.framework import Code, CycleState, NodeInfo, PodInfo, Status
from sandbox.cluster.scheduler.framework_runtime import (
    Framework,
    PluginSpec,
    Profile,
    go_duration,
)


class Plugin:
    """A configurable plugin for exercising the framework."""

    def __init__(self, name: str, **answers: Any) -> None:
        self.name = name
        self.answers = answers
        self.calls: list[str] = []
        for point in ("pre_filter", "post_filter", "permit", "score"):
            if point in answers:
                setattr(self, point, getattr(self, f"_{point}"))

    def events_to_register(self) -> Collection[str]:
        return ("NodeAdd",)

    def _pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        self.calls.append("pre_filter")
        return self.answers["pre_filter"]

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        self.calls.append(f"filter {node.name}")
        return None

    def _post_filter(self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]) -> Status:
        self.calls.append("post_filter")
        return self.answers["post_filter"]

    def _permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status | None, float]:
        return self.answers["permit"]

    def _score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return self.answers["score"][node.name]


class Handle:
    """The framework only passes the handle on to factories."""


def framework(*plugins: Plugin, weights: Mapping[str, int] | None = None) -> Framework:
    weights = weights or {}
    registry = {p.name: (lambda args, handle, p=p: p) for p in plugins}
    profile = Profile(plugins=tuple(PluginSpec(p.name, weights.get(p.name, 1)) for p in plugins))
    return Framework(profile, registry=registry, handle=Handle(), clock=FakeClock())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60, "1m0s"), (10, "10s"), (90.5, "1m30.5s"), (3600, "1h0m0s"), (0.5, "500ms"), (0, "0s")],
)
def test_durations_print_like_go(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_a_profile_naming_an_unknown_plugin_is_an_error() -> None:
    with pytest.raises(ValueError, match="no plugin named 'Nope'"):
        Framework(
            Profile(plugins=(PluginSpec("Nope"),)), registry={}, handle=Handle(), clock=FakeClock()  # type: ignore[arg-type]
        )


def test_a_plugin_that_skips_pre_filter_is_not_asked_to_filter() -> None:
    skipper = Plugin("Skipper", pre_filter=Status(Code.Skip))
    checker = Plugin("Checker", pre_filter=None)
    fw = framework(skipper, checker)
    state = CycleState()
    assert fw.run_pre_filter(state, pod_info(), []) is None
    assert [name for name, _ in fw.filters(state)] == ["Checker"]


def test_an_unresolvable_pre_filter_stops_the_others_and_names_its_plugin() -> None:
    first = Plugin("First", pre_filter=Status(Code.UnschedulableAndUnresolvable, "no"))
    second = Plugin("Second", pre_filter=None)
    status = framework(first, second).run_pre_filter(CycleState(), pod_info(), [])
    assert status is not None and (status.code, status.plugin) == (Code.UnschedulableAndUnresolvable, "First")
    assert second.calls == []


def test_post_filter_joins_the_reasons_of_every_plugin_that_could_not_help() -> None:
    a = Plugin("A", post_filter=Status(Code.Unschedulable, "a could not help"))
    b = Plugin("B", post_filter=Status(Code.Unschedulable, "b neither"))
    status = framework(a, b).run_post_filter(CycleState(), pod_info(), {})
    assert status.message == "a could not help, b neither"
    assert status.plugin == "A"


def test_scores_are_normalised_per_plugin_then_weighted_and_summed() -> None:
    nodes = [node_info("x"), node_info("y")]
    low = Plugin("Low", score={"x": 10, "y": 20})
    high = Plugin("High", score={"x": 100, "y": 0})
    totals = framework(low, high, weights={"High": 3}).run_score(CycleState(), pod_info(), nodes)
    assert totals == [10 + 300, 20]


async def test_a_waiting_pod_binds_when_every_waiting_plugin_allows_it() -> None:
    fw = framework(Plugin("Gang", permit=(Status(Code.Wait), 30.0)))
    pod = pod_info("w")
    assert fw.run_permit(CycleState(), pod, "node-1").code == Code.Wait
    waiting = fw.waiting_pods.get(pod.key)
    assert waiting is not None and waiting.node_name == "node-1"
    waiting.allow("Gang")
    assert await fw.wait_on_permit(pod) is None
    assert fw.waiting_pods.get(pod.key) is None


async def test_a_rejected_waiting_pod_fails_with_the_rejection_message() -> None:
    fw = framework(Plugin("Gang", permit=(Status(Code.Wait), 30.0)))
    pod = pod_info("w")
    fw.run_permit(CycleState(), pod, "node-1")
    fw.waiting_pods.get(pod.key).reject("Gang", "rejection in Unreserve")  # type: ignore[union-attr]
    status = await fw.wait_on_permit(pod)
    assert status == Status(Code.Unschedulable, "rejection in Unreserve", plugin="Gang")


async def test_a_waiting_pod_is_rejected_when_its_timeout_passes_on_the_clock() -> None:
    clock = FakeClock()
    gang = Plugin("Gang", permit=(Status(Code.Wait), 60.0))
    fw = Framework(
        Profile(plugins=(PluginSpec("Gang"),)), registry={"Gang": lambda a, h: gang},
        handle=Handle(), clock=clock,  # type: ignore[arg-type]
    )
    pod = pod_info("w")
    fw.run_permit(CycleState(), pod, "node-1")
    outcome = asyncio.ensure_future(fw.wait_on_permit(pod))
    await clock.advance(59)
    assert not outcome.done()
    await clock.advance(1)
    await settle()
    assert (await outcome).message == "rejected due to timeout after waiting 1m0s at plugin Gang"


def test_permit_rejection_wins_over_waiting() -> None:
    fw = framework(
        Plugin("Waits", permit=(Status(Code.Wait), 10.0)),
        Plugin("Rejects", permit=(Status(Code.Unschedulable, "PodGroup not found"), 0.0)),
    )
    status = fw.run_permit(CycleState(), pod_info(), "n")
    assert status is not None and (status.code, status.plugin) == (Code.Unschedulable, "Rejects")
