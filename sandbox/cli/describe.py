"""What ``sandbox describe`` prints: a readable, kubectl-like summary of one object.

Plain functions over dicts (no I/O): the verb fetches the object and its
events (matched by ``involvedObject.uid``) and hands them here. Every kind
gets its metadata, a few spec/status highlights (replicas, phase,
conditions); a Pod also gets its node, IP and containers (image, state,
restarts), the things one reads ``kubectl describe pod`` for. The last
section is always ``Events:`` — ``<none>`` when there are none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sandbox.api.printers.ages import age
from sandbox.cli.output import table

__all__ = ["describe_object"]

_INDENT = "  "


def describe_object(obj: Mapping[str, Any], events: Sequence[Mapping[str, Any]], *,
                    now: datetime) -> list[str]:
    """The lines describing ``obj``; ``events`` are its events, oldest first."""
    meta = obj.get("metadata") or {}
    lines = [_field("Name", meta.get("name", ""))]
    if meta.get("namespace"):
        lines.append(_field("Namespace", meta["namespace"]))
    lines += _mapping("Labels", meta.get("labels"))
    lines += _mapping("Annotations", meta.get("annotations"))
    if meta.get("creationTimestamp"):
        lines.append(_field("Created", f"{meta['creationTimestamp']} "
                                       f"({age(meta['creationTimestamp'], now=now)} ago)"))
    if meta.get("deletionTimestamp"):
        lines.append(_field("Deleting since", meta["deletionTimestamp"]))
    owners = [f"{o.get('kind')}/{o.get('name')}" for o in meta.get("ownerReferences") or ()]
    if owners:
        lines.append(_field("Controlled By", ", ".join(owners)))
    if obj.get("kind") == "Pod":
        lines += _pod(obj)
    else:
        lines += _highlights(obj)
    lines += _conditions(obj)
    lines += _events(events, now=now)
    return lines


def _field(name: str, value: object) -> str:
    return f"{name + ':':<16}{value}".rstrip()


def _mapping(name: str, values: Mapping[str, Any] | None) -> list[str]:
    if not values:
        return [_field(name, "<none>")]
    items = [f"{k}={v}" for k, v in sorted(values.items())]
    return [_field(name, items[0]), *(" " * 16 + item for item in items[1:])]


def _pod(pod: Mapping[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    lines = [
        _field("Node", spec.get("nodeName") or "<none>"),
        _field("Start Time", status.get("startTime") or "<unset>"),
        _field("Status", "Terminating" if (pod.get("metadata") or {}).get("deletionTimestamp")
               else status.get("phase") or "Pending"),
    ]
    if status.get("reason"):
        lines.append(_field("Reason", status["reason"]))
    lines.append(_field("IP", status.get("podIP") or ""))
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or ()}
    for title, containers in (("Init Containers", spec.get("initContainers")),
                              ("Containers", spec.get("containers"))):
        if not containers:
            continue
        lines.append(f"{title}:")
        for container in containers:
            lines += _container(container, statuses.get(container.get("name")) or {})
    return lines


def _container(container: Mapping[str, Any], status: Mapping[str, Any]) -> list[str]:
    pad = _INDENT * 2
    lines = [f"{_INDENT}{container.get('name')}:",
             f"{pad}{'Image:':<16}{container.get('image', '')}"]
    lines += _state("State", status.get("state"), pad=pad)
    if status.get("lastState"):
        lines += _state("Last State", status.get("lastState"), pad=pad)
    lines.append(f"{pad}{'Ready:':<16}{bool(status.get('ready'))}")
    lines.append(f"{pad}{'Restart Count:':<16}{status.get('restartCount', 0)}")
    return lines


def _state(title: str, state: Mapping[str, Any] | None, *, pad: str) -> list[str]:
    if not state:
        return [f"{pad}{title + ':':<16}Waiting"]
    name, details = next(iter(state.items()))
    lines = [f"{pad}{title + ':':<16}{name.capitalize()}"]
    for key in ("reason", "message", "exitCode", "startedAt", "finishedAt"):
        if (details or {}).get(key) not in (None, ""):
            label = key[0].upper() + key[1:]
            lines.append(f"{pad}{_INDENT}{label + ':':<14}{details[key]}")
    return lines


def _highlights(obj: Mapping[str, Any]) -> list[str]:
    """Scalars of ``spec`` and ``status`` that kubectl users look for first."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    lines: list[str] = []
    if isinstance(spec, Mapping):
        if "replicas" in spec:
            parts = [f"{spec['replicas']} desired"]
            for key, word in (("updatedReplicas", "updated"), ("replicas", "total"),
                              ("availableReplicas", "available"), ("readyReplicas", "ready")):
                parts.append(f"{status.get(key, 0)} {word}")
            lines.append(_field("Replicas", " | ".join(parts)))
        selector = spec.get("selector")
        if isinstance(selector, Mapping):
            labels = selector.get("matchLabels", selector)
            if isinstance(labels, Mapping) and all(isinstance(v, str) for v in labels.values()):
                lines.append(_field("Selector", ",".join(f"{k}={v}" for k, v in labels.items())))
        for key, value in spec.items():
            if key not in ("replicas",) and isinstance(value, str | int | float | bool):
                lines.append(_field(key[0].upper() + key[1:], value))
    if isinstance(status, Mapping) and status.get("phase"):
        lines.append(_field("Phase", status["phase"]))
    return lines


def _conditions(obj: Mapping[str, Any]) -> list[str]:
    conditions = (obj.get("status") or {}).get("conditions") if isinstance(
        obj.get("status"), Mapping) else None
    if not conditions:
        return []
    rows = [[c.get("type", ""), c.get("status", ""), c.get("reason", "")] for c in conditions]
    return ["Conditions:", *(_INDENT + line for line in table(["Type", "Status", "Reason"], rows))]


def _events(events: Sequence[Mapping[str, Any]], *, now: datetime) -> list[str]:
    if not events:
        return ["Events:  <none>"]
    rows = []
    for event in events:
        last = (event.get("lastTimestamp") or event.get("eventTime")
                or (event.get("metadata") or {}).get("creationTimestamp"))
        source = event.get("source") or {}
        rows.append([event.get("type", ""), event.get("reason", ""), age(last, now=now),
                     source.get("component") or event.get("reportingComponent") or "",
                     str(event.get("message") or "").strip()])
    header = ["Type", "Reason", "Age", "From", "Message"]
    rule = ["-" * len(h) for h in header]
    return ["Events:", *(_INDENT + line for line in table(header, [rule, *rows]))]
