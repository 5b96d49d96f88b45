"""The ``zygote`` runtime: Python containers forked from a warm interpreter.

A Python pod's cost is mostly the interpreter starting and importing numpy
and scikit-learn. The zygote (:mod:`sandbox.cluster.runtime.zygote_server`)
pays that once; each Python container is then a ``fork`` of it, which starts
in milliseconds:

```
start(spec) ─▶ python_plan(argv, env) ─┬─ None (not forkable) ─▶ inner ProcessRuntime
                                       └─ plan ─▶ spawn frame + stdout/stderr pipe ends (SCM_RIGHTS)
                                                     ─▶ zygote forks ─▶ {"pid"} ─▶ ProcessHandle
pipes' read ends ─▶ LogWriter (CRI)       zygote reaps ─▶ {"exited", "status"} ─▶ handle's exit
```

A spec is forked only when a fresh interpreter would behave the same:
``argv[0]`` is this interpreter, the options are among ``-u -B -E -P -q``
followed by ``-c``, ``-m`` or a script, and the environment sets no
interpreter variable a fork cannot honour (``PYTHONHASHSEED``,
``PYTHONWARNINGS``, ...). Everything else, and every non-Python container,
goes to an inner :class:`~sandbox.cluster.runtime.process.ProcessRuntime`.

Processes and orphans: the zygote runs in its own session with the
parent-death signal; its children start their own sessions, carry the
parent-death signal (parent: the zygote) and are registered with the same
:class:`~sandbox.cluster.runtime.reaper.Reaper` as the inner runtime's
processes. If the zygote dies, its children die with it; their runs end with
137 and the next Python container starts a new zygote.

Two zygotes: the default one preloads numpy and scikit-learn; the
*minimal* one (:data:`MINIMAL_ZYGOTE`) only what every container imports
(the pod start-up hook and the components' own modules). A fork's cost, and
its exit's, grow with the parent's memory: from the minimal zygote both are
a few tenths of a millisecond rather than 2-3 ms each. A container asks for
it with ``ContainerSpec.zygote`` (the kubelet reads the pod annotation
``sandbox.local/zygote: minimal``); the workflow controller does so for
task pods whose component imports only the standard library. Each zygote
starts on first use.

Memory of a forked container is its tree's USS: pages shared with the zygote
are the zygote's, as a cgroup would see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from sandbox.clock import Clock, SystemClock
from sandbox.cluster.logfmt import LogWriter
from sandbox.cluster.runtime.base import ContainerSpec, StartError
from sandbox.cluster.runtime.process import (
    ProcessHandle,
    ProcessRuntime,
    abandon_log,
    cannot_run_message,
    pipe_into_log,
)
from sandbox.cluster.runtime.reaper import Reaper, pdeathsig_preexec

__all__ = ["BASE_PRELOAD", "DEFAULT_PRELOAD", "MINIMAL_ZYGOTE", "PythonPlan", "ZygoteRuntime", "python_plan"]

_HEADER = struct.Struct(">I")
#: The directory holding the ``sandbox`` package: the zygote starts there so
#: that it can import the sandbox even when it is not installed.
_SOURCE_ROOT = Path(__file__).resolve().parents[3]
_BOOT = "from sandbox.cluster.runtime.zygote_server import main; main()"
#: What the zygote imports by default: numpy and the scikit-learn modules the
#: components' trainers and servers use (``sklearn`` alone imports none of
#: them: a child would still spend ~40 ms on ``sklearn.linear_model``).
#: Missing modules are skipped; neither library is a core dependency.
#: What every zygote imports: the pod startup hook every Python container
#: imports (sitecustomize).
BASE_PRELOAD = ("sandbox.podboot", "sandbox.podboot.binding")
#: The zygote a container asks for to fork from a small parent (see the module docstring).
MINIMAL_ZYGOTE = "minimal"
DEFAULT_PRELOAD = (
    *BASE_PRELOAD,
    "numpy",
    "sklearn",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.model_selection",
    "sklearn.metrics",
)
#: How long a zygote may take to import its preload modules.
_READY_TIMEOUT = 120.0

#: Options a fork honours (q: no banner, which only interactive mode prints).
_FLAGS = {"u": "unbuffered", "B": "no_bytecode", "E": "ignore_env", "P": "safe_path", "q": None}
#: Interpreter variables the fork applies itself.
_HONOURED_ENV = {"PYTHONPATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONSAFEPATH"}
#: Interpreter variables read at run time, not at startup: a fork is unaffected.
_RUNTIME_ENV = {"PYTHONBREAKPOINT", "PYTHONASYNCIODEBUG", "PYTHONSTARTUP", "PYTHONINSPECT"}
#: Every variable the CPython 3.11 interpreter reads (python(1), "Environment").
_INTERPRETER_ENV = {
    "PYTHONHOME", "PYTHONPATH", "PYTHONSAFEPATH", "PYTHONPLATLIBDIR", "PYTHONSTARTUP",
    "PYTHONOPTIMIZE", "PYTHONBREAKPOINT", "PYTHONDEBUG", "PYTHONINSPECT", "PYTHONUNBUFFERED",
    "PYTHONVERBOSE", "PYTHONCASEOK", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX",
    "PYTHONHASHSEED", "PYTHONINTMAXSTRDIGITS", "PYTHONIOENCODING", "PYTHONNOUSERSITE",
    "PYTHONUSERBASE", "PYTHONEXECUTABLE", "PYTHONWARNINGS", "PYTHONFAULTHANDLER",
    "PYTHONTRACEMALLOC", "PYTHONPROFILEIMPORTTIME", "PYTHONASYNCIODEBUG", "PYTHONMALLOC",
    "PYTHONMALLOCSTATS", "PYTHONCOERCECLOCALE", "PYTHONDEVMODE", "PYTHONUTF8",
    "PYTHONWARNDEFAULTENCODING", "PYTHONNODEBUGRANGES", "PYTHONTHREADDEBUG", "PYTHONDUMPREFS",
}  # fmt: skip


@dataclass(frozen=True)
class PythonPlan:
    """How the interpreter would run an argv: mode ``c``, ``m`` or ``script``."""

    mode: Literal["c", "m", "script"]
    #: The code (-c), the module name (-m) or the script path.
    target: str
    args: list[str]
    program: str
    orig_argv: list[str]
    unbuffered: bool = False
    no_bytecode: bool = False
    ignore_env: bool = False
    safe_path: bool = False


def python_plan(argv: list[str], env: dict[str, str]) -> PythonPlan | None:
    """The plan for forking ``argv``, or None when only a real interpreter will do."""
    if not argv or os.path.abspath(argv[0]) != os.path.abspath(sys.executable):
        return None
    flags: set[str] = set()
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        for position, letter in enumerate(arg[1:], start=1):
            if letter in "cm":
                inline = arg[position + 1 :]
                rest = argv[index + 1 :]
                if not inline and not rest:
                    return None  # "Argument expected": the interpreter says it best
                target, args = (inline, rest) if inline else (rest[0], rest[1:])
                return _plan(letter, target, args, argv, flags, env)  # type: ignore[arg-type]
            if letter not in _FLAGS:
                return None
            if _FLAGS[letter]:
                flags.add(_FLAGS[letter])  # type: ignore[arg-type]
        index += 1
    if index >= len(argv) or argv[index] == "-":
        return None  # a program read from stdin (always empty in a container)
    return _plan("script", argv[index], argv[index + 1 :], argv, flags, env)


def _plan(
    mode: Literal["c", "m", "script"],
    target: str,
    args: list[str],
    argv: list[str],
    flags: set[str],
    env: dict[str, str],
) -> PythonPlan | None:
    if "ignore_env" not in flags:
        unhonoured = _INTERPRETER_ENV - _HONOURED_ENV - _RUNTIME_ENV
        if any(env.get(name) for name in unhonoured):
            return None
    return PythonPlan(
        mode=mode,
        target=target,
        args=list(args),
        program=argv[0],
        orig_argv=list(argv),
        **{flag: True for flag in flags},
    )


class ZygoteGone(Exception):
    """The zygote died (or was stopped) before it answered."""


class _Zygote:
    """The runtime's side of one zygote process: requests out, answers in."""

    def __init__(self, proc: asyncio.subprocess.Process, sock: socket.socket, pid: int) -> None:
        self.proc = proc
        self.pid = pid
        self._sock = sock
        self._ids = 0
        self._spawns: dict[int, asyncio.Future[tuple[int, asyncio.Future[int]]]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._sending = asyncio.Lock()
        #: Requests whose caller was cancelled before the answer came.
        self._abandoned: set[int] = set()
        self._reader = asyncio.create_task(self._read_answers())

    @classmethod
    async def launch(cls, preload: Iterable[str]) -> _Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _BOOT,
                str(theirs.fileno()),
                *preload,
                pass_fds=[theirs.fileno()],
                cwd=_SOURCE_ROOT,
                # A clean interpreter: children get their own PYTHONPATH and
                # flags; the owner's must not leak into every container.
                env={k: v for k, v in os.environ.items() if k not in _INTERPRETER_ENV},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=pdeathsig_preexec(),
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        try:
            ready = await asyncio.wait_for(_read_frame(ours, bytearray()), _READY_TIMEOUT)
        except (TimeoutError, EOFError, ConnectionError) as err:
            ours.close()
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise StartError(
                f"the Python zygote did not start: {err!r}", reason="ContainerCannotRun"
            ) from None
        return cls(proc, ours, ready["ready"])

    @property
    def alive(self) -> bool:
        return not self._reader.done()

    async def spawn(
        self, plan: PythonPlan, env: dict[str, str], cwd: str | None, fds: tuple[int, int]
    ) -> tuple[int, asyncio.Future[int]]:
        """Fork a child; its pid and a future of its raw exit status."""
        if not self.alive:
            raise ZygoteGone
        self._ids += 1
        request_id = self._ids
        answer: asyncio.Future[tuple[int, asyncio.Future[int]]]
        answer = asyncio.get_running_loop().create_future()
        self._spawns[request_id] = answer
        body = json.dumps({"id": request_id, "plan": asdict(plan), "env": env, "cwd": cwd}).encode()
        try:
            # Shielded: a frame cut short by a cancellation would corrupt the stream.
            await asyncio.shield(self._send(_HEADER.pack(len(body)) + body, fds))
            return await answer
        finally:
            self._spawns.pop(request_id, None)
            if not answer.done() or answer.cancelled():
                self._abandoned.add(request_id)

    async def _send(self, frame: bytes, fds: tuple[int, int]) -> None:
        async with self._sending:  # a frame sent in pieces must not interleave
            await self._send_frame(frame, fds)

    async def _send_frame(self, frame: bytes, fds: tuple[int, int]) -> None:
        # The descriptors ride on the first byte; the rest follows as plain data.
        while True:
            try:
                sent = socket.send_fds(self._sock, [frame], list(fds))
                break
            except BlockingIOError:
                await asyncio.sleep(0.001)
            except OSError:
                raise ZygoteGone from None
        if sent < len(frame):
            await asyncio.get_running_loop().sock_sendall(self._sock, frame[sent:])

    async def _read_answers(self) -> None:
        buffer = bytearray()
        try:
            while True:
                message = await _read_frame(self._sock, buffer)
                if "exited" in message:
                    # A spawn answer always precedes its child's exit in the stream.
                    exited = self._exits.pop(message["exited"], None)
                    if exited is not None and not exited.done():
                        exited.set_result(message["status"])
                    continue
                if message["id"] in self._abandoned:
                    # Its start() was cancelled: nobody will ever wait for it.
                    self._abandoned.discard(message["id"])
                    with contextlib.suppress(KeyError, ProcessLookupError, PermissionError):
                        os.killpg(message["pid"], signal.SIGKILL)
                    continue
                answer = self._spawns.get(message["id"])
                if answer is None or answer.done():
                    continue
                if "error" in message:
                    answer.set_exception(StartError(message["error"], reason="ContainerCannotRun"))
                else:
                    exit_future = asyncio.get_running_loop().create_future()
                    self._exits[message["pid"]] = exit_future
                    answer.set_result((message["pid"], exit_future))
        except (EOFError, ConnectionError, OSError):
            pass
        finally:
            self._sock.close()
            self._orphaned()

    def _orphaned(self) -> None:
        """The zygote is gone: its children died with it (parent-death signal)."""
        for answer in self._spawns.values():
            if not answer.done():
                answer.set_exception(ZygoteGone())
        for pid, future in self._exits.items():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            if not future.done():
                future.set_result(-signal.SIGKILL)
        self._exits.clear()

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def _read_frame(sock: socket.socket, buffer: bytearray) -> dict[str, Any]:
    """The next frame from a non-blocking socket; ``buffer`` keeps any excess."""
    loop = asyncio.get_running_loop()
    while True:
        if len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) >= _HEADER.size + size:
                body = bytes(buffer[_HEADER.size : _HEADER.size + size])
                del buffer[: _HEADER.size + size]
                return json.loads(body)
        chunk = await loop.sock_recv(sock, 65536)
        if not chunk:
            raise EOFError
        buffer += chunk


class ZygoteRuntime:
    """Python containers as forks of a warm interpreter; anything else as processes."""

    name = "zygote"

    def __init__(
        self,
        *,
        preload: Iterable[str] = DEFAULT_PRELOAD,
        minimal_preload: Iterable[str] = BASE_PRELOAD,
        clock: Clock | None = None,
    ) -> None:
        """``preload``: the default zygote's modules; ``minimal_preload``: the minimal one's."""
        self._clock = clock or SystemClock()
        self._preloads = {"": tuple(preload), MINIMAL_ZYGOTE: tuple(minimal_preload)}
        self._reaper = Reaper()
        self._process = ProcessRuntime(clock=self._clock, reaper=self._reaper)
        self._zygotes: dict[str, _Zygote] = {}
        self._launching = asyncio.Lock()
        self._handles: set[ProcessHandle] = set()

    @property
    def zygote_pid(self) -> int | None:
        """The default zygote's pid (None before its first Python container)."""
        return self.pid_of("")

    def pid_of(self, variant: str) -> int | None:
        """The pid of the zygote ``variant`` ("" or :data:`MINIMAL_ZYGOTE`), if it runs."""
        zygote = self._zygotes.get(variant)
        return zygote.pid if zygote is not None and zygote.alive else None

    async def warm(self, variant: str = "") -> None:
        """Start a zygote now rather than on its first Python container."""
        await self._ensure_zygote(variant)

    async def start(self, spec: ContainerSpec) -> ProcessHandle:
        plan = python_plan(spec.argv, spec.env) if spec.python else None
        if plan is None:
            return await self._process.start(spec)
        if spec.cwd is not None and not os.path.isdir(spec.cwd):
            missing = FileNotFoundError(2, os.strerror(2), spec.cwd)
            raise StartError(cannot_run_message(spec, missing), reason="ContainerCannotRun")
        log = LogWriter(spec.log_path, now=self._clock.now)
        (out, err), pumps = await pipe_into_log(log)
        try:
            pid, exited = await self._spawn(plan, spec, (out, err))
        except BaseException:
            await abandon_log(pumps, log)
            raise
        finally:
            os.close(out)
            os.close(err)
        self._reaper.register(pid)
        handle = ProcessHandle(
            pid, exited=exited, pumps=pumps, log=log, reaper=self._reaper, memory="uss"
        )
        self._handles.add(handle)
        handle.on_finished(lambda: self._handles.discard(handle))
        return handle

    async def _spawn(
        self, plan: PythonPlan, spec: ContainerSpec, fds: tuple[int, int]
    ) -> tuple[int, asyncio.Future[int]]:
        # Like a subprocess, a fork without a cwd starts where its owner is.
        cwd = spec.cwd or os.getcwd()
        variant = spec.zygote if spec.zygote in self._preloads else ""
        # One retry: a zygote that died under a request forked nothing that lives.
        with contextlib.suppress(ZygoteGone):
            return await (await self._ensure_zygote(variant)).spawn(plan, spec.env, cwd, fds)
        try:
            return await (await self._ensure_zygote(variant)).spawn(plan, spec.env, cwd, fds)
        except ZygoteGone:
            raise StartError(
                "the Python zygote died while starting the container", reason="ContainerCannotRun"
            ) from None

    async def _ensure_zygote(self, variant: str) -> _Zygote:
        zygote = self._zygotes.get(variant)
        if zygote is not None and zygote.alive:
            return zygote
        async with self._launching:
            zygote = self._zygotes.get(variant)
            if zygote is None or not zygote.alive:
                if zygote is not None:
                    self._reaper.unregister(zygote.pid)
                    await zygote.stop()
                zygote = self._zygotes[variant] = await _Zygote.launch(self._preloads[variant])
                self._reaper.register(zygote.pid)
            return zygote

    async def close(self) -> None:
        handles = list(self._handles)
        for handle in handles:
            handle.signal(signal.SIGKILL)
        await asyncio.gather(*(h.wait() for h in handles), return_exceptions=True)
        await self._process.close()
        for zygote in self._zygotes.values():
            await zygote.stop()
            self._reaper.unregister(zygote.pid)
        self._zygotes.clear()
        self._reaper.close()
