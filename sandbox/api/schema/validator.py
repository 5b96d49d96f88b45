"""Validate an object against an OpenAPI v3 schema, with kube-apiserver's words.

:func:`validate` walks the object and the compiled schema together (see
:mod:`sandbox.api.schema.compiled`); only the parts of the schema the data
reaches are visited. It returns :class:`~sandbox.api.errors.FieldError`
values worded as kube-apiserver words CRD validation errors, which come from
kube-openapi's validator converted to ``field.Error``:

- wrong type: ``spec.replicas: Invalid value: "string": spec.replicas in
  body must be of type integer: "string"`` (the value shown is the *type*
  found, as Kubernetes shows it);
- missing required: ``spec.containers: Required value``;
- enum: ``spec.mode: Unsupported value: "x": supported values: "a", "b"``;
- pattern, bounds, lengths: ``... in body should match '^a$'``,
  ``... should be greater than or equal to 0``, ``... should be at least 1
  chars long``; ``maxLength`` and ``maxItems`` become ``Too long``/``Too many``;
- list types: ``spec.ports[1]: Duplicate value: map[string]interface
  {}{"name":"a"}``;
- allOf/anyOf/oneOf/not: the sub-schemas' errors and
  ``<nil>: Invalid value: "": "spec.x" must validate at least one schema (anyOf)``.

Paths follow kube-openapi: properties and map keys joined with ``.``
(``metadata.labels.app``), list items ``[i]``. The in-message name is
relative to the validated object; ``path`` prefixes the field path only.

:func:`unknown_fields` lists what ``fieldValidation=Strict`` rejects
(``unknown field "spec.foo"``), using the paths of Kubernetes' pruning
(map keys as ``[key]``).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sandbox.api.errors import FieldError
from sandbox.api.schema.builtin import object_meta_schema
from sandbox.api.schema.compiled import Node, compile_schema
from sandbox.api.schema.gofmt import go_interface

__all__ = ["type_name", "unknown_fields", "validate"]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
#: What Go's resource.Quantity says about a string it cannot parse.
QUANTITY_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


def type_name(value: Any) -> str:
    """The JSON type of a value, as kube-openapi names it in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _join(prefix: str, rel: str) -> str:
    if not prefix:
        return rel
    if not rel:
        return prefix
    return prefix + rel if rel[0] == "[" else f"{prefix}.{rel}"


# Quantity parsing comes from sandbox.api.quantity, imported on first need so
# this module works (skipping the check) before that module exists.
_parse_quantity: Callable[[str], Any] | None = None
_quantity_loaded = False


def _quantity_parser() -> Callable[[str], Any] | None:
    global _parse_quantity, _quantity_loaded
    if not _quantity_loaded:
        try:
            from sandbox.api.quantity import parse_quantity
        except ImportError:
            parse_quantity = None  # type: ignore[assignment]
        _parse_quantity = parse_quantity
        _quantity_loaded = True
    return _parse_quantity


def _datetime_ok(value: str) -> bool:
    if not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return False
    return True


def _format_ok(fmt: str, value: str) -> bool:
    """Whether a string satisfies a ``format`` (unknown formats always do)."""
    try:
        if fmt in ("date-time", "datetime"):
            return _datetime_ok(value)
        if fmt == "date":
            return bool(_DATE.match(value)) and bool(date.fromisoformat(value))
        if fmt == "byte":
            base64.b64decode(value, validate=True)
            return True
        if fmt == "uuid":
            return bool(_UUID.match(value))
        if fmt == "ipv4":
            ipaddress.IPv4Address(value)
            return True
        if fmt == "ipv6":
            ipaddress.IPv6Address(value)
            return True
        if fmt == "cidr":
            ipaddress.ip_network(value, strict=False)
            return "/" in value
    except ValueError:
        return False
    return True


class _Walk:
    """One validation pass: the path prefix, options, and the errors found."""

    __slots__ = ("errors", "list_types", "prefix")

    def __init__(self, prefix: str, list_types: bool) -> None:
        self.prefix = prefix
        self.list_types = list_types
        self.errors: list[FieldError] = []

    # Error helpers ---------------------------------------------------------

    def _field(self, rel: str) -> str:
        return _join(self.prefix, rel) if self.prefix else rel

    def _type_error(self, node: Node, value: Any, rel: str) -> None:
        found = type_name(value)
        detail = f'{rel} in body must be of type {node.type_name}: "{found}"'.lstrip()
        self.errors.append(FieldError("TypeInvalid", self._field(rel), value=found, detail=detail))

    def _invalid(self, rel: str, value: Any, detail: str) -> None:
        self.errors.append(
            FieldError("Invalid", self._field(rel), value=value, detail=detail.lstrip())
        )

    def _composite(self, rel: str, message: str) -> None:
        # kube-openapi reports these as plain errors, which Kubernetes places
        # at the root of the validated object ("<nil>" when there is none).
        self.errors.append(
            FieldError("Invalid", self.prefix or "<nil>", value="", detail=f'"{rel}" {message}')
        )

    # The walk -------------------------------------------------------------

    def check(self, node: Node, value: Any, rel: str) -> None:
        if value is None:
            if node.nullable or node.ok_types is None:
                return
            self._type_error(node, value, rel)
            return
        tp = type(value)
        ok = node.ok_types
        if ok is not None and tp not in ok and not self._type_ok_slow(node, value):
            self._type_error(node, value, rel)
            return
        if isinstance(value, dict):
            if node.object_checks:
                self._object(node, value, rel)
        elif isinstance(value, list):
            self._array(node, value, rel)
        elif node.scalar_checks:
            self._scalar(node, value, rel)
        if node.has_composition:
            self._composition(node, value, rel)

    @staticmethod
    def _type_ok_slow(node: Node, value: Any) -> bool:
        ok = node.ok_types
        assert ok is not None
        if isinstance(value, bool):
            return bool in ok
        if isinstance(value, float):
            # JSON has one number type: 3.0 is an integer, as in Kubernetes.
            return int in ok and value.is_integer()
        if isinstance(value, int):
            return int in ok
        if isinstance(value, str):
            return str in ok
        if isinstance(value, Mapping):
            return dict in ok
        if isinstance(value, list):
            return list in ok
        return False

    def _object(self, node: Node, value: dict[str, Any], rel: str) -> None:
        errors = self.errors
        for key in node.required:
            if key not in value:
                errors.append(FieldError("Required", self._field(f"{rel}.{key}" if rel else key)))
        if node.embedded:
            for key in ("apiVersion", "kind"):
                if key not in value:
                    errors.append(
                        FieldError(
                            "Required",
                            self._field(f"{rel}.{key}" if rel else key),
                            detail="must not be empty",
                        )
                    )
        count = len(value)
        if node.min_properties is not None and count < node.min_properties:
            self._invalid(
                rel,
                node.min_properties,
                f"{rel} in body should have at least {node.min_properties} properties",
            )
        if node.max_properties is not None and count > node.max_properties:
            errors.append(
                FieldError(
                    "TooMany",
                    self._field(rel),
                    text=f"Too many: {count}: must have at most {node.max_properties} items",
                )
            )
        props = node.properties
        additional = node.additional
        for key, item in value.items():
            child = props.get(key) if props is not None else None
            if child is None:
                if additional is not None:
                    child = additional
                elif node.additional_forbidden:
                    name = f"{rel}.{key}" if rel else key
                    self._invalid(rel, key, f"{name} in body is a forbidden property")
                    continue
                else:
                    continue
            if child.simple and type(item) in child.ok_types:  # type: ignore[operator]
                continue
            self.check(child, item, f"{rel}.{key}" if rel else key)

    def _array(self, node: Node, value: list[Any], rel: str) -> None:
        size = len(value)
        if node.min_items is not None and size < node.min_items:
            self._invalid(rel, size, f"{rel} in body should have at least {node.min_items} items")
        if node.max_items is not None and size > node.max_items:
            self.errors.append(
                FieldError(
                    "TooMany",
                    self._field(rel),
                    text=f"Too many: {size}: must have at most {node.max_items} items",
                )
            )
        items = node.items
        if items is not None:
            ok = items.ok_types
            simple = items.simple
            for i, item in enumerate(value):
                if simple and type(item) in ok:  # type: ignore[operator]
                    continue
                self.check(items, item, f"{rel}[{i}]")
        if self.list_types and node.list_type in ("set", "map") and size > 1:
            self._list_type(node, value, rel)

    def _list_type(self, node: Node, value: list[Any], rel: str) -> None:
        seen: set[Any] = set()
        if node.list_type == "set":
            for i, item in enumerate(value):
                key = (
                    json.dumps(item, sort_keys=True)
                    if isinstance(item, (dict, list))
                    else (type(item), item)
                )
                if key in seen:
                    shown = go_interface(item) if isinstance(item, (dict, list)) else item
                    self.errors.append(
                        FieldError("Duplicate", self._field(f"{rel}[{i}]"), value=shown)
                    )
                seen.add(key)
            return
        keys = node.list_map_keys
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            present = {k: item[k] for k in keys if k in item}
            key = json.dumps(present, sort_keys=True)
            if key in seen:
                self.errors.append(
                    FieldError("Duplicate", self._field(f"{rel}[{i}]"), value=go_interface(present))
                )
            seen.add(key)

    def _scalar(self, node: Node, value: Any, rel: str) -> None:
        if node.enum is not None:
            allowed = node.enum_values
            found = value in allowed if allowed is not None else value in node.enum
            if not found:
                supported = tuple(v if isinstance(v, str) else json.dumps(v) for v in node.enum)
                self.errors.append(
                    FieldError("NotSupported", self._field(rel), value=value, supported=supported)
                )
        if isinstance(value, str):
            self._string(node, value, rel)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(node, value, rel)

    def _string(self, node: Node, value: str, rel: str) -> None:
        if node.min_length is not None and len(value) < node.min_length:
            self._invalid(
                rel, value, f"{rel} in body should be at least {node.min_length} chars long"
            )
        if node.max_length is not None and len(value) > node.max_length:
            self.errors.append(
                FieldError(
                    "TooLong",
                    self._field(rel),
                    value=value,
                    detail=f"may not be longer than {node.max_length}",
                )
            )
        if node.pattern is not None and not node.pattern.search(value):
            self._invalid(rel, value, f"{rel} in body should match '{node.pattern_text}'")
        fmt = node.format
        if fmt is None:
            return
        if fmt == "quantity":
            parse = _quantity_parser()
            if parse is not None:
                try:
                    parse(value)
                except ValueError:
                    self._invalid(rel, value, QUANTITY_MESSAGE)
        elif not _format_ok(fmt, value):
            detail = f'{rel} in body must be of type {fmt}: "{value}"'.lstrip()
            self.errors.append(
                FieldError("TypeInvalid", self._field(rel), value=value, detail=detail)
            )

    def _number(self, node: Node, value: float, rel: str) -> None:
        if node.minimum is not None:
            low = node.minimum
            if value < low or (node.exclusive_minimum and value == low):
                word = "greater than" if node.exclusive_minimum else "greater than or equal to"
                self._invalid(rel, value, f"{rel} in body should be {word} {_num(low)}")
        if node.maximum is not None:
            high = node.maximum
            if value > high or (node.exclusive_maximum and value == high):
                word = "less than" if node.exclusive_maximum else "less than or equal to"
                self._invalid(rel, value, f"{rel} in body should be {word} {_num(high)}")
        if node.multiple_of:
            quotient = value / node.multiple_of
            if not float(quotient).is_integer():
                self._invalid(
                    rel, value, f"{rel} in body should be a multiple of {_num(node.multiple_of)}"
                )
        fmt = node.format
        if fmt in ("int32", "int64"):
            low, high = _INT32 if fmt == "int32" else _INT64
            if not (low <= value <= high):
                detail = f"{rel} in body must be of type {fmt}".lstrip()
                self.errors.append(
                    FieldError("TypeInvalid", self._field(rel), value=value, detail=detail)
                )

    def _sub(self, node: Node, value: Any, rel: str) -> list[FieldError]:
        walk = _Walk(self.prefix, self.list_types)
        walk.check(node, value, rel)
        return walk.errors

    def _composition(self, node: Node, value: Any, rel: str) -> None:
        if node.all_of:
            passed = 0
            for sub in node.all_of:
                errs = self._sub(sub, value, rel)
                self.errors.extend(errs)
                passed += not errs
            if passed != len(node.all_of):
                extra = ". Neither validated" if passed == 0 else ""
                self._composite(rel, f"must validate all the schemas (allOf){extra}")
        if node.any_of:
            results = [self._sub(sub, value, rel) for sub in node.any_of]
            if all(results):
                self._composite(rel, "must validate at least one schema (anyOf)")
                self.errors.extend(min(results, key=len))
        if node.one_of:
            results = [self._sub(sub, value, rel) for sub in node.one_of]
            valid = sum(1 for errs in results if not errs)
            if valid == 0:
                self._composite(
                    rel, "must validate one and only one schema (oneOf). Found none valid"
                )
                self.errors.extend(min(results, key=len))
            elif valid > 1:
                self._composite(
                    rel,
                    f"must validate one and only one schema (oneOf). Found {valid} valid alternatives",
                )
        if node.not_ is not None and not self._sub(node.not_, value, rel):
            self._composite(rel, "must not validate the schema (not)")


def validate(
    obj: Any, schema: Mapping[str, Any], *, path: str = "", list_types: bool = True
) -> list[FieldError]:
    """Check ``obj`` against ``schema``; the errors Kubernetes would report, in walk order.

    ``path`` prefixes every field path (validating a default value at
    ``spec.versions[0]...default``). ``list_types=False`` skips the
    ``x-kubernetes-list-type`` uniqueness checks, which Kubernetes applies
    to custom resources only: built-in kinds check duplicates in Go, with
    their own messages (:mod:`sandbox.api.validation`).
    """
    walk = _Walk(path, list_types)
    walk.check(compile_schema(schema), obj, "")
    return walk.errors


# Unknown fields ---------------------------------------------------------------

_ROOT_KEYS = frozenset({"apiVersion", "kind"})


def _object_meta_node() -> Node:
    return compile_schema(object_meta_schema())


def unknown_fields(obj: Any, schema: Mapping[str, Any]) -> list[str]:
    """Paths of fields ``schema`` does not know (sorted), for ``fieldValidation=Strict``.

    The caller words them as Kubernetes does: ``unknown field "spec.foo"``.
    At the root and in embedded resources ``apiVersion`` and ``kind`` are
    always known and ``metadata`` is checked against ``ObjectMeta``.
    """
    found: list[str] = []
    _unknown(compile_schema(schema), obj, "", found, True, _object_meta_node())
    found.sort()
    return found


def _unknown(node: Node, value: Any, path: str, found: list[str], root: bool, meta: Node) -> None:
    if isinstance(value, dict):
        props = node.properties
        additional = node.additional
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if root:
                if key in _ROOT_KEYS:
                    continue
                if key == "metadata":
                    _unknown(meta, item, sub, found, False, meta)
                    continue
            child = props.get(key) if props is not None else None
            if child is not None:
                _unknown(child, item, sub, found, child.embedded, meta)
            elif additional is not None:
                _unknown(additional, item, f"{path}[{key}]", found, additional.embedded, meta)
            elif not node.preserve_unknown:
                found.append(sub)
    elif isinstance(value, list):
        items = node.items
        if items is not None:
            for i, item in enumerate(value):
                _unknown(items, item, f"{path}[{i}]", found, items.embedded, meta)
