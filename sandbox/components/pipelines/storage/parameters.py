"""Parameter values as text: the format of KFP's output-parameter files.

A component can write an output parameter to a file instead of returning it
(``OutputPath(int)`` in a Python component, ``{{$.outputs.parameters['y'].output_file}}``
in a container component). KFP's launcher reads such a file back by the
parameter's declared type (its ``TextToPbValue``): the text as-is for
``STRING``; trimmed and parsed for ``NUMBER_INTEGER``, ``NUMBER_DOUBLE`` and
``BOOLEAN`` (Go's ``ParseBool``: ``true``, ``True``, ``TRUE``, ``t``, ``T``,
``1`` and their false twins); JSON for ``LIST`` and ``STRUCT``.
:func:`format_parameter_text` is the inverse (KFP's ``PbValueToText``):
strings as-is, ``true``/``false``, numbers without exponent, JSON for lists
and dicts — what the sandbox writes, and what a container reading
``{{$.inputs.parameters['x']}}`` sees.

Standard library only: this module also runs inside task pods.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

__all__ = ["ParameterTextError", "format_parameter_text", "parse_parameter_text"]

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class ParameterTextError(ValueError):
    """Text that does not parse as the declared parameter type."""


def parse_parameter_text(text: str, parameter_type: str) -> Any:
    """The value of ``text`` read as ``parameter_type`` (an IR ``parameterType``)."""
    kind = str(parameter_type)
    stripped = text.strip()
    try:
        match kind:
            case "STRING":
                return text
            case "NUMBER_INTEGER" | "INT":
                return int(stripped, 10)
            case "NUMBER_DOUBLE" | "DOUBLE":
                return float(stripped)
            case "BOOLEAN":
                if stripped in _TRUE:
                    return True
                if stripped in _FALSE:
                    return False
                raise ValueError("not a boolean")
            case "LIST" | "STRUCT":
                value = json.loads(text)
                wanted = list if kind == "LIST" else dict
                if not isinstance(value, wanted):
                    raise ValueError(f"JSON {type(value).__name__}, not a {kind}")
                return value
    except ValueError as error:
        raise ParameterTextError(f"{text!r} is not a {kind}: {error}") from None
    raise ParameterTextError(f"cannot read parameters of type {kind!r} from text")


def format_parameter_text(value: Any) -> str:
    """``value`` as KFP writes a parameter as text (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterTextError(f"{value!r} has no text form")
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    raise ParameterTextError(f"cannot write a {type(value).__name__} parameter as text")
