"""Where the KFP API keeps its objects in the cluster, and small helpers to read them.

Single-user Kubeflow Pipelines keeps its resources in the ``kubeflow``
namespace: Pipeline and PipelineVersion objects (the Kubernetes-native
pipeline store), the Workflow of every run, the ScheduledWorkflow of every
recurring run. The API creates that namespace on its first write when it is
missing. It still *reads* everywhere — a Workflow someone created with
kubectl in ``default`` is a run too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import AlreadyExists
from sandbox.client.protocol import Client

__all__ = ["NAMESPACE", "annotations_of", "by_creation", "ensure_namespace", "labels_of"]

NAMESPACE = "kubeflow"


async def ensure_namespace(client: Client, namespace: str = NAMESPACE) -> None:
    """Create ``namespace`` unless it exists."""
    try:
        await client.get("v1", "Namespace", namespace)
    except Exception:
        try:
            await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        except AlreadyExists:
            pass


def by_creation(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects that are not being deleted, oldest first (ties by namespace and name)."""
    alive = [o for o in objects if not (o.get("metadata") or {}).get("deletionTimestamp")]
    return sorted(alive, key=lambda o: (o["metadata"].get("creationTimestamp", ""),
                                        o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})
