"""The reconcile contract: what a controller is asked, and what it may answer.

This is controller-runtime's ``pkg/reconcile`` in Python. A watch never hands
a controller an event; it hands it a :class:`Request` naming one object, and
the reconciler re-reads the world and converges it (DESIGN.md §1 principle 3).
Because a request carries no event payload, ten changes to one object that
arrive before a worker is free collapse into one reconcile, and a missed
event costs nothing: the next resync or change of anything related names the
object again.

Each outcome has one fixed meaning, applied by
:class:`sandbox.runtime.controller.Controller`:

- return ``None`` or ``Result()``: done; the object's backoff is forgotten;
- ``Result(requeue_after=t)``: done for now, look again in ``t`` seconds
  (for polling something no watch reports, such as elapsed time);
- ``Result(requeue=True)``: look again soon, with the per-object exponential
  backoff;
- raise any exception: a transient failure; logged with its traceback and
  retried with backoff;
- raise :class:`TerminalError`: retrying cannot help; the controller stops
  retrying, sets a condition (``Failed`` by default, status ``True``) with
  the error's reason and message on the object and records a Warning Event,
  so the failure is visible where users look (DESIGN.md §1 principle 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Reconciler", "Request", "Result", "TerminalError"]


@dataclass(frozen=True, order=True)
class Request:
    """The name of one object to reconcile; the key of a controller's work queue.

    Unlike controller-runtime's ``reconcile.Request`` it also names the kind,
    so one queue may carry keys of several kinds and a terminal failure can be
    written back to the right object without guessing.
    """

    api_version: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        """``namespace/name`` (just ``name`` for cluster-scoped objects), as client-go keys it."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class Result:
    """How a successful reconcile wants to be called again (by default: not at all)."""

    requeue_after: float | None = None
    requeue: bool = False


class TerminalError(Exception):
    """A failure that retrying cannot fix (an invalid spec, a missing image mapping).

    The controller forgets the request's backoff, sets condition
    ``condition_type`` (status ``True``) with ``reason`` and the message on the
    object, and records a Warning Event with the same reason and message. The
    object is reconciled again only when something changes it.
    """

    def __init__(self, message: str, *, reason: str, condition_type: str = "Failed") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.condition_type = condition_type

    def __repr__(self) -> str:
        return f"TerminalError({self.message!r}, reason={self.reason!r})"


@runtime_checkable
class Reconciler(Protocol):
    """Converges the world for one object; must be idempotent."""

    async def reconcile(self, request: Request) -> Result | None: ...
