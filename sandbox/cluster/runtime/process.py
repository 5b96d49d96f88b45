"""The ``process`` runtime: a container is an asyncio subprocess.

``start`` executes ``spec.argv`` with exactly ``spec.env`` in ``spec.cwd``,
stdin from ``/dev/null``, in a new session (so the container is a process
group the kubelet can signal as a whole). Both output streams are pumped, a
CRI record per line, into ``spec.log_path``. Every group is registered with
the :class:`~sandbox.cluster.runtime.reaper.Reaper` and every child carries the
parent-death signal, so no container outlives the process that owns the
runtime.

A container's life ends like a real container's: when its main process exits
the rest of its tree is SIGKILLed (a PID namespace dies with its init), the
pumps drain, the log is closed and the group is withdrawn from the reaper.
:class:`ProcessHandle` holds that logic for any main process whose exit can be
awaited, so the zygote runtime reuses it for its forks.

Failures to start map to Kubernetes' ``ContainerCannotRun`` with runc's
wording: ``exec: "foo": executable file not found in $PATH``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from typing import Literal

from sandbox.clock import Clock, SystemClock
from sandbox.cluster.logfmt import LogWriter
from sandbox.cluster.runtime.base import ContainerSpec, StartError
from sandbox.cluster.runtime.proctree import ProcessTree, exit_code
from sandbox.cluster.runtime.reaper import Reaper, pdeathsig_preexec

__all__ = [
    "ProcessHandle",
    "ProcessRuntime",
    "abandon_log",
    "cannot_run_message",
    "pipe_into_log",
]

#: How long the pumps may keep reading after the tree was killed: a process
#: that escaped the tree could hold the pipes open forever.
_DRAIN_TIMEOUT = 2.0


class ProcessHandle:
    """A running container whose main process is a session leader.

    ``exited`` resolves to the main process's raw return code (negative for a
    signal, as :mod:`subprocess` reports it). A background task finishes the
    run when it resolves, whether or not anybody waits.
    """

    def __init__(
        self,
        pid: int,
        *,
        exited: Awaitable[int],
        pumps: list[asyncio.Task[None]],
        log: LogWriter,
        reaper: Reaper,
        memory: Literal["rss", "uss"] = "rss",
    ) -> None:
        self._pid = pid
        self._tree = ProcessTree(pid, memory=memory)
        self._pumps = pumps
        self._log = log
        self._reaper = reaper
        self._code: int | None = None
        self._finished = asyncio.ensure_future(self._finish(exited))

    @property
    def pid(self) -> int | None:
        return self._pid

    async def wait(self) -> int:
        return await asyncio.shield(self._finished)

    def returncode(self) -> int | None:
        return self._code

    def signal(self, signum: int) -> None:
        if self._code is None:
            self._tree.signal(signum)

    def rss_bytes(self) -> int:
        return 0 if self._code is not None else self._tree.memory_bytes()

    def on_finished(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the run has ended and its log is closed."""
        self._finished.add_done_callback(lambda _: callback())

    async def _finish(self, exited: Awaitable[int]) -> int:
        try:
            raw = await exited
        finally:
            self._tree.kill_leftovers()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._pumps), _DRAIN_TIMEOUT)
            self._log.close()
            self._reaper.unregister(self._pid)
        self._code = exit_code(raw)
        return self._code


class ProcessRuntime:
    """Containers as plain subprocesses (any executable on the host)."""

    name = "process"

    def __init__(self, *, clock: Clock | None = None, reaper: Reaper | None = None) -> None:
        self._clock = clock or SystemClock()
        self._owns_reaper = reaper is None
        self._reaper = reaper or Reaper()
        self._handles: set[ProcessHandle] = set()

    async def start(self, spec: ContainerSpec) -> ProcessHandle:
        if not spec.argv:
            raise StartError("no command specified", reason="CreateContainerError")
        log = LogWriter(spec.log_path, now=self._clock.now)
        (out, err), pumps = await pipe_into_log(log)
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec.argv,
                env=spec.env,
                cwd=spec.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=pdeathsig_preexec(),
            )
        except OSError as error:
            await abandon_log(pumps, log)
            raise StartError(cannot_run_message(spec, error), reason="ContainerCannotRun") from None
        finally:
            os.close(out)
            os.close(err)
        self._reaper.register(proc.pid)
        handle = ProcessHandle(
            proc.pid, exited=proc.wait(), pumps=pumps, log=log, reaper=self._reaper
        )
        self._track(handle)
        return handle

    def _track(self, handle: ProcessHandle) -> None:
        self._handles.add(handle)
        handle.on_finished(lambda: self._handles.discard(handle))

    async def close(self) -> None:
        handles = list(self._handles)
        for handle in handles:
            handle.signal(signal.SIGKILL)
        await asyncio.gather(*(h.wait() for h in handles), return_exceptions=True)
        if self._owns_reaper:
            self._reaper.close()


async def pipe_into_log(log: LogWriter) -> tuple[tuple[int, int], list[asyncio.Task[None]]]:
    """Two pipes whose read ends are pumped into ``log`` (stdout, then stderr).

    Returns the write ends, for the process to inherit (the caller closes its
    copies once the process has them), and the pump tasks, which end at EOF,
    that is when the last process holding a write end has exited. Pipes of our
    own, rather than asyncio's, let the exit of the main process be awaited
    apart from the pipes, which a background child may hold open.
    """
    loop = asyncio.get_running_loop()
    write_ends: list[int] = []
    pumps: list[asyncio.Task[None]] = []
    for stream in ("stdout", "stderr"):
        read_end, write_end = os.pipe()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda reader=reader: asyncio.StreamReaderProtocol(reader),  # type: ignore[misc]
            os.fdopen(read_end, "rb", buffering=0),
        )
        write_ends.append(write_end)
        pumps.append(asyncio.create_task(_pump(log, reader, stream, transport)))
    return (write_ends[0], write_ends[1]), pumps


async def abandon_log(pumps: list[asyncio.Task[None]], log: LogWriter) -> None:
    """Undo :func:`pipe_into_log` for a run that never started."""
    for pump in pumps:
        pump.cancel()
    await asyncio.gather(*pumps, return_exceptions=True)
    log.close()


async def _pump(
    log: LogWriter, reader: asyncio.StreamReader, stream: str, transport: asyncio.BaseTransport
) -> None:
    try:
        await log.pump(reader, stream)
    finally:
        transport.close()


def cannot_run_message(spec: ContainerSpec, err: OSError) -> str:
    """runc's words for an exec that failed (what ``kubectl describe`` shows)."""
    prefix = "failed to start container process"
    if spec.cwd is not None and err.filename == spec.cwd:
        return f'{prefix}: chdir to cwd ("{spec.cwd}") failed: {_strerror(err)}'
    program = spec.argv[0]
    if "/" not in program:
        if isinstance(err, FileNotFoundError) or shutil.which(program, path=_path(spec)) is None:
            return f'{prefix}: exec: "{program}": executable file not found in $PATH'
        return f'{prefix}: exec: "{program}": {_strerror(err)}'
    if isinstance(err, FileNotFoundError):
        return f'{prefix}: exec: "{program}": stat {program}: {_strerror(err)}'
    return f'{prefix}: exec: "{program}": {_strerror(err)}'


def _strerror(err: OSError) -> str:
    # Go prints errno strings in lower case ("no such file or directory").
    text = err.strerror or os.strerror(err.errno or errno.EIO)
    return text[:1].lower() + text[1:]


def _path(spec: ContainerSpec) -> str:
    return spec.env.get("PATH", os.defpath)
