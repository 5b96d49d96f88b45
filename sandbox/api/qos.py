"""A pod's quality-of-service class, computed exactly like Kubernetes' ``GetPodQOS``.

Only cpu and memory count. A pod whose containers (init containers too)
ask for neither is ``BestEffort``; one where every container limits both
and the summed requests equal the summed limits is ``Guaranteed``;
everything else is ``Burstable``. (Requests default to limits at
admission, so a pod that only sets limits is Guaranteed, as in Kubernetes.)

The sandbox enforces no CPU share by class; memory limits are enforced by
the kubelet's resident-memory watch whatever the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from sandbox.api.quantity import parse_quantity

__all__ = ["qos_class"]

_QOS_RESOURCES = ("cpu", "memory")


def qos_class(pod: Mapping[str, Any]) -> str:
    spec = pod.get("spec") or {}
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for container in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        resources = container.get("resources") or {}
        _accumulate(requests, resources.get("requests") or {})
        found = _accumulate(limits, resources.get("limits") or {})
        if not all(name in found for name in _QOS_RESOURCES):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if (
        guaranteed
        and all(limits.get(name) == value for name, value in requests.items())
        and len(requests) == len(limits)
    ):
        return "Guaranteed"
    return "Burstable"


def _accumulate(total: dict[str, Fraction], values: Mapping[str, Any]) -> set[str]:
    """Add the positive cpu/memory quantities of ``values``; the names found."""
    found: set[str] = set()
    for name, raw in values.items():
        if name not in _QOS_RESOURCES:
            continue
        amount = parse_quantity(raw)
        if amount > 0:
            total[name] = total.get(name, Fraction(0)) + amount
            found.add(name)
    return found
