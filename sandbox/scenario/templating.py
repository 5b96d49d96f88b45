"""``{{ name }}`` in a step's strings: the scenario's variables, substituted before the step runs.

A deliberately tiny template language — a variable's value replaces the
marker, nothing else (no expressions, no filters, no loops): scenarios are
data a learner reads, and Kubernetes manifests already have their own
layering tools. A marker naming no variable is an error that names it, so a
typo fails the step instead of applying ``{{ nmespace }}`` to a cluster.

Every string in a value is rendered: dict keys and values, list items, the
Markdown of an ``explain``. Non-strings pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["UnknownVariable", "render"]

_MARKER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class UnknownVariable(ValueError):
    """A ``{{ name }}`` with no such variable."""

    def __init__(self, name: str, known: Mapping[str, str]) -> None:
        self.name = name
        super().__init__(f"unknown variable {{{{ {name} }}}} (known: {', '.join(sorted(known)) or 'none'})")


def render(value: Any, variables: Mapping[str, str]) -> Any:
    """``value`` with every ``{{ name }}`` in its strings replaced by ``variables[name]``."""
    if isinstance(value, str):
        return _render_text(value, variables)
    if isinstance(value, Mapping):
        return {render(k, variables): render(v, variables) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, variables) for v in value]
    return value


def _render_text(text: str, variables: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise UnknownVariable(name, variables)
        return str(variables[name])
    return _MARKER.sub(substitute, text)
