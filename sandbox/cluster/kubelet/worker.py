"""The pod worker: one asyncio task per pod that drives it from bound to gone.

The kubelet gives each pod bound to its node a :class:`PodWorker` and feeds
it every new version of the pod. The worker converges the pod's containers
to what the spec and the restart policy ask, and reports what happened in
``status`` and Events::

    bound ─► address (podIP) ─► volumes ─► init containers, in order ─► containers
                                   │            each to completion           each supervised:
                                   │            (restarted on failure        pull ─► config ─► start ─► wait
                                   │            unless Never)                  ▲      probes, memory  │
                                   ▼                                           └── CrashLoopBackOff ◄─┘
                          FailedMount, retry                                     (per restartPolicy)

    deletionTimestamp ─► SIGTERM every container ─► grace period ─► SIGKILL ─► final status ─► delete(grace 0)
    removed from the API ─► SIGKILL at once

Level-triggered where it matters: each container supervisor re-reads the
latest pod before every attempt (an image changed by ``kubectl set image``
is used on the next start, and a running container whose image changed is
restarted, like Kubernetes' "definition changed"), and deletion is checked
on every pod update, whatever the lifecycle is doing.

State lives in one :class:`~sandbox.cluster.kubelet.status.ContainerRecord`
per container; :meth:`PodWorker.publish` turns the records into ``status``
and writes it only when it changed. Processes belong to the worker's
:class:`ContainerRun`s, never to a task that could be cancelled, so
deletion and :meth:`PodWorker.stop` always find and stop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.api.errors import ApiError, Conflict, NotFound
from sandbox.api.objects import is_being_deleted
from sandbox.api.quantity import to_bytes
from sandbox.clock import format_time
from sandbox.cluster.images.catalog import ImageEntry
from sandbox.cluster.kubelet.backoff import Backoff, go_duration
from sandbox.cluster.kubelet.context import NodeContext
from sandbox.cluster.kubelet.envvars import ContainerConfigError, resolve_env
from sandbox.cluster.kubelet.expansion import expand
from sandbox.cluster.kubelet.images import PullFailure, image_id
from sandbox.cluster.kubelet.incluster import api_server_env, python_startup_env
from sandbox.cluster.kubelet.mounts import MountTable, container_mounts
from sandbox.cluster.kubelet.probes import ContainerProbes, ProbeTarget
from sandbox.cluster.kubelet.status import ContainerRecord, pod_status
from sandbox.cluster.kubelet.volumes import VolumeContext, VolumeSetupError, setup_volumes
from sandbox.cluster.network import loopback_range_usable
from sandbox.cluster.runtime.base import ContainerHandle, ContainerSpec, StartError
from sandbox.runtime.log import get_logger

__all__ = [
    "SIMULATED_DURATION_ANNOTATION",
    "SIMULATED_EXIT_CODE_ANNOTATION",
    "ZYGOTE_ANNOTATION",
    "ContainerRun",
    "PodWorker",
]

log = get_logger(__name__)

#: On simulated nodes: how long each container "runs" (seconds; unset: until deleted).
SIMULATED_DURATION_ANNOTATION = "sandbox.local/simulated-duration"
#: On simulated nodes: the exit code a simulated container ends with.
SIMULATED_EXIT_CODE_ANNOTATION = "sandbox.local/simulated-exit-code"
#: On process nodes with the zygote runtime: "minimal" forks the pod's Python
#: containers from the zygote without numpy and scikit-learn (faster to fork).
ZYGOTE_ANNOTATION = "sandbox.local/zygote"

_TERMINAL = ("Succeeded", "Failed")
_UNKNOWN_ON_TERMINATION = {
    "exitCode": 137,
    "reason": "ContainerStatusUnknown",
    "message": "The container could not be located when the pod was terminated",
}


@dataclass
class ContainerRun:
    """One run of one container: its process and what watches it."""

    name: str
    image: str
    spec: ContainerSpec
    handle: ContainerHandle
    started_at: str
    started_mono: float
    probes: ContainerProbes | None = None
    watchers: list[asyncio.Task[None]] = field(default_factory=list)
    #: Killed for exceeding its memory limit: terminated reason OOMKilled.
    oom: bool = False
    #: Its image changed: restart it whatever the restart policy says.
    replace: bool = False

    async def stop_watchers(self) -> None:
        if self.probes is not None:
            await self.probes.stop()
        for task in self.watchers:
            task.cancel()
        for task in self.watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.watchers.clear()


class PodWorker:
    """Drives one pod (by uid) on one node."""

    def __init__(self, node: NodeContext, pod: Mapping[str, Any]) -> None:
        self.node = node
        # The informer's object, shared with the store: read, never changed (a status write builds a new body).
        self.pod: dict[str, Any] = pod  # type: ignore[assignment]
        metadata = self.pod["metadata"]
        self.uid: str = metadata["uid"]
        self.name: str = metadata["name"]
        self.namespace: str = metadata.get("namespace") or "default"
        self.records: dict[str, ContainerRecord] = {}
        self.runs: dict[str, ContainerRun] = {}
        self.pod_ip = ""
        self.volumes: dict[str, Path] = {}
        self._ip_owned = False
        self._written: dict[str, Any] | None = None
        self._changed = asyncio.Event()
        self._gone = False
        self._publish_lock = asyncio.Lock()
        self._backoffs: dict[str, Backoff] = {}
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._lifecycle_task: asyncio.Task[None] | None = None
        self.start_time = ""
        self._seed()

    def __repr__(self) -> str:
        return f"<PodWorker {self.key} uid={self.uid}>"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def done(self) -> bool:
        return self._task is not None and self._task.done()

    # Driven by the kubelet ------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"pod {self.key}")
        return self._task

    def update(self, pod: Mapping[str, Any]) -> None:
        """A newer version of the pod (from the informer)."""
        self.pod = pod  # type: ignore[assignment]
        for run in list(self.runs.values()):
            image = self._image_of(run.name)
            if image is not None and image != run.image and not run.replace:
                run.replace = True
                self._side(self._restart_changed(run))
        self._changed.set()

    def gone(self) -> None:
        """The pod was removed from the API: kill its containers at once."""
        self._gone = True
        self._changed.set()

    async def stop(self) -> None:
        """Kubelet shutdown: stop driving the pod and kill every process now."""
        for task in (self._task, self._lifecycle_task, *self._side_tasks):
            if task is not None:
                task.cancel()
        for task in (self._task, self._lifecycle_task, *self._side_tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._kill_all()
        self._release_ip()

    # The pod's life ---------------------------------------------------------------------

    async def _run(self) -> None:
        self._lifecycle_task = asyncio.get_running_loop().create_task(
            self._lifecycle(), name=f"pod lifecycle {self.key}"
        )
        self._lifecycle_task.add_done_callback(self._lifecycle_ended)
        try:
            while not self._gone and not is_being_deleted(self.pod):
                self._changed.clear()
                await self._changed.wait()
            self._lifecycle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._lifecycle_task
            for task in list(self._side_tasks):
                task.cancel()
            if self._gone:
                await self._kill_all()
            else:
                await self._terminate()
            self._remove_pod_dir()
        except Exception:
            log.exception("pod %s: termination failed", self.key)
            await self._kill_all()
        finally:
            self._release_ip()
            self.node.puller.forget(self.uid)

    def _lifecycle_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("pod %s: lifecycle failed", self.key, exc_info=task.exception())

    async def _lifecycle(self) -> None:
        if (self.pod.get("status") or {}).get("phase") in _TERMINAL:
            return  # finished before this kubelet saw it: nothing runs again
        await self._assign_ip()
        # Like the kubelet's status manager, the first status (the IP, containers being created) is
        # written beside the pod's start, not before it: a container quick to start may skip it.
        self._side(self.publish())
        await self._prepare_pod()
        if await self._run_init_containers():
            await self._run_containers()
        await self.publish()
        self._release_ip()  # a finished pod gives its address back, as in Kubernetes

    def _seed(self) -> None:
        """Records for every container, continuing what the API already shows
        (a restarted kubelet keeps counting restarts and numbering log files)."""
        spec = self.pod.get("spec") or {}
        status = self.pod.get("status") or {}
        shown = {
            s.get("name"): s
            for s in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]
        }
        for key, init in (("initContainers", True), ("containers", False)):
            for container in spec.get(key) or ():
                record = ContainerRecord(container["name"], container.get("image", ""), init=init)
                old = shown.get(container["name"])
                if old is not None and (old.get("containerID") or old.get("lastState")):
                    state = old.get("state") or {}
                    record.restart_count = int(old.get("restartCount") or 0)
                    record.runs = record.restart_count + 1
                    record.image_id = old.get("imageID", "")
                    if "terminated" in state:
                        record.state = {"terminated": state["terminated"]}
                        record.ready = init and state["terminated"].get("exitCode") == 0
                        record.last_state = old.get("lastState") or {}
                    elif "running" in state:
                        # Lost with the previous kubelet: the run ended, unseen. The
                        # restart policy decides what follows (a new run moves this
                        # into lastState), as for any other terminated container.
                        record.state = {"terminated": {
                            "exitCode": 137,
                            "reason": "ContainerStatusUnknown",
                            "message": "The container could not be located when the pod was "
                                       "deleted.  The container used to be Running",
                            "startedAt": state["running"].get("startedAt"),
                            "finishedAt": format_time(self.node.clock.now()),
                        }}
                        record.last_state = old.get("lastState") or {}
                    else:
                        record.last_state = old.get("lastState") or {}
                self.records[record.name] = record
        self.start_time = status.get("startTime") or format_time(self.node.clock.now())

    async def _assign_ip(self) -> None:
        """The pod's own loopback address (the one it had, after a kubelet restart);
        waits, with a Warning event, while the node's range is exhausted."""
        existing = (self.pod.get("status") or {}).get("podIP")
        allocator = self.node.ips
        if allocator is None or not loopback_range_usable():
            self.pod_ip = "127.0.0.1"
            return
        if existing and existing in allocator:
            allocator.reserve(existing)
            self.pod_ip, self._ip_owned = existing, True
            return
        while True:
            try:
                self.pod_ip, self._ip_owned = allocator.allocate(), True
                return
            except RuntimeError as err:
                await self._event(
                    "Warning", "FailedCreatePodSandBox",
                    f"Failed to create pod sandbox: failed to allocate an IP address: {err}",
                )
            await self.node.clock.sleep(self.node.retry_interval)

    def _release_ip(self) -> None:
        if self._ip_owned and self.node.ips is not None:
            self.node.ips.release(self.pod_ip)
            self._ip_owned = False

    @property
    def scratch(self) -> Path:
        """The pod's own directory: default working directory of its containers."""
        return self.node.paths.pods / self.uid / "scratch"

    async def _prepare_pod(self) -> None:
        """Volumes as host directories; a failure is reported and retried."""
        if self.node.simulated:
            return
        self.scratch.mkdir(parents=True, exist_ok=True)
        while True:
            ctx = VolumeContext(
                pod=self.pod,
                client=self.node.client,
                paths=self.node.paths,
                pod_ip=self.pod_ip,
                host_ip=self.node.host_ip,
                node_allocatable=await self.node.node_allocatable(),
            )
            try:
                self.volumes = await setup_volumes(ctx, plugins=self.node.volume_plugins)
                return
            except VolumeSetupError as err:
                await self._event("Warning", "FailedMount", str(err))
            await self.node.clock.sleep(self.node.retry_interval)

    async def _run_init_containers(self) -> bool:
        """Each init container to completion, in order; False if the pod failed."""
        for container in (self.pod.get("spec") or {}).get("initContainers") or ():
            if self.records[container["name"]].succeeded:
                continue
            if await self._supervise(container["name"], init=True) != 0:
                return False
        return True

    async def _run_containers(self) -> None:
        names = [c["name"] for c in (self.pod.get("spec") or {}).get("containers") or ()]
        results = await asyncio.gather(
            *(self._supervise(name, init=False) for name in names), return_exceptions=True
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("pod %s container %s: supervisor failed", self.key, name, exc_info=result)

    # One container --------------------------------------------------------------------

    async def _supervise(self, name: str, *, init: bool) -> int:
        """Run a container until the restart policy says it is done; its last exit code."""
        record = self.records[name]
        lifecycle = self.node.lifecycle
        backoff = self._backoffs.setdefault(
            name, Backoff(lifecycle.crash_loop_base_delay, lifecycle.crash_loop_max_delay)
        )
        while True:
            finished = record.terminated
            if finished is not None and not self._restarts(finished.get("exitCode", 0), init):
                return int(finished.get("exitCode", 0))
            container = self._container(name)
            entry = await self._pull(container, record)
            spec, mounts = await self._create(container, record, entry)
            try:
                run = await self._start(container, record, spec, entry, mounts)
            except StartError as err:
                if err.reason != "ContainerCannotRun":
                    await self._wait_to_retry(record, err.reason, str(err))
                    continue
                code, ran_for, replace = self._cannot_run(record, spec, err), 0.0, False
                await self._event("Warning", "Failed", f"Error: {err}")
                await self.publish()
            else:
                code = await self._wait(run, record)
                ran_for = self.node.clock.monotonic() - run.started_mono
                replace = run.replace
            if replace:
                continue
            if not self._restarts(code, init):
                return code
            delay = backoff.next_restart(
                ran_for=ran_for, reset_after=self.node.crash_loop_reset_after
            )
            if delay > 0:
                await self._crash_loop(record, delay)

    def _restarts(self, exit_code: int, init: bool) -> bool:
        policy = (self.pod.get("spec") or {}).get("restartPolicy") or "Always"
        if init or policy == "OnFailure":
            return exit_code != 0 and policy != "Never"
        return policy == "Always"

    def _container(self, name: str) -> dict[str, Any]:
        spec = self.pod.get("spec") or {}
        for container in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
            if container.get("name") == name:
                return container
        raise KeyError(name)

    def _image_of(self, name: str) -> str | None:
        with contextlib.suppress(KeyError):
            return str(self._container(name).get("image", ""))
        return None

    async def _pull(self, container: Mapping[str, Any], record: ContainerRecord) -> ImageEntry:
        """The catalog entry of the container's image, waiting out pull failures."""
        while True:
            image = str(container.get("image", ""))
            record.image = image
            outcome = self.node.puller.pull(self.uid, image)
            if not isinstance(outcome, PullFailure):
                record.image_id = image_id(image)
                # Recorded beside the start, in order: events run first come, first served.
                self._side(self._event(
                    "Normal", "Pulled", f'Container image "{image}" already present on machine'
                ))
                return outcome
            await self._pull_failed(record, image, outcome)
            await self.node.clock.sleep(outcome.delay)
            container = self._container(record.name)

    async def _pull_failed(self, record: ContainerRecord, image: str, failure: PullFailure) -> None:
        if failure.reason == "InvalidImageName":
            _wait_in(record, failure.reason, failure.message)
            await self._event("Warning", "InspectFailed", failure.message)
            await self._event("Warning", "Failed", f"Error: {failure.reason}")
            await self.publish()
            return
        _wait_in(record, "ErrImagePull", failure.message)
        await self._event("Warning", "Failed", f'Failed to pull image "{image}": {failure.message}')
        await self._event("Warning", "Failed", "Error: ErrImagePull")
        await self.publish()
        _wait_in(
            record, "ImagePullBackOff",
            f'Back-off pulling image "{image}": ErrImagePull: {failure.message}',
        )
        await self._event("Normal", "BackOff", f'Back-off pulling image "{image}"')
        await self._event("Warning", "Failed", "Error: ImagePullBackOff")
        await self.publish()

    async def _create(
        self, container: Mapping[str, Any], record: ContainerRecord, entry: ImageEntry
    ) -> tuple[ContainerSpec, MountTable]:
        """The run's spec, waiting out configuration errors (CreateContainerConfigError)."""
        while True:
            try:
                return await self._container_spec(container, record, entry)
            except ContainerConfigError as err:
                await self._wait_to_retry(record, "CreateContainerConfigError", str(err))
            except (ValueError, OSError) as err:  # e.g. a malformed quantity, a directory we cannot make
                await self._wait_to_retry(record, "CreateContainerError", str(err))
            container = self._container(record.name)

    async def _wait_to_retry(self, record: ContainerRecord, reason: str, message: str) -> None:
        _wait_in(record, reason, message)
        await self._event("Warning", "Failed", f"Error: {message}")
        await self.publish()
        await self.node.clock.sleep(self.node.retry_interval)

    async def _container_spec(
        self, container: Mapping[str, Any], record: ContainerRecord, entry: ImageEntry
    ) -> tuple[ContainerSpec, MountTable]:
        resolved = await resolve_env(
            self.pod, container, client=self.node.client, pod_ip=self.pod_ip,
            host_ip=self.node.host_ip, node_allocatable=await self.node.node_allocatable(),
            service_env=api_server_env(self.node.api_endpoint),
        )
        for source, keys in resolved.skipped:
            await self._event(
                "Warning", "InvalidEnvironmentVariableNames",
                f"Keys [{', '.join(keys)}] from the EnvFrom {source} were skipped since they "
                "are considered invalid environment variable names.",
            )
        variables = resolved.env
        mounts = container_mounts(container, self.volumes, variables)
        command = [expand(str(a), variables) for a in container.get("command") or ()]
        raw_args = container.get("args")
        args = [expand(str(a), variables) for a in raw_args] if raw_args is not None else []
        mapped = mounts.map_args([*command, *args])
        command, args = mapped[: len(command)], mapped[len(command) :]
        argv, python = entry.command(
            {**container, "command": command, "args": args if raw_args is not None else None}
        )

        env = entry.image_env()
        env["HOSTNAME"] = (self.pod.get("spec") or {}).get("hostname") or self.name
        env.update({name: mounts.map_value(value) for name, value in variables.items()})
        if python:
            # In-cluster clients read their token and CA from mapped paths, and wildcard
            # binds listen on the pod's IP (sandbox.podboot).
            env.update(python_startup_env(env))
        env.update({
            "SANDBOX_MOUNTS": mounts.as_env(),
            "SANDBOX_POD_IP": self.pod_ip,
            "SANDBOX_POD_NAME": self.name,
            "SANDBOX_NAMESPACE": self.namespace,
        })
        annotations = (self.pod.get("metadata") or {}).get("annotations") or {}
        spec = ContainerSpec(
            namespace=self.namespace,
            pod_name=self.name,
            pod_uid=self.uid,
            container_name=record.name,
            argv=argv,
            env=env,
            cwd=self._working_dir(container, mounts),
            log_path=self.node.paths.container_log(
                self.namespace, self.name, self.uid, record.name, record.runs
            ),
            python=python,
            simulated_duration=_float(annotations.get(SIMULATED_DURATION_ANNOTATION)),
            simulated_exit_code=int(_float(annotations.get(SIMULATED_EXIT_CODE_ANNOTATION)) or 0),
            zygote=str(annotations.get(ZYGOTE_ANNOTATION) or ""),
            labels={
                "io.kubernetes.pod.name": self.name,
                "io.kubernetes.pod.namespace": self.namespace,
                "io.kubernetes.pod.uid": self.uid,
                "io.kubernetes.container.name": record.name,
            },
        )
        return spec, mounts

    def _working_dir(self, container: Mapping[str, Any], mounts: MountTable) -> str | None:
        """``workingDir`` mapped through the mounts; a path under no mount is made
        inside the pod's scratch directory; none: the scratch directory itself."""
        if self.node.simulated:
            return None
        working = container.get("workingDir")
        if not working:
            return str(self.scratch)
        mapped = mounts.map_path(working)
        if mapped is not None:
            return mapped
        inside = self.scratch / "rootfs" / working.lstrip("/")
        inside.mkdir(parents=True, exist_ok=True)
        return str(inside)

    async def _start(
        self,
        container: Mapping[str, Any],
        record: ContainerRecord,
        spec: ContainerSpec,
        entry: ImageEntry,
        mounts: MountTable,
    ) -> ContainerRun:
        live = self.node.live_runs
        live.started(spec.log_path)
        try:
            handle = await self._launch(spec)
        except BaseException:
            live.ended(spec.log_path)
            raise
        now = self.node.clock.now()
        run = ContainerRun(
            name=record.name,
            image=str(container.get("image", "")),
            spec=spec,
            handle=handle,
            started_at=format_time(now),
            started_mono=self.node.clock.monotonic(),
        )
        self.runs[record.name] = run
        self._begin_run(record)
        record.state = {"running": {"startedAt": run.started_at}}
        if record.init or self.node.simulated:
            record.started = True
            record.ready = not record.init
        else:
            run.probes = self._probes(container, run, entry, mounts)
            record.started = run.probes.started
            record.ready = run.probes.ready
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
        if limit is not None and not self.node.simulated:
            run.watchers.append(asyncio.get_running_loop().create_task(
                self._watch_memory(run, to_bytes(limit), str(limit))
            ))
        await self._event("Normal", "Created", f"Created container {record.name}")
        await self._event("Normal", "Started", f"Started container {record.name}")
        await self.publish()
        if run.probes is not None:
            run.probes.start()
        return run

    async def _launch(self, spec: ContainerSpec) -> ContainerHandle:
        """Start the run; if we are cancelled meanwhile, the process must not survive."""
        starting = asyncio.ensure_future(self.node.runtime.start(spec))
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            starting.add_done_callback(_kill_if_started)
            raise

    def _begin_run(self, record: ContainerRecord) -> None:
        """A new run: the previous one becomes ``lastState``; count the restart."""
        if record.terminated is not None:
            record.last_state = {"terminated": record.terminated}
        record.restart_count = record.runs
        record.runs += 1
        record.container_id = f"sandbox://{secrets.token_hex(32)}"

    def _cannot_run(self, record: ContainerRecord, spec: ContainerSpec, err: StartError) -> int:
        self._begin_run(record)
        now = format_time(self.node.clock.now())
        record.state = {"terminated": {
            "exitCode": 128,
            "reason": "ContainerCannotRun",
            "message": str(err),
            "startedAt": now,
            "finishedAt": now,
            "containerID": record.container_id,
        }}
        record.ready = record.started = False
        return 128

    async def _wait(self, run: ContainerRun, record: ContainerRecord) -> int:
        """Until the run ends; then its terminated state. (Cancelled by deletion,
        the run stays registered for the termination to stop.)"""
        code = await run.handle.wait()
        await run.stop_watchers()
        self._finish_run(run, record, code)
        await self.publish()
        return code

    def _finish_run(self, run: ContainerRun, record: ContainerRecord, code: int) -> None:
        self.runs.pop(run.name, None)
        self.node.live_runs.ended(run.spec.log_path)
        reason = "OOMKilled" if run.oom else "Completed" if code == 0 else "Error"
        record.state = {"terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": run.started_at,
            "finishedAt": format_time(self.node.clock.now()),
            "containerID": record.container_id,
        }}
        record.ready = record.init and code == 0
        record.started = False

    async def _crash_loop(self, record: ContainerRecord, delay: float) -> None:
        pod = f"{self.name}_{self.namespace}({self.uid})"
        _wait_in(
            record, "CrashLoopBackOff",
            f"back-off {go_duration(delay)} restarting failed container={record.name} pod={pod}",
        )
        await self._event(
            "Warning", "BackOff", f"Back-off restarting failed container {record.name} in pod {pod}"
        )
        await self.publish()
        await self.node.clock.sleep(delay)

    # Watching a run -------------------------------------------------------------------

    def _probes(
        self, container: Mapping[str, Any], run: ContainerRun, entry: ImageEntry, mounts: MountTable
    ) -> ContainerProbes:
        def command(argv: Any) -> list[str]:
            return entry.command({"command": mounts.map_args([str(a) for a in argv])})[0]

        target = ProbeTarget(
            container=container, pod_ip=self.pod_ip, env=run.spec.env, cwd=run.spec.cwd,
            command=command,
        )

        def changed() -> None:
            record = self.records[run.name]
            if self.runs.get(run.name) is run and run.probes is not None:
                record.started = run.probes.started
                record.ready = run.probes.ready
                self._side(self.publish())

        async def unhealthy(kind: str, message: str) -> None:
            await self._event("Warning", "Unhealthy", f"{kind} probe failed: {message}")

        async def give_up(kind: str) -> None:
            probe = container.get(f"{kind.lower()}Probe") or {}
            await self._event(
                "Normal", "Killing",
                f"Container {run.name} failed {kind.lower()} probe, will be restarted",
            )
            await self._kill(run, grace=probe.get("terminationGracePeriodSeconds"))

        async def unsupported(kind: str, handler: str) -> None:
            await self._event(
                "Warning", "ProbeWarning",
                f"{kind} probe of container {run.name} uses {handler}, which the sandbox kubelet "
                "cannot run; it is treated as passing",
            )

        return ContainerProbes(
            target, clock=self.node.clock, kinds=self.node.probe_kinds, on_change=changed,
            on_unhealthy=unhealthy, on_give_up=give_up, on_unsupported=unsupported,
        )

    async def _watch_memory(self, run: ContainerRun, limit: int, limit_text: str) -> None:
        """Sample resident memory; over the limit, SIGKILL the tree (OOMKilled)."""
        while run.handle.returncode() is None:
            await self.node.clock.sleep(self.node.lifecycle.memory_check_interval)
            used = run.handle.rss_bytes()
            if run.handle.returncode() is None and used > limit:
                run.oom = True
                run.handle.signal(signal.SIGKILL)
                program = Path(run.spec.argv[0]).name if run.spec.argv else "?"
                await self._event(
                    "Warning", "OOMKilling",
                    f"Memory cgroup out of memory: Killed process {run.handle.pid} ({program}) "
                    f'of container "{run.name}": resident memory {used // (1024 * 1024)}Mi '
                    f"exceeded its limit of {limit_text}",
                )
                return

    async def _restart_changed(self, run: ContainerRun) -> None:
        await self._event(
            "Normal", "Killing", f"Container {run.name} definition changed, will be restarted"
        )
        await self._kill(run)

    async def _kill(self, run: ContainerRun, *, grace: Any = None) -> None:
        """SIGTERM the run's tree, SIGKILL it after the grace period."""
        if grace is None:
            grace = (self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        await self._stop_runs([run], float(grace))

    async def _stop_runs(self, runs: list[ContainerRun], grace: float) -> None:
        alive = [run for run in runs if run.handle.returncode() is None]
        for run in alive:
            run.handle.signal(signal.SIGTERM)
        if not alive:
            return
        ended = asyncio.ensure_future(asyncio.gather(*(run.handle.wait() for run in alive)))
        timer = asyncio.ensure_future(self.node.clock.sleep(grace))
        try:
            await asyncio.wait({ended, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        for run in alive:
            if run.handle.returncode() is None:
                run.handle.signal(signal.SIGKILL)
        await ended

    # Ending -----------------------------------------------------------------------------

    async def _terminate(self) -> None:
        """Graceful deletion: stop every container within the grace period, write
        the final status, and let the API server remove the pod."""
        metadata = self.pod.get("metadata") or {}
        grace = metadata.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = (self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        runs = list(self.runs.values())
        for run in runs:
            await run.stop_watchers()
            await self._event("Normal", "Killing", f"Stopping container {run.name}")
        await self._stop_runs(runs, float(grace))
        for run in runs:
            code = run.handle.returncode()
            self._finish_run(run, self.records[run.name], 137 if code is None else code)
        for record in self.records.values():
            if record.terminated is None:
                record.state = {"terminated": dict(_UNKNOWN_ON_TERMINATION)}
                record.ready = record.started = False
        await self.publish(terminal=True)
        try:
            await self.node.client.delete(
                "v1", "Pod", self.name, namespace=self.namespace, grace_period_seconds=0,
                preconditions={"uid": self.uid},
            )
        except (NotFound, Conflict):
            pass  # already gone, or a new pod took the name

    async def _kill_all(self) -> None:
        runs = list(self.runs.values())
        for run in runs:
            await run.stop_watchers()
            if run.handle.returncode() is None:
                run.handle.signal(signal.SIGKILL)
        for run in runs:
            with contextlib.suppress(Exception):
                await run.handle.wait()
            self.node.live_runs.ended(run.spec.log_path)
        self.runs.clear()

    def _remove_pod_dir(self) -> None:
        """The pod's volumes go with it (emptyDir data is lost, as in Kubernetes);
        its logs stay."""
        shutil.rmtree(self.node.paths.pods / self.uid, ignore_errors=True)

    # Status and events ------------------------------------------------------------------

    async def publish(self, *, terminal: bool = False) -> None:
        """Write ``status`` if it differs from what the API last showed."""
        async with self._publish_lock:
            previous = self._written if self._written is not None else (self.pod.get("status") or {})
            status = pod_status(
                self.pod, self.records.values(), previous=previous, pod_ip=self.pod_ip,
                host_ip=self.node.host_ip, start_time=self.start_time,
                now=format_time(self.node.clock.now()), terminal=terminal,
            )
            # Keep what others own in status (reason, message, nominatedNodeName ...).
            status = {**{k: v for k, v in previous.items() if k not in status}, **status}
            if status == previous:
                return
            body = {**self.pod, "status": status}
            body["metadata"] = {
                k: v for k, v in (self.pod.get("metadata") or {}).items() if k != "resourceVersion"
            }
            try:
                await self.node.client.replace_status(body, brief=True)
            except NotFound:
                return
            except ApiError as err:
                log.warning("pod %s: status write failed: %s", self.key, err)
                return
            self._written = status

    async def _event(self, type_: str, reason: str, message: str) -> None:
        await self.node.recorder.event(self.pod, type=type_, reason=reason, message=message)  # type: ignore[arg-type]

    def _side(self, coroutine: Any) -> None:
        """Run a short task beside the lifecycle (cancelled with the worker)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)


def _wait_in(record: ContainerRecord, reason: str, message: str) -> None:
    """The container waits; a run that ended before becomes its ``lastState``."""
    if record.terminated is not None:
        record.last_state = {"terminated": record.terminated}
    record.state = {"waiting": {"reason": reason, "message": message}}
    record.ready = record.started = False


def _kill_if_started(starting: asyncio.Future[ContainerHandle]) -> None:
    if not starting.cancelled() and starting.exception() is None:
        starting.result().signal(signal.SIGKILL)


def _float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
