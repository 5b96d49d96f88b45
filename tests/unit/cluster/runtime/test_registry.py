"""The runtime registry names every runtime a node can select."""

from __future__ import annotations

from sandbox.clock import FakeClock
from sandbox.cluster.runtime.registry import RUNTIMES


async def test_every_runtime_is_registered_under_its_own_name():
    assert set(RUNTIMES) == {"process", "zygote", "simulated"}
    for name, factory in RUNTIMES.items():
        runtime = factory(clock=FakeClock())
        assert runtime.name == name
        await runtime.close()
