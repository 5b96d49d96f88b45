"""The downward API: pod fields and container resources as text.

Shared by env vars (``valueFrom.fieldRef`` / ``resourceFieldRef``) and
``downwardAPI`` volumes, so both answer alike:

- ``metadata.name|namespace|uid``, ``metadata.labels['k']`` and
  ``metadata.annotations['k']`` (empty when the key is missing),
  ``spec.nodeName``, ``spec.serviceAccountName``, ``status.podIP(s)``,
  ``status.hostIP(s)``; volumes may also ask for all ``metadata.labels`` or
  ``metadata.annotations``, written one ``key="value"`` a line, sorted;
- ``limits.cpu|memory|ephemeral-storage`` and the matching ``requests.*``,
  divided by ``divisor`` (default 1) and rounded up, as Kubernetes does;
  a limit the container does not set is the node's allocatable amount.

Pod IPs are passed in (the kubelet knows them before the API does).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from sandbox.api.quantity import parse_quantity

__all__ = ["DownwardError", "field_value", "format_map", "resource_value"]

_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")


class DownwardError(ValueError):
    """A field or resource the downward API cannot provide."""


def field_value(
    pod: Mapping[str, Any], path: str, *, pod_ip: str, host_ip: str
) -> str:
    """The text of one ``fieldRef.fieldPath`` for ``pod``."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    match = _SUBSCRIPT.match(path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    simple: dict[str, Any] = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return str(simple[path] or "")
    if path in ("metadata.labels", "metadata.annotations"):
        return format_map(metadata.get(path.split(".", 1)[1]) or {})
    raise DownwardError(f"unsupported fieldPath: {path}")


def format_map(values: Mapping[str, str]) -> str:
    """``key="value"`` lines sorted by key, values quoted like Go's ``%q``."""
    return "\n".join(f"{key}={json.dumps(str(values[key]), ensure_ascii=False)}" for key in sorted(values))


def resource_value(
    pod: Mapping[str, Any],
    container_name: str,
    resource: str,
    *,
    divisor: Any = None,
    node_allocatable: Mapping[str, Any],
) -> str:
    """The text of one ``resourceFieldRef`` of container ``container_name``."""
    spec = pod.get("spec") or {}
    containers = [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]
    container = next((c for c in containers if c.get("name") == container_name), None)
    if container is None:
        raise DownwardError(f"container {container_name!r} not found in the pod")
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise DownwardError(f"unsupported container resource: {resource}")
    resources = container.get("resources") or {}
    amount = (resources.get(kind) or {}).get(name)
    if amount is None and kind == "limits":
        amount = node_allocatable.get(name)
    value = parse_quantity(amount if amount is not None else 0)
    unit = parse_quantity(divisor if divisor not in (None, "", 0) else 1)
    if unit <= 0:
        raise DownwardError(f"invalid divisor for {resource}: {divisor}")
    if name == "cpu":
        # Kubernetes compares millicores: ceil(milli(value) / milli(divisor)).
        return str(math.ceil(math.ceil(value * 1000) / math.ceil(unit * 1000)))
    return str(math.ceil(value / unit))
