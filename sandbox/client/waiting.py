"""``wait_for``: one implementation for every client.

Waiting is a first-class verb (lightkube's ``wait``, ``kubectl wait``): get
the object, and if the wanted state is not there yet, watch it by name from
the version just read until it is, or until the timeout. A timeout is the
moment a learner needs to see *why*, so :class:`WaitTimeout` carries the
object's last conditions and its recent events in its message.

:class:`WaitMixin` adds ``wait_for`` to any class that implements the rest
of the client protocol (get, watch, list), so the in-memory and real-cluster
clients share it instead of keeping two copies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.api.errors import Gone, NotFound
from sandbox.api.objects import find_condition
from sandbox.client.protocol import Predicate
from sandbox.clock import Clock, SystemClock

__all__ = ["WaitMixin", "WaitTimeout", "describe_wait_state"]


class WaitTimeout(TimeoutError):
    """A wait ran out of time; the message says what the object looked like."""

    def __init__(self, message: str, *, last: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.last = last


def _condition_wanted(condition: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(condition, tuple):
        return condition
    type_, _, status = condition.partition("=")
    return type_, status or "True"


def _holds(
    obj: Mapping[str, Any],
    condition: str | tuple[str, str] | None,
    predicate: Predicate | None,
) -> bool:
    if condition is not None:
        type_, status = _condition_wanted(condition)
        cond = find_condition(obj, type_)
        if cond is None or str(cond.get("status")) != status:
            return False
    return predicate is None or bool(predicate(dict(obj)))


def describe_wait_state(obj: Mapping[str, Any] | None, events: list[Mapping[str, Any]]) -> str:
    """The lines a timed-out wait prints: phase, conditions, recent events."""
    lines: list[str] = []
    if obj is None:
        lines.append("  the object does not exist")
    else:
        status = obj.get("status") or {}
        if isinstance(status, Mapping) and status.get("phase"):
            lines.append(f"  phase: {status['phase']}")
        conditions = status.get("conditions") if isinstance(status, Mapping) else None
        if conditions:
            lines.append("  conditions:")
            for c in conditions:
                reason = f" ({c.get('reason')})" if c.get("reason") else ""
                message = f": {c.get('message')}" if c.get("message") else ""
                lines.append(f"    {c.get('type')}={c.get('status')}{reason}{message}")
        else:
            lines.append("  conditions: <none>")
    if events:
        lines.append("  recent events:")
        for ev in events[-10:]:
            count = ev.get("count") or 1
            times = f" (x{count})" if count > 1 else ""
            lines.append(
                f"    {ev.get('type', 'Normal')} {ev.get('reason', '')}{times}: {ev.get('message', '')}"
            )
    else:
        lines.append("  recent events: <none>")
    return "\n".join(lines)


class WaitMixin:
    """``wait_for`` over ``get``/``watch``/``list`` of the client protocol."""

    clock: Clock = SystemClock()

    async def wait_for(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        condition: str | tuple[str, str] | None = None,
        predicate: Predicate | None = None,
        deleted: bool = False,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        last: dict[str, Any] | None = None

        def remember(obj: dict[str, Any] | None) -> None:
            nonlocal last
            last = obj

        waiter = asyncio.ensure_future(
            self._wait_loop(api_version, kind, name, namespace=namespace, condition=condition,
                            predicate=predicate, deleted=deleted, seen=remember)
        )

        timer = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            done, _ = await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if waiter in done:
            return waiter.result()
        waiter.cancel()
        try:
            await waiter
        except (asyncio.CancelledError, Exception):
            pass
        events = await self._recent_events(kind, name, namespace, last)
        wanted = (
            "to be deleted"
            if deleted
            else f"for condition {_condition_wanted(condition)[0]}={_condition_wanted(condition)[1]}"
            if condition
            else "for the predicate"
        )
        where = f" in namespace {namespace}" if namespace else ""
        raise WaitTimeout(
            f"timed out after {timeout:g}s waiting {wanted} on {kind} {name}{where}\n"
            + describe_wait_state(last, events),
            last=last,
        )

    async def _wait_loop(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespace: str | None,
        condition: str | tuple[str, str] | None,
        predicate: Predicate | None,
        deleted: bool,
        seen: Callable[[dict[str, Any] | None], None],
    ) -> dict[str, Any]:
        while True:
            try:
                obj = await self.get(api_version, kind, name, namespace=namespace)  # type: ignore[attr-defined]
            except NotFound:
                obj = None
            seen(obj)
            if obj is None and deleted:
                return {}
            if obj is not None and not deleted and _holds(obj, condition, predicate):
                return obj
            rv = (obj or {}).get("metadata", {}).get("resourceVersion") if obj else None
            if rv is None:
                listed = await self.list(  # type: ignore[attr-defined]
                    api_version, kind, namespace=namespace, field_selector=f"metadata.name={name}"
                )
                rv = listed["metadata"]["resourceVersion"]
            try:
                async for event in self.watch(  # type: ignore[attr-defined]
                    api_version, kind, namespace=namespace, resource_version=rv,
                    field_selector=f"metadata.name={name}",
                ):
                    if event.type == "BOOKMARK":
                        continue
                    if event.type == "DELETED":
                        seen(None)
                        if deleted:
                            return {}
                        continue
                    seen(event.object)
                    if not deleted and _holds(event.object, condition, predicate):
                        return event.object
            except Gone:
                continue  # relist and keep waiting
            # The watch ended (server timeout): start again from a fresh read.

    async def _recent_events(
        self, kind: str, name: str, namespace: str | None, obj: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        uid = ((obj or {}).get("metadata") or {}).get("uid")
        if uid:
            selector += f",involvedObject.uid={uid}"
        try:
            listed = await self.list("v1", "Event", namespace=namespace, field_selector=selector)  # type: ignore[attr-defined]
        except Exception:
            return []
        items = listed.get("items") or []
        return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
