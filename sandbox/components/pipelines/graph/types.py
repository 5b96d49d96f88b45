"""KFP IR parameter and artifact types: names, value coercion, compatibility.

Every parameter in a PipelineSpec carries a ``parameterType`` (``STRING``,
``NUMBER_INTEGER``, ``NUMBER_DOUBLE``, ``BOOLEAN``, ``LIST``, ``STRUCT``,
``TASK_FINAL_STATUS``, ``TASK_CONFIG``) and every artifact an
``artifactType.schemaTitle`` (``system.Dataset``, ``system.Model`` …). Values
in the IR and on the wire are JSON, where the protobuf ``Value`` underneath
has one number type: the real kfp compiler writes ``defaultValue: 3.0`` for
``n: int = 3`` and ``constant: 1.0`` for ``add(a=1)``, and a kfp client sends
``3.0`` for an integer argument. :func:`coerce_parameter` turns such JSON
values into the Python value the type names (``3``), refusing values that do
not fit (``3.5`` or ``"three"`` for an integer).

Compatibility follows kfp's own compile-time check (``type_utils``):
parameter types must be equal; artifact lists must match lists; a
``system.Artifact`` on either side accepts any artifact; otherwise schema
titles must be equal and their major schema versions too. The graph layer
uses these rules to reject hand-edited IR that the kfp compiler would never
have produced (``STRING`` wired into ``NUMBER_INTEGER``).
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

__all__ = [
    "GENERIC_ARTIFACT",
    "ParameterType",
    "ParameterTypeError",
    "artifact_types_compatible",
    "coerce_parameter",
    "parameter_kind",
]

#: The artifact schema that accepts (and is accepted by) any other.
GENERIC_ARTIFACT = "system.Artifact"


class ParameterType(StrEnum):
    """``ParameterType.ParameterTypeEnum`` of the pipeline spec proto."""

    UNSPECIFIED = "PARAMETER_TYPE_ENUM_UNSPECIFIED"
    NUMBER_DOUBLE = "NUMBER_DOUBLE"
    NUMBER_INTEGER = "NUMBER_INTEGER"
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    LIST = "LIST"
    STRUCT = "STRUCT"
    TASK_FINAL_STATUS = "TASK_FINAL_STATUS"
    TASK_CONFIG = "TASK_CONFIG"

    @classmethod
    def parse(cls, value: Any) -> ParameterType:
        """A ``parameterType`` value, or a legacy ``type`` (``INT``, ``DOUBLE``, ``STRING``)."""
        if isinstance(value, str):
            legacy = _LEGACY.get(value)
            if legacy is not None:
                return legacy
            try:
                return cls(value)
            except ValueError:
                pass
        raise ParameterTypeError(f"unknown parameter type {value!r}")


_LEGACY = {
    "INT": ParameterType.NUMBER_INTEGER,
    "DOUBLE": ParameterType.NUMBER_DOUBLE,
    "PRIMITIVE_TYPE_UNSPECIFIED": ParameterType.UNSPECIFIED,
}


class ParameterTypeError(ValueError):
    """A value that does not fit a parameter type (or a type that does not exist)."""


def parameter_kind(value: Any) -> str:
    """The JSON kind of a Python value, as messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "struct"
    return type(value).__name__


def coerce_parameter(value: Any, parameter_type: ParameterType | str) -> Any:
    """``value`` as the Python value of ``parameter_type`` (see the module docstring).

    Integral floats become ints for ``NUMBER_INTEGER``, ints become floats for
    ``NUMBER_DOUBLE``, tuples become lists; anything else that does not fit
    raises :class:`ParameterTypeError`. Strings are never parsed here: text
    (files, command lines) goes through the store's ``parse_parameter_text``.
    """
    kind = ParameterType.parse(parameter_type) if not isinstance(parameter_type, ParameterType) \
        else parameter_type
    match kind:
        case ParameterType.STRING:
            if isinstance(value, str):
                return value
        case ParameterType.NUMBER_INTEGER:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                return int(value)
        case ParameterType.NUMBER_DOUBLE:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        case ParameterType.BOOLEAN:
            if isinstance(value, bool):
                return value
        case ParameterType.LIST:
            if isinstance(value, (list, tuple)):
                return list(value)
        case ParameterType.STRUCT | ParameterType.TASK_FINAL_STATUS:
            if isinstance(value, dict):
                return value
        case _:
            return value
    raise ParameterTypeError(f"{parameter_kind(value)} value {value!r} is not a {kind.value}")


def artifact_types_compatible(given: tuple[str, str, bool], expected: tuple[str, str, bool]) -> bool:
    """Whether an artifact ``(schemaTitle, schemaVersion, isArtifactList)`` fits another."""
    given_title, given_version, given_list = given
    expected_title, expected_version, expected_list = expected
    if given_list != expected_list:
        return False
    if GENERIC_ARTIFACT in (given_title, expected_title):
        return True
    if given_title != expected_title:
        return False
    if not given_version or not expected_version:
        return True
    return given_version.split(".")[0] == expected_version.split(".")[0]
