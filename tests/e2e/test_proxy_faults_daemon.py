"""``services/proxy``, ``pods/proxy`` and the fault endpoints against a real ``sandbox up`` daemon.

kubectl reaches a pod's HTTP server through the API server (``get --raw``),
as on a real cluster; the sandbox's own client does the same with
:meth:`KubeClient.request`, and injects a fault the kubelet then repairs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from apiserver_e2e_helpers import have_kubectl, kubectl, running_daemon, write

from sandbox.client.kube import KubeClient

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_kubectl(), reason="kubectl 1.27/1.31/1.33 binaries not installed"),
]

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: python:3.11
        command: ["python", "-m", "http.server", "8080", "--bind", "$(POD_IP)"]
        env:
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: default}
spec:
  selector: {app: nobody}
  ports: [{port: 80}]
"""


async def until(check: Callable[[], Awaitable[Any]], *, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_kubectl_reaches_a_pod_through_the_service_and_pod_proxy(tmp_path: Path) -> None:
    async with running_daemon(tmp_path / "home") as daemon:
        manifest = write(tmp_path, "web.yaml", WEB)
        await kubectl(daemon, "apply", "-f", str(manifest))
        async with KubeClient.from_kubeconfig(daemon.kubeconfig_path) as client:

            async def ready_endpoint() -> bool:
                endpoints = await client.get("v1", "Endpoints", "web", namespace="default")
                return any(s.get("addresses") for s in endpoints.get("subsets") or ())

            await until(ready_endpoint, what="a ready endpoint of web")
            listing = await kubectl(daemon, "get", "--raw",
                                    "/api/v1/namespaces/default/services/web:80/proxy/")
            assert "Directory listing for /" in listing.out, listing

            [pod] = (await client.list("v1", "Pod", namespace="default",
                                       label_selector="app=web"))["items"]
            name = pod["metadata"]["name"]
            direct = await kubectl(daemon, "get", "--raw",
                                   f"/api/v1/namespaces/default/pods/{name}:8080/proxy/")
            assert "Directory listing for /" in direct.out

            idle = await kubectl(daemon, "get", "--raw",
                                 "/api/v1/namespaces/default/services/idle/proxy/", check=False)
            assert (idle.code, idle.err.strip()) == (
                1, 'Error from server (ServiceUnavailable): no endpoints available for service "idle"')

            # The sandbox's own client: the same proxy, then a fault the kubelet repairs.
            answer = await client.request(
                "GET", "/api/v1/namespaces/default/services/web:http/proxy/")
            assert answer.status_code == 200 and "Directory listing" in answer.text
            killed = await client.request("POST", "/sandbox/v1/faults/kill-process",
                                          json={"namespace": "default", "pod": name})
            assert killed.status_code == 200, killed.text
            assert killed.json()["container"] == "main"

            async def restarted() -> bool:
                got = await client.get("v1", "Pod", name, namespace="default")
                [status] = got["status"]["containerStatuses"]
                return status["restartCount"] == 1 and status.get("ready") is True

            await until(restarted, what="the killed container restarted and ready")
            again = await kubectl(daemon, "get", "--raw",
                                  "/api/v1/namespaces/default/services/web:80/proxy/")
            assert "Directory listing for /" in again.out
