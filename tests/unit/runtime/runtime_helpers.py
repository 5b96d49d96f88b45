"""Helpers for runtime tests: wait by yielding (never by sleeping), and a client
whose connection to the cluster a test can cut and restore."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sandbox.api.errors import ApiError
from sandbox.client.protocol import Client, WatchEvent


async def settle(rounds: int = 50) -> None:
    """Let every ready task run a few hops."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    rounds: int = 2000,
    what: str = "condition",
) -> None:
    """Yield to the loop until ``predicate`` holds; fail after ``rounds`` yields."""
    for _ in range(rounds):
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{what} did not hold after {rounds} event-loop rounds")


class FlakyClient:
    """Delegates to a real client, but a test can make lists fail, end every
    open watch (a dropped connection) and hold new watches until reconnected."""

    def __init__(self, inner: Client) -> None:
        self.inner = inner
        self.list_failures: list[ApiError] = []
        self.list_calls = 0
        self.watch_calls: list[str | None] = []
        self._connected = asyncio.Event()
        self._connected.set()
        self._cut = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def disconnect(self) -> None:
        """End every open watch; new watches wait for :meth:`reconnect`."""
        self._connected.clear()
        self._cut.set()

    def reconnect(self) -> None:
        self._cut = asyncio.Event()
        self._connected.set()

    async def list(self, api_version: str, kind: str, **kwargs: Any) -> dict[str, Any]:
        self.list_calls += 1
        if self.list_failures:
            raise self.list_failures.pop(0)
        return await self.inner.list(api_version, kind, **kwargs)

    async def watch(self, api_version: str, kind: str, **kwargs: Any) -> AsyncIterator[WatchEvent]:
        await self._connected.wait()
        self.watch_calls.append(kwargs.get("resource_version"))
        cut = self._cut
        stream = self.inner.watch(api_version, kind, **kwargs).__aiter__()
        following: asyncio.Future[WatchEvent] | None = None
        try:
            while True:
                following = asyncio.ensure_future(stream.__anext__())
                dropped = asyncio.ensure_future(cut.wait())
                try:
                    await asyncio.wait({following, dropped}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    dropped.cancel()
                if cut.is_set():
                    return  # whatever arrived with the cut is lost, as on a real drop
                try:
                    event = following.result()
                except StopAsyncIteration:
                    return
                yield event
        finally:
            if following is not None and not following.done():
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await following
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
