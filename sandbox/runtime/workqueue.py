"""A rate-limited, delaying work queue with client-go's semantics.

Watch handlers put keys in; a controller's workers take them out. The
queue, not the workers, guarantees the two properties level-triggered
controllers rely on:

- **dedup**: a key waiting in the queue is there once however often it is
  added, so a burst of changes to one object costs one reconcile;
- **one worker per key**: a key handed out by :meth:`WorkQueue.get` is
  *processing* until :meth:`WorkQueue.done`. Adding it meanwhile marks it
  dirty instead of queueing it, and ``done`` queues it again, so the
  reconcile that follows sees every change and never races another
  reconcile of the same object.

Data flow for one key: ``add`` → *dirty* + *queue* → ``get`` → *processing*
→ ``done`` (→ back to *queue* if it was re-added meanwhile).

``add_after`` parks a key on the injected :class:`~sandbox.clock.Clock`
(one timer per key, the earliest deadline wins, like client-go's delaying
queue), so tests drive it with :meth:`FakeClock.advance` and never sleep.
``add_rate_limited`` asks the rate limiter how long this key should wait:
by default client-go's ``ItemExponentialFailureRateLimiter`` (5 ms doubling
per failure, capped at 1000 s) until :meth:`WorkQueue.forget` resets it.
client-go's default controller limiter also applies an overall token bucket
(10 qps, burst 100); the sandbox leaves it out because one in-process API
server needs no protection from its own controllers.

One deliberate difference from client-go: after :meth:`WorkQueue.shutdown`,
:meth:`WorkQueue.get` raises :class:`ShutDown` at once even if keys are
still queued, because a stopping manager wants workers to take no new work
and only finish what they hold.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from sandbox.clock import Clock, SystemClock

__all__ = [
    "ItemExponentialFailureRateLimiter",
    "RateLimiter",
    "ShutDown",
    "WorkQueue",
]

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """Raised by :meth:`WorkQueue.get` once the queue is shut down."""


class RateLimiter(Protocol[K]):
    """Decides how long a key waits before it is retried."""

    def when(self, key: K) -> float:
        """The delay in seconds before ``key`` is retried; counts one more failure."""
        ...

    def forget(self, key: K) -> None:
        """Stop tracking ``key``: its next failure starts from the base delay."""
        ...

    def num_requeues(self, key: K) -> int:
        """How many failures of ``key`` are being counted."""
        ...


class ItemExponentialFailureRateLimiter(Generic[K]):
    """``base_delay * 2**failures`` per key, capped at ``max_delay`` (client-go's default)."""

    def __init__(self, *, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        if base_delay <= 0 or max_delay < base_delay:
            raise ValueError("need 0 < base_delay <= max_delay")
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[K, int] = {}

    def when(self, key: K) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        # Past 2**64 the float would overflow long before anyone waits that long.
        if failures > 64:
            return self.max_delay
        return min(self.base_delay * 2**failures, self.max_delay)

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: K) -> int:
        return self._failures.get(key, 0)


class WorkQueue(Generic[K]):
    """Keys to process: deduplicated, one worker per key, delayed and rate-limited adds."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        rate_limiter: RateLimiter[K] | None = None,
        name: str = "",
    ) -> None:
        self.name = name
        self._clock: Clock = clock or SystemClock()
        self._rate_limiter: RateLimiter[K] = rate_limiter or ItemExponentialFailureRateLimiter()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        # key -> (deadline on clock.monotonic(), timer task); one timer per key.
        self._waiting: dict[K, tuple[float, asyncio.Task[None]]] = {}
        self._shutting_down = False

    # Adding ------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Mark ``key`` as needing processing (a no-op if it already does)."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake_one()

    def add_after(self, key: K, delay: float) -> None:
        """Add ``key`` once ``delay`` seconds of the clock have passed.

        If ``key`` already waits, the earlier of the two deadlines wins.
        """
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        deadline = self._clock.monotonic() + delay
        current = self._waiting.get(key)
        if current is not None:
            if current[0] <= deadline:
                return
            current[1].cancel()
        task = asyncio.get_running_loop().create_task(
            self._fire_at(key, deadline), name=f"workqueue-{self.name}-after"
        )
        self._waiting[key] = (deadline, task)

    def add_rate_limited(self, key: K) -> None:
        """Add ``key`` after the delay its rate limiter gives it (one more failure)."""
        if self._shutting_down:
            return
        self.add_after(key, self._rate_limiter.when(key))

    async def _fire_at(self, key: K, deadline: float) -> None:
        await self._clock.sleep(deadline - self._clock.monotonic())
        entry = self._waiting.get(key)
        if entry is not None and entry[0] == deadline:
            del self._waiting[key]
        self.add(key)

    # Taking ------------------------------------------------------------------

    async def get(self) -> K:
        """The next key to process; blocks while none is ready.

        The key stays *processing* until :meth:`done`. Raises
        :class:`ShutDown` once :meth:`shutdown` was called.
        """
        while True:
            if self._shutting_down:
                raise ShutDown(self.name)
            if self._queue:
                break
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                # Woken and cancelled in the same breath: hand the wake-up on,
                # or a key could sit in the queue while a worker waits.
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        """Processing of ``key`` finished; queue it again if it was re-added meanwhile."""
        self._processing.discard(key)
        if key in self._dirty and not self._shutting_down:
            self._queue.append(key)
            self._wake_one()

    # Rate limiting -------------------------------------------------------------

    def forget(self, key: K) -> None:
        """Reset ``key``'s backoff (call after it was processed successfully)."""
        self._rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self._rate_limiter.num_requeues(key)

    # Lifecycle and inspection -------------------------------------------------

    def shutdown(self) -> None:
        """Refuse new keys, drop delayed ones and make every :meth:`get` raise :class:`ShutDown`."""
        self._shutting_down = True
        for _, task in self._waiting.values():
            task.cancel()
        self._waiting.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def __len__(self) -> int:
        """How many keys are ready to be taken (not counting delayed or processing ones)."""
        return len(self._queue)

    @property
    def processing(self) -> frozenset[K]:
        return frozenset(self._processing)

    @property
    def waiting(self) -> int:
        """How many keys are parked by :meth:`add_after`."""
        return len(self._waiting)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
