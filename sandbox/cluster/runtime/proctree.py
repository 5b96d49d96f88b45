"""A container's process tree: who belongs to it, how to signal it, what it weighs.

On a real node a container is a cgroup: every process it starts stays in it,
signals reach all of them and its memory is the cgroup's. Here a container is
a process group (its main process is a session leader) plus whatever the main
process forked that left the group. :class:`ProcessTree` tracks both: it
signals the group with ``killpg`` and the stragglers it has seen with psutil,
remembering every descendant it ever met, so a daemonised grandchild found
while sampling memory is still killed after its parent has gone.

Finding descendants means reading every process's parent (psutil scans
``/proc``), which costs milliseconds; with a hundred containers sampled
several times a second that would dominate the kubelet. So one index of
parent → children is shared by all trees and rebuilt at most every
:data:`_INDEX_TTL` seconds for memory samples; signals always rebuild it.

Memory is measured two ways: ``rss`` (resident set, what ``ps`` shows) for
plain processes, and ``uss`` (pages private to the process) for forks of the
zygote, whose untouched copy-on-write pages belong to the zygote and would
otherwise be counted once per container, the way a cgroup does not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Literal

import psutil

__all__ = ["ProcessTree", "exit_code"]

#: How stale the shared parent → children index may be for a memory sample.
_INDEX_TTL = 0.1


def exit_code(returncode: int) -> int:
    """Kubernetes' exit code: 128 + signal for a process killed by a signal."""
    return 128 - returncode if returncode < 0 else returncode


class _ProcessIndex:
    """Parent pid → child processes of the whole host, rebuilt on demand."""

    def __init__(self) -> None:
        self._built_at = -_INDEX_TTL
        self._children: dict[int, list[psutil.Process]] = {}

    def children(self, pid: int, *, fresh: bool) -> list[psutil.Process]:
        now = time.monotonic()
        if fresh or now - self._built_at >= _INDEX_TTL:
            index: dict[int, list[psutil.Process]] = {}
            for proc in psutil.process_iter(["ppid"]):
                index.setdefault(proc.info["ppid"], []).append(proc)
            self._children, self._built_at = index, now
        return self._children.get(pid, [])


_INDEX = _ProcessIndex()


class ProcessTree:
    """The processes of one container run, rooted at a session leader."""

    def __init__(self, pid: int, *, memory: Literal["rss", "uss"] = "rss") -> None:
        self.pid = pid
        self._memory = memory
        self._root: psutil.Process | None
        try:
            self._root = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._root = None
        #: Descendants met so far, by pid (a Process remembers its start time,
        #: so a recycled pid is never mistaken for one of ours).
        self._seen: dict[int, psutil.Process] = {}

    def members(self, *, fresh: bool = False) -> list[psutil.Process]:
        """The live processes of the tree: the root and every descendant seen."""
        found: list[psutil.Process] = []
        if self._root is not None and self._root.is_running():
            found.append(self._root)
            pending = [self.pid]
            rebuild = fresh  # at most once per walk
            while pending:
                children = _INDEX.children(pending.pop(), fresh=rebuild)
                rebuild = False
                for child in children:
                    self._seen[child.pid] = child
                    pending.append(child.pid)
        for pid, proc in list(self._seen.items()):
            if proc.is_running():
                found.append(proc)
            else:
                del self._seen[pid]
        return found

    def signal(self, signum: int) -> None:
        """Signal the process group and every straggler that left it."""
        stragglers = [p for p in self.members(fresh=True) if p.pid != self.pid]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)
        for proc in stragglers:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                proc.send_signal(signum)

    def kill_leftovers(self) -> None:
        """After the main process exited: SIGKILL what remains, as a cgroup teardown does."""
        self.signal(signal.SIGKILL)

    def memory_bytes(self) -> int:
        total = 0
        for proc in self.members():
            try:
                if self._memory == "uss":
                    total += proc.memory_full_info().uss
                else:
                    total += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return total
