"""The scheduler cache: assumed pods count at once, bound pods are not counted twice."""

from __future__ import annotations

from scheduler_helpers import node, pod_info

from sandbox.cluster.scheduler.cache import Cache
from sandbox.cluster.scheduler.framework import PodInfo


def bound(name: str, node_name: str, **kwargs: object) -> PodInfo:
    info = pod_info(name, **kwargs)
    pod = dict(info.pod)
    pod["spec"] = {**info.pod["spec"], "nodeName": node_name}
    return PodInfo(pod)


def test_an_assumed_pod_counts_until_it_is_forgotten() -> None:
    cache = Cache()
    info = cache.add_node(node("w"))
    cache.assume_pod(pod_info("p", cpu="1"), "w")
    assert info.requested.milli_cpu == 1000 and cache.is_assumed("default/p")
    assert cache.node_of("default/p") == "w"
    cache.forget_pod("default/p")
    assert info.requested.milli_cpu == 0 and cache.node_of("default/p") is None


def test_the_bound_pod_replaces_the_assumed_one_without_counting_twice() -> None:
    cache = Cache()
    info = cache.add_node(node("w"))
    cache.assume_pod(pod_info("p", cpu="1"), "w")
    cache.add_pod(bound("p", "w", cpu="1"))
    assert (info.requested.milli_cpu, len(info.pods)) == (1000, 1)
    assert not cache.is_assumed("default/p")
    cache.forget_pod("default/p")  # too late: it is bound
    assert info.requested.milli_cpu == 1000


def test_pods_of_a_node_not_seen_yet_count_once_it_appears() -> None:
    cache = Cache()
    cache.add_pod(bound("early", "late-node", cpu="2"))
    assert len(cache.snapshot()) == 0
    info = cache.add_node(node("late-node"))
    assert info.requested.milli_cpu == 2000
    assert [n.name for n in cache.snapshot()] == ["late-node"]


def test_a_removed_node_leaves_the_snapshot() -> None:
    cache = Cache()
    cache.add_node(node("a"))
    cache.add_node(node("b"))
    cache.add_pod(bound("p", "a"))
    cache.remove_node("a")
    assert [n.name for n in cache.snapshot()] == ["b"]
    assert cache.snapshot().get("a") is None
    assert cache.remove_pod("default/p")


def test_the_snapshot_is_rebuilt_only_when_the_node_set_changes() -> None:
    cache = Cache()
    cache.add_node(node("a"))
    first = list(cache.snapshot().node_infos)
    cache.update_node(node("a", cpu="8"))
    assert cache.snapshot().node_infos == first  # same objects, updated in place
    assert cache.snapshot().node_infos[0].allocatable.milli_cpu == 8000
    cache.add_node(node("b"))
    assert [n.name for n in cache.snapshot()] == ["a", "b"]
