"""``sandbox.sdk.pipelines``: run Kubeflow pipelines on the sandbox from Python (blocking calls).

The Python twin of ``sandbox pipelines run|list|get|logs``::

    from sandbox.sdk import pipelines

    client = pipelines.connect()                          # the home's `sandbox up` daemon
    run = pipelines.submit(client, "train.py", arguments={"epochs": 3})
    status = run.wait(timeout=600)                        # RunStatus: phase, state, duration …
    for task in run.tasks().tasks():                      # TaskNode: label, phase, cached, outputs …
        print(task.label, task.phase, task.duration)
    print(run.logs("train(1)"))                           # the second loop iteration's log

Modules:

- :mod:`.loading` — ``load_pipeline(path, function=)``: a ``.py`` file
  written with ``sandbox.pipelines.dsl`` or the real ``kfp.dsl``, or
  compiled IR (``.yaml``/``.json``) → :class:`Pipeline` (its IR);
- :mod:`.arguments` — text arguments (``-p k=v``) read by declared type;
- :mod:`.tasks` — a Workflow snapshot → :class:`RunStatus` and the
  :class:`TaskNode` tree; task names (``train(1)``) and :func:`find_task`;
- :mod:`.aio` — the asynchronous API, the one implementation: ``submit``,
  ``get_run``, ``list_runs``, ``terminate``, :class:`aio.Run`;
- :mod:`.errors` — what can go wrong, Kubernetes-shaped.

This module is :mod:`.aio` made blocking: every function and :class:`Run`
method hands its asynchronous twin's coroutine to :func:`sandbox.sdk.portal.call`
and returns what it returns — no logic of its own. In ``async`` code use
:mod:`.aio` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.client.protocol import Client
from sandbox.sdk.pipelines import aio
from sandbox.sdk.pipelines.aio import PipelineSource, connect, pipeline_spec_of
from sandbox.sdk.pipelines.arguments import arguments_from_text, split_assignments
from sandbox.sdk.pipelines.errors import (
    AmbiguousTask,
    ArgumentsInvalid,
    NoTaskLog,
    PipelineLoadError,
    PipelineSpecInvalid,
    RunTimeout,
    TaskNotFound,
)
from sandbox.sdk.pipelines.loading import Pipeline, load_pipeline
from sandbox.sdk.pipelines.tasks import (
    RunStatus,
    TaskNode,
    TaskOutputs,
    find_task,
    run_status,
    task_tree,
)
from sandbox.sdk.portal import call

__all__ = [
    "AmbiguousTask",
    "ArgumentsInvalid",
    "NoTaskLog",
    "Pipeline",
    "PipelineLoadError",
    "PipelineSource",
    "PipelineSpecInvalid",
    "Run",
    "RunStatus",
    "RunTimeout",
    "TaskNode",
    "TaskNotFound",
    "TaskOutputs",
    "aio",
    "arguments_from_text",
    "connect",
    "find_task",
    "get_run",
    "list_runs",
    "load_pipeline",
    "pipeline_spec_of",
    "run_status",
    "split_assignments",
    "submit",
    "task_tree",
    "terminate",
]


class Run:
    """A pipeline run, with blocking methods (each one is :class:`aio.Run`'s, awaited for you)."""

    def __init__(self, inner: aio.Run) -> None:
        #: The asynchronous run this one drives.
        self.aio = inner

    def __repr__(self) -> str:
        return repr(self.aio)

    @property
    def name(self) -> str:
        return self.aio.name

    @property
    def namespace(self) -> str:
        return self.aio.namespace

    @property
    def run_id(self) -> str:
        return self.aio.run_id

    @property
    def run_name(self) -> str:
        return self.aio.run_name

    @property
    def phase(self) -> str:
        return self.aio.phase

    @property
    def workflow(self) -> dict[str, Any]:
        return self.aio.workflow

    def refresh(self) -> Run:
        call(self.aio.refresh())
        return self

    def status(self) -> RunStatus:
        return call(self.aio.status())

    def tasks(self) -> TaskNode:
        return call(self.aio.tasks())

    def wait(self, timeout: float | None = None, *,
             on_update: Callable[[dict[str, Any]], None] | None = None) -> RunStatus:
        return call(self.aio.wait(timeout, on_update=on_update))

    def logs(self, task: str, *, attempt: int | None = None, tail_lines: int | None = None) -> str:
        return call(self.aio.logs(task, attempt=attempt, tail_lines=tail_lines))

    def terminate(self) -> RunStatus:
        return call(self.aio.terminate())


for _method in ("status", "tasks", "wait", "logs", "terminate", "refresh"):
    getattr(Run, _method).__doc__ = getattr(aio.Run, _method).__doc__


def submit(client: Client, pipeline: PipelineSource, *, arguments: Mapping[str, Any] | None = None,
           run_name: str | None = None, namespace: str | None = None, enable_caching: bool = True,
           parallelism: int | None = None, pipeline_root: str | None = None,
           service_account: str | None = None) -> Run:
    return Run(call(aio.submit(client, pipeline, arguments=arguments, run_name=run_name, namespace=namespace,
                               enable_caching=enable_caching, parallelism=parallelism,
                               pipeline_root=pipeline_root, service_account=service_account)))


def list_runs(client: Client, *, namespace: str | None = None, all_namespaces: bool = False) -> list[Run]:
    return [Run(run) for run in call(aio.list_runs(client, namespace=namespace, all_namespaces=all_namespaces))]


def get_run(client: Client, name: str, *, namespace: str | None = None) -> Run:
    return Run(call(aio.get_run(client, name, namespace=namespace)))


def terminate(client: Client, name: str, *, namespace: str | None = None) -> RunStatus:
    return call(aio.terminate(client, name, namespace=namespace))


for _function in (submit, list_runs, get_run, terminate):
    _function.__doc__ = getattr(aio, _function.__name__).__doc__
del _method, _function
