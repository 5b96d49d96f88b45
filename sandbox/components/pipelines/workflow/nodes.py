"""Argo's node bookkeeping: names, ids and pod names of a Workflow's nodes.

Argo records every step of a Workflow in ``status.nodes``, a map from node
id to node status. A node's *name* is its path from the root — the workflow
name, then ``.task`` per level, ``(i)`` for loop iterations and retry
attempts — and its *id* is the workflow name plus a hash of that name, so it
is stable across reconciles (the controller can recompute where it is from
the names alone)::

    demo-x7k2p                               DAG       (the root: id = workflow name)
    demo-x7k2p.load                          Pod       id demo-x7k2p-1234567890
    demo-x7k2p.for-loop-2                    TaskGroup (the loop)
    demo-x7k2p.for-loop-2(0)                 DAG       (iteration 0)
    demo-x7k2p.for-loop-2(0).train           Retry     (a task with a retry policy)
    demo-x7k2p.for-loop-2(0).train(0)        Pod       (attempt 0)

Pod names follow Argo 3.4+'s ``<workflow>-<template>-<hash of the node id>``.
Node phases are Argo's: Pending, Running, Succeeded, Skipped, Failed, Error,
Omitted (a task that never ran because an upstream failed).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

__all__ = ["DONE", "FAILED", "NodePhase", "node_id", "pod_name"]

NodePhase = Literal["Pending", "Running", "Succeeded", "Skipped", "Failed", "Error", "Omitted"]

#: Phases a node does not leave.
DONE = frozenset({"Succeeded", "Skipped", "Failed", "Error", "Omitted"})
#: Phases that count as failure for what depends on the node.
FAILED = frozenset({"Failed", "Error"})


@functools.lru_cache(maxsize=4096)
def _fnv32a(text: str) -> int:
    """FNV-1a, 32 bits (Argo's node and pod name hash); cached: a step asks for the same names again and again."""
    value = 0x811C9DC5
    for byte in text.encode():
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def node_id(workflow: str, name: str) -> str:
    """Argo's node id for the node called ``name`` (the root's id is the workflow name)."""
    if name == workflow:
        return workflow
    return f"{workflow}-{_fnv32a(name)}"


def pod_name(workflow: str, template: str, node: str) -> str:
    """Argo's pod name for a node: ``<workflow>-<template>-<hash>``, at most 63 characters."""
    suffix = str(_fnv32a(node))
    prefix = f"{workflow}-{template}"
    room = 63 - len(suffix) - 1
    return f"{prefix[:room].rstrip('-')}-{suffix}"


def new_node(workflow: str, name: str, *, display_name: str, node_type: str, template: str,
             boundary: str | None, now: str, phase: NodePhase = "Pending") -> dict[str, Any]:
    """A node status as Argo writes one when the node starts."""
    node: dict[str, Any] = {
        "id": node_id(workflow, name), "name": name, "displayName": display_name,
        "type": node_type, "templateName": template, "phase": phase, "startedAt": now,
    }
    if boundary:
        node["boundaryID"] = boundary
    return node
