"""Run arguments given as text (``-p lr=0.1``): the pipeline's declared types decide what they mean.

A command line only has strings. A ``STRING`` parameter takes the text as it
is (``-p version=1.10`` stays ``"1.10"``); any other parameter's text is
read as JSON when it parses (``3``, ``0.5``, ``true``, ``[1, 2]``,
``{"a": 1}``) and is kept as text otherwise — :meth:`PipelineGraph.bind_arguments`
then coerces the values to the declared types or refuses them with one
``ArgumentsInvalid`` naming every bad input (``-p epochs=three``). Names the
pipeline does not declare are parsed the same way and refused there too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.components.pipelines.graph import ParameterType, load_ir
from sandbox.components.pipelines.graph.types import ParameterTypeError

__all__ = ["arguments_from_text", "split_assignments"]


def split_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``; ``ValueError`` for an item without ``=``."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected NAME=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def _declared_types(spec: Mapping[str, Any]) -> dict[str, ParameterType | None]:
    pipeline, _ = load_ir(spec)
    parameters = (((pipeline.get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {})
    declared: dict[str, ParameterType | None] = {}
    for name, body in parameters.items():
        body = body if isinstance(body, Mapping) else {}
        try:
            declared[str(name)] = ParameterType.parse(body.get("parameterType") or body.get("type"))
        except ParameterTypeError:
            declared[str(name)] = None
    return declared


def arguments_from_text(spec: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """Python values for text arguments of the pipeline ``spec`` (see the module docstring)."""
    declared = _declared_types(spec)
    values: dict[str, Any] = {}
    for name, text in texts.items():
        if declared.get(name) is ParameterType.STRING:
            values[name] = text
            continue
        try:
            values[name] = json.loads(text)
        except ValueError:
            values[name] = text
    return values
