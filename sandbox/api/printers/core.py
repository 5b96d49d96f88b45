"""How the cluster-scoped and configuration kinds of core/v1 print.

Nodes (STATUS ``Ready``/``NotReady``/``Unknown`` plus ``SchedulingDisabled``,
ROLES from ``node-role.kubernetes.io/*`` labels), namespaces, ConfigMaps and
Secrets (DATA counts keys), ServiceAccounts and ResourceQuotas, as
kube-apiserver 1.31 prints them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.printers.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    Column,
    Printer,
    PrintOptions,
    age_of,
    get,
    name_of,
    quantity_text,
)

__all__ = [
    "CONFIG_MAP",
    "NAMESPACE",
    "NODE",
    "PRINTERS",
    "RESOURCE_QUOTA",
    "SECRET",
    "SERVICE_ACCOUNT",
]


def _node_cells(node: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    status: list[str] = []
    for condition in get(node, "status", "conditions", default=[]):
        if condition.get("type") == "Ready":
            status = ["Ready" if condition.get("status") == "True" else "NotReady"]
    if not status:
        status = ["Unknown"]
    if get(node, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in (get(node, "metadata", "labels", default={})).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = get(node, "status", "nodeInfo", default={})
    addresses = get(node, "status", "addresses", default=[])

    def address(kind: str) -> str:
        return next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")

    return [
        name_of(node),
        ",".join(status),
        ",".join(sorted(roles)) or "<none>",
        age_of(node, opts),
        info.get("kubeletVersion") or "",
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


NODE = Printer(
    columns=(
        NAME_COLUMN,
        Column("Status", description="The status of the node"),
        Column("Roles", description="The roles of the node"),
        AGE_COLUMN,
        Column("Version", description=("core.v1.NodeSystemInfo", "kubeletVersion")),
        Column("Internal-IP", priority=1, description=("core.v1.NodeStatus", "addresses")),
        Column("External-IP", priority=1, description=("core.v1.NodeStatus", "addresses")),
        Column("OS-Image", priority=1, description=("core.v1.NodeSystemInfo", "osImage")),
        Column(
            "Kernel-Version", priority=1, description=("core.v1.NodeSystemInfo", "kernelVersion")
        ),
        Column(
            "Container-Runtime",
            priority=1,
            description=("core.v1.NodeSystemInfo", "containerRuntimeVersion"),
        ),
    ),
    cells=_node_cells,
)

NAMESPACE = Printer(
    columns=(NAME_COLUMN, Column("Status", description="The status of the namespace"), AGE_COLUMN),
    cells=lambda ns, opts: [name_of(ns), get(ns, "status", "phase", default=""), age_of(ns, opts)],
)


CONFIG_MAP = Printer(
    columns=(NAME_COLUMN, Column("Data", description=("core.v1.ConfigMap", "data")), AGE_COLUMN),
    cells=lambda cm, opts: [
        name_of(cm),
        len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
        age_of(cm, opts),
    ],
)

SECRET = Printer(
    columns=(
        NAME_COLUMN,
        Column("Type", description=("core.v1.Secret", "type")),
        Column("Data", description=("core.v1.Secret", "data")),
        AGE_COLUMN,
    ),
    cells=lambda s, opts: [
        name_of(s),
        s.get("type") or "",
        len(s.get("data") or {}),
        age_of(s, opts),
    ],
)

SERVICE_ACCOUNT = Printer(
    columns=(
        NAME_COLUMN,
        Column("Secrets", description=("core.v1.ServiceAccount", "secrets")),
        AGE_COLUMN,
    ),
    cells=lambda sa, opts: [name_of(sa), len(sa.get("secrets") or []), age_of(sa, opts)],
)


def _quota_cells(quota: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    hard = get(quota, "status", "hard", default={})
    used = get(quota, "status", "used", default={})
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        pieces = resource.split(".")
        target = limits if len(pieces) > 1 and pieces[0] == "limits" else requests
        used_text = quantity_text(used[resource]) if resource in used else "0"
        target.append(f"{resource}: {used_text}/{quantity_text(hard[resource])}")
    return [name_of(quota), age_of(quota, opts), ", ".join(requests), ", ".join(limits)]


# kube-apiserver 1.31 puts AGE second here; 1.33 moved it last.
RESOURCE_QUOTA = Printer(
    columns=(
        NAME_COLUMN,
        AGE_COLUMN,
        Column(
            "Request",
            description="Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column(
            "Limit",
            description="Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
    ),
    cells=_quota_cells,
)


PRINTERS: dict[str, Printer] = {
    "Node": NODE,
    "Namespace": NAMESPACE,
    "ConfigMap": CONFIG_MAP,
    "Secret": SECRET,
    "ServiceAccount": SERVICE_ACCOUNT,
    "ResourceQuota": RESOURCE_QUOTA,
}
