"""Fault injection: in-cluster faults that have no Kubernetes API (a sandbox addition).

Some failures a learner should watch a cluster survive cannot be asked for
through Kubernetes' own API: a container's process dying under it, or a
controller that stops acting for a while. The API server of an in-process
cluster serves them as non-resource URLs, so they go through the same
authentication and RBAC as everything else (``system:masters`` may; the
default ``view``/``edit``/``admin`` roles grant no ``/sandbox/*`` URL, so
ordinary users get 403 unless a ClusterRole grants ``post`` on them)::

    POST /sandbox/v1/faults/kill-process
         {"namespace": "default", "pod": "web-1", "container": "main", "signal": "SIGKILL"}
      ─► the pod (404 if missing) ─► its container (the first one by default)
      ─► the kubelet's process id of that container's current run
         (InProcessCluster.container_pid; 409 Conflict if nothing runs)
      ─► os.kill(pid, signal) and a Warning Event ``FaultInjected`` on the pod
      ◄─ 200 {"pid": 4242, "container": "main", "signal": "SIGKILL"}
         (the kubelet then sees the exit and restarts the container per restartPolicy)

    POST /sandbox/v1/faults/pause-controller   {"controller": "deployment", "seconds": 20}
      ─► Manager.pause (404 listing the known controllers for an unknown name)
      ◄─ 200 {"controller": "deployment", "pausedUntil": "2026-01-01T00:00:20Z"}

    POST /sandbox/v1/faults/resume-controller  {"controller": "deployment"}
      ◄─ 200 {"controller": "deployment", "pausedUntil": null}

An app built without a cluster (``create_app(faults=None)``, as for a bare
store) answers 404 on these paths, like any path it does not serve; other
methods than POST are 405.
"""

from __future__ import annotations

import os
import signal
from typing import Any, Protocol

from sandbox.api.errors import BadRequest, Conflict, MethodNotAllowed, NotFound
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.negotiation import decode_body
from sandbox.backends.inprocess.apiserver.responses import Reply, json_reply, not_found
from sandbox.client.protocol import Client
from sandbox.clock import Clock, format_time
from sandbox.runtime import EventRecorder, Manager

__all__ = ["FAULTS_PREFIX", "FaultTarget", "Faults", "handle", "parse_signal"]

#: The non-resource URL prefix of every fault.
FAULTS_PREFIX = "/sandbox/v1/faults/"

#: The component named on the Events a fault records.
COMPONENT = "sandbox-faults"


class FaultTarget(Protocol):
    """What fault injection needs of a running cluster (:class:`InProcessCluster` has it)."""

    @property
    def manager(self) -> Manager | None: ...

    def container_pid(self, pod: dict[str, Any], container: str) -> int: ...


class Faults:
    """Injects faults into one running cluster; the HTTP face is :func:`handle`."""

    def __init__(self, cluster: FaultTarget, *, client: Client, clock: Clock) -> None:
        """``client`` records the Events (a fault is visible on its object)."""
        self.cluster = cluster
        self.clock = clock
        self.recorder = EventRecorder(client, component=COMPONENT, clock=clock)

    async def kill_process(
        self, pod: dict[str, Any], *, container: str | None = None, signal_name: str | None = None
    ) -> dict[str, Any]:
        """Signal the main process of one of ``pod``'s containers (the first by default)."""
        meta = pod.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        spec = pod.get("spec") or {}
        names = [c["name"] for c in [*(spec.get("initContainers") or ()),
                                      *(spec.get("containers") or ())]]
        if container is None:
            container = ((spec.get("containers") or [{}])[0]).get("name")
        if not container or container not in names:
            raise BadRequest(f"container {container} is not valid for pod {meta.get('name')}"
                             + (f" (containers: {', '.join(names)})" if names else ""))
        signum = parse_signal(signal_name or "SIGKILL")
        if not spec.get("nodeName"):
            raise Conflict(f"pod {key} is not scheduled to a node yet: no process to signal")
        try:
            pid = self.cluster.container_pid(pod, container)
        except LookupError:  # KeyError included: no kubelet, no pod worker, no current run
            raise Conflict(f"container {container} of pod {key} has no running process "
                           f"(phase {(pod.get('status') or {}).get('phase') or 'Pending'})"
                           ) from None
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            raise Conflict(f"container {container} of pod {key} has no running process (it "
                           "exited meanwhile)") from None
        await self.recorder.warning(
            {"apiVersion": "v1", "kind": "Pod", **pod}, reason="FaultInjected",
            message=f"Sent {signum.name} to process {pid} of container {container} "
                    "(sandbox fault injection)",
        )
        return {"pid": pid, "container": container, "signal": signum.name}

    def pause_controller(self, name: str, seconds: float) -> dict[str, Any]:
        """Pause a built-in controller for ``seconds`` of the cluster's clock."""
        manager = self._manager()
        try:
            until = manager.pause(name, seconds)
        except KeyError as err:
            raise NotFound(err.args[0]) from None
        return {"controller": name, "pausedUntil": format_time(until)}

    def resume_controller(self, name: str) -> dict[str, Any]:
        manager = self._manager()
        try:
            manager.resume(name)
        except KeyError as err:
            raise NotFound(err.args[0]) from None
        return {"controller": name, "pausedUntil": None}

    def _manager(self) -> Manager:
        manager = self.cluster.manager
        if manager is None:
            raise NotFound("this cluster runs no controller manager")
        return manager


def parse_signal(name: str | int) -> signal.Signals:
    """``SIGKILL``, ``KILL``, ``kill`` or ``9`` → :data:`signal.SIGKILL`; 400 for anything else."""
    text = str(name).strip()
    try:
        if text.isdigit():
            return signal.Signals(int(text))
        upper = text.upper()
        return signal.Signals[upper if upper.startswith("SIG") else "SIG" + upper]
    except (KeyError, ValueError):
        raise BadRequest(f'unknown signal "{name}"') from None


# HTTP -------------------------------------------------------------------------------


async def handle(state: ServerState, call: Call) -> Reply:
    """Answer ``POST /sandbox/v1/faults/<fault>`` (see the module docstring)."""
    faults = state.faults
    fault = call.info.path[len(FAULTS_PREFIX):].strip("/")
    if faults is None or fault not in _FAULTS:
        raise not_found()
    if call.method != "POST":
        raise MethodNotAllowed(
            "the server does not allow this method on the requested resource")
    body = decode_body(await call.body(), call.header(b"content-type"))
    if not isinstance(body, dict):
        raise BadRequest(f"the body of {fault} must be a JSON object")
    if fault == "kill-process":
        namespace = _required(body, "namespace")
        pod_name = _required(body, "pod")
        container = _optional(body, "container")
        signal_name = body.get("signal")
        if signal_name is not None and not isinstance(signal_name, (str, int)):
            raise BadRequest("signal must be a signal name such as \"SIGKILL\" or a number")
        pod = state.store.get("v1", "Pod", pod_name, namespace=namespace)
        return json_reply(await faults.kill_process(
            pod, container=container, signal_name=None if signal_name is None else str(signal_name)
        ))
    name = _required(body, "controller")
    if fault == "resume-controller":
        return json_reply(faults.resume_controller(name))
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise BadRequest(f"seconds must be a positive number, not {seconds!r}")
    return json_reply(faults.pause_controller(name, float(seconds)))


_FAULTS = frozenset({"kill-process", "pause-controller", "resume-controller"})


def _optional(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string, not {value!r}")
    return value


def _required(body: dict[str, Any], key: str) -> str:
    value = _optional(body, key)
    if value is None:
        raise BadRequest(f"{key} is required")
    return value
