"""Is a CRD's ``openAPIV3Schema`` acceptable? The checks kube-apiserver makes.

An ``apiextensions.k8s.io/v1`` CRD must carry a *structural* schema: every
node says what it is (``type``), value validations (``allOf``, ``anyOf``,
``oneOf``, ``not``) only restrict what the node already declares, and
``metadata`` may only restrict ``name`` and ``generateName``. Pruning,
defaulting and strict field validation depend on it, which is why the API
server rejects the CRD otherwise.

:func:`validate_structural` runs, like Kubernetes, in two stages:

1. the OpenAPI checks (no ``$ref``; ``additionalProperties`` not with
   ``properties`` and not ``false``; no ``uniqueItems``; valid
   ``x-kubernetes-list-type``; patterns that compile; ``type`` empty for
   ``x-kubernetes-int-or-string``); if any fails, only these are reported;
2. the structural invariants, sorted by message as Kubernetes sorts them:
   ``spec.versions[0].schema.openAPIV3Schema.properties[spec].type:
   Required value: must not be empty for specified object fields``.

Left out: the completeness check (fields named in value validations must be
declared outside them too), CEL rules, and validating ``default`` values
against the schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import FieldError

__all__ = ["validate_structural"]

_ROOT, _ITEM, _FIELD = "root", "item", "field"
_EMPTY_TYPE = {
    _ROOT: "must not be empty at the root",
    _ITEM: "must not be empty for specified array items",
    _FIELD: "must not be empty for specified object fields",
}
_LIST_TYPES = ("atomic", "set", "map")
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _key(path: str, name: str, key: str) -> str:
    return f"{_child(path, name)}[{key}]"


def validate_structural(schema: Mapping[str, Any], *, path: str = "") -> list[FieldError]:
    """Why ``schema`` is not an acceptable structural CRD schema (empty when it is)."""
    errors: list[FieldError] = []
    _openapi_checks(schema, path, errors)
    if errors:
        return errors
    _invariants(schema, _ROOT, path, errors)
    errors.sort(key=lambda e: e.message)
    return errors


# Stage 1: OpenAPI-level checks ------------------------------------------------


def _openapi_checks(s: Any, path: str, errors: list[FieldError]) -> None:
    if not isinstance(s, Mapping):
        return
    if "$ref" in s:
        errors.append(FieldError("Forbidden", _child(path, "$ref"), detail="$ref is not supported"))
    additional = s.get("additionalProperties")
    if additional is not None and s.get("properties"):
        errors.append(
            FieldError(
                "Forbidden",
                _child(path, "additionalProperties"),
                detail="additionalProperties and properties are mutual exclusive",
            )
        )
    elif additional is False:
        errors.append(
            FieldError(
                "Forbidden",
                _child(path, "additionalProperties"),
                detail="additionalProperties cannot be set to false",
            )
        )
    if s.get("uniqueItems") is True:
        errors.append(
            FieldError(
                "Forbidden",
                _child(path, "uniqueItems"),
                detail="uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            )
        )
    list_type = s.get("x-kubernetes-list-type")
    if list_type is not None and list_type not in _LIST_TYPES:
        errors.append(
            FieldError(
                "NotSupported",
                _child(path, "x-kubernetes-list-type"),
                value=list_type,
                supported=_LIST_TYPES,
            )
        )
    if list_type == "map" and not s.get("x-kubernetes-list-map-keys"):
        errors.append(
            FieldError(
                "Required",
                _child(path, "x-kubernetes-list-map-keys"),
                detail="must not be empty if x-kubernetes-list-type is map",
            )
        )
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.append(
                FieldError(
                    "Invalid",
                    _child(path, "pattern"),
                    value=pattern,
                    detail=f"must be a valid regular expression, but isn't: {exc}",
                )
            )
    if s.get("x-kubernetes-int-or-string") and s.get("type"):
        errors.append(
            FieldError(
                "Invalid",
                _child(path, "type"),
                value=s["type"],
                detail="must be empty if x-kubernetes-int-or-string is true",
            )
        )
    for name, sub in (s.get("properties") or {}).items():
        _openapi_checks(sub, _key(path, "properties", name), errors)
    if isinstance(s.get("items"), Mapping):
        _openapi_checks(s["items"], _child(path, "items"), errors)
    if isinstance(additional, Mapping):
        _openapi_checks(additional, _child(path, "additionalProperties"), errors)
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(s.get(junctor) or ()):
            _openapi_checks(sub, f"{_child(path, junctor)}[{i}]", errors)
    if isinstance(s.get("not"), Mapping):
        _openapi_checks(s["not"], _child(path, "not"), errors)


# Stage 2: structural invariants ----------------------------------------------


def _invariants(s: Any, level: str, path: str, errors: list[FieldError]) -> None:
    if not isinstance(s, Mapping):
        return
    type_ = s.get("type") or ""
    int_or_string = bool(s.get("x-kubernetes-int-or-string"))
    preserve = s.get("x-kubernetes-preserve-unknown-fields")
    embedded = bool(s.get("x-kubernetes-embedded-resource"))
    properties: Mapping[str, Any] = s.get("properties") or {}

    if type_ == "array" and s.get("items") is None:
        errors.append(FieldError("Required", _child(path, "items"), detail="must be specified"))
    if isinstance(s.get("items"), Mapping):
        _invariants(s["items"], _ITEM, _child(path, "items"), errors)
    for name, sub in properties.items():
        _invariants(sub, _FIELD, _key(path, "properties", name), errors)
    additional = s.get("additionalProperties")
    if additional is not None and level == _ROOT:
        errors.append(
            FieldError(
                "Forbidden",
                _child(path, "additionalProperties"),
                detail="must not be used at the root",
            )
        )
    if isinstance(additional, Mapping):
        _invariants(additional, _FIELD, _child(path, "additionalProperties"), errors)

    if preserve is False:
        errors.append(
            FieldError(
                "Invalid",
                _child(path, "x-kubernetes-preserve-unknown-fields"),
                value=False,
                detail="must be true or undefined",
            )
        )
    if int_or_string and preserve:
        errors.append(
            FieldError(
                "Invalid",
                _child(path, "x-kubernetes-preserve-unknown-fields"),
                value=True,
                detail="must be false if x-kubernetes-int-or-string is true",
            )
        )
    if int_or_string and embedded:
        errors.append(
            FieldError(
                "Invalid",
                _child(path, "x-kubernetes-embedded-resource"),
                value=True,
                detail="must be false if x-kubernetes-int-or-string is true",
            )
        )

    _value_validation(s, level, path, errors)

    if embedded and type_ != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        if not type_:
            errors.append(FieldError("Required", _child(path, "type"), detail=detail))
        else:
            errors.append(FieldError("Invalid", _child(path, "type"), value=type_, detail=detail))
    elif not type_ and not int_or_string and not preserve:
        errors.append(FieldError("Required", _child(path, "type"), detail=_EMPTY_TYPE[level]))
    if embedded and additional is not None:
        errors.append(
            FieldError(
                "Forbidden",
                _child(path, "additionalProperties"),
                detail="must not be used if x-kubernetes-embedded-resource is set",
            )
        )
    if level == _ROOT and type_ and type_ != "object":
        errors.append(
            FieldError(
                "Invalid", _child(path, "type"), value=type_, detail="must be object at the root"
            )
        )

    if level == _ROOT or embedded:
        for name, expected in (
            ("kind", "string"),
            ("apiVersion", "string"),
            ("metadata", "object"),
        ):
            sub = properties.get(name)
            if isinstance(sub, Mapping) and sub.get("type", "") != expected:
                errors.append(
                    FieldError(
                        "Invalid",
                        _child(_key(path, "properties", name), "type"),
                        value=sub.get("type", ""),
                        detail=f"must be {expected}",
                    )
                )
    metadata = properties.get("metadata")
    if (
        level == _ROOT
        and isinstance(metadata, Mapping)
        and not _metadata_restricts_only_names(metadata)
    ):
        errors.append(
            FieldError(
                "Forbidden",
                _key(path, "properties", "metadata"),
                detail="must not specify anything other than name and generateName, "
                "but metadata is implicitly specified",
            )
        )
    if embedded and not preserve and not properties:
        errors.append(
            FieldError(
                "Required",
                _child(path, "properties"),
                detail="must not be empty if x-kubernetes-embedded-resource is true "
                "without x-kubernetes-preserve-unknown-fields",
            )
        )


def _metadata_restricts_only_names(metadata: Mapping[str, Any]) -> bool:
    allowed_everywhere = {"type", "description"}
    props = metadata.get("properties") or {}
    if set(props) - {"name", "generateName"}:
        return False
    return not (set(metadata) - allowed_everywhere - {"properties"})


def _value_validation(
    s: Mapping[str, Any], level: str, path: str, errors: list[FieldError]
) -> None:
    any_of = s.get("anyOf") or []
    all_of = s.get("allOf") or []
    skip_any_of = any_of == _INT_OR_STRING_ANY_OF
    skip_first_all_of = (
        bool(all_of)
        and isinstance(all_of[0], Mapping)
        and (all_of[0].get("anyOf") == _INT_OR_STRING_ANY_OF)
    )
    if not skip_any_of:
        for i, sub in enumerate(any_of):
            _nested(sub, False, level, f"{_child(path, 'anyOf')}[{i}]", errors)
    for i, sub in enumerate(all_of):
        _nested(sub, skip_first_all_of and i == 0, level, f"{_child(path, 'allOf')}[{i}]", errors)
    for i, sub in enumerate(s.get("oneOf") or []):
        _nested(sub, False, level, f"{_child(path, 'oneOf')}[{i}]", errors)
    if isinstance(s.get("not"), Mapping):
        _nested(s["not"], False, level, _child(path, "not"), errors)


_FORBIDDEN_IN_VALUE_VALIDATION: tuple[tuple[str, str], ...] = (
    ("type", "must be empty to be structural"),
    ("additionalProperties", "must be undefined to be structural"),
    ("default", "must be undefined to be structural"),
    ("title", "must be empty to be structural"),
    ("description", "must be empty to be structural"),
    ("nullable", "must be false to be structural"),
    ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
    ("x-kubernetes-embedded-resource", "must be false to be structural"),
    ("x-kubernetes-int-or-string", "must be false to be structural"),
    ("x-kubernetes-list-map-keys", "must be empty to be structural"),
    ("x-kubernetes-list-type", "must be undefined to be structural"),
)


def _nested(s: Any, skip_any_of: bool, level: str, path: str, errors: list[FieldError]) -> None:
    """A schema under allOf/anyOf/oneOf/not: it may only restrict values."""
    if not isinstance(s, Mapping):
        return
    if skip_any_of:
        s = {k: v for k, v in s.items() if k != "anyOf"}
    _value_validation(s, level, path, errors)
    if isinstance(s.get("items"), Mapping):
        _nested(s["items"], False, level, _child(path, "items"), errors)
    for name, sub in (s.get("properties") or {}).items():
        _nested(sub, False, _FIELD, _key(path, "properties", name), errors)
    for key, detail in _FORBIDDEN_IN_VALUE_VALIDATION:
        value = s.get(key)
        if value in (None, False, "", [], {}):
            continue
        errors.append(FieldError("Forbidden", _child(path, key), detail=detail))
    if "metadata" in (s.get("properties") or {}):
        errors.append(
            FieldError(
                "Forbidden",
                _key(path, "properties", "metadata"),
                detail="must not be specified in a nested context",
            )
        )
