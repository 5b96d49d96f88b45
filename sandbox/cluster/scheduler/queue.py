"""The scheduling queue: which pending pod to try next, and when to try a failed one again.

kube-scheduler's ``PriorityQueue`` in three parts:

- **activeQ**, a heap of pods ready to be tried: higher ``spec.priority``
  first, then the pod that entered the queue first (PrioritySort);
- **backoffQ**, pods that failed and wait out their backoff (1 s doubling
  per attempt up to 10 s) before going back to activeQ;
- **unschedulable pods**, pods no node fits. They stay there until a
  cluster event that could help them happens (a node added or changed, an
  assigned pod added, deleted or finished, a PodGroup created ...) — an event
  helps a pod if one of the plugins that rejected it registered for it —
  or until they have waited ``max_in_unschedulable`` (5 minutes) without
  one, checked every 30 seconds, the "flush" that catches what no event
  announced.

A failed pod returns to backoffQ rather than to the unschedulable pods when
an event arrived while it was being tried (its verdict may be stale), or
when it failed with an error rather than a rejection.

All timing is on the injected clock. The queue is single-threaded asyncio
state; :meth:`pop` is the only awaiting method.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sandbox.clock import Clock
from sandbox.cluster.scheduler.framework import ClusterEvent, PodInfo

__all__ = ["QueuedPodInfo", "SchedulingQueue"]

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_IN_UNSCHEDULABLE = 300.0
UNSCHEDULABLE_FLUSH_INTERVAL = 30.0
BACKOFF_FLUSH_INTERVAL = 1.0


@dataclass(eq=False)
class QueuedPodInfo:
    """A pod in the queue, with its scheduling history."""

    pod: PodInfo
    #: When it last entered the queue (orders activeQ, starts the backoff).
    timestamp: float
    #: When it first entered the queue.
    initial_attempt_timestamp: float
    attempts: int = 0
    #: The plugins that rejected it last time (which events can help it).
    unschedulable_plugins: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.pod.key


class SchedulingQueue:
    def __init__(
        self,
        *,
        clock: Clock,
        moves_on: Callable[[ClusterEvent, set[str]], bool],
        initial_backoff: float = INITIAL_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        max_in_unschedulable: float = MAX_IN_UNSCHEDULABLE,
    ) -> None:
        self._clock = clock
        self._moves_on = moves_on
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._max_in_unschedulable = max_in_unschedulable
        self._seq = itertools.count()
        # activeQ: heap of (-priority, timestamp, seq, key); ``_active`` says
        # which entry is current (others were superseded or removed).
        self._active_heap: list[tuple[int, float, int, str]] = []
        self._active: dict[str, tuple[int, QueuedPodInfo]] = {}
        self._backoff_heap: list[tuple[float, int, str]] = []
        self._backoff: dict[str, tuple[int, QueuedPodInfo]] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self._wakeup = asyncio.Event()
        #: Incremented at every pop; ``_move_request_cycle`` is the cycle of the
        #: last event that moved pods.
        self.scheduling_cycle = 0
        self._move_request_cycle = -1

    # Adding and removing ----------------------------------------------------------------

    def add(self, pod: PodInfo) -> None:
        """A new pending pod (or a newer version of one already queued)."""
        if self.update(pod):
            return
        now = self._clock.monotonic()
        self._push_active(QueuedPodInfo(pod, timestamp=now, initial_attempt_timestamp=now))

    def update(self, pod: PodInfo) -> bool:
        """Replace the queued version of ``pod``; returns whether it was known.

        A pod waiting as unschedulable whose spec changed (a toleration
        added, a scheduling constraint relaxed) may fit now: it moves.
        """
        key = pod.key
        entry = self._active.get(key) or self._backoff.get(key)
        if entry is not None:
            entry[1].pod = pod
            return True
        qpi = self._in_flight.get(key)
        if qpi is not None:
            if qpi.pod.spec != pod.spec:
                self._move_request_cycle = self.scheduling_cycle
            qpi.pod = pod
            return True
        qpi = self._unschedulable.get(key)
        if qpi is not None:
            changed = qpi.pod.spec != pod.spec or qpi.pod.labels != pod.labels
            qpi.pod = pod
            if changed:
                del self._unschedulable[key]
                self._requeue(qpi)
            return True
        return False

    def delete(self, key: str) -> None:
        """The pod is gone, or no longer pending (bound, finished)."""
        self._active.pop(key, None)
        self._backoff.pop(key, None)
        self._unschedulable.pop(key, None)
        self._in_flight.pop(key, None)

    def __contains__(self, key: str) -> bool:
        return (
            key in self._active
            or key in self._backoff
            or key in self._unschedulable
            or key in self._in_flight
        )

    def __len__(self) -> int:
        return len(self._active) + len(self._backoff) + len(self._unschedulable)

    # Popping ------------------------------------------------------------------------------------

    async def pop(self) -> QueuedPodInfo:
        """The next pod to try; waits while activeQ is empty."""
        while True:
            while self._active_heap:
                _, _, seq, key = heapq.heappop(self._active_heap)
                entry = self._active.get(key)
                if entry is None or entry[0] != seq:
                    continue
                del self._active[key]
                qpi = entry[1]
                qpi.attempts += 1
                self.scheduling_cycle += 1
                self._in_flight[key] = qpi
                return qpi
            self._wakeup.clear()
            await self._wakeup.wait()

    def done(self, key: str) -> None:
        """The attempt on this pod is over (bound, or requeued by :meth:`requeue_failed`)."""
        self._in_flight.pop(key, None)

    def requeue_failed(self, qpi: QueuedPodInfo, *, cycle: int, rejected: bool) -> None:
        """Put back a pod whose attempt (started in scheduling ``cycle``) failed."""
        key = qpi.key
        if key not in self._in_flight:
            return  # deleted or bound meanwhile
        del self._in_flight[key]
        qpi.timestamp = self._clock.monotonic()
        if rejected and self._move_request_cycle < cycle:
            self._unschedulable[key] = qpi
        else:
            self._push_backoff(qpi)

    def activate(self, keys: Iterable[str]) -> None:
        """Move these pods to activeQ now, backoff or not (``PodsToActivate``)."""
        for key in keys:
            qpi = self._unschedulable.pop(key, None)
            if qpi is None:
                entry = self._backoff.pop(key, None)
                qpi = entry[1] if entry is not None else None
            if qpi is not None:
                self._push_active(qpi)

    # Events and flushes ---------------------------------------------------------------------------

    def move_all_to_active_or_backoff(self, event: ClusterEvent, *, besides: str = "") -> None:
        """A cluster event happened: unschedulable pods it may help get another try
        (all but ``besides``, the pod whose failure caused the event)."""
        self._move_request_cycle = self.scheduling_cycle
        if not self._unschedulable:
            return
        moved = [
            qpi
            for qpi in self._unschedulable.values()
            if qpi.key != besides and self._moves_on(event, qpi.unschedulable_plugins)
        ]
        for qpi in moved:
            del self._unschedulable[qpi.key]
            self._requeue(qpi)

    def flush_backoff_completed(self) -> None:
        now = self._clock.monotonic()
        while self._backoff_heap and self._backoff_heap[0][0] <= now:
            _, seq, key = heapq.heappop(self._backoff_heap)
            entry = self._backoff.get(key)
            if entry is None or entry[0] != seq:
                continue
            del self._backoff[key]
            self._push_active(entry[1])

    def flush_unschedulable_leftover(self) -> None:
        now = self._clock.monotonic()
        stale = [
            qpi
            for qpi in self._unschedulable.values()
            if now - qpi.timestamp >= self._max_in_unschedulable
        ]
        for qpi in stale:
            del self._unschedulable[qpi.key]
            self._requeue(qpi)

    async def run_flushes(self) -> None:
        """Flush backoffQ every second and the leftover unschedulable pods every 30 s."""
        since_leftover = 0.0
        while True:
            await self._clock.sleep(BACKOFF_FLUSH_INTERVAL)
            self.flush_backoff_completed()
            since_leftover += BACKOFF_FLUSH_INTERVAL
            if since_leftover >= UNSCHEDULABLE_FLUSH_INTERVAL:
                since_leftover = 0.0
                self.flush_unschedulable_leftover()

    # Internals ------------------------------------------------------------------------------------

    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        duration = self._initial_backoff * 2 ** max(qpi.attempts - 1, 0)
        return min(duration, self._max_backoff)

    def _backoff_expiry(self, qpi: QueuedPodInfo) -> float:
        return qpi.timestamp + self.backoff_duration(qpi)

    def _requeue(self, qpi: QueuedPodInfo) -> None:
        if self._backoff_expiry(qpi) > self._clock.monotonic():
            self._push_backoff(qpi)
        else:
            self._push_active(qpi)

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        seq = next(self._seq)
        self._active[qpi.key] = (seq, qpi)
        heapq.heappush(self._active_heap, (-qpi.pod.priority, qpi.timestamp, seq, qpi.key))
        self._wakeup.set()

    def _push_backoff(self, qpi: QueuedPodInfo) -> None:
        seq = next(self._seq)
        self._backoff[qpi.key] = (seq, qpi)
        heapq.heappush(self._backoff_heap, (self._backoff_expiry(qpi), seq, qpi.key))

    # Introspection (tests, debugging) ---------------------------------------------------------------

    def pending(self) -> dict[str, list[str]]:
        """Pod keys per sub-queue: ``active``, ``backoff``, ``unschedulable``."""
        return {
            "active": sorted(self._active),
            "backoff": sorted(self._backoff),
            "unschedulable": sorted(self._unschedulable),
        }
