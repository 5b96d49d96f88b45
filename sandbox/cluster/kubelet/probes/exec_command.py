"""``exec`` probes: run the command beside the container, healthy on exit 0.

A real kubelet runs the command inside the container. Here it runs as a
host process with the container's environment and working directory, its
argv mapped like the container's own (image catalog, mount paths), so
``cat /tmp/healthy`` or ``python -c ...`` behave as users expect. Output
(both streams) is the failure message, as in Kubernetes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from typing import Any

from sandbox.cluster.kubelet.probes.base import ProbeKind, ProbeResult, ProbeTarget

__all__ = ["EXEC"]


async def run(action: Mapping[str, Any], target: ProbeTarget) -> ProbeResult:
    argv = target.command(list(action.get("command") or ()))
    if not argv:
        return ProbeResult(False, "exec probe has no command")
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(target.env),
            cwd=target.cwd,
            start_new_session=True,
        )
    except OSError as err:
        return ProbeResult(False, f"exec {argv[0]!r} failed: {err.strerror or err}")
    try:
        output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    if process.returncode == 0:
        return ProbeResult(True)
    text = output.decode(errors="replace")
    return ProbeResult(False, text or f"command exited with code {process.returncode}")


def timed_out(action: Mapping[str, Any], target: ProbeTarget, timeout: float) -> str:
    return f'command "{" ".join(action.get("command") or ())}" timed out'


EXEC = ProbeKind(run=run, timed_out=timed_out)
