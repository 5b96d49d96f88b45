"""``/sandbox/v1/faults/...``: killing a container's process and pausing a controller.

These run a whole in-process cluster (real container processes, the real
kubelets and controllers) on a fake clock, with the REST API in front of it
through the ASGI transport.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apiserver_helpers import api_client

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.backends.inprocess.apiserver.auth import Authenticator, TokenFile
from sandbox.backends.inprocess.apiserver.bootstrap import ensure_default_rbac
from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.clock import FakeClock, format_time
from sandbox.store import Store

KILL = "/sandbox/v1/faults/kill-process"
PAUSE = "/sandbox/v1/faults/pause-controller"
RESUME = "/sandbox/v1/faults/resume-controller"
RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture
async def cluster(tmp_path: Path, clock: FakeClock) -> AsyncIterator[InProcessCluster]:
    async with InProcessCluster.start("default", home=tmp_path / "home", clock=clock) as running:
        yield running


@pytest.fixture
def app(cluster: InProcessCluster, clock: FakeClock) -> Any:
    return create_app(store=cluster.store, log_source=cluster.client.log_source, clock=clock,
                      faults=cluster)


async def eventually(check: Callable[[], Awaitable[Any]], clock: FakeClock, *,
                     what: str, timeout: float = 20.0) -> Any:
    """Poll ``check`` (real time, for the processes) while fake time moves on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await clock.advance(0.2)
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def sleeper(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36",
                                     "command": ["sh", "-c", "sleep 600"]}], **spec}}


async def running_container(cluster: InProcessCluster, name: str, restarts: int = 0) -> Any:
    pod = await cluster.client.get("v1", "Pod", name, namespace="default")
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    ok = statuses and "running" in statuses[0]["state"] and statuses[0]["restartCount"] == restarts
    return statuses[0] if ok else None


# kill-process --------------------------------------------------------------------------


async def test_a_killed_container_is_restarted_by_the_kubelet(
    app: Any, cluster: InProcessCluster, clock: FakeClock
) -> None:
    await cluster.client.create(sleeper("victim"))
    await eventually(lambda: running_container(cluster, "victim"), clock, what="running")
    pod = await cluster.client.get("v1", "Pod", "victim", namespace="default")
    pid = cluster.container_pid(pod, "main")

    async with api_client(app) as c:
        r = await c.post(KILL, json={"namespace": "default", "pod": "victim"})
    assert r.status_code == 200, r.text
    assert r.json() == {"pid": pid, "container": "main", "signal": "SIGKILL"}

    status = await eventually(lambda: running_container(cluster, "victim", restarts=1), clock,
                              what="restartCount 1")
    assert status["lastState"]["terminated"]["exitCode"] == 137
    events = (await cluster.client.list("v1", "Event", namespace="default"))["items"]
    [fault] = [e for e in events if e["reason"] == "FaultInjected"]
    assert fault["type"] == "Warning" and fault["involvedObject"]["name"] == "victim"
    assert fault["message"] == (
        f"Sent SIGKILL to process {pid} of container main (sandbox fault injection)")


async def test_a_named_container_gets_the_signal_asked_for(
    app: Any, cluster: InProcessCluster, clock: FakeClock
) -> None:
    pod = sleeper("pair")
    pod["spec"]["containers"].append({"name": "side", "image": "busybox:1.36",
                                      "command": ["sh", "-c", "sleep 600"]})
    await cluster.client.create(pod)

    async def both_running() -> bool:
        got = await cluster.client.get("v1", "Pod", "pair", namespace="default")
        statuses = (got.get("status") or {}).get("containerStatuses") or ()
        return len(statuses) == 2 and all("running" in s["state"] for s in statuses)

    await eventually(both_running, clock, what="both containers running")
    async with api_client(app) as c:
        r = await c.post(KILL, json={"namespace": "default", "pod": "pair", "container": "side",
                                     "signal": "TERM"})
    assert r.status_code == 200 and r.json()["container"] == "side"
    assert r.json()["signal"] == "SIGTERM"

    async def side_restarted() -> Any:
        got = await cluster.client.get("v1", "Pod", "pair", namespace="default")
        side = next(s for s in got["status"]["containerStatuses"] if s["name"] == "side")
        return side if side["restartCount"] == 1 else None

    side = await eventually(side_restarted, clock, what="side restarted")
    assert side["lastState"]["terminated"]["exitCode"] == 143


async def test_kill_process_errors(app: Any, cluster: InProcessCluster, clock: FakeClock) -> None:
    await cluster.client.create(sleeper("done") | {"spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}]}})
    await cluster.client.create(sleeper("nowhere", nodeSelector={"no": "such-node"}))

    async def finished() -> bool:
        pod = await cluster.client.get("v1", "Pod", "done", namespace="default")
        return (pod.get("status") or {}).get("phase") == "Succeeded"

    await eventually(finished, clock, what="Succeeded")
    async with api_client(app) as c:
        missing = await c.post(KILL, json={"namespace": "default", "pod": "nope"})
        exited = await c.post(KILL, json={"namespace": "default", "pod": "done"})
        unscheduled = await c.post(KILL, json={"namespace": "default", "pod": "nowhere"})
        container = await c.post(KILL, json={"namespace": "default", "pod": "done",
                                             "container": "other"})
        bad_signal = await c.post(KILL, json={"namespace": "default", "pod": "done",
                                              "signal": "SIGNOPE"})
        no_pod = await c.post(KILL, json={"namespace": "default"})
        not_json = await c.post(KILL, content=b"[1, 2]")
        get = await c.get(KILL)
    assert (missing.status_code, missing.json()["message"]) == (404, 'pods "nope" not found')
    assert exited.status_code == 409 and exited.json()["reason"] == "Conflict"
    assert exited.json()["message"] == (
        "container main of pod default/done has no running process (phase Succeeded)")
    assert unscheduled.status_code == 409
    assert "not scheduled to a node yet" in unscheduled.json()["message"]
    assert container.status_code == 400
    assert container.json()["message"] == (
        "container other is not valid for pod done (containers: main)")
    assert (bad_signal.status_code, bad_signal.json()["message"]) == (
        400, 'unknown signal "SIGNOPE"')
    assert (no_pod.status_code, no_pod.json()["message"]) == (400, "pod is required")
    assert not_json.status_code == 400
    assert get.status_code == 405


# pause-controller ------------------------------------------------------------------------


def deployment(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "main", "image": "busybox:1.36",
                                                       "command": ["sh", "-c", "sleep 600"]}]}}},
    }


async def replicaset_replicas(cluster: InProcessCluster) -> int | None:
    listed = await cluster.client.list("apps/v1", "ReplicaSet", namespace="default")
    return listed["items"][0]["spec"]["replicas"] if listed["items"] else None


async def test_pausing_the_deployment_controller_holds_a_scale_until_it_resumes(
    app: Any, cluster: InProcessCluster, clock: FakeClock
) -> None:
    client = cluster.client
    await client.create(deployment(1))

    async def replicas_are(n: int) -> bool:
        return await replicaset_replicas(cluster) == n

    await eventually(lambda: replicas_are(1), clock, what="ReplicaSet with 1 replica")
    async with api_client(app) as c:
        r = await c.post(PAUSE, json={"controller": "deployment", "seconds": 20})
    assert r.status_code == 200, r.text
    assert r.json() == {"controller": "deployment",
                        "pausedUntil": format_time(clock.now() + timedelta(seconds=20))}

    await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 3}})
    for _ in range(18):
        await clock.advance(1)
        await asyncio.sleep(0.01)
    assert await replicaset_replicas(cluster) == 1  # the scale waits for the controller
    await eventually(lambda: replicas_are(3), clock, what="ReplicaSet scaled after the pause")


async def test_resume_controller_ends_the_pause_early(
    app: Any, cluster: InProcessCluster, clock: FakeClock
) -> None:
    client = cluster.client
    await client.create(deployment(1))
    await eventually(lambda: replicaset_replicas(cluster), clock, what="ReplicaSet")
    async with api_client(app) as c:
        await c.post(PAUSE, json={"controller": "deployment", "seconds": 3600})
        await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 2}})
        await clock.advance(5)
        assert await replicaset_replicas(cluster) == 1
        r = await c.post(RESUME, json={"controller": "deployment"})
    assert r.status_code == 200 and r.json() == {"controller": "deployment", "pausedUntil": None}

    async def two() -> bool:
        return await replicaset_replicas(cluster) == 2

    await eventually(two, clock, what="ReplicaSet scaled after resume")


async def test_pause_controller_errors(app: Any, cluster: InProcessCluster) -> None:
    async with api_client(app) as c:
        unknown = await c.post(PAUSE, json={"controller": "deploy", "seconds": 5})
        zero = await c.post(PAUSE, json={"controller": "deployment", "seconds": 0})
        text = await c.post(PAUSE, json={"controller": "deployment", "seconds": "5"})
        nameless = await c.post(RESUME, json={})
        other = await c.post("/sandbox/v1/faults/unplug-node", json={})
    assert unknown.status_code == 404 and unknown.json()["reason"] == "NotFound"
    assert unknown.json()["message"].startswith("no controller named 'deploy' (known controllers: ")
    assert "deployment, endpoints" in unknown.json()["message"]
    assert zero.status_code == 400 and text.status_code == 400
    assert (nameless.status_code, nameless.json()["message"]) == (400, "controller is required")
    assert other.status_code == 404


# Who may -----------------------------------------------------------------------------------


async def test_faults_need_rbac_on_their_urls(
    cluster: InProcessCluster, clock: FakeClock, tmp_path: Path
) -> None:
    store = cluster.store
    ensure_default_rbac(store)
    tokens = TokenFile(tmp_path / "tokens.csv")
    admin = tokens.add_user("kubernetes-admin", groups=("system:masters",))
    alice = tokens.add_user("alice")
    app = create_app(store=store, authenticator=Authenticator(tokens=tokens, store=store),
                     clock=clock, faults=cluster)
    store.create(RBAC, "ClusterRoleBinding", {
        "metadata": {"name": "alice-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "admin"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    body = {"controller": "job", "seconds": 5}
    async with api_client(app, token=alice) as c:
        denied = await c.post(PAUSE, json=body)
        denied_kill = await c.post(KILL, json={"namespace": "default", "pod": "x"})
    async with api_client(app, token=admin) as c:
        allowed = await c.post(PAUSE, json=body)
    assert denied.status_code == 403
    assert denied.json()["message"] == (
        'forbidden: User "alice" cannot post path "/sandbox/v1/faults/pause-controller"')
    assert denied_kill.status_code == 403
    assert allowed.status_code == 200

    store.create(RBAC, "ClusterRole", {
        "metadata": {"name": "fault-injector"},
        "rules": [{"nonResourceURLs": ["/sandbox/v1/faults/*"], "verbs": ["post"]}]})
    store.create(RBAC, "ClusterRoleBinding", {
        "metadata": {"name": "alice-faults"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "fault-injector"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    async with api_client(app, token=alice) as c:
        granted = await c.post(RESUME, json={"controller": "job"})
    assert granted.status_code == 200


async def test_an_app_without_a_cluster_serves_no_faults(store: Store) -> None:
    app = create_app(store=store)
    async with api_client(app) as c:
        r = await c.post(PAUSE, json={"controller": "deployment", "seconds": 5})
    assert r.status_code == 404 and r.json()["kind"] == "Status"
