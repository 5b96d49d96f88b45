"""The in-process cluster end to end: real processes, real scheduling, real Services.

These tests bring up ``clusters/inprocess/default.yaml`` (or ``gpu.yaml``)
with the real scheduler, kubelets, controllers and service proxy, and check
the behaviours the later Kubeflow components rely on. They run real
processes, so they use the system clock with bounded waits.
"""

from __future__ import annotations

import asyncio
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from sandbox.api.objects import find_condition
from sandbox.backends.inprocess import InProcessCluster

pytestmark = pytest.mark.slow

SERVER = """
import http.server, os, sys
name = os.environ["POD_NAME"]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (name + " " + os.environ.get("GREETING", "")).strip().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
print("serving on", sys.argv[1], flush=True)
http.server.HTTPServer((sys.argv[1], 8080), Handler).serve_forever()
"""


def web_deployment(replicas: int = 3, greeting: str = "hello") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "python:3.11",
                        "command": ["python", "-u", "-c", SERVER],
                        "args": ["$(POD_IP)"],
                        "env": [
                            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            {"name": "GREETING", "value": greeting},
                        ],
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": 8080},
                                           "periodSeconds": 1},
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    }],
                },
            },
        },
    }


def web_service() -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[InProcessCluster]:
    async with InProcessCluster.start("default", home=tmp_path) as running:
        yield running


async def pods(cluster: InProcessCluster, selector: str) -> list[dict]:
    return (await cluster.client.list("v1", "Pod", namespace="default", label_selector=selector))["items"]


async def until(predicate, *, timeout: float = 30.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def ready_pods(cluster: InProcessCluster, selector: str = "app=web") -> list[dict]:
    return [p for p in await pods(cluster, selector)
            if not p["metadata"].get("deletionTimestamp")
            and (find_condition(p, "Ready") or {}).get("status") == "True"]


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def test_deployment_service_scaling_and_rolling_update(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create(web_deployment())
    await client.create(web_service())
    await client.wait_for("apps/v1", "Deployment", "web", condition="Available", timeout=60)
    await until(lambda: _count(ready_pods(cluster), 3), what="3 ready pods")
    running = await ready_pods(cluster)
    assert {p["status"]["phase"] for p in running} == {"Running"}
    assert {p["spec"]["nodeName"] for p in running} == {"worker-1", "worker-2"}

    service = await client.get("v1", "Service", "web")
    url = f"http://{service['spec']['clusterIP']}:80/"
    answers = {await asyncio.to_thread(http_get, url) for _ in range(12)}
    assert {a.split()[0] for a in answers} == {p["metadata"]["name"] for p in running}

    await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 5}})
    await until(lambda: _count(ready_pods(cluster), 5), what="5 ready pods")
    await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 1}})
    await until(lambda: _count(ready_pods(cluster), 1), what="1 ready pod")
    await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 3}})
    await until(lambda: _count(ready_pods(cluster), 3), what="3 ready pods again")

    # A rolling update to a new env value never leaves zero ready pods.
    min_ready = 3
    done = asyncio.Event()

    async def watch_ready() -> None:
        nonlocal min_ready
        while not done.is_set():
            min_ready = min(min_ready, len(await ready_pods(cluster)))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch_ready())
    await client.patch("apps/v1", "Deployment", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "GREETING", "value": "bonjour"}]}]}}}}, patch_type="strategic")

    async def rolled_out() -> bool:
        ready = await ready_pods(cluster)
        if len(ready) != 3:
            return False
        try:
            answers = [await asyncio.to_thread(http_get, url) for _ in range(3)]
        except OSError:
            # A connection the proxy gave an old pod just as it stopped (as
            # with kube-proxy, endpoints follow a deletion a moment later).
            return False
        return all(a.endswith("bonjour") for a in answers)

    await until(rolled_out, timeout=60, what="the rollout")
    done.set()
    await watcher
    assert min_ready >= 1


async def _count(coro, n: int) -> bool:
    return len(await coro) == n


async def test_a_killed_container_process_is_restarted(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper"},
                         "spec": {"containers": [{"name": "main", "image": "busybox",
                                                  "command": ["sh", "-c", "echo up; sleep 300"]}]}})
    pod = await client.wait_for("v1", "Pod", "sleeper", predicate=lambda p: p["status"].get("phase") == "Running", timeout=30)
    pid = cluster.container_pid(pod, "main")
    psutil.Process(pid).kill()
    restarted = await client.wait_for(
        "v1", "Pod", "sleeper", timeout=30,
        predicate=lambda p: p["status"]["containerStatuses"][0]["restartCount"] == 1
        and "running" in p["status"]["containerStatuses"][0]["state"])
    last = restarted["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 137
    assert "up" in await client.logs("sleeper", namespace="default", previous=True)


async def test_a_failing_job_is_retried_up_to_its_backoff_limit(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fails"},
                         "spec": {"backoffLimit": 2, "template": {"spec": {
                             "restartPolicy": "Never",
                             "containers": [{"name": "main", "image": "python:3.11",
                                             "command": ["python", "-c", "import sys; sys.exit(1)"]}]}}}})
    job = await client.wait_for("batch/v1", "Job", "fails", condition="Failed", timeout=60)
    assert find_condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 3


async def test_a_pod_asking_for_too_much_stays_pending_with_the_scheduler_message(
    cluster: InProcessCluster,
) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
                         "spec": {"containers": [{"name": "main", "image": "python:3.11",
                                                  "resources": {"requests": {"cpu": "100"}}}]}})
    pod = await client.wait_for("v1", "Pod", "huge", condition=("PodScheduled", "False"), timeout=30)
    cond = find_condition(pod, "PodScheduled")
    assert cond["reason"] == "Unschedulable"
    assert cond["message"].startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 Insufficient cpu."
    )
    events = await client.list("v1", "Event", field_selector="involvedObject.name=huge,reason=FailedScheduling")
    assert events["items"]


async def test_an_unknown_image_backs_off_with_an_event(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nope"},
                         "spec": {"containers": [{"name": "main", "image": "example.com/no/such:1"}]}})
    await client.wait_for("v1", "Pod", "nope", timeout=30, predicate=lambda p: any(
        (c.get("state", {}).get("waiting") or {}).get("reason") == "ImagePullBackOff"
        for c in p["status"].get("containerStatuses", [])))
    events = await client.list("v1", "Event", field_selector="involvedObject.name=nope")
    messages = " ".join(e["message"] for e in events["items"])
    assert 'Failed to pull image "example.com/no/such:1"' in messages


async def test_a_container_over_its_memory_limit_is_oom_killed(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hog"},
                         "spec": {"restartPolicy": "Never", "containers": [{
                             "name": "main", "image": "python:3.11",
                             "command": ["python", "-c", "x = bytearray(300 * 1024 * 1024); import time; time.sleep(30)"],
                             "resources": {"limits": {"memory": "100Mi"}}}]}})
    pod = await client.wait_for("v1", "Pod", "hog", timeout=30,
                                predicate=lambda p: p["status"].get("phase") == "Failed")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)


async def test_a_failing_liveness_probe_restarts_the_container(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sick"},
                         "spec": {"containers": [{
                             "name": "main", "image": "busybox", "command": ["sleep", "300"],
                             "livenessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1,
                                               "failureThreshold": 2}}]}})
    await client.wait_for("v1", "Pod", "sick", timeout=30, predicate=lambda p: any(
        c.get("restartCount", 0) >= 1 for c in p["status"].get("containerStatuses", [])))
    events = await client.list("v1", "Event", field_selector="involvedObject.name=sick,reason=Unhealthy")
    assert events["items"]


async def test_a_crash_looping_container_backs_off(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crashy"},
                         "spec": {"containers": [{"name": "main", "image": "busybox",
                                                  "command": ["sh", "-c", "echo boom; exit 3"]}]}})
    pod = await client.wait_for("v1", "Pod", "crashy", timeout=30, predicate=lambda p: any(
        (c.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
        for c in p["status"].get("containerStatuses", [])))
    status = pod["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert "back-off" in status["state"]["waiting"]["message"]


async def test_deleting_a_namespace_removes_objects_and_processes(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "team"}})
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team"},
                         "spec": {"terminationGracePeriodSeconds": 1,
                                  "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "300"]}]}})
    pod = await client.wait_for("v1", "Pod", "p", namespace="team", timeout=30,
                                predicate=lambda p: p["status"].get("phase") == "Running")
    pid = cluster.container_pid(pod, "main")
    await client.delete("v1", "Namespace", "team")
    await client.wait_for("v1", "Namespace", "team", deleted=True, timeout=60)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_leaving_the_context_leaves_no_process(tmp_path: Path) -> None:
    async with InProcessCluster.start("default", home=tmp_path) as cluster:
        await cluster.client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                     "spec": {"containers": [{"name": "main", "image": "busybox",
                                                              "command": ["sh", "-c", "sleep 300 & sleep 300"]}]}})
        pod = await cluster.client.wait_for("v1", "Pod", "p", timeout=30,
                                            predicate=lambda p: p["status"].get("phase") == "Running")
        pid = cluster.container_pid(pod, "main")
        tree = [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    await asyncio.sleep(0.2)
    alive = [p for p in tree if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == []


CRASHER = """
import asyncio, sys
from sandbox.backends.inprocess import InProcessCluster

async def main():
    async with InProcessCluster.start("default", home=sys.argv[1]) as cluster:
        await cluster.client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "main", "image": "busybox",
                                     "command": ["sh", "-c", "sleep 300 & sleep 300"]}]}})
        pod = await cluster.client.wait_for("v1", "Pod", "p", timeout=30,
            predicate=lambda p: p["status"].get("phase") == "Running")
        print(cluster.container_pid(pod, "main"), flush=True)
        await asyncio.sleep(300)

asyncio.run(main())
"""


async def test_no_pod_process_survives_a_crashed_caller(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CRASHER, str(tmp_path),
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    pid = int(line)
    tree = [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    proc.kill()
    await proc.wait()

    async def all_gone() -> bool:
        return not [p for p in tree if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]

    await until(all_gone, timeout=10, what="the pod processes to die with their caller")


async def test_the_gpu_node_takes_only_tolerating_gpu_pods(tmp_path: Path) -> None:
    def pod(name: str, *, gpu: bool, tolerate: bool) -> dict:
        spec: dict = {"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "300"],
                                      "resources": {"limits": {"nvidia.com/gpu": "1"}} if gpu else {}}]}
        if tolerate:
            spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}

    async with InProcessCluster.start("gpu", home=tmp_path) as cluster:
        client = cluster.client
        await client.create(pod("trainer", gpu=True, tolerate=True))
        await client.create(pod("plain", gpu=False, tolerate=False))
        await client.create(pod("greedy", gpu=True, tolerate=False))
        trainer = await client.wait_for("v1", "Pod", "trainer", condition="PodScheduled", timeout=30)
        plain = await client.wait_for("v1", "Pod", "plain", condition="PodScheduled", timeout=30)
        greedy = await client.wait_for("v1", "Pod", "greedy", condition=("PodScheduled", "False"), timeout=30)
        assert trainer["spec"]["nodeName"] == "gpu-1"
        assert plain["spec"]["nodeName"].startswith("worker-")
        assert "untolerated taint {nvidia.com/gpu: present}" in find_condition(greedy, "PodScheduled")["message"]


async def test_simulated_nodes_take_pods_through_their_lifecycle_without_processes(tmp_path: Path) -> None:
    from sandbox.cluster.config import ClusterConfig

    config = ClusterConfig.model_validate({
        "name": "sim", "zygote": False,
        "nodes": [{"name": "sim", "count": 3, "runtime": "simulated",
                   "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"}}],
    })
    async with InProcessCluster.start(config, home=tmp_path) as cluster:
        client = cluster.client
        deployment = web_deployment(replicas=10)
        del deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        await client.create(deployment)
        await client.wait_for("apps/v1", "Deployment", "web", timeout=30,
                              predicate=lambda d: d.get("status", {}).get("readyReplicas") == 10)
        running = await pods(cluster, "app=web")
        assert {p["spec"]["nodeName"] for p in running} == {"sim-0", "sim-1", "sim-2"}
        assert all(p["status"]["phase"] == "Running" for p in running)
        assert all(cluster.kubelets[p["spec"]["nodeName"]].workers[p["metadata"]["uid"]].runs["web"].handle.pid is None
                   for p in running)


async def test_a_gang_that_does_not_fit_schedules_none_of_its_pods(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup",
                         "metadata": {"name": "trainers"}, "spec": {"minMember": 3}})
    # Each worker has 4 CPUs: two 3-CPU pods fit, the third does not.
    for i in range(3):
        await client.create({"apiVersion": "v1", "kind": "Pod",
                             "metadata": {"name": f"trainer-{i}",
                                          "labels": {"scheduling.x-k8s.io/pod-group": "trainers"}},
                             "spec": {"containers": [{"name": "main", "image": "busybox",
                                                      "command": ["sleep", "300"],
                                                      "resources": {"requests": {"cpu": "3"}}}]}})
    for i in range(3):
        await client.wait_for("v1", "Pod", f"trainer-{i}", condition=("PodScheduled", "False"), timeout=30)
    await asyncio.sleep(0.5)
    bound = [p["metadata"]["name"] for p in await pods(cluster, "scheduling.x-k8s.io/pod-group=trainers")
             if p["spec"].get("nodeName")]
    assert bound == []


async def test_logs_outlive_their_pod(cluster: InProcessCluster) -> None:
    client = cluster.client
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "once"},
                         "spec": {"restartPolicy": "Never", "containers": [{
                             "name": "main", "image": "python:3.11",
                             "command": ["python", "-c", "print('last words')"]}]}})
    await client.wait_for("v1", "Pod", "once", timeout=30,
                          predicate=lambda p: p["status"].get("phase") == "Succeeded")
    await client.delete("v1", "Pod", "once")
    await client.wait_for("v1", "Pod", "once", deleted=True, timeout=30)
    assert await client.logs("once", namespace="default") == "last words\n"
