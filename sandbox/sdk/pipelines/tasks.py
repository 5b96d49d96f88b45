"""A run's state read from its Workflow: the :class:`RunStatus` and the tree of :class:`TaskNode`.

The workflow controller records everything in the Workflow, as Argo does:
``status.phase``/``message``/``progress`` for the run, and ``status.nodes``,
a map from node id to node (name, displayName, type, phase, times, message,
children, outputs, ``cached``). This module turns one such snapshot into
Python values — pure functions, no cluster — so the SDK, the CLI's tree and
its live progress all read a run the same way::

    Workflow ──► run_status(wf, now)  ──► RunStatus (phase, KFP state, progress, times)
             └─► task_tree(wf, now)   ──► TaskNode (root DAG) ─► children … ─► Pod/Retry/Skipped

Node types are Argo's: ``DAG`` (the run, a condition, an exit handler, a loop
iteration, a nested pipeline), ``TaskGroup`` (a ``ParallelFor``), ``Retry``
(a task with a retry policy; its attempts are ``Pod`` children), ``Pod``
(a container task, an importer, or a cache hit — which ran no pod) and
``Skipped`` (a condition that was false, or ``Omitted`` after an upstream
failure).

**Task names.** Each task (an executor node, its ``Retry`` node, or a
skipped one) gets a :attr:`TaskNode.label` that is unique in the run and is
what :func:`find_task` — and so ``logs`` — accepts: its display name, with
the loop iteration it ran in when it ran in a loop (``train`` outside loops;
``train(1)`` for the second iteration, ``train(1,0)`` in nested loops — the
same names however many items a loop had); when that is not unique (two
tasks given one display name), the IR task name (``add-2``) in its place,
or, last, the node's path. :func:`find_task` also takes a display name or
IR task name that names one task only (``train`` for a one-item loop), and
says which labels to choose from when it names several or none.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.api.printers.ages import human_duration, parse_timestamp
from sandbox.api.printers.text import columns
from sandbox.components.pipelines.workflow.build import (
    RUN_ID_LABEL,
    RUN_NAME_ANNOTATION,
    pipeline_spec,
    run_parameters,
)
from sandbox.components.pipelines.workflow.nodes import pod_name
from sandbox.sdk.pipelines.errors import AmbiguousTask, TaskNotFound

__all__ = [
    "FINAL_PHASES",
    "RunStatus",
    "TaskNode",
    "TaskOutputs",
    "duration_text",
    "find_task",
    "kfp_state",
    "node_phase",
    "run_status",
    "status_word",
    "task_tree",
    "tree_lines",
]

#: Workflow phases a run does not leave.
FINAL_PHASES = frozenset({"Succeeded", "Failed", "Error"})
#: The message the controller gives a terminated run (and its unfinished nodes).
TERMINATED = "Stopped with strategy 'Terminate'"
#: Node types that are tasks (as opposed to groups: DAG, TaskGroup).
TASK_TYPES = frozenset({"Pod", "Retry", "Skipped"})
_KFP_STATES = {"Pending": "PENDING", "Running": "RUNNING", "Succeeded": "SUCCEEDED", "Failed": "FAILED",
               "Error": "FAILED", "Skipped": "SKIPPED", "Omitted": "SKIPPED"}


def kfp_state(phase: str, message: str = "") -> str:
    """The KFP ``RuntimeState`` of an Argo phase (``CANCELED`` for a terminated run or task)."""
    if phase in ("Failed", "Error") and message.startswith(TERMINATED):
        return "CANCELED"
    return _KFP_STATES.get(phase, "PENDING")


def _time(value: Any) -> datetime | None:
    return parse_timestamp(value) if value else None


def _duration(started: datetime | None, finished: datetime | None, now: datetime | None) -> timedelta | None:
    end = finished or now
    if started is None or end is None:
        return None
    return max(end - started, timedelta(0))


@dataclass(frozen=True)
class RunStatus:
    """One pipeline run's state (a snapshot of its Workflow)."""

    #: The Workflow's name: what ``get``, ``logs`` and ``terminate`` take.
    name: str
    namespace: str
    #: The run's display name (``--name``; the pipeline's name by default).
    run_name: str
    run_id: str
    pipeline: str
    #: Argo's phase: Pending, Running, Succeeded, Failed or Error.
    phase: str
    #: KFP's RuntimeState: PENDING, RUNNING, SUCCEEDED, FAILED or CANCELED.
    state: str
    message: str
    created: datetime | None
    started: datetime | None
    finished: datetime | None
    duration: timedelta | None
    #: Task pods ended / task pods started (Argo's ``status.progress``).
    tasks_done: int
    tasks_total: int
    #: The run's arguments, as given (defaults not repeated).
    arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.phase in FINAL_PHASES

    @property
    def succeeded(self) -> bool:
        return self.phase == "Succeeded"

    @property
    def progress(self) -> str:
        return f"{self.tasks_done}/{self.tasks_total}"


def run_status(workflow: Mapping[str, Any], *, now: datetime | None = None) -> RunStatus:
    """The :class:`RunStatus` of a Workflow snapshot (``now`` times a run still going)."""
    meta = workflow.get("metadata") or {}
    status = workflow.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    message = str(status.get("message") or "")
    started, finished = _time(status.get("startedAt")), _time(status.get("finishedAt"))
    done, _, total = str(status.get("progress") or "0/0").partition("/")
    try:
        pipeline = str((pipeline_spec(workflow).get("pipelineInfo") or {}).get("name", ""))
    except ValueError:
        pipeline = ""
    return RunStatus(
        name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "")),
        run_name=str((meta.get("annotations") or {}).get(RUN_NAME_ANNOTATION) or pipeline),
        run_id=str((meta.get("labels") or {}).get(RUN_ID_LABEL) or meta.get("uid") or ""),
        pipeline=pipeline, phase=phase, state=kfp_state(phase, message), message=message,
        created=_time(meta.get("creationTimestamp")), started=started, finished=finished,
        duration=_duration(started, finished, None if phase in FINAL_PHASES else now),
        tasks_done=int(done) if done.isdigit() else 0, tasks_total=int(total) if total.isdigit() else 0,
        arguments=run_parameters(workflow))


@dataclass(frozen=True)
class TaskOutputs:
    """A node's outputs: parameter values (decoded) and artifacts (KFP artifact dicts with ``uri``)."""

    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _outputs(section: Mapping[str, Any] | None) -> TaskOutputs:
    parameters: dict[str, Any] = {}
    for entry in (section or {}).get("parameters") or []:
        text = entry.get("value")
        try:
            parameters[str(entry.get("name"))] = json.loads(text)
        except (TypeError, ValueError):
            parameters[str(entry.get("name"))] = text
    artifacts = {str(e.get("name")): list(e.get("artifacts") or [])
                 for e in (section or {}).get("artifacts") or []}
    return TaskOutputs(parameters=parameters, artifacts=artifacts)


@dataclass(frozen=True)
class TaskNode:
    """One node of a run: a task, a task's attempt, or a group of tasks."""

    id: str
    #: The node's own name: its last path segment (``train``, ``for-loop-2(0)``, an attempt's ``train(1)``).
    name: str
    display_name: str
    #: What :func:`find_task` and ``logs`` accept (unique in the run; see the module docstring).
    label: str
    #: Argo's node type: DAG, TaskGroup, Retry, Pod or Skipped.
    type: str
    #: Argo's node phase: Pending, Running, Succeeded, Skipped, Failed, Error or Omitted.
    phase: str
    started: datetime | None
    finished: datetime | None
    duration: timedelta | None
    message: str
    #: A cache hit: the task reused an earlier execution's outputs and ran no pod.
    cached: bool
    #: The pod the node ran in (``Pod`` nodes only; None when it ran none: cached, importer).
    pod_name: str | None
    outputs: TaskOutputs
    children: tuple[TaskNode, ...] = ()
    #: The loop iterations the node is inside, outermost first.
    iteration: tuple[int, ...] = ()
    #: For an attempt of a ``Retry`` node: its index (0 is the first try).
    attempt: int | None = None

    @property
    def state(self) -> str:
        """KFP's RuntimeState of the node."""
        return kfp_state(self.phase, self.message)

    @property
    def is_task(self) -> bool:
        """A task (something ``logs`` may name), not a group and not an attempt."""
        return self.type in TASK_TYPES and self.attempt is None

    @property
    def attempts(self) -> tuple[TaskNode, ...]:
        """A ``Retry`` node's attempts (oldest first); a pod task is its own single attempt."""
        if self.type == "Retry":
            return tuple(c for c in self.children if c.type == "Pod")
        return (self,) if self.type == "Pod" else ()

    def walk(self) -> Iterator[TaskNode]:
        """This node, then every node below it, depth first in creation order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def tasks(self) -> list[TaskNode]:
        """Every task under (and including) this node."""
        return [node for node in self.walk() if node.is_task]


_INDEX = re.compile(r"\((\d+)\)$")


def _segments(name: str, workflow: str) -> list[str]:
    """A node name's path below the run: ``wf.for-loop-2(0).train`` → ``["for-loop-2(0)", "train"]``."""
    if name == workflow:
        return []
    rest = name[len(workflow) + 1:] if name.startswith(workflow + ".") else name
    parts: list[str] = []
    depth, current = 0, ""
    for char in rest:  # split on dots outside parentheses (none appear inside, but be safe)
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    parts.append(current)
    return parts


def _importers(workflow: Mapping[str, Any]) -> set[str]:
    templates = (workflow.get("spec") or {}).get("templates") or []
    return {str(t.get("name")) for t in templates if isinstance(t, Mapping) and "importer" in t}


def task_tree(workflow: Mapping[str, Any], *, now: datetime | None = None) -> TaskNode:
    """The run's nodes as a tree rooted at the run's DAG node (see the module docstring)."""
    meta = workflow.get("metadata") or {}
    wf_name = str(meta.get("name", ""))
    status = workflow.get("status") or {}
    nodes: Mapping[str, Mapping[str, Any]] = status.get("nodes") or {}
    importers = _importers(workflow)
    parent_of: dict[str, str] = {}
    for node_id, node in nodes.items():
        for child in node.get("children") or []:
            parent_of.setdefault(str(child), str(node_id))

    labels = _labels(wf_name, nodes, parent_of)

    def build(node_id: str, iteration: tuple[int, ...], attempt: int | None, seen: frozenset[str]) -> TaskNode:
        node = nodes[node_id]
        name = str(node.get("name", node_id))
        own = _segments(name, wf_name)
        kind = str(node.get("type", ""))
        phase = str(node.get("phase") or "Pending")
        started, finished = _time(node.get("startedAt")), _time(node.get("finishedAt"))
        if "iterationIndex" in node:
            iteration = (*iteration, int(node["iterationIndex"]))
        cached = bool(node.get("cached"))
        template = str(node.get("templateName", ""))
        pod = (pod_name(wf_name, template or "task", name)
               if kind == "Pod" and not cached and template not in importers else None)
        children: list[TaskNode] = []
        retry = kind == "Retry"
        for index, child in enumerate(node.get("children") or []):
            child = str(child)
            if child in nodes and child not in seen:
                children.append(build(child, iteration, index if retry else None, seen | {child}))
        return TaskNode(
            id=str(node.get("id", node_id)), name=own[-1] if own else name,
            display_name=str(node.get("displayName") or (own[-1] if own else name)),
            label=labels.get(node_id, str(node.get("displayName") or name)), type=kind, phase=phase,
            started=started, finished=finished,
            duration=_duration(started, finished, None if phase in _DONE else now),
            message=str(node.get("message") or ""), cached=cached, pod_name=pod,
            outputs=_outputs(node.get("outputs")), children=tuple(children), iteration=iteration,
            attempt=attempt)

    if wf_name in nodes:
        return build(wf_name, (), None, frozenset({wf_name}))
    phase = str(status.get("phase") or "Pending")
    started, finished = _time(status.get("startedAt")), _time(status.get("finishedAt"))
    return TaskNode(id=wf_name, name=wf_name, display_name=wf_name, label=wf_name, type="DAG", phase=phase,
                    started=started, finished=finished,
                    duration=_duration(started, finished, None if phase in FINAL_PHASES else now),
                    message=str(status.get("message") or ""), cached=False, pod_name=None,
                    outputs=TaskOutputs())


_DONE = frozenset({"Succeeded", "Skipped", "Failed", "Error", "Omitted"})


def _labels(wf_name: str, nodes: Mapping[str, Mapping[str, Any]], parent_of: Mapping[str, str]) -> dict[str, str]:
    """Unique names for the run's tasks (see the module docstring)."""
    tasks = [node_id for node_id, node in nodes.items()
             if node.get("type") in TASK_TYPES
             and (nodes.get(parent_of.get(node_id, "")) or {}).get("type") != "Retry"]

    def iteration(node_id: str) -> tuple[int, ...]:
        path: list[int] = []
        current = parent_of.get(node_id)
        while current is not None:
            node = nodes.get(current) or {}
            if "iterationIndex" in node:
                path.append(int(node["iterationIndex"]))
            current = parent_of.get(current)
        return tuple(reversed(path))

    def suffixed(base: str, path: tuple[int, ...]) -> str:
        return f"{base}({','.join(map(str, path))})" if path else base

    by_display: dict[str, list[str]] = defaultdict(list)
    for node_id in tasks:
        node = nodes[node_id]
        by_display[str(node.get("displayName") or node.get("name"))].append(node_id)
    labels: dict[str, str] = {}
    for display, ids in by_display.items():
        paths = {node_id: iteration(node_id) for node_id in ids}
        if len({paths[node_id] for node_id in ids}) == len(ids):
            labels.update({node_id: suffixed(display, paths[node_id]) for node_id in ids})
            continue
        task_names = {node_id: suffixed(_task_name(nodes[node_id], wf_name) or display, paths[node_id])
                      for node_id in ids}
        if len(set(task_names.values())) == len(ids):
            labels.update(task_names)
            continue
        labels.update({node_id: ".".join(_segments(str(nodes[node_id].get("name", "")), wf_name)) or display
                       for node_id in ids})
    return labels


def _task_name(node: Mapping[str, Any], wf_name: str) -> str:
    """The IR task name of a task node: the last segment of its node name."""
    segments = _segments(str(node.get("name", "")), wf_name)
    return segments[-1] if segments else ""


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def find_task(root: TaskNode, task: str, *, run: str = "") -> TaskNode:
    """The task ``task`` names: its label, else a display or IR task name naming one task only
    (else a group of tasks — a loop, a condition — by its display name or node id).

    :class:`~.errors.AmbiguousTask` when it names several, :class:`~.errors.TaskNotFound`
    when none (both list the labels to choose from).
    """
    tasks = root.tasks()
    run = run or root.name
    exact = [t for t in tasks if t.label == task]
    if len(exact) == 1:
        return exact[0]
    named = [t for t in tasks if task in (t.display_name, _INDEX.sub("", t.name), t.name)]
    if len(named) == 1:
        return named[0]
    if named:
        raise AmbiguousTask(run, task, sorted((t.label for t in named), key=_natural))
    groups = [node for node in root.walk() if not node.is_task and node.attempt is None
              and task in (node.id, node.display_name)]
    if len(groups) == 1:
        return groups[0]  # a group: callers say it holds tasks rather than that nothing is called so
    raise TaskNotFound(run, task, sorted((t.label for t in tasks), key=_natural))


# Text ----------------------------------------------------------------------------------


def duration_text(delta: timedelta | None) -> str:
    """A duration as kubectl prints ages (``3m2s``); empty when there is none."""
    return human_duration(delta) if delta is not None else ""


def status_word(status: RunStatus) -> str:
    """The STATUS of a run: its phase, or ``Canceled`` for a terminated one."""
    return "Canceled" if status.state == "CANCELED" else status.phase


def node_phase(node: TaskNode) -> str:
    """A node's phase, or ``Canceled`` for one stopped by terminate (as the run's STATUS says)."""
    return "Canceled" if node.state == "CANCELED" else node.phase


def node_label(node: TaskNode) -> str:
    """What a tree shows for a node: an attempt's number, a task's label, a group's display name."""
    if node.attempt is not None:
        return f"attempt {node.attempt}"
    return node.label if node.is_task else node.display_name


def node_note(node: TaskNode) -> str:
    """What to know about a node in a tree: cached, or its message when it did not succeed."""
    if node.cached:
        return "cached"
    if node.phase in ("Failed", "Error", "Skipped", "Omitted") or (node.phase == "Pending" and node.message):
        return node.message
    return ""


def tree_lines(root: TaskNode) -> list[str]:
    """A run's task tree as aligned text: TASK, STATUS, DURATION, and what to know (cached, messages)."""
    rows: list[list[str]] = []

    def visit(node: TaskNode, prefix: str, branch: str) -> None:
        rows.append([branch + node_label(node), node_phase(node), duration_text(node.duration), node_note(node)])
        for index, child in enumerate(node.children):
            last = index == len(node.children) - 1
            visit(child, prefix + ("   " if last else "│  "), prefix + ("└─ " if last else "├─ "))

    visit(root, "", "")
    return columns(["TASK", "STATUS", "DURATION", "MESSAGE"], rows)
