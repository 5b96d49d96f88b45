"""The container runtimes by name: what a node's ``runtime`` setting selects.

The kubelet builds its runtime with ``RUNTIMES[name](clock=clock, ...)``;
each factory takes its own keyword options beyond ``clock`` (``preload`` for
the zygote, ``start_delay`` for the simulated runtime). Tests may replace or
add entries.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.cluster.runtime.base import ContainerRuntime
from sandbox.cluster.runtime.process import ProcessRuntime
from sandbox.cluster.runtime.simulated import SimulatedRuntime
from sandbox.cluster.runtime.zygote import ZygoteRuntime

__all__ = ["RUNTIMES", "RuntimeFactory"]

RuntimeFactory = Callable[..., ContainerRuntime]

RUNTIMES: dict[str, RuntimeFactory] = {
    "process": ProcessRuntime,
    "zygote": ZygoteRuntime,
    "simulated": SimulatedRuntime,
}
