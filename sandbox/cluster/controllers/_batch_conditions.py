"""Job conditions, as ``batch/v1 JobCondition`` shapes them.

Unlike ``metav1.Condition`` a Job's condition has ``lastProbeTime`` and no
``observedGeneration``, and Kubernetes only ever *adds* a condition when its
status is True (a False one appears only by flipping an existing True, as
``Suspended`` does on resume). The job and cronjob controllers share these
helpers; a Job is finished once ``Complete`` or ``Failed`` is True.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.clock import format_time

__all__ = ["ensure_condition", "finished_condition", "has_condition", "new_condition"]


def new_condition(type_: str, status: str, reason: str, message: str, now: datetime) -> dict[str, Any]:
    stamp = format_time(now)
    condition: dict[str, Any] = {
        "type": type_,
        "status": status,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def has_condition(job: Mapping[str, Any], type_: str, status: str = "True") -> dict[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") == type_ and condition.get("status") == status:
            return condition
    return None


def ensure_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
) -> bool:
    """Kubernetes' ``ensureJobConditionStatus``: returns whether ``conditions`` changed."""
    for i, condition in enumerate(conditions):
        if condition.get("type") != type_:
            continue
        if (
            condition.get("status") == status
            and condition.get("reason", "") == reason
            and condition.get("message", "") == message
        ):
            return False
        conditions[i] = new_condition(type_, status, reason, message, now)
        return True
    if status != "True":
        return False  # from nothing to False means nothing
    conditions.append(new_condition(type_, status, reason, message, now))
    return True


def finished_condition(job: Mapping[str, Any]) -> dict[str, Any] | None:
    """The True ``Complete`` or ``Failed`` condition of a finished Job, else ``None``."""
    return has_condition(job, "Complete") or has_condition(job, "Failed")
