"""OpenAPI ``default`` values, applied the way kube-apiserver defaults custom resources.

Kubernetes defaults a custom resource whenever it decodes one (request
bodies, and storage reads so that new defaults reach old objects). The rules
:func:`apply_defaults` follows, in place:

- a property with a ``default`` that is missing from an object that *exists*
  is set to a copy of the default; objects are never created just to hold
  defaults (a default on ``spec.x`` does nothing without ``spec``);
- recursion goes into every value present, including ones just defaulted, so
  defaults nested in a default's schema apply too; map values
  (``additionalProperties``) and list items are defaulted with their schema;
- a ``null`` in a non-nullable field is replaced by the default if there is
  one, and removed otherwise (Kubernetes prunes those nulls before defaulting);
  ``null`` list items are only replaced, never removed, to keep indices;
- ``metadata`` at the root is left alone (CRDs may not default it).

Built-in kinds carry no OpenAPI defaults: their defaults are Go code, see
:func:`sandbox.api.validation.default_builtin`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.objects import deep_copy
from sandbox.api.schema.compiled import Node, compile_schema

__all__ = ["apply_defaults"]


def apply_defaults(obj: Any, schema: Mapping[str, Any]) -> None:
    """Apply ``schema``'s defaults to ``obj`` in place."""
    _default(compile_schema(schema), obj, True)


def _default(node: Node, value: Any, root: bool = False) -> None:
    if isinstance(value, dict):
        props = node.properties
        additional = node.additional
        nulls = [k for k, v in value.items() if v is None]
        for key in nulls:
            child = props.get(key) if props is not None else None
            if child is None:
                child = additional
            if child is None or child.nullable:
                continue
            if child.has_default:
                value[key] = deep_copy(child.default)
            else:
                del value[key]
        for key, child in node.defaulted:
            if key not in value:
                value[key] = deep_copy(child.default)
        for key, item in value.items():
            if not isinstance(item, (dict, list)) or (root and key == "metadata"):
                continue
            child = props.get(key) if props is not None else None
            if child is None:
                child = additional
            if child is not None:
                _default(child, item)
    elif isinstance(value, list):
        items = node.items
        if items is None:
            return
        for i, item in enumerate(value):
            if item is None:
                if items.has_default and not items.nullable:
                    value[i] = deep_copy(items.default)
                    _default(items, value[i])
            elif isinstance(item, (dict, list)):
                _default(items, item)
