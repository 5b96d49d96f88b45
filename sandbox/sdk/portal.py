"""The portal: how the synchronous SDK runs its one, asynchronous implementation.

Every ``sandbox.sdk`` area is written once, with ``async`` functions over the
client protocol (``sandbox.sdk.<area>.aio``). Its blocking face — what a
script or a notebook calls — is derived from it: each blocking function hands
the coroutine of its asynchronous twin to :func:`call`, which runs it on one
event loop kept in a daemon thread for the life of the process, and waits for
the result (kr8s and anyio's "portal" do the same)::

    caller thread ── call(coro) ──► portal loop (thread "sandbox-sdk") ──► Client ──► cluster
                 ◄── result / exception ──┘

One loop for every call matters: a real-cluster client's connection pool
belongs to the loop it was first used on, so a client made with
``connect()`` keeps working across blocking calls. The caller may itself
be inside an event loop (a Jupyter cell): the coroutine still runs on the
portal's loop, and the caller's loop only waits. Calling the blocking API
from a coroutine that runs *on* the portal's loop would wait for itself, so
that raises :class:`RuntimeError` instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["Portal", "call"]

T = TypeVar("T")


class Portal:
    """An event loop in a daemon thread, started on first use."""

    def __init__(self, name: str = "sandbox-sdk") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self.name, daemon=True).start()
                self._loop = loop
            return self._loop

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the portal's loop and block until it returns (or raises)."""
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("the blocking sandbox.sdk API was called from the portal's own event loop; "
                               "await the asynchronous API (sandbox.sdk.<area>.aio) instead")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise


_PORTAL = Portal()


def call(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the process's SDK portal and return its result (see the module docstring)."""
    return _PORTAL.call(coro)
