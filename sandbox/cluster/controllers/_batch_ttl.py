"""TTL after finished: delete a finished Job ``ttlSecondsAfterFinished`` later.

Kubernetes runs this as its own controller (``ttl-after-finished``); the
sandbox applies the same policy inside the job controller's reconcile of a
finished Job, which is the only moment it matters. The clock starts at the
Job's ``completionTime`` or, for a failed Job, the Failed condition's
``lastTransitionTime``; deletion uses background propagation and a uid
precondition, as Kubernetes' controller does, so the garbage collector
removes the pods afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.clock import parse_time

__all__ = ["ttl_remaining"]


def ttl_remaining(
    job: Mapping[str, Any], finished: Mapping[str, Any], *, now: datetime
) -> float | None:
    """Seconds until the finished Job expires (``<= 0``: now), or ``None`` without a TTL."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if ttl is None:
        return None
    status = job.get("status") or {}
    stamp = status.get("completionTime") or finished.get("lastTransitionTime")
    if not stamp:
        return None
    return float(ttl) - (now - parse_time(stamp)).total_seconds()
