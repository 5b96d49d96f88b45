"""Reading objects the way ``kubectl wait`` and ``kubectl get -o jsonpath`` do.

Shared by ``wait`` and ``expect``: a JSONPath finds values in an object
(:func:`sandbox.api.printers.jsonpath.jsonpath`, kubectl's dialect with
filters), and a value is compared *as text*, the way kubectl prints it —
``true`` for a JSON true, ``3`` for 3, a list or map as JSON — so a scenario
can say ``value: 3`` or ``value: "3"`` and mean the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.api.objects import find_condition
from sandbox.api.printers.jsonpath import jsonpath

__all__ = ["as_text", "condition_state", "found_text", "object_predicate"]

Predicate = Callable[[Mapping[str, Any]], bool]


def as_text(value: Any) -> str:
    """``value`` as kubectl prints it: JSON for booleans, null, lists and maps; ``str`` otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def found_text(path: str, obj: Mapping[str, Any]) -> str | None:
    """What ``path`` finds in ``obj`` as text (several results space-separated), None when nothing."""
    try:
        found = jsonpath(path, dict(obj))
    except ValueError:
        return None
    if not found:
        return None
    return " ".join(as_text(v) for v in found)


def condition_state(obj: Mapping[str, Any], type_: str) -> str:
    """``Ready=False (ContainersNotReady)`` or ``Ready: not reported``."""
    cond = find_condition(dict(obj), type_)
    if cond is None:
        return f"{type_}: not reported"
    reason = f" ({cond['reason']})" if cond.get("reason") else ""
    return f"{type_}={cond.get('status')}{reason}"


def object_predicate(*, condition: str | None = None, status: str = "True", reason: str | None = None,
                     phase: str | None = None, jsonpath: str | None = None,
                     value: Any = None) -> Predicate | None:
    """A test of one object for the first of these that is given; None when none is."""
    if condition is not None:
        def has_condition(obj: Mapping[str, Any]) -> bool:
            cond = find_condition(dict(obj), condition)
            return (cond is not None and str(cond.get("status")) == status
                    and (reason is None or cond.get("reason") == reason))
        return has_condition
    if phase is not None:
        return lambda obj: (obj.get("status") or {}).get("phase") == phase
    if jsonpath is not None:
        wanted = as_text(value)
        return lambda obj: found_text(jsonpath, obj) == wanted
    return None
