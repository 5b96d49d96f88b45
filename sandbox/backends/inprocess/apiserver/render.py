"""Objects and lists in the form the client negotiated (see :mod:`.negotiation`).

- plain objects and lists (JSON or YAML);
- a ``meta.k8s.io`` ``Table`` (``kubectl get``): every column the kind has,
  ``-o wide`` ones marked ``priority: 1`` for kubectl to hide; each row
  carries the object's ``PartialObjectMetadata`` unless ``includeObject``
  says ``None`` or ``Object``; the list's ``resourceVersion`` and
  ``continue`` token ride along in the Table's metadata;
- ``PartialObjectMetadata`` / ``PartialObjectMetadataList``: metadata only.

``pretty=true`` indents the JSON.

Watch events use the same conversions one object at a time
(:func:`convert_object`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api import printers
from sandbox.api.errors import BadRequest
from sandbox.api.kinds import ResourceType
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.negotiation import Output
from sandbox.backends.inprocess.apiserver.requestinfo import query_bool
from sandbox.backends.inprocess.apiserver.responses import Reply, json_reply, warning_header

__all__ = ["convert_list", "convert_object", "include_object", "render_list", "render_object"]

_INCLUDE = {"None", "Metadata", "Object"}


def include_object(call: Call) -> str:
    value = call.query.get("includeObject") or "Metadata"
    if value not in _INCLUDE:
        raise BadRequest(
            f'includeObject: Unsupported value: "{value}": supported values: "Metadata", "None", "Object"'
        )
    return value


def partial(obj: Mapping[str, Any], version: str) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
            "metadata": obj.get("metadata") or {}}


def convert_object(
    state: ServerState, output: Output, rt: ResourceType, obj: Mapping[str, Any], *,
    include: str = "Metadata", columns: bool = True,
) -> Any:
    """One object as ``output`` asks (``columns=False``: a Table row without headers)."""
    if output.form == "table":
        table = printers.table(rt, [dict(obj)], now=state.clock.now(), wide=True,
                               include_object=include)
        if output.version != "v1":
            table["apiVersion"] = f"meta.k8s.io/{output.version}"
        if not columns:
            table["columnDefinitions"] = None
        return table
    if output.form in ("partial", "partial-list"):
        return partial(obj, output.version)
    return obj


def convert_list(
    state: ServerState, output: Output, rt: ResourceType, result: dict[str, Any], *,
    include: str = "Metadata",
) -> Any:
    if output.form == "table":
        table = printers.table(rt, result["items"], now=state.clock.now(), wide=True,
                               include_object=include)
        table["metadata"] = result.get("metadata") or {}
        if output.version != "v1":
            table["apiVersion"] = f"meta.k8s.io/{output.version}"
        return table
    if output.form in ("partial", "partial-list"):
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"meta.k8s.io/{output.version}",
            "metadata": result.get("metadata") or {},
            "items": [partial(item, output.version) for item in result["items"]],
        }
    return result


def render_object(call: Call, state: ServerState, rt: ResourceType, obj: Mapping[str, Any],
                  status: int = 200) -> Reply:
    output = call.output
    body = convert_object(state, output, rt, obj, include=include_object(call)) \
        if output.form != "object" else obj
    return json_reply(body, status, as_yaml=output.yaml, pretty=_pretty(call),
                      headers=_warnings(call))


def render_list(call: Call, state: ServerState, rt: ResourceType, result: dict[str, Any]) -> Reply:
    output = call.output
    body = convert_list(state, output, rt, result, include=include_object(call)) \
        if output.form != "object" else result
    return json_reply(body, as_yaml=output.yaml, pretty=_pretty(call), headers=_warnings(call))


def _pretty(call: Call) -> bool:
    return "pretty" in call.query and query_bool(call.query, "pretty")


def _warnings(call: Call) -> list[tuple[bytes, bytes]]:
    return [warning_header(text) for text in call.warnings]
