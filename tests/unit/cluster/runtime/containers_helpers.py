"""Shared helpers for the container runtime tests: specs, logs, process checks."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil

from sandbox.cluster.logfmt import LogLine, read_lines
from sandbox.cluster.runtime.base import ContainerSpec

HOST_ENV = {"PATH": os.environ.get("PATH", os.defpath)}


def make_spec(
    tmp_path: Path,
    argv: list[str],
    *,
    name: str = "main",
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    python: bool = False,
    **extra: object,
) -> ContainerSpec:
    return ContainerSpec(
        namespace="default",
        pod_name="pod",
        pod_uid="uid-1",
        container_name=name,
        argv=argv,
        env=dict(HOST_ENV if env is None else env),
        cwd=cwd,
        log_path=tmp_path / "logs" / f"{name}.log",
        python=python,
        **extra,  # type: ignore[arg-type]
    )


def python_spec(tmp_path: Path, code: str, **kwargs: object) -> ContainerSpec:
    return make_spec(tmp_path, [sys.executable, "-c", code], python=True, **kwargs)  # type: ignore[arg-type]


def log_lines(spec: ContainerSpec) -> list[LogLine]:
    return list(read_lines(spec.log_path))


def texts(spec: ContainerSpec, stream: str | None = None) -> list[str]:
    return [line.text for line in log_lines(spec) if stream is None or line.stream == stream]


def all_gone(pids: list[int], *, within: float = 5.0) -> bool:
    """Whether every pid has disappeared (zombies count as gone) within ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
