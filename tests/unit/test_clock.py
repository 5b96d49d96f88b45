"""The fake clock wakes sleepers in deadline order; time formats match Kubernetes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sandbox.clock import FakeClock, format_time, parse_time


async def test_fake_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 2))]
    await asyncio.sleep(0)
    assert clock.sleepers == 2
    await clock.advance(5)
    assert woke == [("early", 2)]
    await clock.advance(5)
    assert woke == [("early", 2), ("late", 10)]
    await asyncio.gather(*tasks)
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)


def test_time_format_round_trips() -> None:
    moment = datetime(2026, 11, 28, 23, 35, 21, tzinfo=UTC)
    assert format_time(moment) == "2026-11-28T23:35:21Z"
    assert parse_time("2026-11-28T23:35:21Z") == moment
    assert parse_time("2026-11-28T23:35:21+00:00") == moment
