"""Pipeline runs as the workflow controller records them, built by hand for the SDK's unit tests.

:class:`RunBuilder` writes ``status.nodes`` with the controller's own node
names, ids and types (:mod:`sandbox.components.pipelines.workflow.nodes`),
so the SDK reads exactly what it reads from a real run. :func:`demo_run`
is one run with every kind of node: a plain task, a loop with two
iterations, a retried task (a failed then a successful attempt), a cache
hit, an importer and a skipped condition. :class:`Logs` is a LogSource
with fixed text per pod.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sandbox.components.pipelines.workflow.nodes import new_node, node_id


class RunBuilder:
    """``status.nodes`` of one Workflow, node by node."""

    def __init__(self, name: str, *, start: str = "2026-01-01T00:00:00Z") -> None:
        self.name = name
        self.nodes: dict[str, dict[str, Any]] = {}
        self.templates: list[dict[str, Any]] = [{"name": "entrypoint", "dag": {"tasks": []}}]
        root = new_node(name, name, display_name=name, node_type="DAG", template="entrypoint",
                        boundary=None, now=start, phase="Running")
        self.nodes[root["id"]] = root

    def add(self, parent: str, segment: str, *, display: str | None = None, node_type: str = "Pod",
            template: str | None = None, phase: str = "Succeeded", started: str = "2026-01-01T00:00:00Z",
            finished: str | None = "2026-01-01T00:00:03Z", message: str = "", cached: bool = False,
            outputs: dict[str, Any] | None = None, iteration: int | None = None) -> str:
        """Add a node below ``parent`` (a node name); returns the new node's name."""
        name = f"{parent}.{segment}" if not segment.startswith("(") else f"{parent}{segment}"
        node = new_node(self.name, name, display_name=display or segment, node_type=node_type,
                        template=template or f"comp-{segment}", boundary=node_id(self.name, parent),
                        now=started, phase=phase)  # type: ignore[arg-type]
        if finished is not None:
            node["finishedAt"] = finished
        if message:
            node["message"] = message
        if cached:
            node["cached"] = True
        if outputs:
            node["outputs"] = {"parameters": [{"name": k, "value": json.dumps(v)} for k, v in outputs.items()]}
        if iteration is not None:
            node["iterationIndex"] = iteration
        self.nodes[node["id"]] = node
        self.nodes[node_id(self.name, parent)].setdefault("children", []).append(node["id"])
        return name

    def workflow(self, *, phase: str = "Running", message: str = "", finished: str | None = None,
                 progress: str = "0/0", namespace: str = "default") -> dict[str, Any]:
        status: dict[str, Any] = {"phase": phase, "startedAt": "2026-01-01T00:00:00Z", "nodes": self.nodes,
                                  "progress": progress}
        if message:
            status["message"] = message
        if finished:
            status["finishedAt"] = finished
            self.nodes[self.name].update(phase=phase, finishedAt=finished)
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "metadata": {"name": self.name, "namespace": namespace,
                             "labels": {"pipeline/runid": "run-1"},
                             "annotations": {"pipelines.kubeflow.org/run_name": "demo"}},
                "spec": {"templates": self.templates, "arguments": {"parameters": [
                    {"name": "rows", "value": "5"},
                    {"name": "pipeline-spec", "value": json.dumps({"pipelineInfo": {"name": "demo"}})}]}},
                "status": status}


def demo_run(name: str = "demo-x7k2p") -> RunBuilder:
    """A run with every kind of node (see the module docstring)."""
    run = RunBuilder(name)
    run.add(name, "make-data", outputs={"Output": 5}, finished="2026-01-01T00:00:02Z")
    loop = run.add(name, "for-loop-2", node_type="TaskGroup", template="comp-for-loop-2")
    for index in (0, 1):
        iteration = run.add(loop, f"({index})", display=f"for-loop-2({index})", node_type="DAG",
                            template="comp-for-loop-2", iteration=index)
        run.add(iteration, "train", template="comp-train", outputs={"Output": 0.9 - index / 10})
    retry = run.add(name, "flaky", node_type="Retry", template="comp-flaky")
    run.add(retry, "(0)", display="flaky", template="comp-flaky", phase="Failed",
            message="Error (exit code 1): first attempt fails on purpose")
    run.add(retry, "(1)", display="flaky", template="comp-flaky", outputs={"Output": "ok"})
    run.add(name, "add", cached=True, finished="2026-01-01T00:00:00Z",
            message="Cached: reused the outputs of execution 3 (run run-0)", outputs={"Output": 2})
    run.add(name, "importer", template="comp-importer", message="imported minio://mlpipeline/data.csv")
    run.templates.append({"name": "comp-importer", "importer": {"artifactUri": {"constant": "x"}}})
    run.add(name, "condition-3", node_type="Skipped", phase="Skipped", template="comp-condition-3",
            message="when 'x > 3' evaluated false")
    return run


class Logs:
    """A LogSource with fixed text per pod name."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self.texts = dict(texts or {})

    async def read(self, namespace: str, pod: dict[str, Any], *, container: str | None,
                   previous: bool, tail_lines: int | None, since_seconds: int | None,
                   timestamps: bool) -> str:
        lines = self.texts.get(pod["metadata"]["name"], "").splitlines(keepends=True)
        return "".join(lines[-tail_lines:] if tail_lines is not None else lines)

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def follow(self, namespace: str, pod: dict[str, Any], *, container: str | None,
                     tail_lines: int | None, since_seconds: int | None,
                     timestamps: bool) -> AsyncIterator[str]:
        for line in self.texts.get(pod["metadata"]["name"], "").splitlines():
            yield line + "\n"
