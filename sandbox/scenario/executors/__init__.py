"""Step executors: what each step type *does*, one module per type, in one registry.

:data:`~sandbox.scenario.steps.STEP_TYPES` says what a step may look like;
:data:`EXECUTORS` says how it runs. Both are keyed by the same step-type
name, and a component adds a step type by registering both
(``register_step`` and :func:`register_executor`).

An executor is ``async def execute(spec, ctx) -> None``: ``spec`` is the
step's validated model with ``{{ variables }}`` already substituted, ``ctx``
a :class:`~sandbox.scenario.context.StepContext`. It returns when the step
passed and raises :class:`~sandbox.scenario.results.StepFailed` (with
diagnostics in ``details``) when it did not; an
:class:`~sandbox.api.errors.ApiError` is a failure too (the API refused
something), any other exception an error in the run itself.

==========  ===============================================================
explain     narration (:mod:`.explain`)
apply       server-side apply of manifests, CRDs first (:mod:`.manifests`)
delete      delete and wait until gone (:mod:`.manifests`)
wait        condition / phase / JSONPath / count, with diagnostics (:mod:`.wait`)
expect      assertions on objects, counts, events, logs (:mod:`.expect`)
run         a Python script or module with KUBECONFIG (:mod:`.processes`)
kubectl     real kubectl (:mod:`.processes`)
http        a request to a Service (API server proxy) or URL (:mod:`.http`)
fault       kill a process, delete a pod, cordon/drain, pause a controller (:mod:`.fault`)
pipeline    run a Kubeflow pipeline and check how its tasks ended (:mod:`.pipeline`)
==========  ===============================================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.scenario.context import StepContext
from sandbox.scenario.executors import (
    expect,
    explain,
    fault,
    http,
    manifests,
    pipeline,
    processes,
    wait,
)

__all__ = ["EXECUTORS", "Executor", "register_executor"]

Executor = Callable[[Any, StepContext], Awaitable[None]]

#: Step-type name → executor. See :func:`register_executor`.
EXECUTORS: dict[str, Executor] = {
    "explain": explain.execute,
    "apply": manifests.apply,
    "delete": manifests.delete,
    "wait": wait.execute,
    "expect": expect.execute,
    "run": processes.run,
    "kubectl": processes.kubectl,
    "http": http.execute,
    "fault": fault.execute,
    "pipeline": pipeline.execute,
}


def register_executor(name: str, executor: Executor, *,
                      registry: dict[str, Executor] | None = None) -> None:
    """Say how step type ``name`` runs; a name already taken is an error."""
    target = EXECUTORS if registry is None else registry
    if name in target:
        raise ValueError(f"step type {name!r} already has an executor")
    target[name] = executor
