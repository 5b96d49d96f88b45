"""The work queue: dedup, one worker per key, delayed and rate-limited adds, shutdown."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_helpers import settle, until

from sandbox.clock import FakeClock
from sandbox.runtime.workqueue import ItemExponentialFailureRateLimiter, ShutDown, WorkQueue


async def test_add_deduplicates_a_key_waiting_in_the_queue() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for _ in range(5):
        queue.add("a")
    queue.add("b")
    queue.add("a")
    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"
    assert len(queue) == 0


async def test_get_hands_keys_out_in_fifo_order() -> None:
    queue: WorkQueue[int] = WorkQueue()
    for i in range(10):
        queue.add(i)
    assert [await queue.get() for _ in range(10)] == list(range(10))


async def test_get_blocks_until_a_key_is_added() -> None:
    queue: WorkQueue[str] = WorkQueue()
    getter = asyncio.ensure_future(queue.get())
    await settle()
    assert not getter.done()
    queue.add("x")
    await settle()
    assert getter.result() == "x"


async def test_a_key_added_while_processing_waits_for_done_then_comes_back_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    assert await queue.get() == "a"
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0  # not handed out while processing
    second = asyncio.ensure_future(queue.get())
    await settle()
    assert not second.done()
    queue.done("a")
    await settle()
    assert second.result() == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_workqueue_never_hands_one_key_to_two_workers() -> None:
    queue: WorkQueue[int] = WorkQueue()
    rng = random.Random(7)
    active: set[int] = set()
    overlaps: list[int] = []
    processed: dict[int, int] = {}
    adds_during_processing = 0

    async def worker() -> None:
        nonlocal adds_during_processing
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            if key in active:
                overlaps.append(key)
            active.add(key)
            try:
                for _ in range(rng.randrange(1, 6)):
                    await asyncio.sleep(0)
                    # Other "watch events" keep re-adding keys, this one included.
                    other = rng.randrange(5)
                    if processed.get(other, 0) < 20:
                        if other == key:
                            adds_during_processing += 1
                        queue.add(other)
            finally:
                active.discard(key)
                processed[key] = processed.get(key, 0) + 1
                queue.done(key)

    workers = [asyncio.ensure_future(worker()) for _ in range(16)]
    for key in range(5):
        queue.add(key)
    await until(lambda: len(queue) == 0 and not queue.processing and not active, rounds=20000)
    queue.shutdown()
    await asyncio.gather(*workers)
    assert overlaps == []
    assert adds_during_processing > 0
    assert set(processed) == set(range(5))


async def test_a_key_re_added_while_processing_is_processed_again_afterwards_not_concurrently() -> (
    None
):
    queue: WorkQueue[str] = WorkQueue()
    release = asyncio.Event()
    log: list[str] = []

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            log.append("start")
            if len(log) == 1:
                await release.wait()
            log.append("end")
            queue.done(key)

    workers = [asyncio.ensure_future(worker()) for _ in range(4)]
    queue.add("k")
    await until(lambda: log == ["start"])
    queue.add("k")
    await settle()
    assert log == ["start"]  # three idle workers, yet nobody took the key
    release.set()
    await until(lambda: len(log) == 4)
    assert log == ["start", "end", "start", "end"]
    queue.shutdown()
    await asyncio.gather(*workers)


async def test_add_after_fires_only_once_the_fake_clock_reaches_the_delay() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add_after("a", 10)
    await settle()
    assert len(queue) == 0
    assert queue.waiting == 1
    await clock.advance(9.999)
    assert len(queue) == 0
    await clock.advance(0.001)
    assert len(queue) == 1
    assert queue.waiting == 0
    assert await queue.get() == "a"


async def test_add_after_with_no_delay_adds_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
    queue.add_after("a", 0)
    assert len(queue) == 1


async def test_add_after_keeps_the_earliest_deadline_of_one_key() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add_after("a", 10)
    queue.add_after("a", 3)
    queue.add_after("a", 20)
    await clock.advance(3)
    assert len(queue) == 1
    assert await queue.get() == "a"
    queue.done("a")
    await clock.advance(30)
    assert len(queue) == 0  # the later timers were dropped, not just postponed


async def test_delayed_add_of_a_queued_key_is_deduplicated() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add("a")
    queue.add_after("a", 1)
    await clock.advance(1)
    assert len(queue) == 1


def test_backoff_doubles_per_failure_and_resets_on_forget() -> None:
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    assert [limiter.when("a") for _ in range(5)] == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert limiter.num_requeues("a") == 5
    assert limiter.when("b") == 0.005  # per key
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == 0.005


def test_backoff_is_capped_at_the_max_delay() -> None:
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    delays = [limiter.when("a") for _ in range(200)]
    assert max(delays) == 1000.0
    assert delays[-1] == 1000.0
    assert delays == sorted(delays)


def test_backoff_is_configurable() -> None:
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter(
        base_delay=1, max_delay=3
    )
    assert [limiter.when("a") for _ in range(4)] == [1, 2, 3, 3]
    with pytest.raises(ValueError):
        ItemExponentialFailureRateLimiter(base_delay=2, max_delay=1)


async def test_add_rate_limited_waits_longer_after_each_failure_until_forget() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    for expected in (0.005, 0.010, 0.020, 0.040):
        queue.add_rate_limited("a")
        await settle()
        assert clock.next_deadline() == pytest.approx(expected)
        await clock.advance(expected * 0.9)
        assert len(queue) == 0, f"fired before {expected}s"
        await clock.advance(expected * 0.1 + 1e-9)
        assert len(queue) == 1, f"not fired at {expected}s"
        assert await queue.get() == "a"
        queue.done("a")
    assert queue.num_requeues("a") == 4
    queue.forget("a")
    assert queue.num_requeues("a") == 0
    queue.add_rate_limited("a")
    await clock.advance(0.005)
    assert len(queue) == 1


async def test_shutdown_wakes_blocked_getters_and_refuses_new_keys() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    getters = [asyncio.ensure_future(queue.get()) for _ in range(3)]
    queue.add_after("later", 5)
    await settle()
    queue.shutdown()
    await settle()
    for getter in getters[1:]:
        with pytest.raises(ShutDown):
            getter.result()
    queue.add("x")
    queue.add_rate_limited("y")
    await clock.advance(10)
    assert len(queue) == 0
    assert queue.waiting == 0
    with pytest.raises(ShutDown):
        await queue.get()


async def test_get_after_shutdown_raises_even_with_keys_left() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.shutdown()
    with pytest.raises(ShutDown):
        await queue.get()


async def test_a_cancelled_getter_that_was_woken_passes_the_key_on() -> None:
    queue: WorkQueue[str] = WorkQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await settle()
    queue.add("a")  # wakes `first` ...
    first.cancel()  # ... which is cancelled before it runs
    await settle()
    assert first.cancelled()
    assert second.result() == "a"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "get", "done"]), st.integers(min_value=0, max_value=3)),
        max_size=60,
    )
)
def test_queue_state_matches_a_model_for_any_sequence_of_operations(
    ops: list[tuple[str, int]],
) -> None:
    async def run() -> None:
        queue: WorkQueue[int] = WorkQueue()
        queued: list[int] = []
        processing: set[int] = set()
        dirty: set[int] = set()
        for op, key in ops:
            if op == "add":
                queue.add(key)
                if key not in dirty:
                    dirty.add(key)
                    if key not in processing:
                        queued.append(key)
            elif op == "get" and queued:
                got = await queue.get()
                assert got == queued.pop(0)
                assert got not in processing
                processing.add(got)
                dirty.discard(got)
            elif op == "done" and key in processing:
                queue.done(key)
                processing.discard(key)
                if key in dirty:
                    queued.append(key)
            assert len(queue) == len(queued) == len(set(queued))
            assert queue.processing == processing

    asyncio.run(run())
