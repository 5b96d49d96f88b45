"""Pod status from container records: phase, conditions, container statuses."""

from __future__ import annotations

import pytest

from sandbox.cluster.kubelet.status import ContainerRecord, pod_phase, pod_status

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:05:00Z"


def pod(*names, init=(), policy="Always", **spec):
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u"},
        "spec": {
            "restartPolicy": policy,
            "containers": [{"name": n, "image": "busybox"} for n in names],
            "initContainers": [{"name": n, "image": "busybox"} for n in init],
            **spec,
        },
    }


def running(name, *, ready=True, init=False):
    return ContainerRecord(name, "busybox", init=init, state={"running": {"startedAt": NOW}},
                           ready=ready, started=True)


def exited(name, code, *, init=False):
    return ContainerRecord(name, "busybox", init=init, ready=init and code == 0, state={
        "terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}})


def crash_looping(name, code=1):
    return ContainerRecord(name, "busybox", state={"waiting": {"reason": "CrashLoopBackOff"}},
                           last_state={"terminated": {"exitCode": code}})


def status(the_pod, *records, previous=None, now=NOW, terminal=False):
    return pod_status(the_pod, records, previous=previous or {}, pod_ip="127.16.0.2",
                      host_ip="127.0.0.1", start_time=NOW, now=now, terminal=terminal)


def conditions(result):
    return {c["type"]: c for c in result["conditions"]}


@pytest.mark.parametrize(
    ("policy", "records", "phase"),
    [
        ("Always", [running("a")], "Running"),
        ("Always", [ContainerRecord("a", "busybox")], "Pending"),
        ("Always", [running("a"), ContainerRecord("b", "busybox")], "Pending"),
        ("Never", [exited("a", 0)], "Succeeded"),
        ("Never", [exited("a", 1)], "Failed"),
        ("Never", [exited("a", 0), running("b")], "Running"),
        ("OnFailure", [exited("a", 0)], "Succeeded"),
        ("OnFailure", [crash_looping("a")], "Running"),
        ("Always", [exited("a", 0)], "Running"),
        ("Always", [crash_looping("a")], "Running"),
    ],
)
def test_phase_follows_get_phase(policy, records, phase):
    names = [r.name for r in records]
    assert status(pod(*names, policy=policy), *records)["phase"] == phase


def test_an_init_container_failing_under_never_fails_the_pod():
    the_pod = pod("a", init=["setup"], policy="Never")
    result = status(the_pod, exited("setup", 1, init=True), ContainerRecord("a", "busybox"))
    assert result["phase"] == "Failed"


def test_pending_init_keeps_the_pod_pending_and_containers_initializing():
    the_pod = pod("a", init=["setup"])
    result = status(the_pod, running("setup", ready=False, init=True), ContainerRecord("a", "busybox"))
    assert result["phase"] == "Pending"
    assert result["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    initialized = conditions(result)["Initialized"]
    assert (initialized["status"], initialized["reason"], initialized["message"]) == (
        "False", "ContainersNotInitialized", "containers with incomplete status: [setup]")


def test_containers_not_reached_wait_in_container_creating():
    result = status(pod("a"), ContainerRecord("a", "busybox"))
    assert result["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}


def test_unready_containers_are_named_in_ready_and_containers_ready():
    result = status(pod("a", "b"), running("a"), running("b", ready=False))
    for type_ in ("Ready", "ContainersReady"):
        cond = conditions(result)[type_]
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "False", "ContainersNotReady", "containers with unready status: [b]")


def test_all_ready_makes_the_pod_ready():
    result = status(pod("a"), running("a"))
    assert conditions(result)["Ready"]["status"] == "True"
    assert conditions(result)["PodScheduled"]["status"] == "True"


def test_a_completed_pod_is_not_ready_with_reason_pod_completed():
    result = status(pod("a", policy="Never"), exited("a", 0))
    assert conditions(result)["Ready"]["reason"] == "PodCompleted"
    assert status(pod("a", policy="Never"), exited("a", 2))["conditions"][1]["reason"] == "PodFailed"


def test_transition_time_moves_only_when_a_condition_flips():
    first = status(pod("a"), running("a", ready=False))
    same = status(pod("a"), running("a", ready=False), previous=first, now=LATER)
    assert conditions(same)["Ready"]["lastTransitionTime"] == NOW
    flipped = status(pod("a"), running("a"), previous=first, now=LATER)
    assert conditions(flipped)["Ready"]["lastTransitionTime"] == LATER


def test_a_terminal_phase_never_changes():
    result = status(pod("a"), running("a"), previous={"phase": "Succeeded"})
    assert result["phase"] == "Succeeded"


def test_conditions_the_kubelet_does_not_own_are_kept():
    gate = {"type": "example.com/gate", "status": "False"}
    the_pod = pod("a", readinessGates=[{"conditionType": "example.com/gate"}])
    result = status(the_pod, running("a"), previous={"conditions": [gate]})
    assert gate in result["conditions"]
    ready = conditions(result)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "ReadinessGatesNotReady")


def test_a_pod_finished_by_deletion_is_failed_unless_everything_succeeded():
    spec = {"restartPolicy": "Always"}
    assert pod_phase(spec, [], [{"state": {"terminated": {"exitCode": 0}}}], terminal=True) == "Succeeded"
    assert pod_phase(spec, [], [{"state": {"terminated": {"exitCode": 143}}}], terminal=True) == "Failed"


def test_container_status_fields():
    record = running("a")
    record.container_id, record.image_id, record.restart_count = "sandbox://x", "busybox", 2
    result = status(pod("a"), record)
    assert result["containerStatuses"][0] == {
        "name": "a", "image": "busybox", "imageID": "busybox", "ready": True, "restartCount": 2,
        "started": True, "state": {"running": {"startedAt": NOW}}, "lastState": {},
        "containerID": "sandbox://x",
    }
    assert (result["podIP"], result["podIPs"], result["hostIP"]) == (
        "127.16.0.2", [{"ip": "127.16.0.2"}], "127.0.0.1")
    assert result["qosClass"] == "BestEffort"
