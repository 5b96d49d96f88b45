"""Running a scenario: its steps in order, against a target, told to reporters.

Data flow::

    Scenario + Target ─▶ prepare: namespace created afresh, a run kubeconfig whose
                         context namespace is the scenario's (kubectl steps need no -n)
      for each step:
        spec ─render {{ variables }}─▶ validated again ─▶ EXECUTORS[type](spec, ctx)
          passed │ StepFailed/ApiError → failed │ other exception → error
        after the first failure or error, the remaining steps are skipped
      ─▶ ScenarioResult (the reporters saw every step as it ran)

The namespace is the scenario's ``namespace`` (default: its name). A
previous run's namespace is deleted first, so every run starts from the
same state; the namespace is left in place afterwards, so on the daemon a
learner can look at what the scenario built (an ephemeral cluster goes
away with everything in it).

Variables: ``namespace``, ``scenario_dir``, then the scenario's own
``variables``, then the caller's overrides (``--set name=value``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox.api.errors import AlreadyExists, ApiError, NotFound
from sandbox.client.kinds import Kinds
from sandbox.client.waiting import WaitTimeout
from sandbox.clock import Clock, SystemClock
from sandbox.scenario.context import Reporter, StepContext
from sandbox.scenario.executors import EXECUTORS, Executor
from sandbox.scenario.format import Scenario, Step
from sandbox.scenario.results import ScenarioResult, StepError, StepFailed, StepResult
from sandbox.scenario.target import Target
from sandbox.scenario.templating import UnknownVariable, render

__all__ = ["NAMESPACE_TIMEOUT", "run_scenario", "step_title"]

#: Seconds the previous run's namespace may take to go away.
NAMESPACE_TIMEOUT = 90.0
SCENARIO_LABEL = "sandbox.kubeflow.org/scenario"
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

Pause = Callable[[StepResult], Awaitable[None]]


async def run_scenario(
    scenario: Scenario,
    *,
    path: Path,
    target: Target,
    reporter: Reporter,
    variables: Mapping[str, str] | None = None,
    pause: Pause | None = None,
    executors: Mapping[str, Executor] | None = None,
    clock: Clock | None = None,
) -> ScenarioResult:
    """Run every step of ``scenario`` (read from ``path``) on ``target``; never raises for a failed step."""
    clock = clock or SystemClock()
    registry = EXECUTORS if executors is None else executors
    namespace = scenario.namespace or scenario.name
    result = ScenarioResult(name=scenario.name, title=scenario.title, path=path,
                            cluster=target.cluster or scenario.cluster, namespace=namespace,
                            started=datetime.now(UTC))
    result.steps = [StepResult(index=i, type=step.type, title=step_title(step),
                               name=step.name or f"{i + 1:02d}-{step.type}")
                    for i, step in enumerate(scenario.steps)]
    reporter.scenario_started(result, description=scenario.description, target=target.description)
    began = time.monotonic()
    scenario_dir = path.parent.resolve()
    values: dict[str, str] = {"namespace": namespace, "scenario_dir": str(scenario_dir),
                              **scenario.variables, **(variables or {})}
    with tempfile.TemporaryDirectory(prefix="sandbox-run-") as scratch:
        kubeconfig = Path(scratch) / "kubeconfig"
        try:
            write_run_kubeconfig(target.kubeconfig, kubeconfig, namespace=namespace)
            await prepare_namespace(target, namespace, scenario.name)
        except (ApiError, WaitTimeout, OSError, ValueError) as err:
            result.setup_error = f"could not prepare namespace {namespace}: {err}"
        kinds = Kinds(target.client)
        failed = bool(result.setup_error)
        for step, record in zip(scenario.steps, result.steps, strict=True):
            if failed:
                record.outcome = "skipped"
                record.message = "an earlier step failed" if not result.setup_error else result.setup_error
                reporter.step_finished(record)
                continue
            reporter.step_started(record)
            ctx = StepContext(target=target, kinds=kinds, namespace=namespace, scenario_dir=scenario_dir,
                              kubeconfig=kubeconfig, variables=values, step=record, reporter=reporter,
                              clock=clock)
            await _run_step(step, record, ctx, registry)
            reporter.step_finished(record)
            failed = not record.ok
            if pause is not None and not failed and record.index + 1 < len(result.steps):
                await pause(record)
    result.seconds = time.monotonic() - began
    reporter.scenario_finished(result)
    return result


async def _run_step(step: Step, record: StepResult, ctx: StepContext,
                    registry: Mapping[str, Executor]) -> None:
    started = time.monotonic()
    try:
        executor = registry.get(step.type)
        if executor is None:
            raise StepError(f"no executor is registered for step type {step.type!r}")
        try:
            spec = _rendered(step, ctx.variables)
        except UnknownVariable as err:
            raise StepFailed(str(err)) from None
        await executor(spec, ctx)
    except StepError as err:
        record.outcome, record.message, record.details = "error", err.message, err.details
    except StepFailed as err:
        record.outcome, record.message, record.details = "failed", err.message, err.details
    except ApiError as err:
        record.outcome, record.message = "failed", f"the API server answered: {err}"
    except asyncio.CancelledError:
        record.outcome, record.message = "error", "interrupted"
        raise
    except Exception as err:
        record.outcome, record.message = "error", f"{type(err).__name__}: {err}"
        record.details = traceback.format_exc()
    finally:
        record.seconds = time.monotonic() - started


def _rendered(step: Step, variables: Mapping[str, str]) -> Any:
    """The step's spec with ``{{ variables }}`` substituted, validated again by its model."""
    spec = step.spec
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    return type(spec).model_validate(render(data, variables))


def step_title(step: Step) -> str:
    """The step's title, else one made from what it does."""
    if step.title:
        return step.title
    spec: Any = step.spec
    match step.type:
        case "explain":
            first = next((line.strip() for line in spec.root.splitlines() if line.strip()), "")
            return first.lstrip("#").strip()[:80] or "Explain"
        case "apply" | "delete":
            what = ", ".join(spec.files) if spec.files else "inline manifest"
            return f"{step.type.capitalize()} {what}"
        case "wait":
            who = spec.name or (f"-l {spec.selector}" if spec.selector else "all")
            return f"Wait for {spec.kind} {who}"
        case "expect":
            parts = [k for k in ("object", "count", "events", "logs") if getattr(spec, k) is not None]
            return f"Expect {', '.join(parts)}"
        case "run":
            return f"Run {spec.script or '-m ' + str(spec.module)}"
        case "kubectl":
            return "kubectl " + " ".join(spec.args)
        case "http":
            return f"{spec.method} {spec.url or f'{spec.service}:{spec.port}{spec.path}'}"
        case "fault":
            return f"Fault: {spec.action} {spec.pod or spec.selector or spec.node or spec.controller or ''}".strip()
    return step.type


def write_run_kubeconfig(source: Path, target: Path, *, namespace: str) -> None:
    """A copy of ``source`` whose current context works in ``namespace`` (mode 0600)."""
    config = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    current = config.get("current-context")
    for entry in config.get("contexts") or []:
        if entry.get("name") == current:
            entry.setdefault("context", {})["namespace"] = namespace
    target.touch(mode=0o600)
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


async def prepare_namespace(target: Target, namespace: str, scenario: str) -> None:
    """The scenario's namespace, new: a previous run's is deleted (and awaited) first.

    Only a namespace this scenario made (it carries :data:`SCENARIO_LABEL`)
    is deleted; the system namespaces and anyone else's are refused, so a
    scenario never destroys what it did not create.
    """
    client = target.client
    if namespace in SYSTEM_NAMESPACES:
        raise ValueError(f"a scenario cannot run in the system namespace {namespace!r}")
    try:
        existing = await client.get("v1", "Namespace", namespace)
    except NotFound:
        existing = None
    if existing is not None:
        made_by = (existing["metadata"].get("labels") or {}).get(SCENARIO_LABEL)
        if made_by != scenario:
            raise ValueError(f"namespace {namespace!r} exists and was not created by scenario "
                             f"{scenario!r}; delete it or give the scenario another namespace")
        try:
            await client.delete("v1", "Namespace", namespace)
        except NotFound:
            pass
        await client.wait_for("v1", "Namespace", namespace, deleted=True, timeout=NAMESPACE_TIMEOUT)
    try:
        await client.create({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": namespace, "labels": {SCENARIO_LABEL: scenario}}})
    except AlreadyExists:
        pass
