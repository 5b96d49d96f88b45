"""A controller: watches that enqueue, a work queue, and workers that reconcile.

This is controller-runtime's ``pkg/internal/controller``. Data flow::

    informer (for_) ──EnqueueRequestForObject──┐
    informer (owns) ──EnqueueRequestForOwner───┼──► WorkQueue[Request] ──► N workers
    informer (watches) ──any EventHandler──────┘                            │
                                   ▲                                        ▼
                                   └── add_after / add_rate_limited ◄── reconcile(request)

The watches only name objects; the workers do the work. Because the queue
hands a key to one worker at a time, ``max_concurrent_reconciles`` speeds up
many objects without ever reconciling one object twice at once.

What a worker does with each outcome is fixed (see
:mod:`sandbox.runtime.reconcile`): success forgets the key's backoff;
``requeue_after`` forgets it and parks the key on the clock; ``requeue``
and exceptions retry with per-key exponential backoff (exceptions are
logged with their traceback); a :class:`TerminalError` forgets the key and
writes the failure onto the object as a condition (through the status
subresource, or the main resource for kinds without one) and a Warning
Event, then waits for the object to change.

A controller can be **paused** (:meth:`Controller.pause`, or for a while
through :meth:`Manager.pause <sandbox.runtime.manager.Manager.pause>`):
its workers take no key from the queue, while the watches keep enqueueing
(deduplicated as ever). A reconcile already running finishes. On
:meth:`Controller.resume` the workers take the keys that piled up and
converge the world as it is by then — level-triggered, nothing is replayed.
This is how a scenario shows a controller's absence (a Deployment scaled
while its controller is paused keeps its old ReplicaSet) and its recovery.

Every log line of a reconcile, the runtime's and the reconciler's own when
it uses :func:`sandbox.runtime.log.get_logger`, carries ``controller=<name>
key=<namespace/name> reconcileID=<uuid>``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from sandbox.api.errors import ApiError, MethodNotAllowed, NotFound
from sandbox.api.objects import set_condition
from sandbox.client.protocol import Client
from sandbox.clock import Clock
from sandbox.runtime.events import EventRecorder
from sandbox.runtime.handlers import EnqueueRequestForObject, EnqueueRequestForOwner, EventHandler
from sandbox.runtime.informer import SharedInformer
from sandbox.runtime.log import ReconcileContext, get_logger, reconcile_context
from sandbox.runtime.reconcile import Reconciler, Request, Result, TerminalError
from sandbox.runtime.workqueue import RateLimiter, ShutDown, WorkQueue

if TYPE_CHECKING:
    from sandbox.runtime.manager import Manager

__all__ = ["Controller", "GroupKind", "Watch", "wait_tasks"]

log = get_logger(__name__)

GroupKind = tuple[str, str]
"""``(api_version, kind)``, e.g. ``("apps/v1", "Deployment")``."""

Watch = tuple[str, str, EventHandler]
"""``(api_version, kind, handler)``: an extra kind a controller watches."""


class _QueueingHandler:
    """Adapts an :class:`EventHandler` to an informer's callbacks for one queue."""

    def __init__(self, handler: EventHandler, queue: WorkQueue[Request]) -> None:
        self.handler = handler
        self.queue = queue

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self.handler.on_add(obj, queue=self.queue)

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.handler.on_update(old, new, queue=self.queue)

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self.handler.on_delete(obj, queue=self.queue)


class Controller:
    """Reconciles one primary kind (``for_``) with ``max_concurrent_reconciles`` workers.

    ``owns`` lists child kinds: a change to a child enqueues its controller
    owner of kind ``for_``. ``watches`` adds any other kind with its own
    handler; ``for_handler`` replaces the primary kind's own handler (by default
    :class:`EnqueueRequestForObject`), as a predicate on ``For`` does in
    controller-runtime — e.g. to skip the events of the controller's own
    writes. A controller is bound to a :class:`~sandbox.runtime.manager.Manager`
    (``manager.add``), which shares informers between controllers and starts
    the workers once every cache has synced.
    """

    def __init__(
        self,
        name: str,
        *,
        for_: GroupKind,
        reconciler: Reconciler,
        owns: Sequence[GroupKind] = (),
        watches: Sequence[Watch] = (),
        for_handler: EventHandler | None = None,
        max_concurrent_reconciles: int = 1,
        rate_limiter: RateLimiter[Request] | None = None,
    ) -> None:
        if max_concurrent_reconciles < 1:
            raise ValueError("max_concurrent_reconciles must be at least 1")
        self.name = name
        self.for_ = for_
        self.owns = tuple(owns)
        self.watches = tuple(watches)
        self.for_handler = for_handler if for_handler is not None else EnqueueRequestForObject()
        self.reconciler = reconciler
        self.max_concurrent_reconciles = max_concurrent_reconciles
        self._rate_limiter = rate_limiter
        self._queue: WorkQueue[Request] | None = None
        self._client: Client | None = None
        self._clock: Clock | None = None
        self._recorder: EventRecorder | None = None
        self._registrations: list[tuple[SharedInformer, _QueueingHandler]] = []
        self._workers: list[asyncio.Task[None]] = []
        self._paused = False
        # Set while workers may take keys; cleared by pause(), set again by
        # resume() or stop() (a stopping controller's workers must wake to exit).
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        #: Reconciles by outcome, like controller-runtime's ``reconcile_total``:
        #: success, requeue, requeue_after, error, terminal_error.
        self.counts: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"<Controller {self.name} for {self.for_[1]}>"

    # Binding and lifecycle --------------------------------------------------------

    @property
    def queue(self) -> WorkQueue[Request]:
        if self._queue is None:
            raise RuntimeError(f"controller {self.name!r} is not set up (add it to a Manager)")
        return self._queue

    @property
    def informers(self) -> list[SharedInformer]:
        """The informers this controller's handlers are registered on."""
        return [informer for informer, _ in self._registrations]

    def setup(self, manager: Manager) -> None:
        """Create the queue and register the watch handlers on the manager's informers."""
        if self._queue is not None:
            raise RuntimeError(f"controller {self.name!r} is already set up")
        self._client = manager.client
        self._clock = manager.clock
        self._recorder = manager.event_recorder(self.name)
        self._queue = WorkQueue(
            clock=manager.clock, rate_limiter=self._rate_limiter, name=self.name
        )
        api_version, kind = self.for_
        self._watch(manager.informer(api_version, kind), self.for_handler)
        for child_api_version, child_kind in self.owns:
            self._watch(
                manager.informer(child_api_version, child_kind),
                EnqueueRequestForOwner(api_version, kind),
            )
        for watch_api_version, watch_kind, handler in self.watches:
            self._watch(manager.informer(watch_api_version, watch_kind), handler)

    def _watch(self, informer: SharedInformer, handler: EventHandler) -> None:
        adapter = _QueueingHandler(handler, self.queue)
        informer.add_event_handler(adapter)
        self._registrations.append((informer, adapter))

    def start(self) -> None:
        """Start the workers (the manager calls this once the caches synced)."""
        queue = self.queue
        if self._workers:
            return
        if queue.shutting_down:
            raise RuntimeError(f"controller {self.name!r} was stopped; build a new one")
        loop = asyncio.get_running_loop()
        self._workers = [
            loop.create_task(self._worker(), name=f"{self.name}-worker-{i}")
            for i in range(self.max_concurrent_reconciles)
        ]

    @property
    def running(self) -> bool:
        return any(not w.done() for w in self._workers)

    @property
    def paused(self) -> bool:
        """Whether the workers are holding back (see :meth:`pause`)."""
        return self._paused

    def pause(self) -> None:
        """Take no more keys until :meth:`resume`; reconciles in flight finish.

        Watches still enqueue and deduplicate, so nothing is lost: the
        controller catches up on resume. Pausing a paused controller is a no-op.
        """
        if not self._paused:
            log.info("controller %s paused", self.name)
        self._paused = True
        self._unpaused.clear()

    def resume(self) -> None:
        """Let the workers take keys again (a no-op unless paused)."""
        if self._paused:
            log.info("controller %s resumed", self.name)
        self._paused = False
        self._unpaused.set()

    async def stop(self, *, timeout: float | None = None) -> None:
        """Take no new keys, let in-flight reconciles finish (up to ``timeout``
        seconds of the clock), then cancel the ones still running."""
        for informer, adapter in self._registrations:
            with suppress(ValueError):
                informer.remove_event_handler(adapter)
        if self._queue is not None:
            self._queue.shutdown()
        self._unpaused.set()  # paused workers wake, find the queue shut, and exit
        stuck = await wait_tasks(self._workers, timeout=timeout, clock=self._clock)
        for task in stuck:
            log.warning(
                "controller %s: cancelling a reconcile still running at shutdown", self.name
            )
            task.cancel()
        for task in self._workers:
            with suppress(asyncio.CancelledError):
                await task

    # Workers ------------------------------------------------------------------------

    async def _worker(self) -> None:
        queue = self.queue
        while True:
            if self._paused and not queue.shutting_down:
                await self._unpaused.wait()
                continue
            try:
                request = await queue.get()
            except ShutDown:
                return
            if self._paused and not queue.shutting_down:
                # Paused while this worker was already waiting for a key: hand
                # it back (re-added while processing, so done() queues it again).
                queue.add(request)
                queue.done(request)
                continue
            try:
                await self._process(request)
            finally:
                queue.done(request)

    async def _process(self, request: Request) -> None:
        queue = self.queue
        context = ReconcileContext(self.name, str(request), str(uuid.uuid4()))
        with reconcile_context(context):
            log.debug("Reconciling %s", request.kind)
            try:
                result = await self.reconciler.reconcile(request)
            except TerminalError as err:
                queue.forget(request)
                self.counts["terminal_error"] += 1
                log.error("Terminal error, not retrying: %s: %s", err.reason, err.message)
                try:
                    await self._record_terminal(request, err)
                except Exception:
                    # A worker must outlive any bug in reporting a failure.
                    log.exception("could not record the terminal error on the object")
                return
            except Exception:
                queue.add_rate_limited(request)
                self.counts["error"] += 1
                log.exception(
                    "Reconciler error (failure %d, retrying with backoff)",
                    queue.num_requeues(request),
                )
                return
            result = result or Result()
            if result.requeue_after is not None and result.requeue_after > 0:
                queue.forget(request)
                queue.add_after(request, result.requeue_after)
                self.counts["requeue_after"] += 1
                log.debug("Reconcile done, requeueing after %ss", result.requeue_after)
            elif result.requeue:
                queue.add_rate_limited(request)
                self.counts["requeue"] += 1
                log.debug("Reconcile done, requeueing with backoff")
            else:
                queue.forget(request)
                self.counts["success"] += 1
                log.debug("Reconcile successful")

    async def _record_terminal(self, request: Request, err: TerminalError) -> None:
        """Write a terminal failure onto the object: a condition and a Warning Event."""
        assert self._client is not None and self._clock is not None and self._recorder is not None
        client = self._client
        namespace = request.namespace or None
        try:
            obj = await client.get(
                request.api_version, request.kind, request.name, namespace=namespace
            )
        except NotFound:
            log.info("object is gone; nothing to mark as failed")
            return
        except ApiError as exc:
            log.warning("could not read the object to mark it failed: %s", exc)
            return
        obj.setdefault("apiVersion", request.api_version)
        obj.setdefault("kind", request.kind)
        changed = set_condition(
            obj,
            err.condition_type,
            "True",
            reason=err.reason,
            message=err.message,
            now=self._clock.now(),
        )
        if changed:
            patch = {"status": {"conditions": obj["status"]["conditions"]}}
            args = (request.api_version, request.kind, request.name, patch)
            try:
                try:
                    await client.patch_status(*args, namespace=namespace)
                except (NotFound, MethodNotAllowed):
                    # No status subresource (or the object went away): the
                    # main resource takes the condition, or says NotFound.
                    await client.patch(*args, namespace=namespace)
            except ApiError as exc:
                log.warning("could not set condition %s: %s", err.condition_type, exc)
        await self._recorder.warning(obj, reason=err.reason, message=err.message)


async def wait_tasks(
    tasks: Collection[asyncio.Task[Any]], *, timeout: float | None, clock: Clock | None
) -> set[asyncio.Task[Any]]:
    """Wait for ``tasks`` up to ``timeout`` seconds of ``clock``; returns those still running."""
    pending = {t for t in tasks if not t.done()}
    if not pending:
        return set()
    if timeout is None or clock is None:
        await asyncio.wait(pending)
        return set()
    timer = asyncio.ensure_future(clock.sleep(timeout))
    try:
        while pending and not timer.done():
            done, _ = await asyncio.wait(pending | {timer}, return_when=asyncio.FIRST_COMPLETED)
            pending -= done
    finally:
        timer.cancel()
        with suppress(asyncio.CancelledError):
            await timer
    return pending
