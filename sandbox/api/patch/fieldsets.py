"""Field paths and field sets: what server-side apply's ownership is made of.

A field path is a tuple of path elements written the way Kubernetes'
``FieldsV1`` writes them, so encoding and decoding are plain tree conversions:

* ``f:<name>``: a field of an object (``f:spec``, ``f:replicas``);
* ``k:<json>``: the element of an associative list with these key values
  (``k:{"name":"main"}``, keys sorted, compact JSON);
* ``v:<json>``: the element of a set of primitives (``v:"finalizer.example"``);

so the image of container ``main`` in a pod template is the path
``("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"main"}',
"f:image")``.

Data flow: :func:`field_values` walks an object alongside its schema and
returns every *ownable* path with the value found there. Ownable are leaves
(scalars, atomic lists and objects, empty objects and lists) and the elements
of associative lists and sets (the ``.`` of ``FieldsV1``). Objects that have
fields are not themselves ownable: owning ``.spec.replicas`` does not own
``.spec``. :func:`compare` diffs two such maps into added, modified and
removed paths, which is all :mod:`sandbox.api.patch.apply` needs to decide
ownership, conflicts and pruning. :func:`encode_fields` and
:func:`decode_fields` convert a set of paths to and from ``fieldsV1``;
:func:`path_string` prints a path the way conflict messages do
(``.spec.template.spec.containers[name="main"].image``).

An associative list whose elements miss a key field (and the schema gives no
default for it) or repeat a key, and a set with repeated or non-primitive
values, is owned as one atomic value: Kubernetes rejects such objects, the
sandbox degrades gracefully.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.api.patch._schema import (
    ListKind,
    Schema,
    field_schema,
    items_schema,
    list_kind,
    map_is_atomic,
)
from sandbox.api.patch._values import canonical, go_repr, json_equal, normalize_number

__all__ = [
    "ITEM",
    "FieldPath",
    "compare",
    "decode_fields",
    "encode_fields",
    "field_path",
    "field_values",
    "list_elements",
    "path_string",
    "strip_ignored",
]

FieldPath = tuple[str, ...]


class _Item:
    """The value recorded for a list element: only its presence matters."""

    def __repr__(self) -> str:
        return "ITEM"


#: The value :func:`field_values` records at the path of a list element.
ITEM: Any = _Item()


def field_path(*names: str) -> FieldPath:
    """A path of object fields: ``field_path("spec", "replicas")`` → ``("f:spec", "f:replicas")``."""
    return tuple(f"f:{n}" for n in names)


def list_elements(
    value: list[Any], kind: ListKind, item_schema: Schema | None
) -> list[tuple[str, Any]] | None:
    """Each element of a keyed list or set with its path element; ``None`` if it must be atomic."""
    if kind.kind == "atomic":
        return None
    out: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        if kind.kind == "map":
            if not isinstance(item, Mapping):
                return None
            keys: dict[str, Any] = {}
            for name in kind.keys:
                if name in item and item[name] is not None:
                    keys[name] = item[name]
                    continue
                default = (field_schema(item_schema, name) or {}).get("default")
                if default is None:
                    return None
                keys[name] = default
            element = "k:" + canonical(keys)
        else:
            if isinstance(item, (Mapping, list)):
                return None
            element = "v:" + canonical(item)
        if element in seen:
            return None
        seen.add(element)
        out.append((element, item))
    return out


def field_values(obj: Any, schema: Schema | None) -> dict[FieldPath, Any]:
    """Every ownable path of ``obj`` with its value (``ITEM`` for list elements)."""
    out: dict[FieldPath, Any] = {}
    if isinstance(obj, Mapping):
        _walk_fields(obj, schema, (), out)
    return out


def _walk_fields(obj: Mapping[str, Any], schema: Schema | None, path: FieldPath, out: dict[FieldPath, Any]) -> None:
    for key, value in obj.items():
        _walk(value, field_schema(schema, key), (*path, f"f:{key}"), out)


def _walk(value: Any, schema: Schema | None, path: FieldPath, out: dict[FieldPath, Any]) -> None:
    if isinstance(value, Mapping):
        if not value or map_is_atomic(schema):
            out[path] = value
        else:
            _walk_fields(value, schema, path, out)
        return
    if isinstance(value, list):
        kind = list_kind(schema)
        item_schema = items_schema(schema)
        elements = list_elements(value, kind, item_schema) if value else None
        if elements is None:
            out[path] = value
            return
        for element, item in elements:
            out[(*path, element)] = ITEM
            if kind.kind == "map":
                _walk_fields(item, item_schema, (*path, element), out)
        return
    out[path] = value


def strip_ignored(paths: Iterable[FieldPath], ignored: Iterable[FieldPath]) -> set[FieldPath]:
    """``paths`` without any path under (or equal to) an ignored one."""
    ignored = set(ignored)
    if not ignored:
        return set(paths)
    return {p for p in paths if not any(p[:i] in ignored for i in range(1, len(p) + 1))}


def compare(
    old: Mapping[FieldPath, Any], new: Mapping[FieldPath, Any]
) -> tuple[set[FieldPath], set[FieldPath], set[FieldPath]]:
    """``(added, modified, removed)`` between two :func:`field_values` maps."""
    added = {p for p in new if p not in old}
    removed = {p for p in old if p not in new}
    modified = {
        p for p, v in new.items()
        if p in old and v is not ITEM and not json_equal(old[p], v)
    }
    return added, modified, removed


# FieldsV1 -------------------------------------------------------------------------

_RANK = {".": 0, "f": 1, "k": 2, "v": 3, "i": 4}


def _sort_key(element: str) -> tuple[int, str]:
    return (_RANK.get(element[:1], 5), element)


def encode_fields(paths: Iterable[FieldPath]) -> dict[str, Any]:
    """A set of paths as a ``fieldsV1`` tree (``.`` marks an owned node that has children)."""
    owned = set(paths)
    root: dict[str, Any] = {}
    for path in owned:
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in owned:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted_tree(root)


def _sorted_tree(node: dict[str, Any]) -> dict[str, Any]:
    return {k: _sorted_tree(node[k]) for k in sorted(node, key=_sort_key)}


def decode_fields(tree: Any) -> set[FieldPath]:
    """The paths of a ``fieldsV1`` tree (anything that is not a tree decodes to nothing)."""
    out: set[FieldPath] = set()
    if isinstance(tree, Mapping):
        _decode(tree, (), out)
    return out


def _decode(node: Mapping[str, Any], path: FieldPath, out: set[FieldPath]) -> None:
    for element, child in node.items():
        if element == ".":
            if path:
                out.add(path)
            continue
        if not isinstance(element, str) or element[:2] not in ("f:", "k:", "v:", "i:"):
            continue
        here = (*path, element)
        if isinstance(child, Mapping) and child:
            _decode(child, here, out)
        else:
            out.add(here)


# Messages ---------------------------------------------------------------------------


def _value_string(value: Any) -> str:
    """structured-merge-diff's ``value.ToString``: strings quoted, the rest as Go prints them."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    return go_repr(normalize_number(value))


def path_string(path: FieldPath) -> str:
    """A path as conflict messages print it: ``.spec.containers[name="main"].image``."""
    parts: list[str] = []
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + body)
        elif kind == "k:":
            keys = json.loads(body)
            parts.append("[" + ",".join(f"{k}={_value_string(v)}" for k, v in keys.items()) + "]")
        elif kind == "v:":
            parts.append(f"[={_value_string(json.loads(body))}]")
        else:
            parts.append(f"[{body}]")
    return "".join(parts)
