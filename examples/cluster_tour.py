"""``make demo`` (until the tutorial scenario exists): a tour of the in-process cluster.

Everything here really happens: the cluster from ``clusters/inprocess/default.yaml``
comes up in this process (API server core, controllers, scheduler, a kubelet per
node), and the pods are real processes on this machine. The tour:

1. the nodes, as ``kubectl get nodes`` would list them;
2. a Deployment of three small Python web servers behind a Service, reached
   through the Service's cluster IP — each answer names the pod that served it;
3. scaling, and self-healing when a pod's process is killed;
4. a Job that fails and is retried up to its ``backoffLimit``;
5. a pod that asks for more CPU than any node has, and the scheduler's reason;
6. the events a user would read to understand all of that.

Run it with ``make demo`` or ``.venv/bin/python examples/cluster_tour.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
import urllib.request
from typing import Any

from sandbox.api.objects import find_condition
from sandbox.backends.inprocess import InProcessCluster
from sandbox.client import Client

SERVER = """
import http.server, os, sys
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from {os.environ['POD_NAME']}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        print("request", self.path, flush=True)
print("listening on", sys.argv[1], flush=True)
http.server.HTTPServer((sys.argv[1], 8080), Hello).serve_forever()
"""

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "hello", "namespace": "default"},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "hello"}},
        "template": {
            "metadata": {"labels": {"app": "hello"}},
            "spec": {"containers": [{
                "name": "web", "image": "python:3.11",
                "command": ["python", "-u", "-c", SERVER], "args": ["$(POD_IP)"],
                "env": [
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                ],
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 1},
                "resources": {"requests": {"cpu": "250m", "memory": "64Mi"},
                              "limits": {"memory": "256Mi"}},
            }]},
        },
    },
}

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hello", "namespace": "default"},
           "spec": {"selector": {"app": "hello"}, "ports": [{"port": 80, "targetPort": "http"}]}}

T0 = time.perf_counter()


def say(text: str) -> None:
    print(f"\n[{time.perf_counter() - T0:5.1f}s] == {text}", flush=True)


def table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("   " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


async def show_pods(client: Client, selector: str | None = None) -> None:
    pods = (await client.list("v1", "Pod", namespace="default", label_selector=selector))["items"]
    rows = [["NAME", "READY", "STATUS", "RESTARTS", "IP", "NODE"]]
    for pod in pods:
        statuses = pod["status"].get("containerStatuses", [])
        ready = sum(1 for s in statuses if s.get("ready"))
        waiting = next((s["state"]["waiting"]["reason"] for s in statuses if "waiting" in s.get("state", {})), None)
        phase = "Terminating" if pod["metadata"].get("deletionTimestamp") else waiting or pod["status"].get("phase", "")
        rows.append([pod["metadata"]["name"], f"{ready}/{len(pod['spec']['containers'])}", phase,
                     str(sum(s.get("restartCount", 0) for s in statuses)),
                     pod["status"].get("podIP", "<none>"), pod["spec"].get("nodeName", "<none>")])
    table(rows)


async def ready_count(client: Client) -> int:
    pods = (await client.list("v1", "Pod", namespace="default", label_selector="app=hello"))["items"]
    return sum(1 for p in pods if not p["metadata"].get("deletionTimestamp")
               and (find_condition(p, "Ready") or {}).get("status") == "True")


async def wait_ready(client: Client, n: int, timeout: float = 60) -> None:
    await client.wait_for("apps/v1", "Deployment", "hello", timeout=timeout, predicate=lambda d: (
        d.get("status", {}).get("readyReplicas") == n and d["status"].get("replicas") == n
        and d["status"].get("updatedReplicas") == n))


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode().strip()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kf-sandbox-demo-") as home:
        async with InProcessCluster.start("default", home=home) as cluster:
            client = cluster.client
            say(f"Cluster {cluster.config.name!r} is up (sandbox home {home})")
            nodes = (await client.list("v1", "Node"))["items"]
            rows = [["NAME", "STATUS", "ROLES", "CPU", "MEMORY", "TAINTS"]]
            for node in nodes:
                labels = node["metadata"]["labels"]
                role = "control-plane" if "node-role.kubernetes.io/control-plane" in labels else "<none>"
                taints = ",".join(f"{t['key']}:{t['effect']}" for t in node["spec"].get("taints", [])) or "<none>"
                rows.append([node["metadata"]["name"], "Ready", role, node["status"]["allocatable"]["cpu"],
                             node["status"]["allocatable"]["memory"], taints])
            table(rows)

            say("kubectl apply: a Deployment of 3 Python web servers and a Service")
            await client.create(DEPLOYMENT)
            await client.create(SERVICE)
            await wait_ready(client, 3)
            await show_pods(client, "app=hello")
            service = await client.get("v1", "Service", "hello")
            endpoints = await client.get("v1", "Endpoints", "hello")
            addresses = [a["ip"] for s in endpoints.get("subsets", []) for a in s.get("addresses", [])]
            print(f"   Service hello: ClusterIP {service['spec']['clusterIP']}, port 80 → endpoints "
                  f"{', '.join(f'{ip}:8080' for ip in sorted(addresses))}")

            say(f"curl http://{service['spec']['clusterIP']}/ six times: the Service balances over the pods")
            url = f"http://{service['spec']['clusterIP']}/"
            for _ in range(6):
                print("   " + await asyncio.to_thread(get, url))

            say("kubectl scale deployment hello --replicas=5")
            await client.patch("apps/v1", "Deployment", "hello", {"spec": {"replicas": 5}})
            await wait_ready(client, 5)
            await show_pods(client, "app=hello")

            say("Kill one pod's process (kill -9): the kubelet restarts the container")
            victim = (await client.list("v1", "Pod", label_selector="app=hello"))["items"][0]
            name = victim["metadata"]["name"]
            os.kill(cluster.container_pid(victim, "web"), signal.SIGKILL)
            await client.wait_for("v1", "Pod", name, timeout=30, predicate=lambda p: any(
                s.get("restartCount") == 1 and s.get("ready") for s in p["status"].get("containerStatuses", [])))
            pod = await client.get("v1", "Pod", name)
            last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
            print(f"   {name}: restartCount=1, last state terminated exitCode={last['exitCode']} ({last['reason']})")
            print("   its previous log: " + (await client.logs(name, namespace="default", previous=True)).splitlines()[0])

            say("A Job whose container exits 1, with backoffLimit 2")
            await client.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "flaky"},
                                 "spec": {"backoffLimit": 2, "template": {"spec": {
                                     "restartPolicy": "Never", "containers": [{
                                         "name": "main", "image": "python:3.11",
                                         "command": ["python", "-c", "print('training...'); raise SystemExit(1)"]}]}}}})
            job = await client.wait_for("batch/v1", "Job", "flaky", condition="Failed", timeout=60)
            cond = find_condition(job, "Failed")
            print(f"   Job flaky: {job['status'].get('failed')} failed pods; condition Failed "
                  f"({cond['reason']}): {cond['message']}")

            say("A pod that asks for 100 CPUs")
            await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "greedy"},
                                 "spec": {"containers": [{"name": "main", "image": "python:3.11",
                                                          "resources": {"requests": {"cpu": "100"}}}]}})
            pod = await client.wait_for("v1", "Pod", "greedy", condition=("PodScheduled", "False"), timeout=30)
            cond = find_condition(pod, "PodScheduled")
            print(f"   greedy is {pod['status']['phase']}: {cond['reason']}: {cond['message']}")

            say("kubectl get events (the last 12)")
            events = (await client.list("v1", "Event", namespace="default"))["items"]
            # Within one second, the order the events were written (resourceVersion).
            events.sort(key=lambda e: (e.get("lastTimestamp") or "",
                                       int(e["metadata"].get("resourceVersion") or 0)))
            rows = [["TYPE", "REASON", "OBJECT", "MESSAGE"]]
            for ev in events[-12:]:
                obj = ev["involvedObject"]
                message = ev["message"] if len(ev["message"]) < 90 else ev["message"][:87] + "..."
                rows.append([ev["type"], ev["reason"], f"{obj['kind'].lower()}/{obj['name']}", message])
            table(rows)
            say("Leaving the cluster: every pod process is stopped")
    print("   done", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
