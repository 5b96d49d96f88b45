"""Reading patch metadata out of an OpenAPI v3 schema, one node at a time.

Strategic merge patch and server-side apply both need, for each field they
visit, the schema of that field and its Kubernetes extensions
(``x-kubernetes-patch-strategy``, ``x-kubernetes-list-type`` …). The schemas
they receive have their ``$ref``s resolved into shared, possibly cyclic, dict
objects, so nothing here ever walks a schema on its own: callers walk the
*data* and ask for the schema node of each child as they descend. The only
schema-side traversal is through ``allOf`` (Kubernetes wraps a referenced type
as ``{"allOf": [<type>], "description": …}``), bounded by a visited set.

Two readings of list metadata live here, because the two mechanisms differ:

* :func:`list_merge` is how *strategic merge patch* treats a list: merge it
  (by a merge key, or as a set of primitives) or replace it.
* :func:`list_kind` is how *server-side apply* owns a list: as an associative
  list keyed by some fields (``k:{…}``), a set of primitives (``v:…``), or
  one atomic value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ListKind",
    "ListMerge",
    "Schema",
    "extension",
    "field_schema",
    "items_schema",
    "list_kind",
    "list_merge",
    "map_is_atomic",
    "map_replaces",
]

Schema = Mapping[str, Any]


def _parts(node: Schema | None) -> list[Schema] | tuple[Schema, ...]:
    """The node and everything it pulls in through ``allOf``, each once."""
    if type(node) is dict and "allOf" not in node:
        return (node,)  # most nodes: no walk, no allocation but the tuple
    out: list[Schema] = []
    seen: set[int] = set()
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, Mapping) or id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        subs = current.get("allOf")
        if isinstance(subs, list):
            stack.extend(reversed(subs))
    return out


def extension(node: Schema | None, name: str) -> Any:
    """The value of ``name`` on the node (or an ``allOf`` member), else ``None``."""
    for part in _parts(node):
        if name in part:
            return part[name]
    return None


def field_schema(node: Schema | None, key: str) -> Schema | None:
    """The schema of the field ``key`` of an object node: a property, else additionalProperties."""
    parts = _parts(node)
    for part in parts:
        props = part.get("properties")
        if isinstance(props, Mapping) and isinstance(props.get(key), Mapping):
            return props[key]
    for part in parts:
        extra = part.get("additionalProperties")
        if isinstance(extra, Mapping):
            return extra
    return None


def items_schema(node: Schema | None) -> Schema | None:
    """The schema of the elements of an array node."""
    for part in _parts(node):
        items = part.get("items")
        if isinstance(items, Mapping):
            return items
    return None


def _strategies(node: Schema | None) -> set[str]:
    value = extension(node, "x-kubernetes-patch-strategy")
    if not isinstance(value, str):
        return set()
    return {s.strip() for s in value.split(",") if s.strip()}


@dataclass(frozen=True)
class ListMerge:
    """How strategic merge patch treats one list field."""

    merge: bool
    merge_key: str | None = None


def list_merge(node: Schema | None) -> ListMerge:
    """Merge or replace, from ``x-kubernetes-patch-strategy``.

    Without a patch strategy, ``x-kubernetes-list-type: set`` also merges (as a
    set of primitives); every other list, and a list with no schema at all, is
    replaced. ``retainKeys`` in the strategy does not change the list rule.
    """
    strategies = _strategies(node)
    if strategies:
        if "merge" not in strategies:
            return ListMerge(merge=False)
        key = extension(node, "x-kubernetes-patch-merge-key")
        return ListMerge(merge=True, merge_key=key if isinstance(key, str) and key else None)
    if extension(node, "x-kubernetes-list-type") == "set":
        return ListMerge(merge=True)
    return ListMerge(merge=False)


def map_replaces(node: Schema | None) -> bool:
    """Whether strategic merge patch replaces this object field instead of merging it."""
    return "replace" in _strategies(node)


@dataclass(frozen=True)
class ListKind:
    """How server-side apply owns one list field."""

    kind: Literal["map", "set", "atomic"]
    keys: tuple[str, ...] = ()


_ATOMIC = ListKind("atomic")


def list_kind(node: Schema | None) -> ListKind:
    """``x-kubernetes-list-type`` (with its map keys), else the patch strategy, else atomic.

    Like Kubernetes' conversion of built-in schemas, a list whose patch
    strategy merges counts as associative when it has a merge key and as a
    set when it has none.
    """
    list_type = extension(node, "x-kubernetes-list-type")
    if list_type == "map":
        keys = extension(node, "x-kubernetes-list-map-keys")
        if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
            return ListKind("map", tuple(keys))
        return _ATOMIC
    if list_type == "set":
        return ListKind("set")
    if list_type == "atomic":
        return _ATOMIC
    rule = list_merge(node)
    if rule.merge:
        return ListKind("map", (rule.merge_key,)) if rule.merge_key else ListKind("set")
    return _ATOMIC


def map_is_atomic(node: Schema | None) -> bool:
    """Whether server-side apply owns this object field as one value."""
    return extension(node, "x-kubernetes-map-type") == "atomic"
