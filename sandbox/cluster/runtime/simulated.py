"""The ``simulated`` runtime: containers that go through their lifecycle without a process.

Like kwok's fake nodes, a simulated node lets a cluster of a thousand nodes
and ten thousand pods run on a laptop, for scale teaching and scheduler
benchmarks. A run "starts" after ``start_delay`` seconds, writes one log line
(``simulated container <name> started``) so ``kubectl logs`` has something to
show, and ends after ``spec.simulated_duration`` seconds with
``spec.simulated_exit_code``; with no duration it runs until signalled, and
any signal ends it with ``128 + signal`` (there is no process to ignore
SIGTERM). All timing is on the injected clock, so tests drive it with a
:class:`~sandbox.clock.FakeClock`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from sandbox.clock import Clock
from sandbox.cluster.logfmt import LogWriter
from sandbox.cluster.runtime.base import ContainerSpec

__all__ = ["SimulatedHandle", "SimulatedRuntime"]


class SimulatedHandle:
    def __init__(self, spec: ContainerSpec, *, clock: Clock) -> None:
        self._code: int | None = None
        self._ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._timer: asyncio.Task[None] | None = None
        if spec.simulated_duration is not None:
            self._timer = asyncio.create_task(
                self._run_for(spec.simulated_duration, spec.simulated_exit_code, clock)
            )

    @property
    def pid(self) -> int | None:
        return None

    async def wait(self) -> int:
        return await asyncio.shield(self._ended)

    def returncode(self) -> int | None:
        return self._code

    def signal(self, signum: int) -> None:
        if signum:  # signal 0 only probes, as kill(2) does
            self._end(128 + signum)

    def rss_bytes(self) -> int:
        return 0

    def on_finished(self, callback: Callable[[], None]) -> None:
        self._ended.add_done_callback(lambda _: callback())

    async def _run_for(self, duration: float, code: int, clock: Clock) -> None:
        await clock.sleep(duration)
        self._end(code)

    def _end(self, code: int) -> None:
        if self._code is not None:
            return
        self._code = code
        self._ended.set_result(code)
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()


class SimulatedRuntime:
    name = "simulated"

    def __init__(self, *, clock: Clock, start_delay: float = 0.0) -> None:
        self._clock = clock
        self._start_delay = start_delay
        self._running: set[SimulatedHandle] = set()

    async def start(self, spec: ContainerSpec) -> SimulatedHandle:
        if self._start_delay > 0:
            await self._clock.sleep(self._start_delay)
        log = LogWriter(spec.log_path, now=self._clock.now)
        try:
            log.write("stdout", f"simulated container {spec.container_name} started")
        finally:
            log.close()
        handle = SimulatedHandle(spec, clock=self._clock)
        self._running.add(handle)
        handle.on_finished(lambda: self._running.discard(handle))
        return handle

    async def close(self) -> None:
        """Runs still going end as if killed."""
        for handle in list(self._running):
            handle.signal(signal.SIGKILL)
        await asyncio.sleep(0)  # let the cancelled timers unwind
