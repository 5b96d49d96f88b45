"""The container runtime interface the kubelet programs against.

A runtime starts one container run from a fully resolved
:class:`ContainerSpec` and returns a :class:`ContainerHandle`; the kubelet
then waits for its exit, signals it, and samples its memory. Output capture is
the runtime's job: both streams go, line by line, into ``spec.log_path`` in
the CRI format (:mod:`sandbox.cluster.logfmt`).

Exit codes follow Kubernetes: a process killed by a signal reports
``128 + signal`` (SIGKILL → 137, SIGTERM → 143).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

__all__ = ["ContainerHandle", "ContainerRuntime", "ContainerSpec", "StartError"]


@dataclass
class ContainerSpec:
    """Everything needed to start one run of one container."""

    namespace: str
    pod_name: str
    pod_uid: str
    container_name: str
    #: The program and its arguments, resolved ($(VAR) expanded, paths mapped).
    argv: list[str]
    env: dict[str, str]
    #: Host directory to start in (None: the pod's scratch directory).
    cwd: str | None
    log_path: Path
    #: argv[0] is this Python interpreter: the zygote may fork it.
    python: bool = False
    #: Simulated runtime only: how long the container "runs" (None: until stopped)
    #: and the exit code it then reports.
    simulated_duration: float | None = None
    simulated_exit_code: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    #: Zygote runtime only: which zygote a Python container forks from
    #: ("" the default, "minimal" the one without numpy and scikit-learn).
    zygote: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.pod_name}/{self.container_name}"


class ContainerHandle(Protocol):
    """One running (or finished) container run."""

    @property
    def pid(self) -> int | None:
        """The main process id (None for simulated containers)."""
        ...

    async def wait(self) -> int:
        """Wait for the run to end; its exit code (128 + signal when killed)."""
        ...

    def returncode(self) -> int | None:
        """The exit code if the run has ended, else None."""
        ...

    def signal(self, signum: int) -> None:
        """Send a signal to the container's whole process tree."""
        ...

    def rss_bytes(self) -> int:
        """Resident memory of the whole process tree, in bytes."""
        ...


class ContainerRuntime(Protocol):
    name: str

    async def start(self, spec: ContainerSpec) -> ContainerHandle:
        """Start one run. Raises :class:`StartError` when it cannot start
        (e.g. the executable does not exist: reason ContainerCannotRun)."""
        ...

    async def close(self) -> None:
        """Kill every process this runtime started and release its resources."""
        ...


class StartError(Exception):
    """A container could not be started; ``reason`` is the Kubernetes reason."""

    def __init__(self, message: str, *, reason: str = "ContainerCannotRun") -> None:
        super().__init__(message)
        self.reason = reason
