"""How a pod prints: ``printPod``, the READY, STATUS and RESTARTS kubectl shows.

STATUS is not ``status.phase``: it is worked out from the containers, as
kube-apiserver 1.31 does. Init containers first (``Init:0/1``,
``Init:CrashLoopBackOff``, ``Init:Error``; sidecars — init containers with
``restartPolicy: Always`` — count towards READY once started), then the
app containers from last to first so that the first one's waiting or
terminated reason wins (``ContainerCreating``, ``CrashLoopBackOff``,
``ImagePullBackOff``, ``Completed``, ``Error``, ``OOMKilled``), then
``Terminating`` for a pod being deleted. RESTARTS adds the time since the
last restart: ``3 (5s ago)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.api.printers.ages import human_duration, parse_timestamp
from sandbox.api.printers.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    Column,
    Printer,
    PrintOptions,
    age_of,
    as_int,
    condition_true,
    get,
    name_of,
)

__all__ = ["POD", "PRINTERS"]


def _restartable(container: Any) -> bool:
    return isinstance(container, Mapping) and container.get("restartPolicy") == "Always"


def _later(current: datetime | None, state: Any) -> datetime | None:
    finished = parse_timestamp(get(state, "lastState", "terminated", "finishedAt"))
    if finished is None or (current is not None and finished <= current):
        return current
    return finished


def _terminated_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    signal = as_int(terminated.get("signal"))
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{as_int(terminated.get('exitCode'))}"


def _pod_cells(pod: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    """``printPod``: READY, STATUS and RESTARTS as kubectl shows them."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    init_specs = spec.get("initContainers") or []
    by_name = {c.get("name"): c for c in init_specs}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs if _restartable(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in conditions:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    for i, container in enumerate(status.get("initContainerStatuses") or []):
        restarts += as_int(container.get("restartCount"))
        last_restart = _later(last_restart, container)
        sidecar = _restartable(by_name.get(container.get("name")))
        if sidecar:
            sidecar_restarts += as_int(container.get("restartCount"))
            last_sidecar_restart = _later(last_sidecar_restart, container)
        state = container.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and as_int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and container.get("started") is True:
            if container.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif (
            waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing"
        ):
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        # Backwards, so that the first container's state has the last word.
        for container in reversed(status.get("containerStatuses") or []):
            restarts += as_int(container.get("restartCount"))
            last_restart = _later(last_restart, container)
            state = container.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if condition_true(conditions, "Ready") else "NotReady"

    if get(pod, "metadata", "deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(opts.now - last_restart)} ago)"

    pod_ips = status.get("podIPs") or [{}]
    pod_ip = status.get("podIP") or pod_ips[0].get("ip") or "<none>"
    gates = spec.get("readinessGates") or []
    readiness = "<none>"
    if gates:
        met = 0
        for gate in gates:
            for condition in conditions:
                if condition.get("type") == gate.get("conditionType"):
                    met += condition.get("status") == "True"
                    break
        readiness = f"{met}/{len(gates)}"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restarts_text,
        age_of(pod, opts),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness,
    ]


def _pod_conditions(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    phase = get(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return []
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


POD = Printer(
    columns=(
        NAME_COLUMN,
        Column(
            "Ready", description="The aggregate readiness state of this pod for accepting traffic."
        ),
        Column("Status", description="The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            description="The number of times the containers in this pod have been restarted "
            "and when the last container in this pod has restarted.",
        ),
        AGE_COLUMN,
        Column("IP", priority=1, description=("core.v1.PodStatus", "podIP")),
        Column("Node", priority=1, description=("core.v1.PodSpec", "nodeName")),
        Column(
            "Nominated Node", priority=1, description=("core.v1.PodStatus", "nominatedNodeName")
        ),
        Column("Readiness Gates", priority=1, description=("core.v1.PodSpec", "readinessGates")),
    ),
    cells=_pod_cells,
    conditions=_pod_conditions,
)


PRINTERS: dict[str, Printer] = {"Pod": POD}
