"""The manager: shared informers, controllers, and their start and stop order.

controller-runtime's manager in miniature. It owns what controllers share:
the client, the clock, and one :class:`SharedInformer` per kind, created
the first time any controller (or reconciler, through :meth:`Manager.informer`)
asks for it, so three controllers that all watch Pods cost one watch.

Order matters, and the manager is where it is kept:

``start``
    build controllers from the registry → set each up (queues, handlers on
    informers) → start every informer → wait until every cache has synced
    → start the workers. Workers therefore never reconcile against a cache
    that has not seen the whole list, and the initial list has already
    enqueued every existing object.
``stop``
    shut every controller's queue (workers take no new keys) → let the
    reconciles in flight finish, up to ``timeout`` seconds of the clock,
    cancelling the rest → cancel the informers.

Controllers added while the manager runs are set up at once and start their
workers as soon as their informers have synced.

``pause(name, seconds)`` pauses one controller — named by its registry
name (``deployment``) or its own (``deployment-controller``) — (see
:meth:`Controller.pause <sandbox.runtime.controller.Controller.pause>`) and
parks a timer on the manager's clock that resumes it; pausing again replaces
the deadline, ``resume(name)`` ends the pause early, and ``stop`` cancels the
timers. Fault-injection scenarios use it to show what a cluster does without
one of its controllers, and how it recovers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime, timedelta
from types import TracebackType

from sandbox.client.protocol import Client
from sandbox.clock import Clock, SystemClock
from sandbox.runtime.controller import Controller, wait_tasks
from sandbox.runtime.events import EventRecorder
from sandbox.runtime.informer import SharedInformer
from sandbox.runtime.log import get_logger
from sandbox.runtime.registry import ControllerRegistry

__all__ = ["Manager"]

log = get_logger(__name__)

InformerKey = tuple[str, str, str | None]


class Manager:
    """Runs controllers over shared informers of one cluster."""

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        registry: ControllerRegistry | None = None,
        enabled: Iterable[str] | None = None,
        resync_period: float | None = None,
        graceful_timeout: float = 30.0,
    ) -> None:
        """``registry`` controllers (only the ``enabled`` names, if given) are
        built at :meth:`start`; ``resync_period`` applies to every informer;
        ``graceful_timeout`` is how long :meth:`stop` waits by default."""
        self.client = client
        self.clock: Clock = clock or SystemClock()
        self.registry = registry
        self.enabled = None if enabled is None else frozenset(enabled)
        self.resync_period = resync_period
        self.graceful_timeout = graceful_timeout
        self._controllers: dict[str, Controller] = {}
        self._informers: dict[InformerKey, SharedInformer] = {}
        self._late_starts: list[asyncio.Task[None]] = []
        # name -> (when it resumes, the timer task that resumes it)
        self._pauses: dict[str, tuple[datetime, asyncio.Task[None]]] = {}
        # registry name -> the name of the controller it built, where they differ
        self._aliases: dict[str, str] = {}
        self._started = False
        self._stopped = False

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped" if self._stopped else "new"
        return f"<Manager {state}: {len(self._controllers)} controllers, {len(self._informers)} informers>"

    # Parts -----------------------------------------------------------------------

    def add(self, controller: Controller) -> Controller:
        """Add a controller; if the manager runs, it starts once its caches sync."""
        if self._stopped:
            raise RuntimeError("the manager was stopped")
        if controller.name in self._controllers:
            raise ValueError(f"a controller named {controller.name!r} was already added")
        self._controllers[controller.name] = controller
        if self._started:
            controller.setup(self)
            self._start_informers()
            self._late_starts.append(
                asyncio.get_running_loop().create_task(self._start_when_synced(controller))
            )
        return controller

    @property
    def controllers(self) -> dict[str, Controller]:
        return dict(self._controllers)

    def informer(
        self, api_version: str, kind: str, *, namespace: str | None = None
    ) -> SharedInformer:
        """The shared informer (the cache) of one kind, created on first use.

        One created while the manager runs starts at once; await its
        :meth:`~SharedInformer.wait_for_sync` before trusting a lookup.
        """
        key = (api_version, kind, namespace)
        informer = self._informers.get(key)
        if informer is None:
            informer = SharedInformer(
                self.client,
                api_version,
                kind,
                namespace=namespace,
                clock=self.clock,
                resync_period=self.resync_period,
            )
            self._informers[key] = informer
            if self.running:
                informer.start()
        return informer

    @property
    def informers(self) -> list[SharedInformer]:
        return list(self._informers.values())

    def event_recorder(self, component: str) -> EventRecorder:
        """A recorder of Events from ``component`` (a controller's name)."""
        return EventRecorder(self.client, component=component, clock=self.clock)

    # Pausing ----------------------------------------------------------------------

    def controller(self, name: str) -> Controller:
        """The controller registered or called ``name``; :class:`KeyError` naming
        the known ones (by registry name where they have one) if none is."""
        controller = self._controllers.get(self._aliases.get(name, name))
        if controller is None:
            registered = {built: alias for alias, built in self._aliases.items()}
            known = ", ".join(sorted(registered.get(n, n) for n in self._controllers)) or "none"
            raise KeyError(f"no controller named {name!r} (known controllers: {known})")
        return controller

    def pause(self, name: str, seconds: float) -> datetime:
        """Pause controller ``name`` for ``seconds`` of the clock; returns when it resumes.

        A second pause of a paused controller replaces its deadline (from now).
        """
        if seconds <= 0:
            raise ValueError(f"a pause lasts a positive number of seconds, not {seconds}")
        controller = self.controller(name)
        self._cancel_pause(controller.name)
        until = self.clock.now() + timedelta(seconds=seconds)
        controller.pause()
        timer = asyncio.get_running_loop().create_task(
            self._resume_after(controller, seconds), name=f"resume-{controller.name}"
        )
        self._pauses[controller.name] = (until, timer)
        log.info("controller %s paused for %ss", controller.name, seconds)
        return until

    def resume(self, name: str) -> None:
        """Resume controller ``name`` now (a no-op if it is not paused)."""
        controller = self.controller(name)
        self._cancel_pause(controller.name)
        controller.resume()

    def paused_until(self, name: str) -> datetime | None:
        """When a paused controller resumes; None if it is not paused by :meth:`pause`."""
        entry = self._pauses.get(self.controller(name).name)
        return entry[0] if entry is not None else None

    async def _resume_after(self, controller: Controller, seconds: float) -> None:
        await self.clock.sleep(seconds)
        self._pauses.pop(controller.name, None)
        controller.resume()

    def _cancel_pause(self, name: str) -> None:
        entry = self._pauses.pop(name, None)
        if entry is not None:
            entry[1].cancel()

    # Lifecycle --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._started and not self._stopped

    async def start(self, *, sync_timeout: float | None = None) -> None:
        """Start informers, wait for their caches to sync, then start the workers.

        With ``sync_timeout`` (seconds of the clock) a cache that does not
        sync in time stops the manager and raises :class:`TimeoutError`
        naming the kinds that did not sync (a kind the server does not
        serve, a client that cannot list).
        """
        if self._started:
            raise RuntimeError("the manager was already started")
        if self.registry is not None:
            for name in self.registry.names():
                if (self.enabled is None or name in self.enabled) and name not in self._controllers:
                    controller = self.registry.build(name, self)
                    if controller.name in self._controllers:
                        raise ValueError(
                            f"a controller named {controller.name!r} was already added"
                        )
                    self._controllers[controller.name] = controller
                    if controller.name != name:
                        self._aliases[name] = controller.name
        self._started = True
        for controller in self._controllers.values():
            controller.setup(self)
        self._start_informers()
        syncing = asyncio.ensure_future(self.wait_for_sync())
        if await wait_tasks({syncing}, timeout=sync_timeout, clock=self.clock):
            syncing.cancel()
            late = [
                f"{i.api_version} {i.kind}" for i in self._informers.values() if not i.has_synced()
            ]
            await self.stop(timeout=0)
            raise TimeoutError(f"caches did not sync within {sync_timeout}s: {', '.join(late)}")
        for controller in self._controllers.values():
            controller.start()
        log.info(
            "manager started %d controllers over %d informers",
            len(self._controllers),
            len(self._informers),
        )

    async def wait_for_sync(self) -> None:
        """Wait until every informer has loaded its first list."""
        await asyncio.gather(*(i.wait_for_sync() for i in self._informers.values()))

    def _start_informers(self) -> None:
        for informer in self._informers.values():
            informer.start()

    async def _start_when_synced(self, controller: Controller) -> None:
        await asyncio.gather(*(i.wait_for_sync() for i in controller.informers))
        if self.running:
            controller.start()

    async def stop(self, *, timeout: float | None = None) -> None:
        """Stop gracefully: no new keys, in-flight reconciles get ``timeout``
        seconds of the clock (default ``graceful_timeout``), then informers stop."""
        for name in list(self._pauses):
            self._cancel_pause(name)
        if not self._started or self._stopped:
            self._stopped = True
            return
        self._stopped = True
        for task in self._late_starts:
            task.cancel()
        await wait_tasks(self._late_starts, timeout=None, clock=None)
        timeout = self.graceful_timeout if timeout is None else timeout
        await asyncio.gather(*(c.stop(timeout=timeout) for c in self._controllers.values()))
        for informer in self._informers.values():
            with suppress(Exception):
                await informer.stop()
        log.info("manager stopped")

    async def __aenter__(self) -> Manager:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
