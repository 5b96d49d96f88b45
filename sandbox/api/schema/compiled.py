"""Schemas compiled once into checker nodes, so each object is walked cheaply.

A schema is a tree of plain dicts; reading it per object (``node.get("type")``,
``"properties" in node`` ...) costs more than the checks themselves. The
walkers of this package (validation, unknown fields, pruning, defaulting)
instead use :class:`Node` objects built once per schema by
:func:`compile_schema`: Python types to accept, child nodes by property name,
compiled regular expressions, precomputed defaults.

Data flow: ``schema dict --compile_schema--> Node graph`` (cached by the
identity of the root dict) ``--walkers--> errors / paths / changes``.

The compiled graph mirrors the schema's sharing: a sub-schema dict reached
twice (a resolved ``$ref``) becomes one node, and a cycle in the schema
(``JSONSchemaProps``) becomes a cycle of nodes, so compilation terminates and
never walks a schema without data. Schemas are treated as immutable once
compiled; replace a schema dict instead of editing it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["Node", "compile_schema"]

#: Python types accepted for each OpenAPI type (``bool`` is not an ``int`` here).
PY_TYPES: dict[str, frozenset[type]] = {
    "object": frozenset({dict}),
    "array": frozenset({list}),
    "string": frozenset({str}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
}

_MISSING = object()


class Node:
    """One compiled schema node. Attributes mirror the OpenAPI keywords."""

    __slots__ = (
        "additional",
        "additional_forbidden",
        "all_of",
        "any_of",
        "default",
        "defaulted",
        "embedded",
        "enum",
        "enum_values",
        "exclusive_maximum",
        "exclusive_minimum",
        "format",
        "has_composition",
        "has_default",
        "int_or_string",
        "items",
        "list_map_keys",
        "list_type",
        "max_items",
        "max_length",
        "max_properties",
        "maximum",
        "min_items",
        "min_length",
        "min_properties",
        "minimum",
        "multiple_of",
        "not_",
        "nullable",
        "object_checks",
        "ok_types",
        "one_of",
        "pattern",
        "pattern_text",
        "preserve_unknown",
        "properties",
        "required",
        "scalar_checks",
        "schema",
        "simple",
        "type",
        "type_name",
    )

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        type_ = schema.get("type")
        if isinstance(type_, list):
            names = [t for t in type_ if t != "null"]
            type_ = names[0] if len(names) == 1 else None
        self.type: str | None = type_ if isinstance(type_, str) else None
        self.nullable: bool = bool(schema.get("nullable")) or (
            isinstance(schema.get("type"), list) and "null" in schema["type"]
        )
        self.format: str | None = schema.get("format")
        self.int_or_string: bool = bool(schema.get("x-kubernetes-int-or-string"))
        self.preserve_unknown: bool = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        self.embedded: bool = bool(schema.get("x-kubernetes-embedded-resource"))

        ok_types: frozenset[type] | None
        if self.int_or_string:
            if self.format == "quantity":
                ok_types = frozenset({int, float, str})
                self.type_name = "integer,string"
            else:
                ok_types = frozenset({int, str})
                self.type_name = "integer,string"
        elif self.type in PY_TYPES:
            ok_types = PY_TYPES[self.type]
            self.type_name = self.type
        else:
            ok_types = None
            self.type_name = self.type or ""
        self.ok_types = ok_types

        enum = schema.get("enum")
        self.enum: tuple[Any, ...] | None = tuple(enum) if isinstance(enum, list) else None
        self.enum_values: frozenset[Any] | None = None
        if self.enum is not None:
            try:
                self.enum_values = frozenset(self.enum)
            except TypeError:
                self.enum_values = None
        pattern = schema.get("pattern")
        self.pattern_text: str | None = pattern if isinstance(pattern, str) else None
        self.pattern: re.Pattern[str] | None = _compile_pattern(pattern)
        self.minimum: float | None = schema.get("minimum")
        self.maximum: float | None = schema.get("maximum")
        # OpenAPI v3.0 uses booleans modifying minimum/maximum; JSON Schema
        # 2019+ uses numbers. Normalise to the former.
        excl_min = schema.get("exclusiveMinimum")
        excl_max = schema.get("exclusiveMaximum")
        if isinstance(excl_min, (int, float)) and not isinstance(excl_min, bool):
            self.minimum, excl_min = excl_min, True
        if isinstance(excl_max, (int, float)) and not isinstance(excl_max, bool):
            self.maximum, excl_max = excl_max, True
        self.exclusive_minimum: bool = bool(excl_min)
        self.exclusive_maximum: bool = bool(excl_max)
        self.multiple_of: float | None = schema.get("multipleOf")
        self.min_length: int | None = schema.get("minLength")
        self.max_length: int | None = schema.get("maxLength")
        self.min_items: int | None = schema.get("minItems")
        self.max_items: int | None = schema.get("maxItems")
        self.min_properties: int | None = schema.get("minProperties")
        self.max_properties: int | None = schema.get("maxProperties")
        self.list_type: str | None = schema.get("x-kubernetes-list-type")
        self.list_map_keys: tuple[str, ...] = tuple(schema.get("x-kubernetes-list-map-keys") or ())
        required = schema.get("required")
        self.required: tuple[str, ...] = tuple(required) if isinstance(required, list) else ()

        default = schema.get("default", _MISSING)
        self.has_default: bool = default is not _MISSING
        self.default: Any = None if default is _MISSING else default

        # Children are filled by compile_schema.
        self.properties: dict[str, Node] | None = None
        self.additional: Node | None = None
        self.additional_forbidden: bool = schema.get("additionalProperties") is False
        self.items: Node | None = None
        self.all_of: tuple[Node, ...] = ()
        self.any_of: tuple[Node, ...] = ()
        self.one_of: tuple[Node, ...] = ()
        self.not_: Node | None = None
        #: (property name, child) for properties that declare a default.
        self.defaulted: tuple[tuple[str, Node], ...] = ()

        self.scalar_checks: bool = (
            any(
                v is not None
                for v in (
                    self.enum,
                    self.pattern_text,
                    self.minimum,
                    self.maximum,
                    self.multiple_of,
                    self.min_length,
                    self.max_length,
                )
            )
            or self.format in _CHECKED_FORMATS
        )
        self.has_composition = False
        self.object_checks = False
        self.simple = False

    def _finish(self) -> None:
        self.has_composition = bool(self.all_of or self.any_of or self.one_of or self.not_)
        self.object_checks = bool(
            self.properties
            or self.additional is not None
            or self.additional_forbidden
            or self.required
            or self.min_properties is not None
            or self.max_properties is not None
            or self.embedded
        )
        # A leaf whose only check is its type: parents test it inline.
        self.simple = (
            self.ok_types is not None
            and self.type not in ("object", "array")
            and not self.scalar_checks
            and not self.has_composition
        )
        if self.properties:
            self.defaulted = tuple(
                (name, child) for name, child in self.properties.items() if child.has_default
            )

    def __repr__(self) -> str:
        return f"<Node type={self.type_name or 'any'}>"


#: Formats the validator checks; others are accepted as any string, like kube-openapi.
_CHECKED_FORMATS = frozenset(
    {
        "int32",
        "int64",
        "date-time",
        "datetime",
        "date",
        "byte",
        "uuid",
        "ipv4",
        "ipv6",
        "cidr",
        "quantity",
    }
)


def _compile_pattern(pattern: Any) -> re.Pattern[str] | None:
    if not isinstance(pattern, str):
        return None
    try:
        return re.compile(pattern)
    except re.error:
        # Go's RE2 accepts a few things Python does not (and vice versa);
        # an uncompilable pattern is reported by validate_structural, not here.
        return None


_cache_lock = threading.Lock()
_cache: dict[int, tuple[Mapping[str, Any], Node]] = {}
_CACHE_LIMIT = 512


def compile_schema(schema: Mapping[str, Any]) -> Node:
    """The compiled graph of ``schema``, cached by the identity of the dict."""
    hit = _cache.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    memo: dict[int, Node] = {}
    root = _compile(schema, memo)
    for node in memo.values():
        node._finish()
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            # Schemas of deleted or replaced CRDs: drop the oldest entries.
            for key in list(_cache)[: _CACHE_LIMIT // 4]:
                del _cache[key]
        _cache[id(schema)] = (schema, root)
    return root


def _compile(schema: Mapping[str, Any], memo: dict[int, Node]) -> Node:
    # Iterative over an explicit stack: deep CRD schemas stay far from the
    # recursion limit, and memo makes shared sub-schemas and cycles one node.
    root = Node(schema)
    memo[id(schema)] = root
    stack: list[Node] = [root]

    def child(sub: Any) -> Node | None:
        if not isinstance(sub, Mapping):
            return None
        node = memo.get(id(sub))
        if node is None:
            node = Node(sub)
            memo[id(sub)] = node
            stack.append(node)
        return node

    while stack:
        node = stack.pop()
        s = node.schema
        props = s.get("properties")
        if isinstance(props, Mapping) and props:
            compiled: dict[str, Node] = {}
            for name, sub in props.items():
                c = child(sub)
                if c is not None:
                    compiled[name] = c
            node.properties = compiled
        additional = s.get("additionalProperties")
        if isinstance(additional, Mapping):
            node.additional = child(additional)
        elif additional is True and not props:
            # ``additionalProperties: true``: any value, kept by pruning.
            node.preserve_unknown = True
        items = s.get("items")
        if isinstance(items, Mapping):
            node.items = child(items)
        for key, attr in (("allOf", "all_of"), ("anyOf", "any_of"), ("oneOf", "one_of")):
            subs = s.get(key)
            if isinstance(subs, list) and subs:
                setattr(node, attr, tuple(c for c in (child(x) for x in subs) if c is not None))
        if isinstance(s.get("not"), Mapping):
            node.not_ = child(s["not"])
    return root
