"""How cluster machinery prints: RBAC bindings, Leases and PriorityClasses.

A binding shows ``Role/name`` or ``ClusterRole/name``, and in wide tables
its users, groups and service accounts (``namespace/name``). Roles and
ClusterRoles have no printer in kube-apiserver: they print ``NAME CREATED AT``.
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
    as_int,
    get,
    name_of,
)

__all__ = ["LEASE", "PRINTERS", "PRIORITY_CLASS"]


def _binding_cells(binding: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    ref = binding.get("roleRef") or {}
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name") or ""
        if kind == "ServiceAccount":
            accounts.append(f"{subject.get('namespace') or ''}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return [
        name_of(binding),
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        age_of(binding, opts),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(accounts),
    ]


def _binding_printer(kind: str, what: str) -> Printer:
    return Printer(
        columns=(
            NAME_COLUMN,
            Column("Role", description=(f"rbac.v1.{kind}", "roleRef")),
            AGE_COLUMN,
            Column("Users", priority=1, description=f"Users in the {what}"),
            Column("Groups", priority=1, description=f"Groups in the {what}"),
            Column("ServiceAccounts", priority=1, description=f"ServiceAccounts in the {what}"),
        ),
        cells=_binding_cells,
    )


LEASE = Printer(
    columns=(
        NAME_COLUMN,
        Column("Holder", description=("coordination.v1.LeaseSpec", "holderIdentity")),
        AGE_COLUMN,
    ),
    cells=lambda lease, opts: [
        name_of(lease),
        get(lease, "spec", "holderIdentity", default=""),
        age_of(lease, opts),
    ],
)

PRIORITY_CLASS = Printer(
    columns=(
        NAME_COLUMN,
        Column("Value", type="integer", description=("scheduling.v1.PriorityClass", "value")),
        Column(
            "Global-Default",
            type="boolean",
            description=("scheduling.v1.PriorityClass", "globalDefault"),
        ),
        AGE_COLUMN,
        Column("PreemptionPolicy", description=("scheduling.v1.PriorityClass", "preemptionPolicy")),
    ),
    cells=lambda pc, opts: [
        name_of(pc),
        as_int(pc.get("value")),
        bool(pc.get("globalDefault")),
        age_of(pc, opts),
        pc.get("preemptionPolicy") or "",
    ],
)


PRINTERS: dict[str, Printer] = {
    "RoleBinding.rbac.authorization.k8s.io": _binding_printer("RoleBinding", "roleBinding"),
    "ClusterRoleBinding.rbac.authorization.k8s.io": _binding_printer(
        "ClusterRoleBinding", "clusterRoleBinding"
    ),
    "Lease.coordination.k8s.io": LEASE,
    "PriorityClass.scheduling.k8s.io": PRIORITY_CLASS,
}
