"""A pod's life on a node, with real processes (the process runtime) on a fake clock."""

from __future__ import annotations

import asyncio
import base64
import os
import signal

import psutil
import pytest
from kubelet_helpers import (
    Node,
    condition,
    container_status,
    eventually,
    make_pod,
    phase_is,
    python,
    shell,
    start_node,
)

from sandbox.api.errors import NotFound
from sandbox.client.memory import MemoryClient
from sandbox.cluster.config import Lifecycle
from sandbox.cluster.runtime.process import ProcessRuntime

LIFECYCLE = Lifecycle(
    crash_loop_base_delay=10, crash_loop_max_delay=40,
    image_pull_base_delay=5, image_pull_max_delay=20, memory_check_interval=0.2,
)


@pytest.fixture
async def node(store, clock, tmp_path):
    runtime = ProcessRuntime(clock=clock)
    node = await start_node(store, clock, tmp_path / "home", runtime, lifecycle=LIFECYCLE)
    yield node
    await node.kubelet.stop()
    await runtime.close()


def phase_is_running(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running"


async def logs(node: Node, name: str, **options) -> str:
    return await node.client.logs(name, namespace="default", **options)


def run_of(node: Node, pod: dict, container: str):
    worker = node.kubelet.workers[pod["metadata"]["uid"]]
    return worker.runs[container]


async def test_a_python_pod_succeeds_and_its_log_is_readable(node):
    await node.create(make_pod("hello", python("main", "print('hello')"), restartPolicy="Never"))
    pod = await eventually(lambda: phase_is(node, "hello", "Succeeded", "Failed"), what="phase")
    assert pod["status"]["phase"] == "Succeeded"
    state = container_status(pod, "main")["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (0, "Completed")
    assert await logs(node, "hello") == "hello\n"
    assert condition(pod, "Ready")["reason"] == "PodCompleted"
    assert pod["status"]["podIP"].startswith("127.16.0.")
    assert await node.messages("Pulled") == ['Container image "python:3.11" already present on machine']
    assert await node.messages("Started") == ["Started container main"]


async def test_exit_1_under_never_fails_the_pod_with_reason_error(node):
    await node.create(make_pod("bad", shell("main", "echo oops >&2; exit 1"), restartPolicy="Never"))
    pod = await eventually(lambda: phase_is(node, "bad", "Succeeded", "Failed"), what="phase")
    assert pod["status"]["phase"] == "Failed"
    state = container_status(pod, "main")["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (1, "Error")
    assert await logs(node, "bad") == "oops\n"


async def test_env_args_expansion_and_downward_api_reach_the_process(node):
    code = "import os, sys; print(sys.argv[1:], os.environ['GREETING'], os.environ['POD_IP'], os.environ['HOSTNAME'])"
    container = python(
        "main", code,
        args=["$(NAME)", "$$(NAME)", "$(UNDEFINED)"],
        env=[
            {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "GREETING", "value": "hi-$(APP)"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
    )
    await node.create(make_pod("envy", container, restartPolicy="Never"))
    pod = await eventually(lambda: phase_is(node, "envy", "Succeeded", "Failed"), what="phase")
    assert await logs(node, "envy") == (
        f"['envy', '$(NAME)', '$(UNDEFINED)'] hi-envy {pod['status']['podIP']} envy\n")


async def test_config_map_and_secret_volumes_and_env_are_seen_at_their_mount_paths(node):
    await node.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                              "data": {"greeting": "hello from a configmap"}})
    await node.client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                              "data": {"token": base64.b64encode(b"s3cr3t").decode()}})
    code = ("import os, sys, sandbox.podenv as p; print(open(sys.argv[1]).read()); "
            "print(open(p.resolve('/etc/creds/token')).read(), os.environ['TOKEN'], os.getcwd() == sys.argv[2])")
    container = python(
        "main", code, args=["/etc/config/greeting", "/work"], workingDir="/work",
        env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}],
        volumeMounts=[{"name": "config", "mountPath": "/etc/config"},
                      {"name": "creds", "mountPath": "/etc/creds", "readOnly": True},
                      {"name": "work", "mountPath": "/work"}],
    )
    await node.create(make_pod(
        "mounts", container, restartPolicy="Never",
        volumes=[{"name": "config", "configMap": {"name": "cfg"}},
                 {"name": "creds", "secret": {"secretName": "creds"}},
                 {"name": "work", "emptyDir": {}}],
    ))
    pod = await eventually(lambda: phase_is(node, "mounts", "Succeeded", "Failed"), what="phase")
    assert await logs(node, "mounts") == "hello from a configmap\ns3cr3t s3cr3t True\n", pod["status"]


async def test_a_host_path_outside_the_home_is_refused_with_an_event(node):
    container = shell("main", "true", volumeMounts=[{"name": "etc", "mountPath": "/host-etc"}])
    await node.create(make_pod("sneaky", container, volumes=[{"name": "etc", "hostPath": {"path": "/etc"}}]))
    messages = await eventually(lambda: node.messages("FailedMount"), what="FailedMount")
    assert messages[0].startswith('MountVolume.SetUp failed for volume "etc" : hostPath "/etc" is '
                                  "outside the sandbox home")
    pod = await node.get("sneaky")
    assert pod["status"]["phase"] == "Pending"
    assert container_status(pod, "main")["state"] == {"waiting": {"reason": "ContainerCreating"}}


async def test_a_missing_config_map_waits_in_create_container_config_error_until_created(node):
    container = shell("main", "echo $MODE", env=[
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "later", "key": "mode"}}}])
    await node.create(make_pod("waits", container, restartPolicy="Never"))

    async def config_error():
        pod = await node.get("waits")
        statuses = (pod.get("status") or {}).get("containerStatuses")
        waiting = (container_status(pod, "main")["state"].get("waiting") or {}) if statuses else {}
        return waiting if waiting.get("reason") == "CreateContainerConfigError" else None

    waiting = await eventually(config_error, what="CreateContainerConfigError")
    assert waiting["message"] == 'configmap "later" not found'
    assert 'Error: configmap "later" not found' in await node.messages("Failed")
    await node.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later"},
                              "data": {"mode": "ready"}})
    await node.clock.advance(2)
    await eventually(lambda: phase_is(node, "waits", "Succeeded"), what="Succeeded")
    assert await logs(node, "waits") == "ready\n"


async def test_init_containers_run_in_order_before_the_containers(node):
    first = shell("first", "echo one >> /shared/order")
    second = shell("second", "echo two >> /shared/order")
    main = shell("main", "cat /shared/order")
    mounts = [{"name": "shared", "mountPath": "/shared"}]
    for c in (first, second, main):
        c["volumeMounts"] = mounts
    pod = make_pod("ordered", main, initContainers=[first, second], restartPolicy="Never",
                   volumes=[{"name": "shared", "emptyDir": {}}])
    await node.create(pod)
    pod = await eventually(lambda: phase_is(node, "ordered", "Succeeded", "Failed"), what="phase")
    assert await logs(node, "ordered") == "one\ntwo\n"
    assert [s["state"]["terminated"]["reason"] for s in pod["status"]["initContainerStatuses"]] == [
        "Completed", "Completed"]
    assert condition(pod, "Initialized")["status"] == "True"


async def test_a_failing_init_container_under_never_fails_the_pod(node):
    pod = make_pod("no-init", shell("main", "echo never"), initContainers=[shell("setup", "exit 2")],
                   restartPolicy="Never")
    await node.create(pod)
    pod = await eventually(lambda: phase_is(node, "no-init", "Failed"), what="Failed")
    assert container_status(pod, "main")["state"] == {"waiting": {"reason": "PodInitializing"}}


async def test_a_crashing_container_backs_off_longer_each_time(node, clock):
    await node.create(make_pod("crashy", shell("main", "exit 1")))
    pod_uid = (await node.get("crashy"))["metadata"]["uid"]

    async def looping(restarts: int):
        pod = await node.get("crashy")
        status = container_status(pod, "main") if (pod.get("status") or {}).get("containerStatuses") else {}
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff" and status["restartCount"] == restarts:
            return pod, waiting["message"]
        return None

    messages = []
    for restarts, delay in ((1, 10), (2, 20), (3, 40), (4, 40)):
        pod, message = await eventually(lambda r=restarts: looping(r), what=f"back-off #{restarts}")
        messages.append(message)
        last = container_status(pod, "main")["lastState"]["terminated"]
        assert (last["exitCode"], last["reason"]) == (1, "Error")
        assert pod["status"]["phase"] == "Running"
        await asyncio.sleep(0.05)
        assert container_status(await node.get("crashy"), "main")["restartCount"] == restarts
        await clock.advance(delay)
    assert messages == [
        f"back-off {d} restarting failed container=main pod=crashy_default({pod_uid})"
        for d in ("10s", "20s", "40s", "40s")
    ]
    assert await node.messages("BackOff") == [
        f"Back-off restarting failed container main in pod crashy_default({pod_uid})"]


async def test_a_killed_process_is_restarted_and_its_previous_log_kept(node):
    await node.create(make_pod("victim", shell("main", "echo run $$$$; sleep 60")))

    async def running(restarts: int):
        pod = await node.get("victim")
        if not (pod.get("status") or {}).get("containerStatuses"):
            return None
        status = container_status(pod, "main")
        ok = "running" in status["state"] and status["restartCount"] == restarts
        return pod if ok and await logs(node, "victim") else None

    pod = await eventually(lambda: running(0), what="first run")
    first_log = await logs(node, "victim")
    os.kill(run_of(node, pod, "main").handle.pid, signal.SIGKILL)
    pod = await eventually(lambda: running(1), what="restart")
    status = container_status(pod, "main")
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert await logs(node, "victim", previous=True) == first_log
    assert await logs(node, "victim") != first_log


async def test_an_unknown_image_fails_to_pull_then_backs_off(node, clock):
    seen: list[str] = []

    async def watch():
        async for event in node.client.watch("v1", "Pod", namespace="default"):
            statuses = (event.object.get("status") or {}).get("containerStatuses") or []
            for status in statuses:
                reason = (status["state"].get("waiting") or {}).get("reason")
                if reason and (not seen or seen[-1] != reason):
                    seen.append(reason)

    watcher = asyncio.create_task(watch())
    await node.create(make_pod("ghost", {"name": "main", "image": "example.com/nope:1"}))
    await eventually(lambda: node.messages("BackOff"), what="BackOff")
    assert seen[-2:] == ["ErrImagePull", "ImagePullBackOff"]
    failed = await node.messages("Failed")
    pull = next(m for m in failed if m.startswith('Failed to pull image "example.com/nope:1": '))
    assert "images.yaml" in pull
    assert "Error: ErrImagePull" in failed
    assert await node.messages("BackOff") == ['Back-off pulling image "example.com/nope:1"']
    pod = await node.get("ghost")
    waiting = container_status(pod, "main")["state"]["waiting"]
    assert waiting["message"].startswith('Back-off pulling image "example.com/nope:1": ErrImagePull: ')
    assert pod["status"]["phase"] == "Pending"

    [event] = [e for e in await node.events("Failed") if e["message"].startswith("Failed to pull")]
    await clock.advance(5)
    await eventually(
        lambda: _count(node, "Failed", event["message"], 2), what="second pull attempt")
    watcher.cancel()


async def _count(node: Node, reason: str, message: str, count: int):
    return any(e["message"] == message and e["count"] >= count for e in await node.events(reason))


async def test_a_container_over_its_memory_limit_is_oom_killed(node, clock):
    code = "import time; data = b'x' * (200 * 1024 * 1024); print('allocated', flush=True); time.sleep(30)"
    container = python("main", code, resources={"limits": {"memory": "50Mi"}})
    await node.create(make_pod("hungry", container, restartPolicy="Never"))
    pod = await eventually(lambda: phase_is(node, "hungry", "Failed", "Succeeded"),
                           clock=clock, step=0.2, what="OOM kill")
    state = container_status(pod, "main")["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (137, "OOMKilled")
    [message] = await node.messages("OOMKilling")
    assert 'of container "main"' in message and "exceeded its limit of 50Mi" in message


async def test_a_failing_liveness_probe_restarts_the_container(node, clock):
    container = shell("main", "sleep 60", livenessProbe={
        "exec": {"command": ["sh", "-c", "echo sick; exit 1"]},
        "periodSeconds": 1, "failureThreshold": 2, "terminationGracePeriodSeconds": 1,
    })
    await node.create(make_pod("sick", container))

    async def restarted():
        pod = await node.get("sick")
        if (pod.get("status") or {}).get("containerStatuses") and container_status(pod, "main")["restartCount"] == 1:
            return pod
        return None

    pod = await eventually(restarted, clock=clock, step=0.5, what="restart")
    last = container_status(pod, "main")["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (143, "Error")
    assert "Liveness probe failed: sick\n" in await node.messages("Unhealthy")
    assert "Container main failed liveness probe, will be restarted" in await node.messages("Killing")


async def test_a_readiness_probe_on_an_http_server_drives_ready(node, clock):
    container = python(
        "main", "import http.server, sys; http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=8080, bind=sys.argv[1])",
        args=["$(POD_IP)"],
        env=[{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        ports=[{"name": "http", "containerPort": 8080}],
        readinessProbe={"httpGet": {"port": "http", "path": "/"}, "periodSeconds": 1,
                        "initialDelaySeconds": 2},
    )
    await node.create(make_pod("server", container))
    pod = await eventually(lambda: phase_is(node, "server", "Running"), what="running")
    assert condition(pod, "Ready")["status"] == "False"
    assert container_status(pod, "main")["ready"] is False

    async def ready():
        pod = await node.get("server")
        cond = condition(pod, "Ready")
        return pod if cond and cond["status"] == "True" else None

    pod = await eventually(ready, clock=clock, step=0.5, what="Ready")
    assert container_status(pod, "main")["ready"] is True
    assert condition(pod, "ContainersReady")["status"] == "True"


async def test_graceful_deletion_sends_sigterm_then_removes_the_pod(node):
    script = "trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 0.05; done"
    await node.create(make_pod("polite", shell("main", script)))

    async def up():
        pod = await node.get("polite")
        return pod if phase_is_running(pod) and await logs(node, "polite") == "up\n" else None

    pod = await eventually(up, what="running")
    await node.client.delete("v1", "Pod", "polite", namespace="default")

    async def gone():
        try:
            await node.get("polite")
        except NotFound:
            return True
        return False

    await eventually(gone, what="pod removed")
    text = await node.logs.read("default", pod, container="main", previous=False, tail_lines=None,
                                since_seconds=None, timestamps=False)
    # The signal reaches the whole tree (the runtime's choice), so sh may report its sleep.
    assert text.startswith("up\n") and text.endswith("got TERM\n")
    assert "Stopping container main" in await node.messages("Killing")


async def test_a_container_ignoring_sigterm_is_killed_after_the_grace_period(node, clock):
    script = "trap '' TERM; echo up; while true; do sleep 0.05; done"
    await node.create(make_pod("stubborn", shell("main", script), terminationGracePeriodSeconds=5))
    pod = await eventually(lambda: phase_is(node, "stubborn", "Running"), what="running")
    pid = run_of(node, pod, "main").handle.pid
    await node.client.delete("v1", "Pod", "stubborn", namespace="default")
    await asyncio.sleep(0.2)
    assert psutil.pid_exists(pid) and (await node.get("stubborn"))["metadata"]["deletionTimestamp"]
    await clock.advance(5)

    async def gone():
        try:
            await node.get("stubborn")
        except NotFound:
            return True
        return False

    await eventually(gone, what="pod removed")
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_an_invalid_image_name_waits_in_invalid_image_name(node):
    await node.create(make_pod("typo", {"name": "main", "image": "Bad Image!"}))

    async def invalid():
        pod = await node.get("typo")
        waiting = container_status(pod, "main")["state"].get("waiting", {}) if (pod.get("status") or {}).get("containerStatuses") else {}
        return waiting if waiting.get("reason") == "InvalidImageName" else None

    waiting = await eventually(invalid, what="InvalidImageName")
    assert waiting["message"].startswith('Failed to apply default image tag "Bad Image!"')


async def test_a_pod_already_finished_is_not_run_again(store, clock, tmp_path):
    client = MemoryClient(store)
    pod = await client.create(make_pod("done", shell("main", "echo again")))
    pod["status"] = {"phase": "Succeeded", "containerStatuses": [{
        "name": "main", "image": "busybox:1.36", "imageID": "", "ready": False, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}, "lastState": {},
        "containerID": "sandbox://old"}]}
    await client.replace_status(pod)
    runtime = ProcessRuntime(clock=clock)
    node = await start_node(store, clock, tmp_path / "home", runtime, lifecycle=LIFECYCLE)
    try:
        await asyncio.sleep(0.1)
        assert not list((tmp_path / "home").glob("logs/*"))
        assert (await node.get("done"))["status"]["phase"] == "Succeeded"
        await node.client.delete("v1", "Pod", "done", namespace="default")
        await eventually(lambda: _removed(node, "done"), what="pod removed")
    finally:
        await node.kubelet.stop()
        await runtime.close()


async def _removed(node: Node, name: str) -> bool:
    try:
        await node.get(name)
    except NotFound:
        return True
    return False


async def test_a_restart_that_cannot_be_configured_keeps_the_last_run_as_last_state(node):
    await node.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                              "data": {"mode": "x"}})
    container = shell("main", "sleep 0.3; exit 3", env=[
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}}])
    await node.create(make_pod("brittle", container, restartPolicy="OnFailure"))
    await eventually(lambda: phase_is(node, "brittle", "Running"), what="running")
    await node.client.delete("v1", "ConfigMap", "cfg", namespace="default")

    async def config_error():
        status = container_status(await node.get("brittle"), "main")
        found = (status["state"].get("waiting") or {}).get("reason") == "CreateContainerConfigError"
        return status if found else None

    status = await eventually(config_error, what="CreateContainerConfigError on restart")
    assert status["lastState"]["terminated"]["exitCode"] == 3
