"""The official ``kubernetes`` Python client (as Kubeflow's SDKs use it) against the sandbox.

The client is synchronous, so each test's client code runs in a thread
while the cluster and its HTTPS API keep serving in the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from apiserver_e2e_helpers import Sandbox, running_sandbox
from kubernetes import client, config, watch

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with running_sandbox(tmp_path_factory.mktemp("client-sandbox")) as running:
        yield running


def _api(sandbox: Sandbox) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(sandbox.server.kubeconfig_path))


async def in_thread(sandbox: Sandbox, body: Callable[[client.ApiClient], Any]) -> Any:
    def run() -> Any:
        with _api(sandbox) as api:
            return body(api)
    return await asyncio.to_thread(run)


def _pod(name: str, command: str, *, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": "python:3.11", "command": ["python", "-u", "-c", command]}]}}


def _wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


async def test_core_v1_crud_on_pods_and_config_maps(sandbox: Sandbox) -> None:
    def body(api: client.ApiClient) -> None:
        v1 = client.CoreV1Api(api)
        assert "default" in [n.metadata.name for n in v1.list_namespace().items]
        created = v1.create_namespaced_pod("default", _pod("crud", "import time; time.sleep(60)",
                                                           labels={"app": "crud"}))
        assert created.metadata.uid and created.metadata.creation_timestamp
        listed = v1.list_namespaced_pod("default", label_selector="app=crud")
        assert [p.metadata.name for p in listed.items] == ["crud"]
        patched = v1.patch_namespaced_pod("crud", "default", {"metadata": {"labels": {"x": "1"}}})
        assert patched.metadata.labels == {"app": "crud", "x": "1"}
        cm = v1.create_namespaced_config_map("default", {"metadata": {"name": "cfg"},
                                                         "data": {"a": "1"}})
        cm.data["a"] = "2"
        assert v1.replace_namespaced_config_map("cfg", "default", cm).data == {"a": "2"}
        assert v1.read_namespaced_config_map("cfg", "default").data == {"a": "2"}
        json_patched = v1.patch_namespaced_config_map(
            "cfg", "default", [{"op": "add", "path": "/data/b", "value": "3"}])
        assert json_patched.data == {"a": "2", "b": "3"}
        deleted = v1.delete_namespaced_pod("crud", "default", grace_period_seconds=0)
        assert isinstance(deleted, client.V1Pod) and deleted.metadata.name == "crud"
        v1.delete_namespaced_config_map("cfg", "default")

    await in_thread(sandbox, body)


async def test_conflicts_and_invalid_objects_raise_api_exceptions(sandbox: Sandbox) -> None:
    def body(api: client.ApiClient) -> None:
        v1 = client.CoreV1Api(api)
        v1.create_namespaced_config_map("default", {"metadata": {"name": "twice"}})
        with pytest.raises(client.ApiException) as conflict:
            v1.create_namespaced_config_map("default", {"metadata": {"name": "twice"}})
        assert conflict.value.status == 409
        assert json.loads(conflict.value.body)["reason"] == "AlreadyExists"
        with pytest.raises(client.ApiException) as invalid:
            v1.create_namespaced_pod("default", {"metadata": {"name": "bad"},
                                                 "spec": {"containers": []}})
        assert invalid.value.status == 422
        assert json.loads(invalid.value.body)["message"] == (
            'Pod "bad" is invalid: spec.containers: Required value')
        with pytest.raises(client.ApiException) as missing:
            v1.read_namespaced_pod("nope", "default")
        assert missing.value.status == 404

    await in_thread(sandbox, body)


async def test_apps_v1_deployments_and_their_scale(sandbox: Sandbox) -> None:
    def body(api: client.ApiClient) -> None:
        apps = client.AppsV1Api(api)
        apps.create_namespaced_deployment("default", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [
                         {"name": "main", "image": "python:3.11",
                          "command": ["python", "-c", "import time; time.sleep(600)"]}]}}},
        })
        apps.patch_namespaced_deployment_scale("api", "default", {"spec": {"replicas": 2}})
        assert apps.read_namespaced_deployment_scale("api", "default").spec.replicas == 2
        _wait_for(lambda: apps.read_namespaced_deployment_status("api", "default")
                  .status.ready_replicas == 2)
        deleted = apps.delete_namespaced_deployment("api", "default")
        # Typed V1Status: client ≥ 31 hands back the deleted object as a dict, older clients
        # a V1Status model built from it. Either way the Deployment is gone or going.
        if isinstance(deleted, dict):
            assert deleted["metadata"]["name"] == "api"
        _wait_for(lambda: not any(d.metadata.name == "api" and d.metadata.deletion_timestamp is None
                                  for d in apps.list_namespaced_deployment("default").items))

    await in_thread(sandbox, body)


async def test_custom_objects_api_on_a_crd(sandbox: Sandbox) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "tfjobs.kubeflow.org"},
        "spec": {"group": "kubeflow.org", "scope": "Namespaced",
                 "names": {"kind": "TFJob", "plural": "tfjobs", "singular": "tfjob"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {
                                   "type": "object",
                                   "x-kubernetes-preserve-unknown-fields": True}}}]},
    }

    def body(api: client.ApiClient) -> None:
        client.ApiextensionsV1Api(api).create_custom_resource_definition(crd)
        custom = client.CustomObjectsApi(api)
        job = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": {"name": "mnist"},
               "spec": {"tfReplicaSpecs": {"Worker": {"replicas": 1}}}}
        created = custom.create_namespaced_custom_object("kubeflow.org", "v1", "default",
                                                         "tfjobs", job)
        assert created["metadata"]["uid"]
        listed = custom.list_namespaced_custom_object("kubeflow.org", "v1", "default", "tfjobs")
        assert listed["kind"] == "TFJobList" and len(listed["items"]) == 1
        patched = custom.patch_namespaced_custom_object(
            "kubeflow.org", "v1", "default", "tfjobs", "mnist",
            {"spec": {"tfReplicaSpecs": {"Worker": {"replicas": 3}}}})
        assert patched["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] == 3
        status = custom.patch_namespaced_custom_object_status(
            "kubeflow.org", "v1", "default", "tfjobs", "mnist", {"status": {"phase": "Running"}})
        assert status["status"] == {"phase": "Running"}
        got = custom.get_namespaced_custom_object("kubeflow.org", "v1", "default", "tfjobs", "mnist")
        assert got["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] == 3
        deleted = custom.delete_namespaced_custom_object("kubeflow.org", "v1", "default",
                                                         "tfjobs", "mnist")
        assert deleted["metadata"]["name"] == "mnist"

    await in_thread(sandbox, body)


async def test_watch_stream_yields_added_modified_deleted(sandbox: Sandbox) -> None:
    def body(api: client.ApiClient) -> list[tuple[str, str]]:
        v1 = client.CoreV1Api(api)
        v1.create_namespace({"metadata": {"name": "watched"}})
        v1.create_namespaced_config_map("watched", {"metadata": {"name": "before"}})
        seen: list[tuple[str, str]] = []
        stream = watch.Watch().stream(v1.list_namespaced_config_map, "watched", timeout_seconds=5)
        for event in stream:
            name = event["object"].metadata.name
            seen.append((event["type"], name))
            if name == "before" and event["type"] == "ADDED":
                v1.create_namespaced_config_map("watched", {"metadata": {"name": "during"}})
                v1.patch_namespaced_config_map("during", "watched", {"data": {"a": "1"}})
                v1.delete_namespaced_config_map("during", "watched")
            if event["type"] == "DELETED":
                break
        return seen

    seen = await in_thread(sandbox, body)
    assert ("ADDED", "before") in seen
    assert seen[-3:] == [("ADDED", "during"), ("MODIFIED", "during"), ("DELETED", "during")]


async def test_a_too_old_watch_raises_410(sandbox: Sandbox) -> None:
    sandbox.cluster.store.compact()

    def body(api: client.ApiClient) -> int:
        v1 = client.CoreV1Api(api)
        with pytest.raises(client.ApiException) as gone:
            for _ in watch.Watch().stream(v1.list_namespaced_pod, "default", resource_version="1",
                                          timeout_seconds=2):
                pass
        return gone.value.status

    assert await in_thread(sandbox, body) == 410


async def test_read_namespaced_pod_log(sandbox: Sandbox) -> None:
    def body(api: client.ApiClient) -> str:
        v1 = client.CoreV1Api(api)
        v1.create_namespaced_pod("default", _pod("printer", "print('hello from the pod')"))
        _wait_for(lambda: v1.read_namespaced_pod("printer", "default").status.phase == "Succeeded")
        return v1.read_namespaced_pod_log("printer", "default")

    assert await in_thread(sandbox, body) == "hello from the pod\n"
