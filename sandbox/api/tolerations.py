"""Taints and tolerations: Kubernetes' matching rules, shared by the scheduler
and the DaemonSet controller (as ``component-helpers/scheduling`` is upstream).

A toleration tolerates a taint when its effect is empty or equal, its key is
empty or equal, and — with the operator ``Equal`` (the default) — the values
match; ``Exists`` ignores the value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = ["find_untolerated_taint", "tolerates", "tolerations_tolerate_taint"]


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerations_tolerate_taint(
    tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]
) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def find_untolerated_taint(
    taints: Iterable[Mapping[str, Any]],
    tolerations: Iterable[Mapping[str, Any]],
    *,
    effects: Collection[str] | None = None,
) -> Mapping[str, Any] | None:
    """The first taint (with one of ``effects``, when given) that no toleration tolerates."""
    tolerations = list(tolerations)
    for taint in taints:
        if effects is not None and taint.get("effect") not in effects:
            continue
        if not tolerations_tolerate_taint(tolerations, taint):
            return taint
    return None
