"""Container placeholders: ``{{$.inputs.parameters['x']}}`` and friends, resolved for one task.

A container component's (and a YAML component's) command line names its
inputs and outputs by placeholders the backend fills in before the pod
starts, as KFP's driver does::

    {{$}}                                          the executor input, as JSON
    {{$.inputs.parameters['x']}}                   a parameter's value, as text
    {{$.inputs.artifacts['x'].path|uri|metadata}}  an input artifact
    {{$.outputs.parameters['y'].output_file}}      where to write an output parameter
    {{$.outputs.artifacts['m'].path|uri|metadata}} an output artifact
    {{$.outputs.output_file}}                      where to write the executor output JSON
    {{$.pipeline_job_name}} {{$.pipeline_job_uuid}} {{$.pipeline_task_name}} {{$.pipeline_task_uuid}}
    {{$.pipeline_root}} {{$.pipeline_job_create_time_utc}}
    {"IfPresent": {"InputName": x, "Then": [...], "Else": [...]}}   a JSON element: spliced in
    {"Concat": [...]}                                               a JSON element: joined

Parameter values become text the way KFP writes them: strings as they are,
everything else as JSON (``true``, ``3``, ``[1, 2]``). Artifact paths come
from their URIs through the artifact store's mapping. A placeholder naming
an input the task does not have is an error naming it (the pod would
otherwise run with a literal ``{{$…}}`` in its command).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PlaceholderError", "parameter_text", "resolve_command"]

_PLACEHOLDER = re.compile(r"\{\{\$(?P<body>[^{}]*)\}\}")
_INPUT_PARAM = re.compile(r"^\.inputs\.parameters\['(?P<n>[^']+)'\]$")
_ARTIFACT = re.compile(r"^\.(?P<io>inputs|outputs)\.artifacts\['(?P<n>[^']+)'\]\.(?P<what>path|uri|metadata)$")
_OUTPUT_PARAM = re.compile(r"^\.outputs\.parameters\['(?P<n>[^']+)'\]\.output_file$")


class PlaceholderError(ValueError):
    """A placeholder that cannot be resolved for this task."""


def parameter_text(value: Any) -> str:
    """A parameter value as KFP puts it on a command line."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def resolve_command(items: list[str], executor_input: Mapping[str, Any], *,
                    path_of: Callable[[str], str], context: Mapping[str, str]) -> list[str]:
    """``command``/``args`` with every placeholder filled in (see the module docstring).

    ``path_of(uri)`` is the local path of an artifact URI; ``context`` holds the
    pipeline-level values (``pipeline_job_name`` …).
    """
    out: list[str] = []
    for item in items:
        out.extend(_element(item, executor_input, path_of, context))
    return out


def _element(item: Any, ei: Mapping[str, Any], path_of: Callable[[str], str],
             context: Mapping[str, str]) -> list[str]:
    struct = _as_struct(item)
    if struct is None:
        return [_text(str(item), ei, path_of, context)]
    if "Concat" in struct:
        return ["".join("".join(_element(x, ei, path_of, context)) for x in struct["Concat"])]
    present = struct["IfPresent"]
    name = present["InputName"]
    inputs = ei.get("inputs") or {}
    given = name in (inputs.get("parameterValues") or {}) or name in (inputs.get("artifacts") or {})
    branch = present.get("Then" if given else "Else") or []
    if isinstance(branch, str):
        branch = [branch]
    return [text for x in branch for text in _element(x, ei, path_of, context)]


def _as_struct(item: Any) -> dict[str, Any] | None:
    if isinstance(item, dict):
        return item
    if isinstance(item, str) and item.startswith("{") and ('"IfPresent"' in item or '"Concat"' in item):
        try:
            value = json.loads(item)
        except ValueError:
            return None
        if isinstance(value, dict) and ("IfPresent" in value or "Concat" in value):
            return value
    return None


def _text(text: str, ei: Mapping[str, Any], path_of: Callable[[str], str],
          context: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: _one(m.group("body"), ei, path_of, context), text)


def _one(body: str, ei: Mapping[str, Any], path_of: Callable[[str], str],
         context: Mapping[str, str]) -> str:
    inputs, outputs = ei.get("inputs") or {}, ei.get("outputs") or {}
    if body == "":
        return json.dumps(ei, sort_keys=True)
    if body == ".outputs.output_file":
        return str(outputs.get("outputFile", ""))
    if body.startswith(".pipeline_") and body[1:] in context:
        return context[body[1:]]
    if m := _INPUT_PARAM.match(body):
        values = inputs.get("parameterValues") or {}
        if m["n"] not in values:
            raise PlaceholderError(f"the command uses input parameter {m['n']!r}, which the task has no value for")
        return parameter_text(values[m["n"]])
    if m := _OUTPUT_PARAM.match(body):
        parameters = outputs.get("parameters") or {}
        if m["n"] not in parameters:
            raise PlaceholderError(f"the command uses output parameter {m['n']!r}, which the component does not declare")
        return str(parameters[m["n"]]["outputFile"])
    if m := _ARTIFACT.match(body):
        side = inputs if m["io"] == "inputs" else outputs
        entry = (side.get("artifacts") or {}).get(m["n"])
        if not entry or not entry.get("artifacts"):
            raise PlaceholderError(f"the command uses {m['io'][:-1]} artifact {m['n']!r}, which the task does not have")
        artifact = entry["artifacts"][0]
        if m["what"] == "uri":
            return str(artifact["uri"])
        if m["what"] == "metadata":
            return json.dumps(artifact.get("metadata") or {})
        return path_of(str(artifact["uri"]))
    raise PlaceholderError(f"unknown placeholder {{{{${body}}}}}")
