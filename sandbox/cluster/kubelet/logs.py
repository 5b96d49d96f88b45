"""Pod logs for the client's ``logs``/``follow_logs``, with kubectl's semantics.

Each container run writes its own file (``paths.container_log(ns, pod, uid,
container, run)``, CRI format, see :mod:`sandbox.cluster.logfmt`), and the
files outlive the pod. :class:`KubeletLogSource` finds them from the pod
object the client passes — its uid and container statuses — so logs of a
deleted pod stay readable to whoever still holds its last version.

Which run is read follows the kubelet's ``validateContainerLogStatus``:

- the current run is ``restartCount`` (a run's index is the restart count it
  started with), whether it is running, terminated, or crash-looping
  (waiting with a terminated ``lastState``: its last run);
- ``previous`` is the run before a running or terminated one, or the
  crashed run itself while the container waits in CrashLoopBackOff, like
  ``lastState.terminated``; none gives ``previous terminated container "c"
  in pod "p" not found``;
- a container that never ran: ``container "c" in pod "p" is waiting to
  start: ContainerCreating``.

Options: ``tail_lines`` (last N lines), ``since_seconds`` (lines stamped in
the last N seconds of the log clock, which must be the runtime's),
``timestamps`` (each line prefixed with its RFC 3339 nanosecond time).
Partial CRI records are joined into one line. ``follow`` yields lines as
they are written and ends when the run ends; it knows a run is live through
the :class:`LiveRuns` the kubelets register runs in (a run unknown to it is
finished, and is simply read to its end).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sandbox.api.errors import BadRequest
from sandbox.clock import Clock, SystemClock
from sandbox.cluster.logfmt import LogLine, follow_lines, read_lines
from sandbox.cluster.paths import SandboxPaths

__all__ = ["KubeletLogSource", "LiveRuns"]


class LiveRuns:
    """The container runs in progress, by log file: set when each one ends.

    Shared by every kubelet of a cluster and its log source, so ``follow``
    knows when to stop.
    """

    def __init__(self) -> None:
        self._runs: dict[Path, asyncio.Event] = {}

    def started(self, log_path: Path) -> None:
        self._runs[log_path] = asyncio.Event()

    def ended(self, log_path: Path) -> None:
        done = self._runs.pop(log_path, None)
        if done is not None:
            done.set()

    def done_event(self, log_path: Path) -> asyncio.Event:
        """Set when the run writing ``log_path`` ends (already set if it is not live)."""
        event = self._runs.get(log_path)
        if event is None:
            event = asyncio.Event()
            event.set()
        return event


class KubeletLogSource:
    """The :class:`~sandbox.client.memory.LogSource` of the in-process cluster."""

    def __init__(
        self,
        paths: SandboxPaths,
        *,
        live: LiveRuns | None = None,
        clock: Clock | None = None,
        poll: float = 0.05,
    ) -> None:
        self.paths = paths
        self.live = live or LiveRuns()
        self.clock: Clock = clock or SystemClock()
        self.poll = poll

    async def read(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        previous: bool,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> str:
        path = self.log_path(namespace, pod, container=container, previous=previous)
        lines = self._select(read_lines(path), tail_lines=tail_lines, since_seconds=since_seconds)
        return "".join(_render(line, timestamps) + "\n" for line in lines)

    async def follow(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> AsyncIterator[str]:
        path = self.log_path(namespace, pod, container=container, previous=False)
        done = self.live.done_event(path)
        # What is there already (with tail/since applied), then what comes.
        existing = list(read_lines(path))
        for line in self._select(existing, tail_lines=tail_lines, since_seconds=since_seconds):
            yield _render(line, timestamps)
        skip = len(existing)
        pending: list[LogLine] = []
        async for line in follow_lines(path, done=done, poll=self.poll):
            if skip:
                skip -= 1
                continue
            if line.partial:
                pending.append(line)
                continue
            yield _render(_join([*pending, line]), timestamps)
            pending = []
        if pending:
            yield _render(_join(pending), timestamps)

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The latest pod of this name whose logs are on disk, as a minimal pod
        (metadata and container names) — so logs outlive their pod (DESIGN.md §1.5)."""
        prefix = f"{namespace}_{name}_"
        candidates = [d for d in self.paths.logs.glob(f"{prefix}*") if d.is_dir()]
        if not candidates:
            return None
        latest = max(candidates, key=lambda d: d.stat().st_mtime)
        containers = sorted(c.name for c in latest.iterdir() if c.is_dir())
        return {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": latest.name[len(prefix):]},
            "spec": {"containers": [{"name": c} for c in containers]},
        }

    # Which file -------------------------------------------------------------------

    def log_path(
        self, namespace: str, pod: Mapping[str, Any], *, container: str | None, previous: bool
    ) -> Path:
        """The log file kubectl would show, or ``BadRequest`` with kubectl's message."""
        metadata = pod.get("metadata") or {}
        name, uid = metadata.get("name", ""), metadata.get("uid", "")
        container = container or _default_container(pod)
        status = _container_status(pod, container)
        if status is None:
            if not _declared(pod, container):
                raise BadRequest(
                    f"container {container} is not valid for pod {name}"
                )
            return self._latest_or_fail(namespace, name, uid, container, previous)
        state = status.get("state") or {}
        last = status.get("lastState") or {}
        count = int(status.get("restartCount") or 0)
        if previous:
            if "terminated" not in last:
                raise BadRequest(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            run = count if "waiting" in state else count - 1
        elif "running" in state or "terminated" in state or "terminated" in last:
            run = count
        else:
            reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
            raise BadRequest(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        return self.paths.container_log(namespace, name, uid, container, max(run, 0))

    def _latest_or_fail(
        self, namespace: str, name: str, uid: str, container: str, previous: bool
    ) -> Path:
        """No status for the container: fall back on the files themselves."""
        directory = self.paths.pod_log_dir(namespace, name, uid) / container
        runs = sorted(int(p.stem) for p in directory.glob("*.log") if p.stem.isdigit())
        if previous:
            if len(runs) < 2:
                raise BadRequest(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            return directory / f"{runs[-2]}.log"
        if not runs:
            raise BadRequest(
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            )
        return directory / f"{runs[-1]}.log"

    def _select(
        self, lines: Iterable[LogLine], *, tail_lines: int | None, since_seconds: int | None
    ) -> list[LogLine]:
        joined = _joined(lines)
        if since_seconds is not None:
            cutoff = self.clock.now() - timedelta(seconds=since_seconds)
            joined = [line for line in joined if line.moment >= cutoff]
        if tail_lines is not None:
            joined = joined[-tail_lines:] if tail_lines > 0 else []
        return joined


def _default_container(pod: Mapping[str, Any]) -> str:
    """The only container, or kubectl's default-container annotation, or BadRequest."""
    metadata = pod.get("metadata") or {}
    annotated = (metadata.get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    if annotated:
        return str(annotated)
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or ()]
    if len(names) == 1:
        return names[0]
    raise BadRequest(
        f"a container name must be specified for pod {metadata.get('name', '')}, "
        f"choose one of: [{' '.join(names)}]"
    )


def _declared(pod: Mapping[str, Any], container: str) -> bool:
    spec = pod.get("spec") or {}
    return any(
        c.get("name") == container
        for c in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]
    )


def _container_status(pod: Mapping[str, Any], container: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for entry in status.get(key) or ():
            if entry.get("name") == container:
                return entry
    return None


def _joined(lines: Iterable[LogLine]) -> list[LogLine]:
    """Partial records glued to the record that completes them."""
    out: list[LogLine] = []
    pending: list[LogLine] = []
    for line in lines:
        if line.partial:
            pending.append(line)
            continue
        out.append(_join([*pending, line]))
        pending = []
    if pending:
        out.append(_join(pending))
    return out


def _join(parts: list[LogLine]) -> LogLine:
    if len(parts) == 1:
        return parts[0]
    return LogLine(parts[0].time, parts[0].stream, False, "".join(p.text for p in parts))


def _render(line: LogLine, timestamps: bool) -> str:
    return f"{line.time} {line.text}" if timestamps else line.text
