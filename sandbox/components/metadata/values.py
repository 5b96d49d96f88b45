"""Property values ↔ the typed columns of a property row.

MLMD stores each property value in the column of its type (``int_value``,
``double_value``, ``string_value`` …). Here the Python type of a value decides
its :class:`~.model.PropertyType` (:func:`~.model.property_type_of`), and
:func:`encode` turns it into ``(data_type, *VALUE_COLUMNS)`` for the store to
insert, checked against the type a node's type declares for it (an ``int``
given for a ``DOUBLE`` property becomes a float; any other mismatch is a
:class:`BadRequest`). :func:`decode` turns a row back into the same Python
value, and :func:`match` builds the SQL condition a property filter uses —
the value *and* its type must match, so ``1`` does not find ``1.0``.

Two storage details: structs are JSON with sorted keys and no spaces (one
text per value, so equal structs compare equal in SQL), and a NaN double is
stored as NULL (SQLite has no NaN), read back as NaN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from sandbox.api.errors import BadRequest

from .model import PropertyType, ProtoValue, property_type_of

__all__ = ["VALUE_COLUMNS", "decode", "encode", "match"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

#: The value columns of a property row, in order, after ``data_type``.
VALUE_COLUMNS = (
    "int_value",
    "double_value",
    "string_value",
    "struct_value",
    "proto_type_url",
    "proto_value",
    "bool_value",
)


def encode(name: str, value: Any, declared: PropertyType | None) -> tuple[Any, ...]:
    """A Python value → ``(data_type, *VALUE_COLUMNS)``, checked against ``declared``."""
    actual = property_type_of(value)
    if actual is PropertyType.UNKNOWN:
        raise BadRequest(
            f"property {name!r}: a {type(value).__name__} cannot be stored "
            "(use int, float, str, bool, dict, list or ProtoValue)"
        )
    if declared is not None and actual is not declared:
        if declared is PropertyType.DOUBLE and actual is PropertyType.INT:
            value, actual = float(value), PropertyType.DOUBLE
        else:
            raise BadRequest(
                f"property {name!r} is declared {declared.name} but the value {value!r} "
                f"is {actual.name}"
            )
    columns: list[Any] = [None] * len(VALUE_COLUMNS)
    if actual is PropertyType.INT:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise BadRequest(f"property {name!r}: {value} does not fit in 64 bits")
        columns[0] = value
    elif actual is PropertyType.DOUBLE:
        columns[1] = None if math.isnan(value) else value
    elif actual is PropertyType.STRING:
        columns[2] = value
    elif actual is PropertyType.STRUCT:
        try:
            columns[3] = json.dumps(value, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"property {name!r}: not a JSON value: {exc}") from None
    elif actual is PropertyType.PROTO:
        columns[4], columns[5] = value.type_url, bytes(value.value)
    else:
        columns[6] = int(value)
    return (int(actual), *columns)


def decode(data_type: int, columns: Sequence[Any]) -> Any:
    """The Python value of a property row's ``data_type`` and value columns."""
    kind = PropertyType(data_type)
    if kind is PropertyType.INT:
        return int(columns[0])
    if kind is PropertyType.DOUBLE:
        return math.nan if columns[1] is None else float(columns[1])
    if kind is PropertyType.STRING:
        return columns[2]
    if kind is PropertyType.STRUCT:
        return json.loads(columns[3])
    if kind is PropertyType.PROTO:
        return ProtoValue(type_url=columns[4], value=bytes(columns[5] or b""))
    return bool(columns[6])


def match(value: Any) -> tuple[str, list[Any]]:
    """SQL over a property row aliased ``p`` that matches ``value`` with its type."""
    data_type, *columns = encode("filter", value, None)
    if data_type == PropertyType.DOUBLE and columns[1] is None:
        return "0", []  # NaN equals nothing
    if data_type == PropertyType.PROTO:
        return "p.data_type = ? AND p.proto_type_url = ? AND p.proto_value = ?", [
            data_type, columns[4], columns[5],
        ]
    index = next(i for i, c in enumerate(columns) if c is not None)
    return f"p.data_type = ? AND p.{VALUE_COLUMNS[index]} = ?", [data_type, columns[index]]
