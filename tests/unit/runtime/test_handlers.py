"""Event handlers: which requests a change to a watched object enqueues."""

from __future__ import annotations

from typing import Any

from sandbox.runtime.handlers import (
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
)
from sandbox.runtime.reconcile import Request
from sandbox.runtime.workqueue import WorkQueue


def drain(queue: WorkQueue[Request]) -> list[Request]:
    return sorted(queue._queue)


def configmap(
    name: str, *, namespace: str = "default", owners: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
    }
    if owners:
        obj["metadata"]["ownerReferences"] = owners
    return obj


def ref(
    kind: str, name: str, *, api_version: str = "apps/v1", controller: bool = True
) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": f"uid-{name}",
        "controller": controller,
    }


def test_request_prints_as_namespace_slash_name() -> None:
    assert str(Request("v1", "ConfigMap", "default", "web")) == "default/web"
    assert str(Request("v1", "Node", "", "node-1")) == "node-1"


def test_enqueue_for_object_enqueues_the_object_itself_on_every_change() -> None:
    queue: WorkQueue[Request] = WorkQueue()
    handler = EnqueueRequestForObject()
    handler.on_add(configmap("a"), queue=queue)
    handler.on_update(configmap("b"), configmap("c"), queue=queue)
    handler.on_delete(configmap("d", namespace="other"), queue=queue)
    assert drain(queue) == [
        Request("v1", "ConfigMap", "default", "a"),
        Request("v1", "ConfigMap", "default", "c"),
        Request("v1", "ConfigMap", "other", "d"),
    ]


def test_enqueue_for_owner_enqueues_the_controller_owner_of_the_right_kind() -> None:
    queue: WorkQueue[Request] = WorkQueue()
    handler = EnqueueRequestForOwner("apps/v1", "Deployment")
    handler.on_add(
        configmap(
            "child",
            owners=[
                ref("ReplicaSet", "rs"),
                ref("Deployment", "not-controller", controller=False),
                ref("Deployment", "web"),
            ],
        ),
        queue=queue,
    )
    assert drain(queue) == [Request("apps/v1", "Deployment", "default", "web")]


def test_enqueue_for_owner_matches_the_group_whatever_the_version() -> None:
    queue: WorkQueue[Request] = WorkQueue()
    handler = EnqueueRequestForOwner("kubeflow.org/v1", "TFJob")
    handler.on_add(
        configmap("a", owners=[ref("TFJob", "old", api_version="kubeflow.org/v1beta1")]),
        queue=queue,
    )
    handler.on_add(
        configmap("b", owners=[ref("TFJob", "other", api_version="example.com/v1")]), queue=queue
    )
    # The request names the version the controller reconciles.
    assert drain(queue) == [Request("kubeflow.org/v1", "TFJob", "default", "old")]


def test_enqueue_for_owner_can_count_every_owner_reference() -> None:
    queue: WorkQueue[Request] = WorkQueue()
    handler = EnqueueRequestForOwner("apps/v1", "Deployment", only_controller=False)
    handler.on_add(configmap("c", owners=[ref("Deployment", "x", controller=False)]), queue=queue)
    assert drain(queue) == [Request("apps/v1", "Deployment", "default", "x")]


def test_enqueue_for_owner_on_update_enqueues_the_old_and_the_new_owner() -> None:
    queue: WorkQueue[Request] = WorkQueue()
    handler = EnqueueRequestForOwner("apps/v1", "Deployment")
    old = configmap("c", owners=[ref("Deployment", "before")])
    new = configmap("c", owners=[ref("Deployment", "after")])
    handler.on_update(old, new, queue=queue)
    assert [r.name for r in drain(queue)] == ["after", "before"]


def test_enqueue_for_a_cluster_scoped_owner_has_no_namespace() -> None:
    queue: WorkQueue[Request] = WorkQueue()
    handler = EnqueueRequestForOwner("kubeflow.org/v1", "Profile", namespaced=False)
    handler.on_add(
        configmap("c", owners=[ref("Profile", "alice", api_version="kubeflow.org/v1")]), queue=queue
    )
    assert drain(queue) == [Request("kubeflow.org/v1", "Profile", "", "alice")]


def test_map_func_handler_enqueues_what_the_function_returns_for_old_and_new() -> None:
    queue: WorkQueue[Request] = WorkQueue()

    def by_label(obj: Any) -> list[Request]:
        target = obj["metadata"].get("labels", {}).get("app")
        return [Request("apps/v1", "Deployment", "default", target)] if target else []

    handler = EnqueueRequestsFromMapFunc(by_label)
    old = configmap("c")
    old["metadata"]["labels"] = {"app": "one"}
    new = configmap("c")
    new["metadata"]["labels"] = {"app": "two"}
    handler.on_update(old, new, queue=queue)
    handler.on_add(configmap("unlabelled"), queue=queue)
    assert [r.name for r in drain(queue)] == ["one", "two"]
