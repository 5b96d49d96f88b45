"""Values rendered the way Go prints them in Kubernetes field errors.

Kubernetes formats a field error's bad value with ``%#v`` when it is not a
plain string, number or bool, so a template's labels read
``map[string]string{"app":"x"}`` and a duplicate list-map item
``map[string]interface {}{"name":"a"}``. :class:`GoValue` carries such a
rendering as a :class:`~sandbox.api.errors.FieldError` value (which prints
non-JSON values with ``str``), and the helpers here build the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["GoValue", "go_interface", "go_string_map"]


class GoValue:
    """A field-error value printed verbatim (already in Go's ``%#v`` form)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"GoValue({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def go_string_map(values: Mapping[str, Any] | None) -> GoValue:
    """``map[string]string{"a":"b", "c":"d"}`` (keys sorted, as Go prints maps)."""
    if values is None:
        return GoValue("map[string]string(nil)")
    items = ", ".join(f"{_quote(str(k))}:{_quote(str(v))}" for k, v in sorted(values.items()))
    return GoValue("map[string]string{" + items + "}")


def _interface_text(value: Any) -> str:
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        items = ", ".join(
            f"{_quote(str(k))}:{_interface_text(v)}" for k, v in sorted(value.items())
        )
        return "map[string]interface {}{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}{" + ", ".join(_interface_text(v) for v in value) + "}"
    return str(value)


def go_interface(value: Any) -> GoValue:
    """A JSON value as Go prints an ``interface{}`` holding it."""
    return GoValue(_interface_text(value))
