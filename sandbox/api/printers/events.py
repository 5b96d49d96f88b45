"""How events print: ``LAST SEEN TYPE REASON OBJECT MESSAGE`` (``printEvent``).

Both Event APIs print alike: an ``events.k8s.io/v1`` Event is stored as the
core Event it converts to, so its fields are mapped back (``regarding`` is
``involvedObject``, ``note`` the message, ``deprecated*`` the old counters)
before printing. LAST SEEN falls back from ``lastTimestamp`` to the first
time seen, and a series' ``lastObservedTime`` wins over both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.printers.ages import age
from sandbox.api.printers.columns import (
    OBJECT_META,
    Column,
    Printer,
    PrintOptions,
    as_int,
    name_of,
)

__all__ = ["EVENT", "EVENT_V1", "PRINTERS"]


def _event_cells(event: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    """``printEvent`` over a core/v1 Event."""
    first = event.get("firstTimestamp")
    first_seen = age(first, now=opts.now) if first else age(event.get("eventTime"), now=opts.now)
    last = event.get("lastTimestamp")
    last_seen = age(last, now=opts.now) if last else first_seen
    count = as_int(event.get("count"))
    series = event.get("series")
    if series is not None:
        last_seen = age(series.get("lastObservedTime"), now=opts.now)
        count = as_int(series.get("count"))
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return [
        last_seen,
        event.get("type") or "",
        event.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        f"{component}, {host}" if host else component,
        str(event.get("message") or "").strip(),
        first_seen,
        count,
        name_of(event),
    ]


def _events_v1_cells(event: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    """An ``events.k8s.io/v1`` Event prints as the core Event it is stored as."""
    core = {
        "metadata": event.get("metadata"),
        "involvedObject": event.get("regarding"),
        "message": event.get("note"),
        "firstTimestamp": event.get("deprecatedFirstTimestamp"),
        "lastTimestamp": event.get("deprecatedLastTimestamp"),
        "count": event.get("deprecatedCount"),
        "source": event.get("deprecatedSource"),
        "eventTime": event.get("eventTime"),
        "series": event.get("series"),
        "reportingComponent": event.get("reportingController"),
        "reportingInstance": event.get("reportingInstance"),
        "type": event.get("type"),
        "reason": event.get("reason"),
    }
    return _event_cells(core, opts)


_EVENT_COLUMNS = (
    Column("Last Seen", description=("core.v1.Event", "lastTimestamp")),
    Column("Type", description=("core.v1.Event", "type")),
    Column("Reason", description=("core.v1.Event", "reason")),
    Column("Object", description=("core.v1.Event", "involvedObject")),
    Column("Subobject", priority=1, description=("core.v1.ObjectReference", "fieldPath")),
    Column("Source", priority=1, description=("core.v1.Event", "source")),
    Column("Message", description=("core.v1.Event", "message")),
    Column("First Seen", priority=1, description=("core.v1.Event", "firstTimestamp")),
    Column("Count", priority=1, description=("core.v1.Event", "count")),
    Column("Name", priority=1, format="name", description=(OBJECT_META, "name")),
)
EVENT = Printer(columns=_EVENT_COLUMNS, cells=_event_cells)
EVENT_V1 = Printer(columns=_EVENT_COLUMNS, cells=_events_v1_cells)


PRINTERS: dict[str, Printer] = {"Event": EVENT, "Event.events.k8s.io": EVENT_V1}
