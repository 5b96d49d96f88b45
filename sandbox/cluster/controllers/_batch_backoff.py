"""Pod failure backoff of a Job: wait before replacing a failed pod.

Kubernetes (``backoff_utils.go``) delays the creation of a replacement pod by
``10 s * 2**(failures-1)``, capped at 6 minutes, where *failures* counts the
pods that failed since the last one that succeeded, and the delay runs from
the last failure's finish time. A teaching sandbox cannot make people wait
minutes, so the base and the cap are parameters of the job controller
(default 1 s and 60 s, see :mod:`sandbox.cluster.controllers.job`).

Kubernetes keeps this record in the controller's memory; here it is derived
from the Job's pods on every reconcile (failed pods of a Job stay until the
Job goes), which gives the same answer and survives a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sandbox.api.objects import is_being_deleted, meta
from sandbox.clock import parse_time

__all__ = ["TRACKING_FINALIZER", "finish_time", "remaining_backoff"]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"


def finish_time(pod: Mapping[str, Any], now: datetime) -> datetime:
    """When a finished pod finished: its containers' ``finishedAt``, else Ready's flip to
    False, else its deletion time, else ``now`` (Kubernetes' ``getFinishedTime``)."""
    status = pod.get("status") or {}
    latest: datetime | None = None
    for key in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(key) or ():
            finished = ((container.get("state") or {}).get("terminated") or {}).get("finishedAt")
            if finished:
                moment = parse_time(finished)
                latest = moment if latest is None or moment > latest else latest
    if latest is not None:
        return latest
    for condition in status.get("conditions") or ():
        if (
            condition.get("type") == "Ready"
            and condition.get("status") == "False"
            and condition.get("lastTransitionTime")
        ):
            return parse_time(condition["lastTransitionTime"])
    if meta(pod).get("deletionTimestamp"):
        return parse_time(meta(pod)["deletionTimestamp"])
    return now


def _failed(pod: Mapping[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    tracked = TRACKING_FINALIZER in (meta(pod).get("finalizers") or ())
    return tracked and is_being_deleted(pod) and phase != "Succeeded"


def remaining_backoff(
    pods: Iterable[Mapping[str, Any]], *, now: datetime, base: float, cap: float
) -> float:
    """Seconds to wait before creating a pod (0 when none)."""
    pods = list(pods)
    successes = [
        finish_time(p, now) for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"
    ]
    last_success = max(successes) if successes else None
    failures = [
        finish_time(p, now)
        for p in pods
        if _failed(p) and (last_success is None or finish_time(p, now) > last_success)
    ]
    if not failures:
        return 0.0
    delay = min(base * 2 ** min(len(failures) - 1, 32), cap)
    elapsed = (now - max(failures)).total_seconds()
    return max(0.0, delay - elapsed)
