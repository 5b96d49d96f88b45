"""Server-side printing: the ``meta.k8s.io/v1`` Table an object prints as.

``kubectl get`` asks the API server for a Table
(``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``) and prints its
cells verbatim: the *server* chooses the columns, works out a pod's
``CrashLoopBackOff`` and turns timestamps into ages like ``3m2s``. This
package is that server half, as plain functions over plain dicts (no I/O)::

    objects ─▶ Printer of the kind ─▶ cells of every column ─▶ Table
                (PRINTERS, or the CRD's additionalPrinterColumns, or the default)

Which printer prints a kind, in order:

1. :data:`PRINTERS`, keyed by :func:`kind_key` (``"Pod"``,
   ``"Deployment.apps"``): kube-apiserver 1.31's own printers
   (``pkg/printers/internalversion``) for the built-in kinds, re-derived
   cell by cell, one module per area (:mod:`.pods`, :mod:`.workloads` …),
   plus scheduler-plugins' PodGroup columns. Components register theirs in
   this dict when they are wired, or pass their own mapping to :func:`table`.
2. A custom resource (``ResourceType.builtin`` false) or any kind carrying
   ``printer_columns``: ``NAME`` plus the CRD's ``additionalPrinterColumns``
   evaluated with kubectl's JSONPath (:mod:`.custom`), or ``NAME AGE`` when
   the CRD declares none, as the apiextensions server does.
3. Any other built-in kind (Role, ClusterRole, CustomResourceDefinition …):
   the generic ``NAME CREATED AT``, the creation time in RFC 3339 (kubectl
   prints it as is: ``kubectl get clusterroles`` shows timestamps, not ages).

``wide``: kube-apiserver always builds wide tables and kubectl hides the
columns of priority > 0 unless ``-o wide``; so the REST facade must call
:func:`table` with ``wide=True``. ``wide=False`` drops those columns and
their cells (Go's ``GenerateOptions{Wide: false}``), for callers that lay
tables out themselves. Ages are computed against the ``now`` given, so a
FakeClock makes them exact in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sandbox.api.errors import BadRequest
from sandbox.api.kinds import ResourceType
from sandbox.api.printers import cluster, core, events, networking, pods, storage, workloads
from sandbox.api.printers.ages import age, human_duration
from sandbox.api.printers.columns import (
    DEFAULT_PRINTER,
    Column,
    Printer,
    PrintOptions,
    kind_key,
)
from sandbox.api.printers.custom import PODGROUP_COLUMNS, columns_printer
from sandbox.api.printers.jsonpath import jsonpath

__all__ = [
    "INCLUDE_OBJECT",
    "PRINTERS",
    "Column",
    "PrintOptions",
    "Printer",
    "age",
    "columns_printer",
    "human_duration",
    "jsonpath",
    "kind_key",
    "printer_for",
    "table",
]

#: ``includeObject`` values a Table request may carry ("" means the default, Metadata).
INCLUDE_OBJECT = ("None", "Metadata", "Object")

#: kind key (:func:`kind_key`) -> how that kind prints. Role, ClusterRole,
#: LimitRange and CustomResourceDefinition have no printer in kube-apiserver
#: 1.31 either: they fall through to ``NAME CREATED AT``.
PRINTERS: dict[str, Printer] = {
    **pods.PRINTERS,
    **core.PRINTERS,
    **events.PRINTERS,
    **networking.PRINTERS,
    **storage.PRINTERS,
    **workloads.PRINTERS,
    **cluster.PRINTERS,
    "PodGroup.scheduling.x-k8s.io": columns_printer(PODGROUP_COLUMNS),
}


def table(
    rt: ResourceType,
    objects: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    wide: bool = False,
    include_object: str = "Metadata",
    printers: Mapping[str, Printer] | None = None,
) -> dict[str, Any]:
    """The ``meta.k8s.io/v1`` Table of ``objects`` (all of kind ``rt``).

    ``metadata`` is left empty for the caller (``resourceVersion``,
    ``continue``). Each row's ``object`` is a ``PartialObjectMetadata``
    (``include_object="Metadata"``, kubectl's default), the object itself
    (``"Object"``) or ``None`` (``"None"``, serialised as ``null`` like Go's
    empty ``RawExtension``); rows share the objects' dicts, copy before
    mutating. ``printers`` replaces :data:`PRINTERS` (tests, components).
    """
    if include_object == "":
        include_object = "Metadata"
    if include_object not in INCLUDE_OBJECT:
        raise BadRequest(f"unrecognized includeObject value: {include_object!r}")
    printer = printer_for(rt, printers=PRINTERS if printers is None else printers)
    options = PrintOptions(now=now, wide=wide)
    keep = [i for i, c in enumerate(printer.columns) if wide or c.priority == 0]
    narrow = len(keep) != len(printer.columns)
    rows: list[dict[str, Any]] = []
    for obj in objects:
        cells = printer.cells(obj, options)
        if narrow:
            cells = [cells[i] for i in keep]
        row: dict[str, Any] = {"cells": cells}
        if printer.conditions is not None:
            conditions = printer.conditions(obj)
            if conditions:
                row["conditions"] = conditions
        if include_object == "Metadata":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": dict(obj.get("metadata") or {}),
            }
        elif include_object == "Object":
            row["object"] = obj
        else:
            row["object"] = None
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [printer.columns[i].definition() for i in keep],
        "rows": rows,
    }


def printer_for(rt: ResourceType, *, printers: Mapping[str, Printer]) -> Printer:
    """The printer of a kind: registered, else CRD columns, else NAME / CREATED AT."""
    registered = printers.get(kind_key(rt.group, rt.kind))
    if registered is not None:
        return registered
    if rt.printer_columns or not rt.builtin:
        return columns_printer(rt.printer_columns)
    return DEFAULT_PRINTER
