"""The probes of one container run: startup gates liveness and readiness.

Kubernetes' prober workers, in one object per container run, all timing on
the injected clock:

1. the **startup** probe (if any) runs every ``periodSeconds`` after
   ``initialDelaySeconds`` until it succeeds (the container is then
   ``started``) or fails ``failureThreshold`` times in a row (the container
   is killed and restarted per the pod's policy);
2. then **readiness** and **liveness** run side by side. Readiness moves
   ``ready`` after ``successThreshold`` successes or ``failureThreshold``
   failures in a row (not ready until the first success); without a
   readiness probe the container is ready once started. Liveness failing
   ``failureThreshold`` times in a row kills the container.

Each failed check records an ``Unhealthy`` Warning event
(``Liveness probe failed: <output>``). A check that outlives
``timeoutSeconds`` is cancelled and counts as a failure. A probe kind the
sandbox cannot run (``grpc``) is reported once with a Warning event and
treated as passing, never silently ignored.

The prober only observes and reports, through callbacks; the kubelet
decides what a change means (status write, event, kill).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sandbox.clock import Clock
from sandbox.cluster.kubelet.probes.base import ProbeKind, ProbeResult, ProbeTarget

__all__ = ["ContainerProbes"]


class ContainerProbes:
    """Runs a container's probes; exposes ``started`` and ``ready``."""

    def __init__(
        self,
        target: ProbeTarget,
        *,
        clock: Clock,
        kinds: Mapping[str, ProbeKind],
        on_change: Callable[[], None],
        on_unhealthy: Callable[[str, str], Awaitable[None]],
        on_give_up: Callable[[str], Awaitable[None]],
        on_unsupported: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.target = target
        self.clock = clock
        self.kinds = kinds
        self._on_change = on_change
        self._on_unhealthy = on_unhealthy
        self._on_give_up = on_give_up
        self._on_unsupported = on_unsupported
        container = target.container
        self.startup = container.get("startupProbe")
        self.readiness = container.get("readinessProbe")
        self.liveness = container.get("livenessProbe")
        self.started = self.startup is None
        self.ready = self.started and self.readiness is None
        self._task: asyncio.Task[None] | None = None
        self._unsupported: set[str] = set()

    def start(self) -> None:
        if self._task is None and (self.startup or self.readiness or self.liveness):
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.ready = False

    async def _run(self) -> None:
        if self.startup is not None:
            if not await self._loop("Startup", self.startup):
                return
            self.started = True
            self.ready = self.readiness is None
            self._on_change()
        loops = [self._loop(kind, probe) for kind, probe in
                 (("Readiness", self.readiness), ("Liveness", self.liveness)) if probe]
        await asyncio.gather(*loops)

    async def _loop(self, kind: str, probe: Mapping[str, Any]) -> bool:
        """Probe until a decisive outcome: True when startup succeeded, False
        when startup or liveness gave up; readiness loops forever."""
        await self.clock.sleep(float(probe.get("initialDelaySeconds") or 0))
        period = float(probe.get("periodSeconds") or 10)
        last: bool | None = None
        run = 0
        while True:
            result = await self._check(kind, probe)
            if not result.success:
                await self._on_unhealthy(kind, result.message)
            run = run + 1 if result.success == last else 1
            last = result.success
            threshold = probe.get("successThreshold" if result.success else "failureThreshold")
            if run >= int(threshold or (1 if result.success else 3)):
                if kind == "Readiness":
                    if self.ready != result.success:
                        self.ready = result.success
                        self._on_change()
                elif result.success and kind == "Startup":
                    return True
                elif not result.success:
                    await self._on_give_up(kind)
                    return False
            await self.clock.sleep(period)

    async def _check(self, kind: str, probe: Mapping[str, Any]) -> ProbeResult:
        key = next((k for k in probe if isinstance(probe.get(k), dict)), "")
        handler = self.kinds.get(key)
        if handler is None:
            # Reported once; it then passes so the pod can still work.
            if kind not in self._unsupported:
                self._unsupported.add(kind)
                await self._on_unsupported(kind, key or "(none)")
            return ProbeResult(True)
        action = probe[key]
        timeout = float(probe.get("timeoutSeconds") or 1)
        check = asyncio.ensure_future(handler.run(action, self.target))
        timer = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait({check, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not check.done():
                check.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await check
        if check.cancelled():
            return ProbeResult(False, handler.timed_out(action, self.target, timeout))
        return check.result()
