"""Structural pruning: drop the fields a custom resource's schema does not declare.

kube-apiserver prunes every custom resource it decodes (request bodies and
storage reads): a field not in the CRD's structural schema is removed
silently, unless a node says ``x-kubernetes-preserve-unknown-fields: true``.
:func:`prune` does the same in place and returns the removed paths (sorted),
which are also what ``fieldValidation=Warn``/``Strict`` report.

Rules, as in Kubernetes:

- at the object root, ``apiVersion`` and ``kind`` are kept and ``metadata``
  is pruned to ``ObjectMeta`` (whatever the CRD's schema says about it);
  the same holds inside ``x-kubernetes-embedded-resource`` nodes;
- below ``x-kubernetes-preserve-unknown-fields: true``, unknown fields stay
  (and their contents are not looked at), known ones are still pruned;
- map values (``additionalProperties``) and list items are pruned with their
  schema; paths name map keys as ``[key]``.

Built-in kinds are not pruned this way: Go decoding drops unknown fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.schema.builtin import object_meta_schema
from sandbox.api.schema.compiled import Node, compile_schema

__all__ = ["prune"]

_ROOT_KEYS = frozenset({"apiVersion", "kind"})


def prune(obj: dict[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Remove fields ``schema`` does not declare from ``obj``; the removed paths, sorted."""
    removed: list[str] = []
    _prune(compile_schema(schema), obj, "", removed, True, compile_schema(object_meta_schema()))
    removed.sort()
    return removed


def _prune(node: Node, value: Any, path: str, removed: list[str], root: bool, meta: Node) -> None:
    if isinstance(value, dict):
        props = node.properties
        additional = node.additional
        drop: list[str] = []
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if root:
                if key in _ROOT_KEYS:
                    continue
                if key == "metadata":
                    _prune(meta, item, sub, removed, False, meta)
                    continue
            child = props.get(key) if props is not None else None
            if child is not None:
                _prune(child, item, sub, removed, child.embedded, meta)
            elif additional is not None:
                _prune(additional, item, f"{path}[{key}]", removed, additional.embedded, meta)
            elif not node.preserve_unknown:
                drop.append(key)
                removed.append(sub)
        for key in drop:
            del value[key]
    elif isinstance(value, list):
        items = node.items
        if items is not None:
            for i, item in enumerate(value):
                _prune(items, item, f"{path}[{i}]", removed, items.embedded, meta)
