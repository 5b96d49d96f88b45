"""Type names: Python annotations → the DSL's type strings → IR parameter types, and type checks.

The DSL keeps kfp's in-memory type vocabulary because it leaks into the IR:
a parameter annotated ``int`` is typed ``'Integer'``, ``List[str]`` becomes
``'typing.List[str]'`` (a ParallelFor over it iterates ``'str'`` items, whose
IR type is ``STRING``), an artifact is ``'system.Dataset@0.0.1'``. From these
strings the compiler derives the IR's ``parameterType`` (``NUMBER_INTEGER``,
``LIST`` …) and the task-argument type check (``verify_type_compatibility``)
that rejects, as kfp does, an ``int`` constant for a ``float`` input.

Standard library only; used by the DSL at pipeline-definition time and by the
executor in task pods.
"""

from __future__ import annotations

import inspect
import re
import warnings
from types import UnionType
from typing import Any, Union, get_args, get_origin

__all__ = [
    "PARAMETER_TYPES_MAPPING",
    "InconsistentTypeException",
    "InconsistentTypeWarning",
    "annotation_to_type_struct",
    "create_bundled_artifact_type",
    "is_parameter_type",
    "parameter_type",
    "verify_type_compatibility",
]

DEFAULT_ARTIFACT_SCHEMA_VERSION = "0.0.1"

#: Lower-cased in-memory type names → IR parameter type names.
PARAMETER_TYPES_MAPPING: dict[str, str] = {
    "integer": "NUMBER_INTEGER",
    "int": "NUMBER_INTEGER",
    "double": "NUMBER_DOUBLE",
    "float": "NUMBER_DOUBLE",
    "string": "STRING",
    "str": "STRING",
    "text": "STRING",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "dict": "STRUCT",
    "list": "LIST",
    "jsonobject": "STRUCT",
    "jsonarray": "LIST",
}

TASK_FINAL_STATUS = "PipelineTaskFinalStatus"
TASK_CONFIG = "TaskConfig"

#: IR parameter types → in-memory type names (reading IR back) and header comment names.
IR_TYPE_TO_IN_MEMORY_SPEC_TYPE = {
    "STRING": "String", "NUMBER_INTEGER": "Integer", "NUMBER_DOUBLE": "Float", "LIST": "List",
    "STRUCT": "Dict", "BOOLEAN": "Boolean", "TASK_FINAL_STATUS": TASK_FINAL_STATUS,
    "TASK_CONFIG": TASK_CONFIG,
}
IR_TYPE_TO_COMMENT_TYPE_STRING = {
    "STRING": "str", "NUMBER_INTEGER": "int", "NUMBER_DOUBLE": "float", "LIST": "list",
    "STRUCT": "dict", "BOOLEAN": "bool", "TASK_FINAL_STATUS": TASK_FINAL_STATUS,
    "TASK_CONFIG": TASK_CONFIG,
}
IN_MEMORY_SPEC_TYPE_TO_IR_TYPE = {v: k for k, v in IR_TYPE_TO_IN_MEMORY_SPEC_TYPE.items()}

_TYPE_TO_TYPE_NAME: dict[type, str] = {
    str: "String", int: "Integer", float: "Float", bool: "Boolean", list: "List", dict: "Dict",
}

#: kfp.TYPE_CHECK: whether argument type mismatches raise (else warn). The compiler toggles it.
TYPE_CHECK = True


class InconsistentTypeException(Exception):
    """An argument's type does not match the input it is passed to."""


class InconsistentTypeWarning(Warning):
    """Like :class:`InconsistentTypeException`, when type checking is off."""


def short_type_name(type_name: str) -> str:
    """``typing.List[int]`` → ``List``; ``str`` → ``str``."""
    match = re.match(r"(typing\.)?(?P<type>\w+)(?:\[.+\])?", type_name)
    return match["type"] if match else type_name


def is_task_final_status_type(type_name: Any) -> bool:
    return isinstance(type_name, str) and type_name == TASK_FINAL_STATUS


def is_task_config_type(type_name: Any) -> bool:
    return isinstance(type_name, str) and type_name == TASK_CONFIG


def is_parameter_type(type_name: Any) -> bool:
    """Whether a type string (or v1 type dict) names a parameter rather than an artifact."""
    if isinstance(type_name, str):
        name = short_type_name(type_name)
    elif isinstance(type_name, dict):
        name = next(iter(type_name))
    else:
        return False
    return name.lower() in PARAMETER_TYPES_MAPPING or name in (TASK_FINAL_STATUS, TASK_CONFIG)


def parameter_type(param_type: Any) -> str | None:
    """The IR parameter type (``NUMBER_INTEGER`` …) of a type, type string or type dict."""
    if is_task_final_status_type(param_type) or is_task_config_type(param_type):
        param_type = "dict"
    if type(param_type) is type:
        name = param_type.__name__
    elif isinstance(param_type, dict):
        name = next(iter(param_type))
    else:
        name = short_type_name(str(param_type))
    return PARAMETER_TYPES_MAPPING.get(name.lower())


def parameter_type_name(param_type: Any) -> str:
    ir_type = parameter_type(param_type)
    if ir_type is None:
        raise ValueError("`param_type` is not a parameter type. Cannot get ParameterType name.")
    return ir_type


def is_artifact_class(obj: Any) -> bool:
    return hasattr(obj, "schema_title") and hasattr(obj, "schema_version")


def create_bundled_artifact_type(schema_title: str, schema_version: str | None = None) -> str:
    """``system.Model`` → ``system.Model@0.0.1``."""
    if not isinstance(schema_title, str):
        raise ValueError(f"schema_title must be a string, got {schema_title!r}")
    return schema_title + "@" + (schema_version or DEFAULT_ARTIFACT_SCHEMA_VERSION)


def validate_bundled_artifact_type(type_: str) -> None:
    parts = type_.split("@")
    if len(parts) != 2 or not all(parts):
        raise TypeError("Artifacts must have both a schema_title and a schema_version, "
                        f"separated by `@`. Got: {type_}")
    schema_title, schema_version = parts
    title_parts = schema_title.split(".")
    if len(title_parts) != 2:
        raise TypeError("Artifact schema_title must have both a namespace and a name, "
                        f"separated by a `.`. Got: {schema_title}")
    if title_parts[0] not in {"system", "google"}:
        raise TypeError(f"Artifact schema_title must belong to `system` or `google` namespace. Got: {schema_title}")
    if len(schema_version.split(".")) != 3:
        raise TypeError(f"Artifact schema_version must use three-part semantic versioning. Got: {schema_version}")


def canonical_name_for_outer_generic(type_name: Any) -> Any:
    """``typing.List[str]`` → ``List``; anything else unchanged."""
    if not isinstance(type_name, str):
        return type_name
    if type_name.startswith("typing."):
        # kfp strips the characters of 'typing.' from the left (str.lstrip), not the prefix.
        type_name = type_name.lstrip("typing.")
    if type_name.lower().startswith(("list", "dict")):
        return type_name.split("[")[0]
    return type_name


def annotation_to_type_struct(annotation: Any) -> Any:
    """A parameter annotation → its in-memory type string (``int`` → ``'Integer'``)."""
    if not annotation or annotation == inspect.Parameter.empty:
        return None
    if hasattr(annotation, "to_dict"):
        annotation = annotation.to_dict()
    if isinstance(annotation, dict):
        return annotation
    origin = get_origin(annotation)
    if origin in {list, dict}:
        if getattr(annotation, "__module__", None) in ("typing", "typing_extensions"):
            return str(annotation)
        origin_name = _TYPE_TO_TYPE_NAME.get(origin)
        inner = get_args(annotation)
        if inner:
            inner_types = []
            for inner_annotation in inner:
                inner_type = annotation_to_type_struct(inner_annotation)
                inner_types.append(inner_type if inner_type is not None else str(inner_annotation))
            return f"{origin_name}[{', '.join(inner_types)}]"
        return origin_name
    if isinstance(annotation, type):
        type_struct = _TYPE_TO_TYPE_NAME.get(annotation)
        if type_struct:
            return type_struct
        schema_title = annotation.schema_title if is_artifact_class(annotation) else str(annotation.__name__)
    elif hasattr(annotation, "__forward_arg__"):
        schema_title = str(annotation.__forward_arg__)
    else:
        schema_title = str(annotation)
    return schema_title


def maybe_strip_optional(annotation: Any) -> Any:
    """``Optional[X]`` → ``X`` (and ``X | None`` → ``X``, which kfp rejects)."""
    if getattr(annotation, "__origin__", None) is Union and annotation.__args__[1] is type(None):
        return annotation.__args__[0]
    if isinstance(annotation, UnionType) and len(annotation.__args__) == 2 and annotation.__args__[1] is type(None):
        return annotation.__args__[0]
    return annotation


def maybe_strip_optional_string(annotation: str) -> str:
    if annotation.startswith("Optional[") and annotation.endswith("]"):
        return annotation.lstrip("Optional[").rstrip("]")
    return annotation


def spec_type_is_parameter(type_: Any) -> bool:
    in_memory = maybe_strip_optional_string(canonical_name_for_outer_generic(type_)) \
        if isinstance(type_, str) else type_
    return in_memory in IN_MEMORY_SPEC_TYPE_TO_IR_TYPE or in_memory in (TASK_FINAL_STATUS, TASK_CONFIG)


def _argument_type_string(argument: Any) -> Any:
    from sandbox.components.pipelines.dsl.artifacts import Artifact
    from sandbox.components.pipelines.dsl.channels import PipelineChannel

    if isinstance(argument, PipelineChannel):
        return argument.channel_type
    name = _TYPE_TO_TYPE_NAME.get(type(argument))
    if name is not None:
        return name
    if isinstance(argument, Artifact):
        raise ValueError("Input artifacts are not supported. Got input artifact of type "
                         f"{argument.__class__.__name__!r}.")
    raise ValueError(f"Constant argument inputs must be one of type {list(_TYPE_TO_TYPE_NAME.values())} "
                     f"Got: {argument!r} of type {type(argument)!r}.")


def verify_type_compatibility(given_value: Any, expected_spec: Any, error_message_prefix: str, *,
                              checks_input: bool = True) -> bool:
    """Whether an argument (constant or channel) fits an input (or a pipeline output) spec.

    Raises :class:`InconsistentTypeException` when it does not and type
    checking is on, warns otherwise.
    """
    from sandbox.components.pipelines.dsl.loops import LoopArgumentVariable, LoopParameterArgument

    expected_type = expected_spec.type
    given_type = _argument_type_string(given_value)
    # kfp relaxes checks for loop items typed 'String': item types can be lost on the way.
    if isinstance(given_value, LoopParameterArgument | LoopArgumentVariable) and given_type == "String":
        return True
    given_is_param = is_parameter_type(str(given_type))
    if given_is_param:
        given_type = parameter_type_name(given_type)
        given_is_list = False
    else:
        given_is_list = given_value.is_artifact_list
    expected_is_param = is_parameter_type(expected_type)
    if expected_is_param:
        expected_type = parameter_type_name(expected_type)
        expected_is_list = False
    else:
        expected_is_list = expected_spec.is_artifact_list

    if given_is_param != expected_is_param:
        compatible = False
    elif given_is_param:
        compatible = given_type == expected_type
    else:
        compatible = _artifact_types_compatible(given_type, given_is_list, expected_type, expected_is_list)
    if not compatible:
        given_type = f"List[{given_type}]" if given_is_list else given_type
        expected_type = f"List[{expected_type}]" if expected_is_list else expected_type
        if checks_input:
            suffix = f"Argument type {given_type!r} is incompatible with the input type {expected_type!r}"
        else:
            suffix = f"Output of type {given_type!r} cannot be surfaced as pipeline output type {expected_type!r}"
        if TYPE_CHECK:
            raise InconsistentTypeException(error_message_prefix + suffix)
        warnings.warn(InconsistentTypeWarning(error_message_prefix + suffix), stacklevel=2)
    return compatible


def _artifact_types_compatible(given: str, given_is_list: bool, expected: str, expected_is_list: bool) -> bool:
    given_title, given_version = given.split("@")
    expected_title, expected_version = expected.split("@")
    if given_is_list != expected_is_list:
        return False
    if "system.Artifact" in {given_title, expected_title}:
        return True
    return given_title == expected_title and given_version.split(".")[0] == expected_version.split(".")[0]
