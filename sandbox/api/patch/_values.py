"""JSON value helpers shared by the patch modules.

Patches compare and index plain JSON values (what ``json.loads`` gives). Python
equality is too loose for that (``True == 1``), and Go, whose messages we
reproduce, prints values its own way (``map[image:nginx name:main]``). These
few functions give the patch modules one strict equality, one canonical text
for a value (used as a dict key and inside FieldsV1 keys), and Go's renderings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical", "go_json_type", "go_repr", "json_equal", "normalize_number"]


def normalize_number(value: Any) -> Any:
    """An integral float as an int (``80.0`` → ``80``), as JSON does not tell them apart."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: ``1 == 1.0`` but ``True != 1`` and ``{} != []``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _normalized(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return normalize_number(value)


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys: equal values (by :func:`json_equal`) give equal text."""
    return json.dumps(_normalized(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def go_repr(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` for a decoded JSON value, as Go error messages show it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(normalize_number(value)) if value.is_integer() else repr(value)
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_repr(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_repr(v) for v in value) + "]"
    return str(value)


def go_json_type(value: Any) -> str:
    """The JSON type name Go's ``encoding/json`` uses in unmarshal errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
