"""``pipeline``: run a Kubeflow pipeline, wait for it, check how it ended, show its task tree.

Data flow::

    file (.py with @dsl.pipeline, or compiled IR) ─load_pipeline─► IR
      ─aio.submit (validated, arguments bound)─► Workflow ─wait (progress on the spinner)─► final state
      ─► "sandbox pipelines get <run>"-style task tree shown to the learner
      ─► checks: the run's phase, each named task's phase, how many tasks came from the cache
      ─► saveAs: the Workflow's name into a scenario variable

The run goes to the scenario's namespace. A failed check fails the step with
the task tree and every failed task's message (which carries the error from
its log) as diagnostics.
"""

from __future__ import annotations

from sandbox.api.errors import ApiError
from sandbox.scenario.context import StepContext
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Pipeline
from sandbox.sdk.pipelines import aio
from sandbox.sdk.pipelines.errors import PipelineLoadError, RunTimeout
from sandbox.sdk.pipelines.loading import load_pipeline
from sandbox.sdk.pipelines.tasks import duration_text, run_status, tree_lines

__all__ = ["execute"]


async def execute(spec: Pipeline, ctx: StepContext) -> None:
    try:
        pipeline = load_pipeline(ctx.path(spec.file), function=spec.function)
    except PipelineLoadError as err:
        raise StepFailed(str(err)) from None
    try:
        run = await aio.submit(ctx.client, pipeline, arguments=spec.arguments, run_name=spec.run_name,
                               namespace=spec.namespace or ctx.namespace, enable_caching=spec.caching,
                               parallelism=spec.parallelism)
    except ApiError as err:
        raise StepFailed(f"the run was not started: {err}",
                         details="\n".join(f"  {c.get('message', '')}" for c in
                                           (err.status.get("details") or {}).get("causes") or [])) from None
    arguments = " ".join(f"-p {k}={v}" for k, v in spec.arguments.items())
    ctx.note(f"started run {run.name} of pipeline {pipeline.name} "
             f"(like: sandbox pipelines run {spec.file} {arguments})".replace("  ", " "))
    if spec.save_as:
        ctx.variables[spec.save_as] = run.name

    def progress(workflow: dict) -> None:
        status = run_status(workflow)
        ctx.progress(f"run {run.name}: {status.phase}, {status.progress} task pods done")

    try:
        status = await run.wait(timeout=spec.timeout, on_update=progress)
    except RunTimeout as err:
        tree = "\n".join(tree_lines(run.snapshot_tasks()))
        raise StepFailed(f"run {run.name} did not end within {spec.timeout:g}s", details=f"{err}\n{tree}") from None
    root = run.snapshot_tasks()
    tree = "\n".join(tree_lines(root))
    ctx.command(f"sandbox pipelines get {run.name}", f"{status.phase}  {status.message}".rstrip() + "\n" + tree)
    problems: list[str] = []
    if status.phase != spec.expect_state:
        problems.append(f"run {run.name} ended {status.phase}, expected {spec.expect_state}"
                        + (f" ({status.message})" if status.message else ""))
    tasks = [n for n in root.walk() if n.is_task]
    for name, wanted in (spec.expect_tasks or {}).items():
        found = [n for n in tasks if n.display_name == name or n.label == name]
        if not found:
            problems.append(f"no task {name!r} in run {run.name}")
        elif found[-1].phase != wanted:
            problems.append(f"task {name!r} ended {found[-1].phase}, expected {wanted}")
    cached = sum(1 for n in tasks if n.cached)
    if spec.expect_cached is not None and cached != spec.expect_cached:
        problems.append(f"{cached} tasks came from the cache, expected {spec.expect_cached}")
    if problems:
        failed = [f"  {n.label}: {n.message}" for n in root.walk() if n.phase in ("Failed", "Error") and n.message]
        raise StepFailed("; ".join(problems), details="\n".join([tree, *failed]))
    ctx.note(f"run {run.name} {status.phase} in {duration_text(status.duration)}; "
             f"{cached} of {len(tasks)} tasks from the cache")
