"""The kubelet of a node: which pods it runs, addresses, removal, shutdown, simulated nodes."""

from __future__ import annotations

import asyncio
import os

import psutil
import pytest
from kubelet_helpers import (
    condition,
    container_status,
    eventually,
    make_pod,
    phase_is,
    python,
    shell,
    start_node,
)

from sandbox.cluster.kubelet.worker import SIMULATED_DURATION_ANNOTATION, ZYGOTE_ANNOTATION
from sandbox.cluster.runtime.process import ProcessRuntime
from sandbox.cluster.runtime.simulated import SimulatedRuntime
from sandbox.cluster.runtime.zygote import ZygoteRuntime


@pytest.fixture
async def node(store, clock, tmp_path):
    runtime = ProcessRuntime(clock=clock)
    node = await start_node(store, clock, tmp_path / "home", runtime)
    yield node
    await node.kubelet.stop()
    await runtime.close()


def pids_of(node, name_uid) -> list[int]:
    worker = node.kubelet.workers[name_uid]
    return [run.handle.pid for run in worker.runs.values()]


async def running(node, name):
    return await phase_is(node, name, "Running")


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_only_pods_bound_to_this_node_are_run(node):
    await node.create(make_pod("elsewhere", shell("main", "true"), node="node-2"))
    await node.create(make_pod("unbound", shell("main", "true"), node=None))
    await node.create(make_pod("here", shell("main", "sleep 30")))
    await eventually(lambda: running(node, "here"), what="running")
    assert [w.name for w in node.kubelet.workers.values()] == ["here"]
    assert len(node.kubelet.informer) == 1  # the watch itself is scoped to the node
    for name in ("elsewhere", "unbound"):
        assert not ((await node.get(name)).get("status") or {}).get("containerStatuses")


async def test_each_pod_gets_its_own_address_released_when_it_is_gone(node):
    for name in ("a", "b"):
        await node.create(make_pod(name, shell("main", "sleep 30")))
    a = await eventually(lambda: running(node, "a"), what="a running")
    b = await eventually(lambda: running(node, "b"), what="b running")
    assert a["status"]["podIP"] != b["status"]["podIP"]
    assert a["status"]["podIPs"] == [{"ip": a["status"]["podIP"]}]
    assert a["status"]["hostIP"] == "127.0.0.1"

    uid = a["metadata"]["uid"]
    [pid] = pids_of(node, uid)
    await node.client.delete("v1", "Pod", "a", namespace="default", grace_period_seconds=0)
    await eventually(lambda: _worker_gone(node, uid), what="worker gone")
    assert not alive(pid)
    ips = node.kubelet.context.ips
    assert a["status"]["podIP"] not in ips._used and b["status"]["podIP"] in ips._used


async def _worker_gone(node, uid):
    return uid not in node.kubelet.workers


async def test_a_pod_recreated_under_the_same_name_gets_a_fresh_worker(node):
    await node.create(make_pod("again", shell("main", "echo first"), restartPolicy="Never"))
    first = await eventually(lambda: phase_is(node, "again", "Succeeded"), what="first run")
    await node.client.delete("v1", "Pod", "again", namespace="default")
    await eventually(lambda: _worker_gone(node, first["metadata"]["uid"]), what="first gone")
    await asyncio.sleep(0.05)
    await node.create(make_pod("again", shell("main", "echo second"), restartPolicy="Never"))
    second = await eventually(lambda: phase_is(node, "again", "Succeeded"), what="second run")
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert await node.client.logs("again", namespace="default") == "second\n"


async def test_a_changed_image_restarts_the_running_container(node):
    await node.create(make_pod("upgrade", shell("main", "sleep 30")))
    pod = await eventually(lambda: running(node, "upgrade"), what="running")
    pod["spec"]["containers"][0]["image"] = "alpine:3.20"
    await node.client.replace(pod)

    async def restarted():
        pod = await node.get("upgrade")
        status = container_status(pod, "main")
        ok = status["restartCount"] == 1 and "running" in status["state"]
        return pod if ok and status["image"] == "alpine:3.20" else None

    await eventually(restarted, what="restart with the new image")
    assert "Container main definition changed, will be restarted" in await node.messages("Killing")


async def test_stop_leaves_no_process_behind(store, clock, tmp_path):
    runtime = ProcessRuntime(clock=clock)
    node = await start_node(store, clock, tmp_path / "home", runtime)
    await node.create(make_pod("tree", shell("main", "sleep 60 & sleep 60 & wait")))
    await node.create(make_pod("plain", shell("main", "sleep 60")))
    pods = [await eventually(lambda n=n: running(node, n), what=n) for n in ("tree", "plain")]
    pids = [pid for pod in pods for pid in pids_of(node, pod["metadata"]["uid"])]
    tree = [p.pid for pid in pids for p in psutil.Process(pid).children(recursive=True)]
    assert len(tree) >= 2

    await node.kubelet.stop()
    assert not any(alive(pid) for pid in pids + tree)
    assert not [p for p in psutil.Process(os.getpid()).children(recursive=True) if p.pid in pids + tree]
    await runtime.close()


async def test_simulated_nodes_run_pods_without_processes(store, clock, tmp_path):
    runtime = SimulatedRuntime(clock=clock)
    node = await start_node(store, clock, tmp_path / "home", runtime)
    try:
        forever = make_pod("forever", shell("main", "ignored"),
                           volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}])
        forever["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"port": 80}}
        await node.create(forever)
        job = make_pod("job", shell("main", "ignored"), restartPolicy="Never")
        job["metadata"]["annotations"] = {SIMULATED_DURATION_ANNOTATION: "30"}
        await node.create(job)

        pod = await eventually(lambda: running(node, "forever"), what="forever running")
        assert condition(pod, "Ready")["status"] == "True"
        assert pod["status"]["podIP"].startswith("127.16.0.")
        assert not (tmp_path / "home" / "pods").exists()
        await eventually(lambda: running(node, "job"), what="job running")
        await clock.advance(30)
        done = await eventually(lambda: phase_is(node, "job", "Succeeded"), what="job done")
        assert container_status(done, "main")["state"]["terminated"]["reason"] == "Completed"
        assert await node.client.logs("job", namespace="default") == "simulated container main started\n"
    finally:
        await node.kubelet.stop()
        await runtime.close()


async def test_the_zygote_annotation_forks_a_pods_python_containers_from_the_minimal_zygote(store, clock, tmp_path):
    runtime = ZygoteRuntime(preload=("json", "decimal"), minimal_preload=("json",), clock=clock)
    node = await start_node(store, clock, tmp_path / "home", runtime)
    try:
        code = "import os, sys; print(os.getppid(), 'decimal' in sys.modules)"
        light = make_pod("light", python("main", code), restartPolicy="Never")
        light["metadata"]["annotations"] = {ZYGOTE_ANNOTATION: "minimal"}
        await node.create(light)
        await node.create(make_pod("default", python("main", code), restartPolicy="Never"))
        for name in ("light", "default"):
            await eventually(lambda name=name: phase_is(node, name, "Succeeded"), what=f"{name} done")
        assert await node.client.logs("light", namespace="default") == f"{runtime.pid_of('minimal')} False\n"
        assert await node.client.logs("default", namespace="default") == f"{runtime.zygote_pid} True\n"
    finally:
        await node.kubelet.stop()
        await runtime.close()
