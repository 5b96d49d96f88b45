"""The portal runs the blocking SDK's coroutines on one event loop in a thread."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.sdk.portal import Portal


async def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def _fail() -> None:
    raise KeyError("boom")


def test_every_call_runs_on_the_same_loop_in_another_thread() -> None:
    portal = Portal("test-portal")
    first, second = portal.call(_loop()), portal.call(_loop())
    assert first is second is portal.loop
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # the caller has none of its own


def test_exceptions_reach_the_caller() -> None:
    with pytest.raises(KeyError, match="boom"):
        Portal("test-portal").call(_fail())


async def test_a_caller_inside_its_own_loop_may_still_block_on_the_portal() -> None:
    portal = Portal("test-portal")
    assert portal.call(_loop()) is not asyncio.get_running_loop()


def test_calling_from_the_portals_own_loop_is_refused_instead_of_hanging() -> None:
    portal = Portal("test-portal")

    async def reenter() -> None:
        portal.call(_loop())

    with pytest.raises(RuntimeError, match="await the asynchronous API"):
        portal.call(reenter())
