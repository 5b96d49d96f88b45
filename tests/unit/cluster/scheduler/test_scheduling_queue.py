"""The scheduling queue: priority order, backoff, and when unschedulable pods get another try."""

from __future__ import annotations

import asyncio

from scheduler_helpers import pod_info

from sandbox.clock import FakeClock
from sandbox.cluster.scheduler.queue import SchedulingQueue


def moves_on(event: str, plugins: set[str]) -> bool:
    """NodeResourcesFit cares about nodes and deleted pods; an error (no plugin) moves on anything."""
    registered = {"NodeResourcesFit": {"NodeAdd", "AssignedPodDelete"}, "NodeAffinity": {"NodeAdd"}}
    return not plugins or any(event in registered.get(p, ()) for p in plugins)


def make_queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock, moves_on=moves_on)


async def pop_names(queue: SchedulingQueue, count: int) -> list[str]:
    return [(await queue.pop()).pod.name for _ in range(count)]


async def fail(queue: SchedulingQueue, name: str, *, plugins: set[str], rejected: bool = True) -> None:
    """Pop ``name`` and report it failed."""
    qpi = await queue.pop()
    assert qpi.pod.name == name
    qpi.unschedulable_plugins = plugins
    queue.requeue_failed(qpi, cycle=queue.scheduling_cycle, rejected=rejected)


async def test_higher_priority_pods_pop_first_then_the_earliest_queued(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("low-1"))
    queue.add(pod_info("high", priorityClassName="x", priority=1000))
    await clock.advance(1)
    queue.add(pod_info("low-2"))
    assert await pop_names(queue, 3) == ["high", "low-1", "low-2"]


async def test_pop_waits_for_a_pod(clock: FakeClock) -> None:
    queue = make_queue(clock)
    popped = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0)
    assert not popped.done()
    queue.add(pod_info("late"))
    assert (await popped).pod.name == "late"


async def test_a_rejected_pod_waits_until_an_event_that_can_help_it(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("big"))
    await fail(queue, "big", plugins={"NodeResourcesFit"})
    assert queue.pending()["unschedulable"] == ["default/big"]
    queue.move_all_to_active_or_backoff("PodGroupAdd")  # nothing NodeResourcesFit cares about
    assert queue.pending()["unschedulable"] == ["default/big"]
    queue.move_all_to_active_or_backoff("AssignedPodDelete")
    assert queue.pending()["backoff"] == ["default/big"]  # still backing off (1 s)
    await clock.advance(1)
    queue.flush_backoff_completed()
    assert queue.pending()["active"] == ["default/big"]


async def test_an_event_during_the_attempt_sends_the_failed_pod_to_backoff(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("p"))
    qpi = await queue.pop()
    queue.move_all_to_active_or_backoff("NodeAdd")  # while "p" was being tried
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    queue.requeue_failed(qpi, cycle=queue.scheduling_cycle, rejected=True)
    assert queue.pending()["backoff"] == ["default/p"]


async def test_a_pod_that_failed_with_an_error_goes_to_backoff(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("p"))
    await fail(queue, "p", plugins=set(), rejected=False)
    assert queue.pending()["backoff"] == ["default/p"]


async def test_backoff_doubles_per_attempt_up_to_ten_seconds(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("p"))
    durations = []
    for _ in range(6):
        qpi = await queue.pop()
        durations.append(queue.backoff_duration(qpi))
        queue.requeue_failed(qpi, cycle=queue.scheduling_cycle, rejected=False)
        await clock.advance(10)
        queue.flush_backoff_completed()
    assert durations == [1, 2, 4, 8, 10, 10]


async def test_unschedulable_pods_are_retried_after_five_minutes_without_events(
    clock: FakeClock,
) -> None:
    queue = make_queue(clock)
    flushes = asyncio.ensure_future(queue.run_flushes())
    try:
        queue.add(pod_info("p"))
        await fail(queue, "p", plugins={"NodeAffinity"})
        await clock.advance(299)
        assert queue.pending()["unschedulable"] == ["default/p"]
        await clock.advance(31)
        assert queue.pending()["active"] == ["default/p"]
    finally:
        flushes.cancel()


async def test_activated_pods_skip_their_backoff(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("a"))
    await fail(queue, "a", plugins={"NodeAffinity"})
    queue.activate(["default/a", "default/unknown"])
    assert queue.pending()["active"] == ["default/a"]


async def test_a_changed_spec_moves_an_unschedulable_pod(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("p"))
    await fail(queue, "p", plugins={"NodeAffinity"})
    queue.update(pod_info("p"))  # same spec (say, a status write): stays
    assert queue.pending()["unschedulable"] == ["default/p"]
    queue.update(pod_info("p", cpu="1"))
    assert queue.pending()["unschedulable"] == []


async def test_a_deleted_pod_leaves_the_queue_even_while_being_tried(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.add(pod_info("p"))
    qpi = await queue.pop()
    queue.delete("default/p")
    queue.requeue_failed(qpi, cycle=queue.scheduling_cycle, rejected=True)
    assert "default/p" not in queue
    assert len(queue) == 0
