"""DefaultTolerationSeconds admission: every pod tolerates not-ready/unreachable for 300 s."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.api.qos import qos_class
from sandbox.client.memory import MemoryClient
from sandbox.cluster.default_tolerations import default_toleration_seconds
from sandbox.store import Store

NOT_READY = {
    "key": "node.kubernetes.io/not-ready",
    "operator": "Exists",
    "effect": "NoExecute",
    "tolerationSeconds": 300,
}
UNREACHABLE = {
    "key": "node.kubernetes.io/unreachable",
    "operator": "Exists",
    "effect": "NoExecute",
    "tolerationSeconds": 300,
}


@pytest.fixture
def admitted(store: Store) -> Store:
    store.admission.add_mutating("", "Pod", default_toleration_seconds, name="default-toleration-seconds")
    return store


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "containers": [
                {"name": "main", "image": "busybox", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
            ],
            **spec,
        },
    }


async def test_a_created_pod_tolerates_not_ready_and_unreachable_for_300s(
    admitted: Store, client: MemoryClient
) -> None:
    created = await client.create(pod("p"))
    assert created["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]


async def test_a_pods_own_not_ready_toleration_is_kept_and_only_unreachable_added(
    admitted: Store, client: MemoryClient
) -> None:
    own = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
           "tolerationSeconds": 30}
    gpu = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    created = await client.create(pod("p", tolerations=[gpu, own]))
    assert created["spec"]["tolerations"] == [gpu, own, UNREACHABLE]


@pytest.mark.parametrize(
    "toleration",
    [
        {"operator": "Exists"},  # empty key and effect: tolerates everything
        {"operator": "Exists", "effect": "NoExecute"},
    ],
)
async def test_a_catch_all_toleration_needs_no_defaults(
    admitted: Store, client: MemoryClient, toleration: dict[str, Any]
) -> None:
    created = await client.create(pod("p", tolerations=[toleration]))
    assert created["spec"]["tolerations"] == [toleration]


async def test_a_no_schedule_toleration_of_the_same_key_does_not_count(
    admitted: Store, client: MemoryClient
) -> None:
    no_schedule = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"}
    created = await client.create(pod("p", tolerations=[no_schedule]))
    assert created["spec"]["tolerations"] == [no_schedule, NOT_READY, UNREACHABLE]


async def test_updates_keep_the_tolerations_and_do_not_duplicate_them(
    admitted: Store, client: MemoryClient
) -> None:
    await client.create(pod("p"))
    updated = await client.patch("v1", "Pod", "p", {"metadata": {"labels": {"a": "b"}}}, namespace="default")
    assert updated["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]
    status = await client.patch_status("v1", "Pod", "p", {"status": {"phase": "Running"}}, namespace="default")
    assert status["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]


async def test_the_qos_class_is_unchanged(admitted: Store, client: MemoryClient) -> None:
    created = await client.create(pod("p"))
    assert created["status"]["qosClass"] == qos_class(created) == "Guaranteed"
