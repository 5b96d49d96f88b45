"""The framework's vocabulary: statuses, the FitError message, pod requests, node info."""

from __future__ import annotations

from scheduler_helpers import node, node_info, pod, pod_info

from sandbox.cluster.scheduler.framework import (
    DEFAULT_MEMORY_REQUEST,
    Code,
    Diagnosis,
    FitError,
    NodeInfo,
    PodInfo,
    Snapshot,
    Status,
    default_normalize_score,
)

GI = 1024**3


def test_status_message_joins_the_reasons_like_kubernetes() -> None:
    status = Status(Code.Unschedulable, "Insufficient cpu", "Insufficient memory")
    assert status.message == "Insufficient cpu, Insufficient memory"
    assert status.is_rejected() and not status.is_success()
    assert Status(Code.UnschedulableAndUnresolvable).is_rejected()
    assert not Status(Code.Error, "boom").is_rejected()


def test_fit_error_counts_reasons_per_node_and_sorts_them_as_go_strings() -> None:
    statuses = {f"n{i}": Status(Code.Unschedulable, "Insufficient cpu") for i in range(10)}
    statuses["a"] = Status(Code.UnschedulableAndUnresolvable, "node(s) were unschedulable")
    statuses["b"] = Status(Code.UnschedulableAndUnresolvable, "node(s) were unschedulable")
    fit = FitError(pod_info(), num_all_nodes=12, diagnosis=Diagnosis(node_statuses=statuses))
    # "10 ..." sorts before "2 ..." because Go sorts the rendered strings.
    assert str(fit) == (
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable."
    )


def test_fit_error_counts_every_reason_of_a_node() -> None:
    statuses = {
        "w1": Status(Code.Unschedulable, "Insufficient cpu", "Insufficient memory"),
        "w2": Status(Code.Unschedulable, "Insufficient cpu"),
    }
    fit = FitError(pod_info(), num_all_nodes=2, diagnosis=Diagnosis(node_statuses=statuses))
    assert str(fit) == "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."


def test_fit_error_shows_a_pre_filter_message_once_and_appends_the_post_filter_one() -> None:
    rejected = Status(Code.UnschedulableAndUnresolvable, "too few pods")
    diagnosis = Diagnosis(
        node_statuses={"a": rejected, "b": rejected},
        pre_filter_msg="too few pods",
        post_filter_msg="preemption: nothing to do.",
    )
    fit = FitError(pod_info(), num_all_nodes=2, diagnosis=diagnosis)
    assert str(fit) == "0/2 nodes are available: too few pods. preemption: nothing to do."


def test_pod_requests_sum_the_containers() -> None:
    obj = pod("p", cpu="500m", memory="1Gi")
    obj["spec"]["containers"].append(
        {"name": "side", "image": "x", "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}}
    )
    requests = PodInfo(obj).requests
    assert (requests.milli_cpu, requests.memory) == (750, 2 * GI)


def test_pod_requests_take_the_largest_init_container_over_the_sum_of_containers() -> None:
    obj = pod("p", cpu="1", memory="1Gi")
    obj["spec"]["initContainers"] = [
        {"name": "fetch", "image": "x", "resources": {"requests": {"cpu": "3", "memory": "512Mi"}}},
        {"name": "migrate", "image": "x", "resources": {"requests": {"cpu": "2"}}},
    ]
    requests = PodInfo(obj).requests
    # max(max(init), sum(containers)) per resource: cpu from an init container, memory from the app.
    assert (requests.milli_cpu, requests.memory) == (3000, GI)


def test_sidecar_init_containers_run_alongside_everything_after_them() -> None:
    obj = pod("p", cpu="1")
    obj["spec"]["initContainers"] = [
        {"name": "proxy", "image": "x", "restartPolicy": "Always",
         "resources": {"requests": {"cpu": "500m"}}},
        {"name": "setup", "image": "x", "resources": {"requests": {"cpu": "2"}}},
    ]
    # setup runs next to the proxy (2.5); the app runs next to it too (1.5).
    assert PodInfo(obj).requests.milli_cpu == 2500


def test_pod_overhead_is_added_to_the_requests() -> None:
    obj = pod("p", cpu="1", memory="1Gi")
    obj["spec"]["overhead"] = {"cpu": "250m", "memory": "64Mi"}
    requests = PodInfo(obj).requests
    assert (requests.milli_cpu, requests.memory) == (1250, GI + 64 * 1024**2)


def test_scoring_counts_a_container_without_requests_as_100m_and_200Mi() -> None:
    info = pod_info("p")
    assert info.requests.is_zero()
    assert (info.non_zero_cpu, info.non_zero_memory) == (100, DEFAULT_MEMORY_REQUEST)
    explicit = pod_info("q", cpu="2")
    assert (explicit.non_zero_cpu, explicit.non_zero_memory) == (2000, DEFAULT_MEMORY_REQUEST)


def test_extended_resources_count_and_unprefixed_unknown_names_do_not() -> None:
    obj = pod("p", gpu="2")
    obj["spec"]["containers"][0]["resources"]["requests"].update(
        {"hugepages-2Mi": "4Mi", "gpu": "1"}
    )
    assert PodInfo(obj).requests.scalar == {"nvidia.com/gpu": 2, "hugepages-2Mi": 4 * 1024**2}


def test_node_info_holds_allocatable_as_integers() -> None:
    info = node_info("w", cpu="3500m", memory="8Gi", pods="110", extra={"nvidia.com/gpu": "2"})
    alloc = info.allocatable
    assert (alloc.milli_cpu, alloc.memory, alloc.allowed_pod_number) == (3500, 8 * GI, 110)
    assert alloc.scalar == {"nvidia.com/gpu": 2}


def test_node_info_adds_and_removes_the_requests_of_its_pods() -> None:
    info = node_info("w")
    info.add_pod(pod_info("a", cpu="1", memory="1Gi"))
    info.add_pod(pod_info("b", cpu="500m"))
    assert (info.requested.milli_cpu, info.requested.memory, len(info.pods)) == (1500, GI, 2)
    assert info.non_zero_memory == GI + DEFAULT_MEMORY_REQUEST
    info.remove_pod("default/a")
    assert (info.requested.milli_cpu, info.requested.memory, len(info.pods)) == (500, 0, 1)


def test_a_node_that_is_not_ready_carries_the_node_lifecycle_taint() -> None:
    assert node_info("ok").no_schedule_taints == ()
    not_ready = node_info("down", ready="False")
    assert [t["key"] for t in not_ready.no_schedule_taints] == ["node.kubernetes.io/not-ready"]
    unknown = node_info("gone", ready="Unknown")
    assert [t["key"] for t in unknown.no_schedule_taints] == ["node.kubernetes.io/unreachable"]
    never_reported = node("new")
    del never_reported["status"]["conditions"]
    assert [t["key"] for t in NodeInfo(never_reported).taints] == ["node.kubernetes.io/unreachable"]


def test_node_info_splits_taints_by_effect() -> None:
    info = node_info(
        "w",
        taints=[
            {"key": "a", "effect": "NoSchedule"},
            {"key": "b", "effect": "PreferNoSchedule"},
            {"key": "c", "effect": "NoExecute"},
        ],
    )
    assert [t["key"] for t in info.no_schedule_taints] == ["a", "c"]
    assert [t["key"] for t in info.prefer_no_schedule_taints] == ["b"]


def test_snapshot_lists_nodes_zone_by_zone_in_turn() -> None:
    def zoned(name: str, zone: str) -> NodeInfo:
        return node_info(name, labels={"topology.kubernetes.io/zone": zone})

    snapshot = Snapshot()
    snapshot.rebuild([zoned("a1", "a"), zoned("a2", "a"), zoned("a3", "a"), zoned("b1", "b")])
    assert [n.name for n in snapshot] == ["a1", "b1", "a2", "a3"]


def test_default_normalize_score_scales_to_100_and_can_reverse() -> None:
    scores = [0, 2, 4]
    default_normalize_score(scores)
    assert scores == [0, 50, 100]
    counts = [0, 1, 2]
    default_normalize_score(counts, reverse=True)
    assert counts == [100, 50, 0]
    zeros = [0, 0]
    default_normalize_score(zeros, reverse=True)
    assert zeros == [100, 100]


def test_a_newer_version_of_a_pod_keeps_the_computed_requests() -> None:
    first = pod_info("p", cpu="1")
    newer = dict(first.pod)
    newer["spec"] = {**first.pod["spec"], "nodeName": "w"}
    again = PodInfo(newer, previous=first)
    assert again.requests is first.requests and again.node_name == "w"
    other = pod("p", cpu="2")
    other["metadata"]["uid"] = "re-created"
    assert PodInfo(other, previous=first).requests.milli_cpu == 2000
