"""Ages as kubectl shows them: ``duration.HumanDuration`` over RFC 3339 timestamps.

Every AGE cell, a pod's ``RESTARTS`` suffix (``"2 (5s ago)"``), a Job's
DURATION and a CRD's ``date`` column go through :func:`human_duration`, which
keeps about two significant figures (``"3m2s"`` under ten minutes, then
``"15m"``, ``"5h20m"``, ``"2d3h"``). Timestamps are parsed as strictly as Go's
``time.Parse(time.RFC3339)``: a naive or space-separated time is invalid.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sandbox.clock import parse_time

__all__ = ["age", "human_duration", "parse_timestamp"]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def human_duration(delta: timedelta) -> str:
    """``duration.HumanDuration``: ``"45s"``, ``"3m2s"`` under 10 min, ``"15m"``, ``"5h20m"``, ``"2d3h"``, ``"3y"``.

    About two significant figures; up to a second in the future reads ``"0s"``
    (clock skew), more than that ``"<invalid>"``.
    """
    nanos = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1_000
    seconds = nanos // 10**9 if nanos >= 0 else -(-nanos // 10**9)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as Go's ``time.Parse`` accepts it; ``None`` otherwise."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    try:
        return parse_time(value.upper())
    except ValueError:
        return None


def age(timestamp: Any, *, now: datetime) -> str:
    """``translateTimestampSince``: the age of a timestamp (``"<unknown>"`` when unset)."""
    if not timestamp:
        return "<unknown>"
    moment = parse_timestamp(timestamp)
    if moment is None:
        return "<invalid>"
    return human_duration(now - moment)
