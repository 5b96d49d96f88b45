"""Retrying a failed run: which nodes of its Workflow to forget, which pods to delete.

KFP retries a run the way ``argo retry`` does: the Workflow keeps what
succeeded and runs again what did not. The workflow controller recomputes
where a run is from ``status.nodes`` alone (node ids are hashes of node
names, see :mod:`..workflow.nodes`), so a retry only has to edit that map:

- a task that failed or errored (a ``Pod`` node, or a task that could not
  start) is removed, and so is an ``Omitted`` task that never ran because of
  it; the controller starts them again when their dependencies allow;
- a task with a retry policy (a ``Retry`` node and its attempts) is removed
  whole, so it gets its full number of attempts again;
- a failed group — the root DAG, a condition, an exit handler, a loop and
  its iterations — is reopened (phase ``Running``, its end time and message
  cleared): its succeeded children stay, its failed ones were removed;
- succeeded and condition-skipped tasks stay as they are, outputs included;
- the Workflow goes back to ``Running``: ``finishedAt`` and the message are
  cleared, the ``workflows.argoproj.io/completed`` label is ``false`` again
  and a terminate request (``spec.shutdown``) is withdrawn.

The pods of removed tasks must be deleted before the Workflow is written
back: a task started again gets the same pod name. :func:`reset_for_retry`
is pure — it returns the new Workflow and the pod names — so the rules are
tested without a cluster; the run service does the writing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.components.pipelines.workflow.nodes import pod_name

__all__ = ["RETRYABLE_PHASES", "RetryReset", "reset_for_retry"]

#: Workflow phases a retry applies to.
RETRYABLE_PHASES = frozenset({"Failed", "Error"})
_RERUN = frozenset({"Failed", "Error", "Omitted"})
_GROUPS = frozenset({"DAG", "TaskGroup", "Steps", "StepGroup"})
COMPLETED_LABEL = "workflows.argoproj.io/completed"
PHASE_LABEL = "workflows.argoproj.io/phase"


@dataclass
class RetryReset:
    """The Workflow to write back and the pods to delete first."""

    workflow: dict[str, Any]
    delete_pods: list[str] = field(default_factory=list)
    #: Ids of the nodes removed (to run again).
    removed: list[str] = field(default_factory=list)
    #: Ids of the groups reopened.
    reopened: list[str] = field(default_factory=list)


def _descendants(nodes: Mapping[str, Mapping[str, Any]], node_id: str) -> list[str]:
    found: list[str] = []
    pending = list(nodes.get(node_id, {}).get("children") or [])
    while pending:
        current = pending.pop()
        if current in nodes and current not in found:
            found.append(current)
            pending.extend(nodes[current].get("children") or [])
    return found


def reset_for_retry(workflow: Mapping[str, Any]) -> RetryReset:
    """The Workflow reset for a retry (see the module docstring); ``workflow`` is not changed.

    Raises ``ValueError`` when the Workflow has not failed.
    """
    new = copy.deepcopy(dict(workflow))
    status = new.setdefault("status", {})
    phase = status.get("phase")
    if phase not in RETRYABLE_PHASES:
        raise ValueError(f"only a failed run can be retried; this one is {phase or 'not started'}")
    name = str(new["metadata"]["name"])
    nodes: dict[str, dict[str, Any]] = status.get("nodes") or {}
    reset = RetryReset(workflow=new)

    parents = {child: node_id for node_id, node in nodes.items() for child in node.get("children") or []}
    doomed: set[str] = set()
    for node_id, node in nodes.items():
        if node.get("phase") not in _RERUN or node.get("type") in _GROUPS:
            continue
        if nodes.get(parents.get(node_id, ""), {}).get("type") == "Retry":
            continue  # an attempt: its Retry node decides
        doomed.add(node_id)
        if node.get("type") == "Retry":
            doomed.update(_descendants(nodes, node_id))
    for node_id in sorted(doomed):
        node = nodes[node_id]
        if node.get("type") == "Pod":
            reset.delete_pods.append(pod_name(name, str(node.get("templateName", "task")), str(node["name"])))
    for node_id, node in nodes.items():
        if node_id in doomed:
            continue
        if node.get("children"):
            node["children"] = [c for c in node["children"] if c not in doomed]
        if node.get("type") in _GROUPS and node.get("phase") in _RERUN:
            node["phase"] = "Running"
            node.pop("finishedAt", None)
            node.pop("message", None)
            node.pop("outputs", None)
            reset.reopened.append(node_id)
    reset.removed = sorted(doomed)
    status["nodes"] = {k: v for k, v in nodes.items() if k not in doomed}

    status["phase"] = "Running"
    for key in ("finishedAt", "message"):
        status.pop(key, None)
    labels = new["metadata"].setdefault("labels", {})
    labels[COMPLETED_LABEL] = "false"
    labels.pop(PHASE_LABEL, None)
    (new.get("spec") or {}).pop("shutdown", None)
    return reset
