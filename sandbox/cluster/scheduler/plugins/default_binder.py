"""DefaultBinder: bind a pod by creating its ``v1 Binding``, as kube-scheduler does.

A pod is assigned to a node through the ``pods/binding`` subresource, never
by editing ``spec.nodeName``: the API server sets the node and the
``PodScheduled=True`` condition in one write and refuses to move a pod that
is already bound. The Binding carries the pod's uid, so a pod deleted and
re-created under the same name is never bound by a stale decision.

An API error (the pod was deleted meanwhile, or bound by someone else) is
an Error status: the framework un-reserves and forgets the assumed pod.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sandbox.api.errors import ApiError
from sandbox.cluster.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    PodInfo,
    Status,
)

__all__ = ["NAME", "DefaultBinder", "binding_for", "new"]

NAME = "DefaultBinder"


def binding_for(pod: PodInfo, node_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
    }


class DefaultBinder:
    name = NAME

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ()

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        try:
            await self._handle.client.create(binding_for(pod, node_name), namespace=pod.namespace)
        except ApiError as err:
            return Status(Code.Error, str(err))
        return None


def new(args: Mapping[str, Any], handle: Handle) -> DefaultBinder:
    return DefaultBinder(handle)
