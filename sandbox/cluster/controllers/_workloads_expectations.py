"""Controller expectations: don't act twice before the cache has seen the first act.

A ReplicaSet controller that creates 3 pods reads its pod cache on the next
reconcile. If that reconcile comes before the informer delivered the 3 new
pods (another event enqueued the ReplicaSet meanwhile), the cache still shows
too few pods and a naive controller would create 3 more. client-go's answer,
``ControllerExpectations``, is reproduced here:

- before creating ``n`` pods and deleting others the controller calls
  :meth:`Expectations.expect` with the count and the keys of the pods to delete;
- the pod event handlers (which run right after the cache is updated) call
  :meth:`Expectations.creation_observed` / :meth:`Expectations.deletion_observed`;
- a reconcile only creates or deletes when :meth:`Expectations.satisfied` says
  every expected event arrived (otherwise it just refreshes status and waits
  for the next event, which will enqueue it again).

Deletions are tracked by pod key (``UIDTrackingControllerExpectations``),
so a pod seen first with a ``deletionTimestamp`` and later as DELETED counts
once. Expectations expire after five minutes of the injected clock
(``ExpectationsTimeout``), so a lost event delays a controller, never wedges it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sandbox.clock import Clock

__all__ = ["EXPECTATIONS_TIMEOUT", "Expectations"]

EXPECTATIONS_TIMEOUT = 5 * 60.0


@dataclass
class _Expected:
    adds: int
    deletes: set[str] = field(default_factory=set)
    timestamp: float = 0.0

    def fulfilled(self) -> bool:
        return self.adds <= 0 and not self.deletes


class Expectations:
    """Pending creations and deletions per controller key (``namespace/name``)."""

    def __init__(self, clock: Clock, *, timeout: float = EXPECTATIONS_TIMEOUT) -> None:
        self._clock = clock
        self._timeout = timeout
        self._items: dict[str, _Expected] = {}

    def satisfied(self, key: str) -> bool:
        """Whether the controller of ``key`` may act on what its cache shows."""
        expected = self._items.get(key)
        if expected is None:
            return True
        if expected.fulfilled():
            return True
        return self._clock.monotonic() - expected.timestamp > self._timeout

    def expect(self, key: str, *, creations: int = 0, deletions: Iterable[str] = ()) -> None:
        """Before acting: ``creations`` pods will appear, the pods keyed ``deletions`` go."""
        self._items[key] = _Expected(creations, set(deletions), timestamp=self._clock.monotonic())

    def creation_observed(self, key: str) -> None:
        """A pod the controller created reached the cache (or its create failed)."""
        expected = self._items.get(key)
        if expected is not None and expected.adds > 0:
            expected.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        """A pod the controller deleted was seen going (or its delete failed)."""
        expected = self._items.get(key)
        if expected is not None:
            expected.deletes.discard(pod_key)

    def forget(self, key: str) -> None:
        """The controller object is gone: drop what it expected."""
        self._items.pop(key, None)
