"""QoS classes are computed like Kubernetes' GetPodQOS."""

from __future__ import annotations

from sandbox.api.qos import qos_class


def pod(*resources, init=()):
    return {"spec": {
        "containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)],
        "initContainers": [{"name": f"i{i}", "resources": r} for i, r in enumerate(init)],
    }}


def test_no_cpu_or_memory_anywhere_is_best_effort():
    assert qos_class(pod({}, {"limits": {"nvidia.com/gpu": "1"}})) == "BestEffort"


def test_equal_requests_and_limits_for_cpu_and_memory_everywhere_is_guaranteed():
    same = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "0.5", "memory": "1Gi"}}
    assert qos_class(pod(same, same)) == "Guaranteed"


def test_requests_below_limits_is_burstable():
    assert qos_class(pod({"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "1Gi"}})) == "Burstable"


def test_one_container_without_limits_makes_it_burstable():
    full = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert qos_class(pod(full, {})) == "Burstable"


def test_init_containers_count():
    full = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert qos_class(pod(full, init=[{"requests": {"memory": "1Mi"}}])) == "Burstable"
