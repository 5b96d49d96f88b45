"""A pipeline run as a ``Workflow`` object (argoproj.io/v1alpha1).

KFP's backend turns each run into an Argo Workflow; the sandbox does the
same, so ``kubectl get workflows`` shows every run and ``kubectl get wf X
-o yaml`` shows its DAG and per-node status. The Workflow carries:

- ``spec.templates``: Argo's view of the pipeline — a ``dag`` template per
  IR DAG (the root is ``entrypoint``; conditions, loops, exit handlers and
  nested pipelines are their ``comp-…`` components) listing tasks with
  ``dependencies``, ``when`` (a trigger condition, as KFP's text) and
  ``withParam`` (a loop's items), and a ``container`` template per executor;
- ``spec.arguments.parameters``: the pipeline's parameters (JSON text, as
  Argo passes values), plus ``pipeline-spec`` — the IR itself, which is what
  the workflow controller executes;
- ``spec.parallelism``: at most that many task pods at once (the run's
  setting; unlimited when absent);
- labels and annotations KFP puts on its workflows (``pipeline/runid``,
  ``pipelines.kubeflow.org/v2_pipeline``), and whether caching is on.

:func:`pipeline_spec` reads the IR back; :func:`run_parameters` the values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CACHING_ANNOTATION",
    "PIPELINE_ROOT_ANNOTATION",
    "PIPELINE_SPEC_PARAMETER",
    "RUN_ID_LABEL",
    "pipeline_spec",
    "pipeline_spec_text",
    "run_parameters",
    "workflow_for_run",
]

PIPELINE_SPEC_PARAMETER = "pipeline-spec"
RUN_ID_LABEL = "pipeline/runid"
CACHING_ANNOTATION = "pipelines.kubeflow.org/enable-caching"
PIPELINE_ROOT_ANNOTATION = "pipelines.kubeflow.org/pipeline-root"
RUN_NAME_ANNOTATION = "pipelines.kubeflow.org/run_name"
DEFAULT_PIPELINE_ROOT = "minio://mlpipeline/v2/artifacts"
_NOT_NAME = re.compile(r"[^a-z0-9-]+")


def _dag_template(name: str, dag: Mapping[str, Any]) -> dict[str, Any]:
    tasks = []
    for task_name, task in (dag.get("tasks") or {}).items():
        entry: dict[str, Any] = {"name": task_name,
                                 "template": (task.get("componentRef") or {}).get("name", "")}
        if task.get("dependentTasks"):
            entry["dependencies"] = list(task["dependentTasks"])
        condition = (task.get("triggerPolicy") or {}).get("condition")
        if condition:
            entry["when"] = condition
        iterator = task.get("parameterIterator") or task.get("artifactIterator")
        if iterator:
            items = iterator.get("items") or {}
            entry["withParam"] = items.get("raw") or f"{{{{inputs.parameters.{items.get('inputParameter')}}}}}"
        tasks.append(entry)
    return {"name": name, "dag": {"tasks": tasks}}


def _templates(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    templates = [_dag_template("entrypoint", (spec.get("root") or {}).get("dag") or {})]
    executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
    for name, component in (spec.get("components") or {}).items():
        if "dag" in component:
            templates.append(_dag_template(name, component["dag"]))
        elif component.get("executorLabel") in executors:
            executor = executors[component["executorLabel"]]
            if "container" in executor:
                container = executor["container"]
                templates.append({"name": name, "container": {
                    k: container[k] for k in ("image", "command", "args") if k in container}})
            else:
                templates.append({"name": name, "importer": dict(executor.get("importer") or {})})
    return templates


def workflow_for_run(spec: Mapping[str, Any], *, run_id: str, parameters: Mapping[str, Any] | None = None,
                     run_name: str | None = None, pipeline_root: str | None = None,
                     enable_caching: bool = True, parallelism: int | None = None,
                     service_account: str | None = None) -> dict[str, Any]:
    """The Workflow for one run of the pipeline ``spec`` (KFP IR as a dict)."""
    pipeline = str((spec.get("pipelineInfo") or {}).get("name") or "pipeline")
    prefix = _NOT_NAME.sub("-", pipeline.lower()).strip("-")[:50] or "pipeline"
    arguments = [{"name": name, "value": json.dumps(value)} for name, value in (parameters or {}).items()]
    arguments.append({"name": PIPELINE_SPEC_PARAMETER, "value": json.dumps(spec, sort_keys=True)})
    root = pipeline_root or spec.get("defaultPipelineRoot") or DEFAULT_PIPELINE_ROOT
    workflow: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{prefix}-",
            "labels": {RUN_ID_LABEL: run_id, "pipelines.kubeflow.org/v2_component": "true",
                       "workflows.argoproj.io/completed": "false"},
            "annotations": {"pipelines.kubeflow.org/v2_pipeline": "true",
                            RUN_NAME_ANNOTATION: run_name or pipeline,
                            PIPELINE_ROOT_ANNOTATION: str(root),
                            CACHING_ANNOTATION: "true" if enable_caching else "false"},
        },
        "spec": {"entrypoint": "entrypoint", "arguments": {"parameters": arguments},
                 "templates": _templates(spec)},
    }
    if parallelism:
        workflow["spec"]["parallelism"] = int(parallelism)
    if service_account:
        workflow["spec"]["serviceAccountName"] = service_account
    return workflow


def pipeline_spec_text(workflow: Mapping[str, Any]) -> str:
    """The IR a Workflow runs, as the JSON text it carries; ``ValueError`` when it carries none."""
    for parameter in ((workflow.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
        if parameter.get("name") == PIPELINE_SPEC_PARAMETER:
            return str(parameter["value"])
    raise ValueError(f"the workflow has no {PIPELINE_SPEC_PARAMETER!r} argument: not a pipeline run")


def pipeline_spec(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """The IR a Workflow runs; ``ValueError`` when it carries none."""
    spec: dict[str, Any] = json.loads(pipeline_spec_text(workflow))
    return spec


def run_parameters(workflow: Mapping[str, Any]) -> dict[str, Any]:
    """The run's parameter values (decoded from the Workflow's arguments)."""
    values: dict[str, Any] = {}
    for parameter in ((workflow.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
        name = parameter.get("name")
        if name == PIPELINE_SPEC_PARAMETER or name is None:
            continue
        text = parameter.get("value", "")
        try:
            values[name] = json.loads(text)
        except (TypeError, ValueError):
            values[name] = text  # a plain string, as a user writing the Workflow by hand would
    return values
