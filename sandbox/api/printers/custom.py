"""Printers from CRD ``additionalPrinterColumns``: how custom resources print.

The apiextensions server's table convertor, re-derived: ``NAME`` first, then
one column per declared ``additionalPrinterColumns`` entry, each cell the
first value its JSONPath finds. A ``string`` column prints any value the way
client-go's JSONPath prints it (numbers, ``true``, compact JSON for objects);
other types keep only a value of their type (``cellForJSONValue``), and a
``date`` column is turned into an age here, because kubectl prints cells
verbatim. A CRD that declares no columns gets ``AGE``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.api.printers.ages import human_duration, parse_timestamp
from sandbox.api.printers.columns import (
    NAME_COLUMN,
    OBJECT_META,
    Column,
    Printer,
    PrintOptions,
    name_of,
)
from sandbox.api.printers.jsonpath import jsonpath

__all__ = ["PODGROUP_COLUMNS", "columns_printer"]


def _go_float(value: float) -> str:
    """``fmt.Sprint(float64)``: shortest digits, ``%e`` form below 1e-4 and from 1e6."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    point = len(digit_tuple) + int(exponent)  # the value is 0.<digits> * 10**point
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _go_text(value: Any) -> str:
    """How client-go's JSONPath prints one value (a string column's cell)."""
    if value is None:
        return "<no value>"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, Mapping | list):
        return _go_json(value)
    return str(value)


def _typed_cell(column_type: str, value: Any, now: datetime) -> Any:
    """``cellForJSONValue`` for the non-string types: only a value of the column's type shows."""
    if value is None:
        return None
    if column_type == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
    elif column_type == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif column_type == "boolean":
        if isinstance(value, bool):
            return value
    elif column_type == "date" and isinstance(value, str):
        if value in ("", "null"):
            return "<unknown>"
        moment = parse_timestamp(value)
        return "<invalid>" if moment is None else human_duration(now - moment)
    return None


def columns_printer(columns: Iterable[Mapping[str, Any]]) -> Printer:
    """A printer from CRD ``additionalPrinterColumns`` (the apiextensions table convertor).

    ``NAME`` first, then each column (``name``, ``type``, ``jsonPath``,
    ``description``, ``priority``, ``format``); no columns means ``AGE``.
    A ``date`` column prints as an age; a path that finds nothing, or a
    value not of the column's type, gives a ``None`` cell (kubectl: ``<none>``).
    """
    specs = list(columns) or [_DEFAULT_CRD_COLUMN]
    defs: list[Column] = [NAME_COLUMN]
    paths: list[tuple[str, str]] = []
    for spec in specs:
        path = str(spec.get("jsonPath") or "")
        defs.append(
            Column(
                name=str(spec.get("name") or ""),
                type=str(spec.get("type") or "string"),
                description=spec.get("description")
                or f"Custom resource definition column (in JSONPath format): {path}",
                priority=int(spec.get("priority") or 0),
                format=str(spec.get("format") or ""),
            )
        )
        paths.append((path, defs[-1].type))

    def cells(obj: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
        row: list[Any] = [name_of(obj)]
        for path, column_type in paths:
            try:
                found = jsonpath(path, obj)
            except ValueError:
                found = []
            if not found:
                row.append(None)
            elif column_type == "string":
                row.append(_go_text(found[0]))
            else:
                row.append(_typed_cell(column_type, found[0], opts.now))
        return row

    return Printer(columns=tuple(defs), cells=cells)


#: What a CRD without additionalPrinterColumns serves (apiextensions' default).
_DEFAULT_CRD_COLUMN: dict[str, Any] = {
    "name": "Age",
    "type": "date",
    "jsonPath": ".metadata.creationTimestamp",
    "description": (OBJECT_META, "creationTimestamp"),
}

#: scheduler-plugins' PodGroup CRD (scheduling.x-k8s.io/v1alpha1) declares these columns.
PODGROUP_COLUMNS: tuple[dict[str, Any], ...] = (
    {
        "name": "Phase",
        "type": "string",
        "jsonPath": ".status.phase",
        "description": "Current phase of PodGroup.",
    },
    {
        "name": "MinMember",
        "type": "integer",
        "jsonPath": ".spec.minMember",
        "description": "MinMember defines the minimal number of members/tasks to run the pod group.",
    },
    {
        "name": "Running",
        "type": "string",
        "jsonPath": ".status.running",
        "description": "The number of actively running pods.",
    },
    {
        "name": "Succeeded",
        "type": "string",
        "jsonPath": ".status.succeeded",
        "description": "The number of pods which reached phase Succeeded.",
    },
    {
        "name": "Failed",
        "type": "string",
        "jsonPath": ".status.failed",
        "description": "The number of pods which reached phase Failed.",
    },
    {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": "Age is the time PodGroup was created.",
    },
)
