"""Why something is not as expected: an object's state, its events, its pods and their logs.

What a failed ``wait`` or ``expect`` prints (and the JUnit failure text
carries), so a learner — or a CI log reader — sees the cause without a
second command. It is what an experienced user types after a failure,
``kubectl describe`` and ``kubectl logs``, condensed::

    Deployment k8s-basics/web
      phase / conditions (type=status (reason): message)
      recent events
      pod web-7d9c-abcde: Running, ready 0/1, restarts 3, web waiting: CrashLoopBackOff (back-off …)
        recent events
        last log lines of each container (the previous run's when it crashed)

The pods are the object itself (a Pod), or those its selector picks
(``spec.selector`` of workloads, a Service's selector), or those a Job
labels with ``job-name``; at most :data:`MAX_PODS` of them, so a diagnosis
stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import ApiError
from sandbox.api.kinds import ResourceType
from sandbox.client.protocol import Client
from sandbox.client.waiting import describe_wait_state

__all__ = ["MAX_OBJECTS", "MAX_PODS", "diagnose", "pod_summary", "recent_events"]

MAX_OBJECTS = 3
MAX_PODS = 3
LOG_LINES = 10
EVENTS = 8


async def diagnose(client: Client, rt: ResourceType, objects: list[dict[str, Any]], *,
                   namespace: str | None, missing: str = "") -> str:
    """The diagnosis of ``objects`` of type ``rt``; ``missing`` says what was not found."""
    if not objects:
        return f"  {missing or 'nothing matched'}"
    parts: list[str] = []
    for obj in objects[:MAX_OBJECTS]:
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace")
        where = f"{ns}/" if ns else ""
        parts.append(f"{rt.kind} {where}{meta.get('name')}")
        events = await recent_events(client, rt.kind, obj)
        parts.append(describe_wait_state(obj, events))
        if rt.kind == "Pod" and rt.group == "":
            parts.extend(await _pod_details(client, obj, with_events=False))
        else:
            for pod in await _pods_of(client, rt, obj, namespace=ns or namespace):
                parts.extend(await _pod_details(client, pod, with_events=True))
    if len(objects) > MAX_OBJECTS:
        parts.append(f"  … and {len(objects) - MAX_OBJECTS} more {rt.plural}")
    return "\n".join(parts)


async def recent_events(client: Client, kind: str, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Events about ``obj``, oldest first, the last :data:`EVENTS` of them."""
    meta = obj.get("metadata") or {}
    selector = f"involvedObject.kind={kind},involvedObject.name={meta.get('name')}"
    if meta.get("uid"):
        selector += f",involvedObject.uid={meta['uid']}"
    try:
        items = (await client.list("v1", "Event", namespace=meta.get("namespace"),
                                   field_selector=selector))["items"]
    except ApiError:
        return []
    items.sort(key=lambda e: (e.get("lastTimestamp") or e.get("eventTime") or "",
                              int((e.get("metadata") or {}).get("resourceVersion") or 0)))
    return items[-EVENTS:]


async def _pods_of(client: Client, rt: ResourceType, obj: Mapping[str, Any], *,
                   namespace: str | None) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    selector: Any = None
    if rt.kind == "Service":
        selector = spec.get("selector") or None
    elif isinstance(spec.get("selector"), Mapping):
        selector = spec["selector"]
    if rt.kind == "Job":
        selector = f"job-name={(obj.get('metadata') or {}).get('name')}"
    if not selector or namespace is None:
        return []
    try:
        pods = (await client.list("v1", "Pod", namespace=namespace, label_selector=selector))["items"]
    except ApiError:
        return []
    # The pods in trouble first: a diagnosis is about what is wrong.
    pods.sort(key=lambda p: (_healthy(p), (p.get("metadata") or {}).get("name", "")))
    return pods[:MAX_PODS]


def _healthy(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") == "Succeeded":
        return True
    statuses = status.get("containerStatuses") or []
    return bool(statuses) and all(s.get("ready") for s in statuses)


def pod_summary(pod: Mapping[str, Any]) -> str:
    """``pod web-1: Running, ready 1/1, restarts 0`` plus each container's waiting/terminated reason."""
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    node = (pod.get("spec") or {}).get("nodeName") or "<not scheduled>"
    text = (f"pod {(pod.get('metadata') or {}).get('name')}: {status.get('phase', 'Unknown')}, "
            f"ready {ready}/{len(statuses) or len((pod.get('spec') or {}).get('containers') or [])}, "
            f"restarts {restarts}, node {node}")
    for s in statuses:
        state = s.get("state") or {}
        for key in ("waiting", "terminated"):
            if key in state:
                detail = state[key]
                message = f" ({detail['message']})" if detail.get("message") else ""
                code = f" exit {detail['exitCode']}" if "exitCode" in detail else ""
                text += f"; {s.get('name')} {key}: {detail.get('reason', '')}{code}{message}"
        last = (s.get("lastState") or {}).get("terminated")
        if last:
            text += f"; {s.get('name')} last terminated: {last.get('reason', '')} exit {last.get('exitCode')}"
    return text


async def _pod_details(client: Client, pod: dict[str, Any], *, with_events: bool) -> list[str]:
    lines = [f"  {pod_summary(pod)}"]
    if with_events:
        for ev in (await recent_events(client, "Pod", pod))[-4:]:
            lines.append(f"    {ev.get('type', 'Normal')} {ev.get('reason', '')}: {ev.get('message', '')}")
    meta = pod.get("metadata") or {}
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    for container in (pod.get("spec") or {}).get("containers") or []:
        name = container.get("name")
        status = statuses.get(name) or {}
        if not status or ("waiting" in (status.get("state") or {}) and not status.get("restartCount")):
            continue  # never ran: no log to show
        previous = bool(status.get("restartCount")) and "running" not in (status.get("state") or {})
        try:
            text = await client.logs(meta.get("name"), namespace=meta.get("namespace"),
                                     container=name, previous=previous, tail_lines=LOG_LINES)
        except ApiError:
            continue
        if text.strip():
            which = " (previous run)" if previous else ""
            lines.append(f"    last log lines of {name}{which}:")
            lines.extend(f"      {line}" for line in text.rstrip("\n").splitlines())
    return lines
