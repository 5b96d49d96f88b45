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
:func:`decode_fields` convert a set of paths to and from ``fieldsV1``, and
:func:`patch_fields` moves an encoded tree by a few paths without
re-encoding the rest (a manager that owns a Workflow's whole status gains a
node's fields per write);
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
    "patch_fields",
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


def patch_fields(tree: Mapping[str, Any], added: Iterable[FieldPath], removed: Iterable[FieldPath]) -> dict[str, Any]:
    """``encode_fields((decode_fields(tree) - removed) | added)``, computed from ``tree``.

    ``tree`` must be as :func:`encode_fields` writes it (sorted, ``.`` exactly
    on owned paths that have children), ``removed`` paths in it and
    ``added`` ones not. ``tree`` is left as it was; the result copies only
    the nodes along the paths that move and shares the rest with it, so
    the cost follows those paths, not the size of the tree.
    """
    patcher = _Patcher(tree)
    for path in removed:
        patcher.remove(path)
    # In encoding order, so that each new key lands last in its node (no re-sorting).
    for path in sorted(added, key=lambda path: [_sort_key(element) for element in path]):
        patcher.add(path)
    return patcher.root


class _Patcher:
    """Copy-on-write edits of a fieldsV1 tree: a node is copied the first time a path goes through it."""

    def __init__(self, tree: Mapping[str, Any]) -> None:
        self.root: dict[str, Any] = dict(tree)
        self._own: set[int] = {id(self.root)}

    def _child(self, node: dict[str, Any], element: str) -> dict[str, Any] | None:
        """``node[element]``, made this patch's own copy (None if absent or not a node)."""
        child = node.get(element)
        if not isinstance(child, dict):
            return None
        if id(child) not in self._own:
            child = dict(child)
            node[element] = child
            self._own.add(id(child))
        return child

    def _new(self, node: dict[str, Any], element: str) -> dict[str, Any]:
        child: dict[str, Any] = {}
        self._own.add(id(child))
        _insert_sorted(node, element, child)
        return child

    def add(self, path: FieldPath) -> None:
        node = self.root
        last = len(path) - 1
        for depth, element in enumerate(path):
            child = self._child(node, element)
            if child is None:
                child = self._new(node, element)
            elif not child and depth < last:
                # An owned leaf gains a descendant: still owned, now with children.
                self._new(child, ".")
            node = child
        if node and "." not in node:
            self._new(node, ".")

    def remove(self, path: FieldPath) -> None:
        trail: list[tuple[dict[str, Any], str]] = []
        node = self.root
        for element in path:
            child = self._child(node, element)
            if child is None:
                return
            trail.append((node, element))
            node = child
        if any(key != "." for key in node):
            node.pop(".", None)  # still there for its children, no longer owned
            return
        parent, element = trail.pop()
        del parent[element]
        while trail:
            if not parent:  # an unowned node left without children goes too
                parent, element = trail.pop()
                del parent[element]
            elif len(parent) == 1 and "." in parent:  # an owned node left without children: a leaf again
                parent.clear()
                return
            else:
                return


def _insert_sorted(node: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    """Add ``key`` to ``node`` keeping :func:`encode_fields`' order."""
    last = next(reversed(node), None)
    node[key] = value
    if last is not None and _sort_key(key) < _sort_key(last):
        items = sorted(node.items(), key=lambda item: _sort_key(item[0]))
        node.clear()
        node.update(items)


def decode_fields(tree: Any) -> set[FieldPath]:
    """The paths of a ``fieldsV1`` tree (anything that is not a tree decodes to nothing)."""
    out: set[FieldPath] = set()
    if isinstance(tree, Mapping):
        _decode(tree, (), out)
    return out


_PREFIXES = frozenset(("f:", "k:", "v:", "i:"))


def _decode(node: Mapping[str, Any], path: FieldPath, out: set[FieldPath]) -> None:
    for element, child in node.items():
        if element == ".":
            if path:
                out.add(path)
            continue
        if not isinstance(element, str) or element[:2] not in _PREFIXES:
            continue
        here = (*path, element)
        # dict first: the ABC check costs more than the rest of the walk.
        if child and isinstance(child, (dict, Mapping)):
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
