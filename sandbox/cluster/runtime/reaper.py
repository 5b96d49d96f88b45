"""No orphans, ever: a watchdog that kills container processes when their owner dies.

A container process must not outlive the Python process that started it, not
even when that process is killed with SIGKILL and runs no cleanup at all. Two
independent lines of defence make it so:

1. **The watchdog.** :class:`Reaper` starts one small helper process (this
   file run as a script, standard library only) and keeps the write end of a
   pipe to it. Each container runs in its own process group; its group id is
   sent down the pipe when it starts (``+<pgid>``) and withdrawn when it has
   ended (``-<pgid>``). The kernel closes the pipe when the owner dies, however
   it dies; the watchdog then reads end-of-file, SIGKILLs every group still
   registered and exits. The watchdog runs in its own session so that a
   terminal's Ctrl-C, aimed at the owner's process group, does not take it
   down first.
2. **The parent-death signal.** On Linux, :func:`die_with_parent` asks the
   kernel (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to kill a process as soon as
   its parent dies. Runtimes install it in every direct child (with
   :func:`pdeathsig_preexec` as ``preexec_fn``, and the zygote in each fork).
   It covers the moment between a spawn and its registration with the
   watchdog. Caveat from prctl(2): "parent" is the *thread* that forked, so
   runtimes must be used from a thread that lives as long as the containers
   (the event loop's thread).

A process that leaves its group and its session (``setsid`` in a container)
escapes the first line; the runtimes hunt such stragglers through the process
tree while the container runs (see :mod:`sandbox.cluster.runtime.proctree`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable

__all__ = ["Reaper", "die_with_parent", "pdeathsig_preexec"]

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


# Looked up once, in the parent: a forked child must not load libraries.
_PRCTL = _load_prctl()


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; else no-op).

    ``parent_pid`` is the pid the caller expects as its parent: if that parent
    already died before the request was made, the process kills itself at once.
    Called in freshly forked children, so it only makes a foreign call and two
    system calls.
    """
    if _PRCTL is None:
        return
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGKILL)


def pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` applying :func:`die_with_parent`, or None where unsupported."""
    if _PRCTL is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        die_with_parent(parent)

    return preexec


class Reaper:
    """The owner's side of the watchdog: register and withdraw process groups.

    The watchdog is started lazily on the first registration and restarted
    (with every live registration re-sent) if it is found dead. Writes are
    tiny and synchronous, so they are safe from an event loop.
    """

    def __init__(self) -> None:
        self._groups: set[int] = set()
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The watchdog's pid (None until something was registered)."""
        return self._watchdog.pid if self._watchdog is not None else None

    def register(self, pgid: int) -> None:
        self._groups.add(pgid)
        self._send(f"+{pgid}\n")

    def unregister(self, pgid: int) -> None:
        if pgid in self._groups:
            self._groups.discard(pgid)
            self._send(f"-{pgid}\n")

    def close(self) -> None:
        """Stop the watchdog; it kills whatever is still registered on its way out."""
        watchdog, self._watchdog = self._watchdog, None
        self._groups.clear()
        if watchdog is None:
            return
        with contextlib.suppress(OSError):
            watchdog.stdin.close()  # type: ignore[union-attr]
        try:
            watchdog.wait(timeout=5)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()

    def _send(self, line: str) -> None:
        watchdog = self._ensure_watchdog()
        try:
            watchdog.stdin.write(line.encode())  # type: ignore[union-attr]
            watchdog.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError):
            # The watchdog died under us: a fresh one learns every live group.
            self._watchdog = None
            self._ensure_watchdog()

    def _ensure_watchdog(self) -> subprocess.Popen[bytes]:
        if self._watchdog is not None and self._watchdog.poll() is None:
            return self._watchdog
        if self._watchdog is not None:
            with contextlib.suppress(OSError):
                self._watchdog.stdin.close()  # type: ignore[union-attr]
        self._watchdog = subprocess.Popen(
            # -I -S: no site, no user paths; this file imports the stdlib only.
            [sys.executable, "-I", "-S", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        if self._groups:
            payload = "".join(f"+{pgid}\n" for pgid in sorted(self._groups))
            self._watchdog.stdin.write(payload.encode())  # type: ignore[union-attr]
            self._watchdog.stdin.flush()  # type: ignore[union-attr]
        return self._watchdog


def _watch() -> None:
    """The watchdog's body: track groups from stdin; on EOF, SIGKILL them all."""
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    groups: set[int] = set()
    for raw in sys.stdin.buffer:
        line = raw.strip()
        if line[:1] == b"+":
            groups.add(int(line[1:]))
        elif line[:1] == b"-":
            groups.discard(int(line[1:]))
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


if __name__ == "__main__":
    _watch()
