"""A pod uses the official client's load_incluster_config() against the sandbox's REST API.

The whole chain: ServiceAccount admission mounts kube-api-access, the
root-ca-cert-publisher publishes the API server's CA, the kubelet projects the
default account's token, sets KUBERNETES_SERVICE_* and maps the client's
hard-coded paths; the API server authenticates the token and RBAC lets the
account list pods because of a RoleBinding the test makes, as a user would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandbox.backends.inprocess import InProcessCluster
from sandbox.backends.inprocess.apiserver.server import ApiServer

pytestmark = pytest.mark.slow

LIST_PODS = (
    "from kubernetes import client, config; config.load_incluster_config(); "
    "print([p.metadata.name for p in client.CoreV1Api().list_namespaced_pod('default').items])"
)

POD_READER = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
     "metadata": {"name": "pod-reader", "namespace": "default"},
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "default-reads-pods", "namespace": "default"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
     "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]},
]


async def test_a_pod_lists_its_namespaces_pods_with_load_incluster_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with InProcessCluster.start("default", home=home) as cluster:
        api = ApiServer(cluster, home=home)
        await api.start()
        try:
            client = cluster.client
            for body in POD_READER:
                await client.create(body)
            await client.create({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "lister", "namespace": "default"},
                "spec": {"restartPolicy": "Never", "containers": [{
                    "name": "main", "image": "python:3.11", "command": ["python", "-c", LIST_PODS],
                }]},
            })
            phase = await _finished(cluster)
            logs = await client.logs("lister", namespace="default")
            assert phase == "Succeeded", await _story(cluster, logs)
            assert logs == "['lister']\n"
        finally:
            await api.stop()


async def _finished(cluster: InProcessCluster, timeout: float = 60.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pod = await cluster.client.get("v1", "Pod", "lister", namespace="default")
        phase = (pod.get("status") or {}).get("phase", "")
        if phase in ("Succeeded", "Failed") or asyncio.get_running_loop().time() > deadline:
            return phase
        await asyncio.sleep(0.1)


async def _story(cluster: InProcessCluster, logs: str) -> str:
    events = (await cluster.client.list("v1", "Event", namespace="default"))["items"]
    lines = [f"{e['reason']}: {e['message']}" for e in events
             if e["involvedObject"].get("name") == "lister"]
    return "\n".join([*lines, "--- logs ---", logs])
