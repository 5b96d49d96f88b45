"""Pipeline runs, asynchronously: the one implementation behind ``sandbox.sdk.pipelines``.

A run is what KFP's backend makes of one: a ``Workflow`` (argoproj.io/v1alpha1)
carrying the pipeline's IR, which the sandbox's workflow controller executes
one Pod per task. Everything here goes through the client protocol, so it
works on the home's daemon (:func:`connect`), on an in-process cluster's
client and on any cluster that runs the pipelines component::

    pipeline (IR dict | .py/.yaml path | @dsl.pipeline object | Pipeline)
      ─► PipelineGraph.from_ir (PipelineSpecInvalid) ─► bind_arguments (ArgumentsInvalid)
      ─► workflow_for_run ─► client.create ─► Run
    Run.wait ─► client.wait_for(predicate: phase final; on_update sees each snapshot)
    Run.tasks ─► task_tree(status.nodes) ─► find_task ─► Run.logs ─► client.logs(pod)
    Run.terminate ─► patch spec.shutdown=Terminate (the controller stops the pods)

Nothing is created when the pipeline or the arguments are wrong: both are
checked first, and the errors list every problem. Task pods are kept after
the run (and the client's ``logs`` also reads a deleted pod's kept log), so
``logs`` works for as long as the run exists.

``sandbox.sdk.pipelines`` is the blocking face of this module (derived from
it through :mod:`sandbox.sdk.portal`); use this one from ``async`` code::

    from sandbox.sdk.pipelines import aio
    run = await aio.submit(client, "train.py", arguments={"epochs": 3})
    status = await run.wait(timeout=600)
    print(await run.logs("train(1)"))
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.backends.inprocess.control import DaemonHome
from sandbox.client.kube import KubeClient
from sandbox.client.protocol import Client
from sandbox.client.waiting import WaitTimeout
from sandbox.components.pipelines.graph import PipelineGraph, load_ir
from sandbox.components.pipelines.workflow.build import (
    RUN_ID_LABEL,
    RUN_NAME_ANNOTATION,
    workflow_for_run,
)
from sandbox.sdk.pipelines.errors import NoTaskLog, RunTimeout
from sandbox.sdk.pipelines.loading import Pipeline, compile_pipeline, dsl_of, load_pipeline
from sandbox.sdk.pipelines.tasks import (
    FINAL_PHASES,
    RunStatus,
    TaskNode,
    find_task,
    run_status,
    task_tree,
)

__all__ = [
    "WORKFLOW",
    "PipelineSource",
    "Run",
    "connect",
    "get_run",
    "list_runs",
    "pipeline_spec_of",
    "submit",
    "terminate",
]

WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
#: What ``submit`` accepts as the pipeline.
PipelineSource = Mapping[str, Any] | Pipeline | str | Path | Any
#: ``wait(timeout=None)`` waits this long: for ever, as far as a run is concerned.
_NO_LIMIT = 10 * 365 * 24 * 3600.0


def connect(*, home: str | Path | None = None, kubeconfig: str | Path | None = None,
            context: str | None = None) -> KubeClient:
    """A client of the home's running sandbox (``sandbox up``), or of ``kubeconfig``'s cluster."""
    path = Path(kubeconfig) if kubeconfig is not None else DaemonHome.resolve(home).kubeconfig
    if not path.is_file():
        raise FileNotFoundError(f"no kubeconfig at {path}: start the sandbox with `sandbox up` "
                                "or pass kubeconfig=")
    return KubeClient.from_kubeconfig(path, context=context)


def pipeline_spec_of(pipeline: PipelineSource) -> dict[str, Any]:
    """The IR of anything :func:`submit` accepts (see :data:`PipelineSource`)."""
    if isinstance(pipeline, Pipeline):
        return pipeline.spec
    if isinstance(pipeline, (str, Path)):
        return load_pipeline(pipeline).spec
    if isinstance(pipeline, Mapping):
        spec, _ = load_ir(pipeline)
        return spec
    if dsl_of(pipeline) is not None:
        return compile_pipeline(pipeline)
    raise TypeError("a pipeline is an IR dict, a .py/.yaml path, a @dsl.pipeline object or a Pipeline; "
                    f"got {type(pipeline).__name__}")


def _now(client: Client) -> datetime:
    clock = getattr(client, "clock", None)
    now = getattr(clock, "now", None)
    return now() if callable(now) else datetime.now(UTC)


def _default_namespace(client: Client, namespace: str | None) -> str:
    return namespace or getattr(client, "default_namespace", None) or "default"


class Run:
    """One pipeline run: a handle on its Workflow (``workflow`` is the last snapshot read)."""

    def __init__(self, client: Client, workflow: dict[str, Any]) -> None:
        self.client = client
        self.workflow = workflow

    def __repr__(self) -> str:
        return f"Run({self.name!r}, namespace={self.namespace!r}, phase={self.phase!r})"

    # The snapshot ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The Workflow's name (what ``get_run``, ``logs`` and ``terminate`` take)."""
        return str(self.workflow["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.workflow["metadata"].get("namespace") or "default")

    @property
    def run_id(self) -> str:
        meta = self.workflow["metadata"]
        return str((meta.get("labels") or {}).get(RUN_ID_LABEL) or meta.get("uid", ""))

    @property
    def run_name(self) -> str:
        return str((self.workflow["metadata"].get("annotations") or {}).get(RUN_NAME_ANNOTATION, ""))

    @property
    def phase(self) -> str:
        """The phase of the last snapshot (Pending until the controller has seen the run)."""
        return str((self.workflow.get("status") or {}).get("phase") or "Pending")

    def snapshot_status(self) -> RunStatus:
        """The :class:`RunStatus` of the last snapshot, without reading the cluster."""
        return run_status(self.workflow, now=_now(self.client))

    def snapshot_tasks(self) -> TaskNode:
        """The task tree of the last snapshot, without reading the cluster."""
        return task_tree(self.workflow, now=_now(self.client))

    # Reading the cluster ----------------------------------------------------------------------

    async def refresh(self) -> Run:
        """Read the Workflow again."""
        self.workflow = await self.client.get(*WORKFLOW, self.name, namespace=self.namespace)
        return self

    async def status(self) -> RunStatus:
        """The run's current state."""
        await self.refresh()
        return self.snapshot_status()

    async def tasks(self) -> TaskNode:
        """The run's current task tree (its root is the run's DAG node)."""
        await self.refresh()
        return self.snapshot_tasks()

    async def wait(self, timeout: float | None = None, *,
                   on_update: Callable[[dict[str, Any]], None] | None = None) -> RunStatus:
        """Wait until the run ends (Succeeded, Failed or Error) and return its final state.

        ``on_update`` is called with every snapshot seen on the way (progress
        displays use it). After ``timeout`` seconds (None: no limit) raises
        :class:`~.errors.RunTimeout` describing where the run is; the run goes on.
        """
        def ended(workflow: dict[str, Any]) -> bool:
            self.workflow = workflow
            if on_update is not None:
                on_update(workflow)
            return (workflow.get("status") or {}).get("phase") in FINAL_PHASES

        try:
            self.workflow = await self.client.wait_for(
                *WORKFLOW, self.name, namespace=self.namespace, predicate=ended,
                timeout=_NO_LIMIT if timeout is None else timeout)
        except WaitTimeout as error:
            if error.last:
                self.workflow = dict(error.last)
            raise RunTimeout(self._timeout_message(timeout or 0.0), last=error.last) from None
        return self.snapshot_status()

    def _timeout_message(self, timeout: float) -> str:
        status = self.snapshot_status()
        running = [t.label for t in self.snapshot_tasks().tasks() if t.phase in ("Pending", "Running")]
        text = (f"run {self.name} did not end within {timeout:g}s: it is {status.phase}, "
                f"{status.progress} task pods done")
        if running:
            text += f"; running: {', '.join(running)}"
        return text + " (the run goes on)"

    async def logs(self, task: str, *, attempt: int | None = None, tail_lines: int | None = None) -> str:
        """The log of ``task`` (a label as :meth:`tasks` shows it, e.g. ``train`` or ``train(1)``).

        A task with retries has one pod per attempt: the latest by default,
        ``attempt=0`` for the first try. Raises :class:`~.errors.TaskNotFound`
        or :class:`~.errors.AmbiguousTask` (both list the task names) and
        :class:`~.errors.NoTaskLog` for a task that ran no pod.
        """
        node = find_task(await self.tasks(), task, run=self.name)
        chosen = _attempt(node, attempt)
        if chosen.cached:
            raise NoTaskLog(f'task "{node.label}" ran no pod, so it has no log: it was cached '
                            f"({chosen.message})")
        if chosen.pod_name is None:
            raise NoTaskLog(f'task "{node.label}" ran no pod, so it has no log'
                            + (f" ({chosen.message})" if chosen.message else ""))
        try:
            return await self.client.logs(chosen.pod_name, namespace=self.namespace, tail_lines=tail_lines)
        except NotFound:
            why = f": {chosen.message}" if chosen.message else ""
            raise NoTaskLog(f'task "{node.label}" has no log: its pod {chosen.pod_name} is not there '
                            f"(the task is {chosen.phase}{why})") from None

    async def terminate(self) -> RunStatus:
        """Stop the run (``spec.shutdown: Terminate``): running tasks are stopped, the run ends CANCELED."""
        await self.refresh()
        if self.phase not in FINAL_PHASES:
            self.workflow = await self.client.patch(*WORKFLOW, self.name, {"spec": {"shutdown": "Terminate"}},
                                                    namespace=self.namespace)
        return self.snapshot_status()


def _attempt(node: TaskNode, attempt: int | None) -> TaskNode:
    if node.type == "Skipped":
        reason = f": {node.message}" if node.message else ""
        raise NoTaskLog(f'task "{node.label}" did not run ({node.phase}{reason}), so it has no log')
    if node.type not in ("Pod", "Retry"):
        raise NoTaskLog(f'"{node.label}" is a group of tasks ({node.type}), not a task; its tasks: '
                        + ", ".join(t.label for t in node.tasks()))
    attempts = node.attempts
    if not attempts:
        raise NoTaskLog(f'task "{node.label}" has not started yet')
    if attempt is None:
        return attempts[-1]
    if not 0 <= attempt < len(attempts):
        raise NoTaskLog(f'task "{node.label}" has {len(attempts)} attempt'
                        f"{'s' if len(attempts) != 1 else ''} (0 to {len(attempts) - 1}); "
                        f"there is no attempt {attempt}")
    return attempts[attempt]


async def submit(client: Client, pipeline: PipelineSource, *, arguments: Mapping[str, Any] | None = None,
                 run_name: str | None = None, namespace: str | None = None, enable_caching: bool = True,
                 parallelism: int | None = None, pipeline_root: str | None = None,
                 service_account: str | None = None) -> Run:
    """Start a run of ``pipeline`` with ``arguments`` and return it (it runs on; ``wait`` for it).

    The pipeline is validated and the arguments bound to its declared
    parameter types first (``PipelineSpecInvalid``/``ArgumentsInvalid``,
    listing every problem): nothing is created when either is wrong.
    ``enable_caching=False`` turns the cache off for the whole run;
    ``parallelism`` caps the task pods running at once.
    """
    spec = pipeline_spec_of(pipeline)
    graph = PipelineGraph.from_ir(spec)
    given = dict(arguments or {})
    bound = graph.bind_arguments(given)
    if parallelism is not None and parallelism < 1:
        raise ValueError(f"parallelism must be at least 1, not {parallelism}")
    workflow = workflow_for_run(spec, run_id=str(uuid.uuid4()), parameters={k: bound[k] for k in given},
                                run_name=run_name, pipeline_root=pipeline_root, enable_caching=enable_caching,
                                parallelism=parallelism, service_account=service_account)
    created = await client.create(workflow, namespace=_default_namespace(client, namespace))
    return Run(client, created)


def _is_run(workflow: Mapping[str, Any]) -> bool:
    return RUN_ID_LABEL in ((workflow.get("metadata") or {}).get("labels") or {})


def _newest_first(workflows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(workflows, key=lambda wf: (str(wf["metadata"].get("creationTimestamp") or ""),
                                             wf["metadata"]["name"]), reverse=True)


async def list_runs(client: Client, *, namespace: str | None = None, all_namespaces: bool = False) -> list[Run]:
    """The pipeline runs of a namespace (every namespace with ``all_namespaces``), newest first."""
    scope = None if all_namespaces else _default_namespace(client, namespace)
    listed = await client.list(*WORKFLOW, namespace=scope)
    return [Run(client, wf) for wf in _newest_first([wf for wf in listed["items"] if _is_run(wf)])]


async def get_run(client: Client, name: str, *, namespace: str | None = None) -> Run:
    """The run called ``name``: a Workflow name, else a run id, else a run name (the newest such run)."""
    ns = _default_namespace(client, namespace)
    try:
        return Run(client, await client.get(*WORKFLOW, name, namespace=ns))
    except NotFound as missing:
        listed = await client.list(*WORKFLOW, namespace=ns)
        matches = [wf for wf in listed["items"] if _is_run(wf) and name in (
            (wf["metadata"].get("labels") or {}).get(RUN_ID_LABEL),
            (wf["metadata"].get("annotations") or {}).get(RUN_NAME_ANNOTATION))]
        if not matches:
            raise NotFound(f'pipeline run "{name}" not found in namespace {ns}',
                           details=missing.details) from None
        return Run(client, _newest_first(matches)[0])


async def terminate(client: Client, name: str, *, namespace: str | None = None) -> RunStatus:
    """Stop the run called ``name`` (see :meth:`Run.terminate`)."""
    run = await get_run(client, name, namespace=namespace)
    return await run.terminate()
