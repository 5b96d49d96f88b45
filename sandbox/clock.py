"""Time, injectable.

Every layer that reads the time or waits takes a :class:`Clock`: the store
stamps ``creationTimestamp`` with it, the work queue schedules retries with
it, controllers requeue on it. Production code uses :class:`SystemClock`;
tests use :class:`FakeClock` and move time forward with :meth:`FakeClock.advance`,
so no test ever sleeps.

This module sits outside the layers of DESIGN.md section 2 (every layer may
import it) and imports nothing from the sandbox.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock", "format_time", "parse_time"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when a test calls :meth:`advance`.

    Sleepers wake in deadline order as time passes them. ``advance`` is async
    so that woken tasks get to run before it returns.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._seq), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleeps are pending (handy to wait until a task parks)."""
        return sum(1 for *_, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        live = [d for d, _, f in self._sleepers if not f.done()]
        return min(live) - self._elapsed if live else None

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its deadline in order."""
        target = self._elapsed + seconds
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._elapsed = max(self._elapsed, deadline)
            if not future.done():
                future.set_result(None)
                await _settle()
        self._elapsed = target
        await _settle()


async def _settle(rounds: int = 20) -> None:
    """Let ready tasks run (several hops: a woken task may wake others)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, seconds precision, as Kubernetes writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time (``Z`` or an offset, fractions allowed)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
