"""Pod status from the kubelet's view of its containers, computed like Kubernetes.

The kubelet keeps one :class:`ContainerRecord` per container (init
containers included) and turns them into ``status`` on every change:

- **container statuses**: name, image, imageID, containerID, ready,
  started, restartCount, ``state`` (exactly one of waiting / running /
  terminated) and ``lastState``. A container not reached yet waits with
  reason ``ContainerCreating`` (``PodInitializing`` when the pod has init
  containers), as ``convertToAPIContainerStatuses`` defaults them;
- **phase**, Kubernetes' ``getPhase``: ``Pending`` while an init container
  is unfinished or a container has never started; ``Running`` while one
  runs (or all stopped but will restart); ``Succeeded`` when all exited 0
  and will not restart; ``Failed`` when all stopped, one failed, none will
  restart (or an init container failed under ``restartPolicy: Never``).
  A terminal phase never changes again;
- **conditions** ``Initialized``, ``ContainersReady`` and ``Ready`` with
  Kubernetes' reasons and messages (``ContainersNotReady``, ``containers
  with unready status: [web]``, ``PodCompleted``, ``PodFailed``),
  ``lastTransitionTime`` moving only when a status flips; conditions the
  kubelet does not own (readiness gates, DisruptionTarget) are kept as they
  are, and ``PodScheduled`` is kept, or set True for a pod created with
  ``spec.nodeName`` (no binding), as the kubelet does;
- ``podIP``/``podIPs``, ``hostIP``/``hostIPs``, ``startTime``, ``qosClass``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.api.qos import qos_class

__all__ = ["KUBELET_CONDITIONS", "ContainerRecord", "pod_phase", "pod_status"]

#: The pod conditions the kubelet computes (all others are kept untouched).
KUBELET_CONDITIONS = ("Initialized", "Ready", "ContainersReady", "PodScheduled")
_TERMINAL = ("Succeeded", "Failed")


@dataclass
class ContainerRecord:
    """What the kubelet knows of one container across its runs."""

    name: str
    image: str
    init: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    last_state: dict[str, Any] = field(default_factory=dict)
    restart_count: int = 0
    #: How many runs have started: the next run is number ``runs`` (its log
    #: file ``<runs>.log``), and its restartCount.
    runs: int = 0
    ready: bool = False
    started: bool = False
    container_id: str = ""
    image_id: str = ""

    def status(self, default_waiting: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "started": self.started,
            "state": self.state or {"waiting": {"reason": default_waiting}},
            "lastState": self.last_state,
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return out

    @property
    def terminated(self) -> dict[str, Any] | None:
        return self.state.get("terminated")

    @property
    def succeeded(self) -> bool:
        """Exited 0 (the way an init container completes)."""
        return bool(self.terminated) and self.terminated.get("exitCode") == 0  # type: ignore[union-attr]


def pod_phase(
    spec: Mapping[str, Any],
    init: Sequence[Mapping[str, Any]],
    containers: Sequence[Mapping[str, Any]],
    *,
    terminal: bool = False,
) -> str:
    """``getPhase`` over container statuses; ``terminal`` when the pod is being
    finished (deleted): stopped containers will not restart whatever the policy."""
    policy = spec.get("restartPolicy") or "Always"
    pending_init = failed_init = 0
    for status in init:
        state, last = status.get("state") or {}, status.get("lastState") or {}
        if "terminated" in state:
            if state["terminated"].get("exitCode") != 0:
                failed_init += 1
        elif "waiting" in state and "terminated" in last:
            if last["terminated"].get("exitCode") != 0:
                failed_init += 1
        else:
            pending_init += 1
    if failed_init and policy == "Never":
        return "Failed"

    running = waiting = stopped = succeeded = 0
    for status in containers:
        state, last = status.get("state") or {}, status.get("lastState") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "terminated" in last:
            stopped += 1
        else:
            waiting += 1

    if terminal and not running:
        if pending_init or waiting or failed_init:
            return "Failed"
        return "Succeeded" if stopped == succeeded else "Failed"
    if pending_init or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def pod_status(
    pod: Mapping[str, Any],
    records: Iterable[ContainerRecord],
    *,
    previous: Mapping[str, Any],
    pod_ip: str,
    host_ip: str,
    start_time: str,
    now: str,
    terminal: bool = False,
) -> dict[str, Any]:
    """The whole ``status`` for ``pod``; ``previous`` is the last status
    written (for terminal phases, transition times and foreign conditions)."""
    spec = pod.get("spec") or {}
    by_name = {r.name: r for r in records}
    default_waiting = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"

    def statuses(key: str) -> list[dict[str, Any]]:
        return [
            by_name[c["name"]].status(default_waiting)
            for c in spec.get(key) or ()
            if c.get("name") in by_name
        ]

    init_statuses = statuses("initContainers")
    container_statuses = statuses("containers")
    phase = pod_phase(spec, init_statuses, container_statuses, terminal=terminal)
    if previous.get("phase") in _TERMINAL:
        phase = previous["phase"]

    status: dict[str, Any] = {"phase": phase}
    status["conditions"] = _conditions(
        spec, init_statuses, container_statuses, phase,
        previous=previous.get("conditions") or [], now=now,
    )
    status["hostIP"] = host_ip
    status["hostIPs"] = [{"ip": host_ip}]
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    status["startTime"] = start_time
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = container_statuses
    status["qosClass"] = qos_class(pod)
    return status


def _conditions(
    spec: Mapping[str, Any],
    init: list[dict[str, Any]],
    containers: list[dict[str, Any]],
    phase: str,
    *,
    previous: list[dict[str, Any]],
    now: str,
) -> list[dict[str, Any]]:
    kept = [c for c in previous if c.get("type") not in KUBELET_CONDITIONS]
    before = {c.get("type"): c for c in previous}

    def condition(type_: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
        status = "True" if ok else "False"
        old = before.get(type_)
        moved = old is None or old.get("status") != status
        out: dict[str, Any] = {
            "type": type_,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": now if moved else old.get("lastTransitionTime", now),  # type: ignore[union-attr]
        }
        if reason:
            out["reason"] = reason
        if message:
            out["message"] = message
        return out

    # Initialized
    regular_started = any(
        "running" in (s.get("state") or {}) or "terminated" in (s.get("state") or {})
        or s.get("lastState") for s in containers
    )
    incomplete = [s["name"] for s in init if not s.get("ready")]
    if not spec.get("initContainers") or regular_started:
        initialized = condition("Initialized", True)
    elif phase == "Succeeded":
        initialized = condition("Initialized", True, "PodCompleted")
    elif incomplete:
        initialized = condition(
            "Initialized", False, "ContainersNotInitialized",
            f"containers with incomplete status: {_go_list(incomplete)}",
        )
    else:
        initialized = condition("Initialized", True)

    # ContainersReady, and Ready which follows it unless a readiness gate says no.
    unready = [s["name"] for s in containers if not s.get("ready")]
    if phase in _TERMINAL:
        reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        containers_ready = condition("ContainersReady", False, reason)
    elif unready:
        containers_ready = condition(
            "ContainersReady", False, "ContainersNotReady",
            f"containers with unready status: {_go_list(unready)}",
        )
    else:
        containers_ready = condition("ContainersReady", True)
    if containers_ready["status"] != "True":
        ready = condition(
            "Ready", False, containers_ready.get("reason", ""), containers_ready.get("message", "")
        )
    else:
        ready = _readiness_gates(spec, kept, condition)
    # A pod on a node is scheduled, however it got there (binding or spec.nodeName).
    scheduled = before.get("PodScheduled")
    if scheduled is None or scheduled.get("status") != "True":
        scheduled = condition("PodScheduled", True)
    return [*kept, initialized, ready, containers_ready, scheduled]


def _readiness_gates(spec: Mapping[str, Any], conditions: list[dict[str, Any]], condition: Any) -> dict[str, Any]:
    by_type = {c.get("type"): c for c in conditions}
    problems = []
    for gate in spec.get("readinessGates") or ():
        wanted = gate.get("conditionType", "")
        found = by_type.get(wanted)
        if found is None:
            problems.append(f'corresponding condition of pod readiness gate "{wanted}" does not exist.')
        elif found.get("status") != "True":
            problems.append(
                f'the status of pod readiness gate "{wanted}" is not "True", but {found.get("status")}'
            )
    if problems:
        return condition("Ready", False, "ReadinessGatesNotReady", ", ".join(problems))
    return condition("Ready", True)


def _go_list(names: list[str]) -> str:
    """A Go ``%s`` of a string slice: ``[a b]``."""
    return "[" + " ".join(names) + "]"
