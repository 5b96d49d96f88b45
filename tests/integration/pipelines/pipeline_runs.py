"""Running kfp-compiled pipelines on an in-process cluster, for the workflow integration tests."""

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler

from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.components.pipelines.workflow.build import workflow_for_run

FINAL = ("Succeeded", "Failed", "Error")


def compile_ir(pipeline: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        return yaml.safe_load(path.read_text())


async def run(cluster: InProcessCluster, pipeline: Any, *, arguments: dict[str, Any] | None = None,
              timeout: float = 60, **options: Any) -> dict[str, Any]:
    """Submit a run of ``pipeline`` and wait until it ends; the final Workflow."""
    spec = pipeline if isinstance(pipeline, dict) else compile_ir(pipeline)
    workflow = workflow_for_run(spec, run_id=str(uuid.uuid4()), parameters=arguments or {}, **options)
    created = await cluster.client.create(workflow, namespace="default")
    name = created["metadata"]["name"]
    try:
        return await cluster.client.wait_for(
            "argoproj.io/v1alpha1", "Workflow", name, namespace="default",
            predicate=lambda wf: (wf.get("status") or {}).get("phase") in FINAL, timeout=timeout)
    except TimeoutError:
        current = await cluster.client.get("argoproj.io/v1alpha1", "Workflow", name, namespace="default")
        pods = await cluster.client.list("v1", "Pod", namespace="default")
        raise AssertionError(f"run {name} did not end: {json.dumps(current.get('status'), indent=1)}\n"
                             f"pods: {[(p['metadata']['name'], p['status'].get('phase')) for p in pods['items']]}"
                             ) from None


def nodes_by_display(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["displayName"]: n for n in workflow["status"]["nodes"].values()}
