"""The in-cluster environment: KUBERNETES_* variables and the Python startup path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kubelet_helpers import eventually, make_pod, phase_is, python, start_node

from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.cluster.kubelet.envvars import resolve_env
from sandbox.cluster.kubelet.incluster import api_server_env, python_startup_env
from sandbox.cluster.runtime.process import ProcessRuntime
from sandbox.cluster.serviceaccount_admission import DEFAULT_API_TOKEN_MOUNT_PATH
from sandbox.podboot import STARTUP_DIR


def serving(port: int = 6443) -> ApiEndpoint:
    endpoint = ApiEndpoint()
    endpoint.publish(host="127.0.0.1", port=port, ca_crt=b"CA")
    return endpoint


def test_the_kubernetes_service_variables_name_the_api_server():
    assert api_server_env(serving(6443)) == {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": "6443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "6443",
        "KUBERNETES_PORT": "tcp://127.0.0.1:6443",
        "KUBERNETES_PORT_6443_TCP": "tcp://127.0.0.1:6443",
        "KUBERNETES_PORT_6443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_6443_TCP_PORT": "6443",
        "KUBERNETES_PORT_6443_TCP_ADDR": "127.0.0.1",
    }


def test_no_api_server_no_variables():
    assert api_server_env(None) == {}
    assert api_server_env(ApiEndpoint()) == {}


async def test_the_containers_own_env_overrides_them_and_may_refer_to_them(client):
    container = {"name": "c", "env": [
        {"name": "KUBERNETES_SERVICE_PORT", "value": "1234"},
        {"name": "API", "value": "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)"},
    ]}
    pod = {"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [container]}}
    resolved = await resolve_env(
        pod, container, client=client, pod_ip="127.16.0.2", host_ip="127.0.0.1",
        node_allocatable={}, service_env=api_server_env(serving(6443)),
    )
    assert resolved.env["KUBERNETES_SERVICE_PORT"] == "1234"
    assert resolved.env["KUBERNETES_SERVICE_PORT_HTTPS"] == "6443"
    assert resolved.env["API"] == "https://127.0.0.1:1234"


def test_python_containers_get_the_startup_path_first():
    assert python_startup_env({}) == {"PYTHONPATH": str(STARTUP_DIR)}
    assert python_startup_env({"PYTHONPATH": "/app/lib"}) == {
        "PYTHONPATH": f"{STARTUP_DIR}{os.pathsep}/app/lib"
    }


ENV_PROBE = (
    "import os, sys; "
    "print(os.environ.get('KUBERNETES_SERVICE_HOST'), os.environ.get('KUBERNETES_SERVICE_PORT')); "
    "print(os.environ.get('PYTHONPATH', '').split(os.pathsep)[0])"
)


@pytest.fixture
async def runtime(clock):
    runtime = ProcessRuntime(clock=clock)
    yield runtime
    await runtime.close()


@pytest.mark.parametrize("published", [True, False])
async def test_a_container_sees_the_api_server_it_was_started_with(
    store, clock, tmp_path, runtime, published
):
    endpoint = ApiEndpoint()
    if published:
        endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"CA")
    node = await start_node(store, clock, tmp_path / "home", runtime, api_endpoint=endpoint)
    try:
        pod = make_pod("probe", python("main", ENV_PROBE), restartPolicy="Never",
                       volumes=[{"name": "sa", "emptyDir": {}}])
        pod["spec"]["containers"][0]["volumeMounts"] = [
            {"name": "sa", "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}
        ]
        await node.create(pod)
        await eventually(lambda: phase_is(node, "probe", "Succeeded"), what="probe done")
        first, second = (await node.client.logs("probe", namespace="default")).splitlines()
        assert first == ("127.0.0.1 6443" if published else "None None")
        assert Path(second) == STARTUP_DIR
    finally:
        await node.kubelet.stop()
