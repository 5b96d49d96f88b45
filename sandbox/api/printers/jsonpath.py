"""kubectl's JSONPath, the subset CRD ``additionalPrinterColumns`` use.

A path compiles once (cached by its text) into steps, and evaluation walks a
list of nodes through them, as client-go's ``jsonpath`` package does with
``AllowMissingKeys(true)``: a missing key finds nothing rather than failing,
while an index out of range or a comparison of different types is an error
(the printer then shows ``<none>``). Supported: fields (``.a.b``,
``['a.b']``, ``\\.``-escaped dots), ``[n]`` and ``[-1]``, slices
(``[-1:]``, ``[0:2]``), ``*``, ``..`` and filters (``[?(@.type=="Ready")]``,
``[?(@.x)]``, ``== != < <= > >=``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["jsonpath"]


class _JsonPathError(ValueError):
    pass


_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")


@functools.lru_cache(maxsize=1024)
def _compile(path: str) -> tuple[tuple[Any, ...], ...]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    return tuple(_parse_steps(text))


def _read_name(text: str, i: int) -> tuple[str, int]:
    """A field name up to the next unescaped ``.`` or ``[`` (``\\.`` escapes a dot)."""
    chars: list[str] = []
    while i < len(text) and text[i] not in ".[":
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        chars.append(text[i])
        i += 1
    return "".join(chars), i


def _closing_bracket(text: str, start: int) -> int:
    depth, quote = 0, ""
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
            if depth == 0:
                return i
    raise _JsonPathError(f"unclosed bracket in {text!r}")


def _parse_steps(text: str) -> list[tuple[Any, ...]]:
    steps: list[tuple[Any, ...]] = []
    i = 0
    while i < len(text):
        if text.startswith("..", i):
            steps.append(("recursive",))
            i += 2
            if i < len(text) and text[i] == "[":
                continue
            name, i = _read_name(text, i)
            steps.append(("wildcard",) if name == "*" else ("field", name))
        elif text[i] == ".":
            name, i = _read_name(text, i + 1)
            if name == "*":
                steps.append(("wildcard",))
            elif name:
                steps.append(("field", name))
        elif text[i] == "[":
            end = _closing_bracket(text, i)
            steps.append(_parse_bracket(text[i + 1 : end].strip()))
            i = end + 1
        else:
            # A path may start with a bare name ("metadata.name" as kubectl allows).
            name, i = _read_name(text, i)
            steps.append(("field", name))
    return steps


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _JsonPathError(f"invalid array index {text!r}") from None


def _parse_bracket(content: str) -> tuple[Any, ...]:
    if content == "*":
        return ("wildcard",)
    if content.startswith("?"):
        expr = content[1:].strip()
        if not (expr.startswith("(") and expr.endswith(")")):
            raise _JsonPathError(f"invalid filter {content!r}")
        return _parse_filter(expr[1:-1].strip())
    if content[:1] in "'\"" and content[-1:] == content[:1] and len(content) >= 2:
        return ("field", content[1:-1])
    if ":" in content:
        parts = [p.strip() for p in content.split(":")]
        if len(parts) > 3:
            raise _JsonPathError(f"invalid slice {content!r}")
        start = _parse_int(parts[0]) if parts[0] else None
        stop = _parse_int(parts[1]) if parts[1] else None
        step = _parse_int(parts[2]) if len(parts) == 3 and parts[2] else None
        return ("slice", start, stop, step, False)
    index = _parse_int(content)
    return ("slice", index, index + 1, None, True)


def _parse_operand(text: str) -> tuple[Any, ...]:
    if text.startswith("@"):
        return ("path", tuple(_parse_steps(text[1:])))
    if text[:1] in "'\"" and len(text) >= 2 and text[-1] == text[0]:
        return ("literal", text[1:-1])
    if text in ("true", "false"):
        return ("literal", text == "true")
    try:
        return ("literal", int(text))
    except ValueError:
        pass
    try:
        return ("literal", float(text))
    except ValueError:
        raise _JsonPathError(f"unrecognized filter operand {text!r}") from None


def _parse_filter(expr: str) -> tuple[Any, ...]:
    quote = ""
    for i, c in enumerate(expr):
        if quote:
            if c == quote:
                quote = ""
            continue
        if c in "'\"":
            quote = c
            continue
        for op in _OPERATORS:
            if expr.startswith(op, i):
                left = _parse_operand(expr[:i].strip())
                right = _parse_operand(expr[i + len(op) :].strip())
                return ("filter", left, op, right)
    return ("filter", _parse_operand(expr), "exists", None)


def _children(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [value[k] for k in sorted(value, key=str)]
    if isinstance(value, list):
        return list(value)
    return []


def _descendants(value: Any, out: list[Any]) -> None:
    children = _children(value)
    if children:
        out.append(value)
        for child in children:
            _descendants(child, out)


def _slice(
    value: list[Any], start: int | None, stop: int | None, step: int | None, derived: bool
) -> list[Any]:
    # client-go's evalArray: out-of-range bounds are errors, not empty results.
    length = len(value)
    lo = 0 if start is None else start
    if lo < 0:
        lo += length
    hi = length if stop is None else stop
    if hi < 0 or (hi == 0 and derived):
        hi += length
    if hi == lo:
        return []
    if lo >= length or lo < 0 or hi > length or hi < 0:
        raise _JsonPathError(f"array index out of bounds: index {lo}, length {length}")
    if lo > hi:
        raise _JsonPathError(f"starting index {lo} is greater than ending index {hi}")
    if step is not None and step <= 0:
        raise _JsonPathError("step must be > 0")
    return value[lo : hi : step or 1]


def _number_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "other"


def _compare(left: Any, op: str, right: Any) -> bool:
    # text/template's eq/lt: operands of different basic kinds do not compare.
    kind = _number_kind(left)
    if (
        kind != _number_kind(right)
        or kind == "other"
        or (kind == "bool" and op not in ("==", "!="))
    ):
        raise _JsonPathError("incompatible types for comparison")
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _operand_values(operand: tuple[Any, ...], item: Any) -> list[Any]:
    if operand[0] == "literal":
        return [operand[1]]
    return _evaluate(operand[1], [item])


def _apply(step: tuple[Any, ...], nodes: list[Any]) -> list[Any]:
    kind = step[0]
    out: list[Any] = []
    if kind == "field":
        for node in nodes:
            if isinstance(node, Mapping) and step[1] in node:
                out.append(node[step[1]])
    elif kind == "wildcard":
        for node in nodes:
            out.extend(_children(node))
    elif kind == "recursive":
        for node in nodes:
            _descendants(node, out)
    elif kind == "slice":
        for node in nodes:
            if node is None:
                continue
            if not isinstance(node, list):
                raise _JsonPathError("not an array or slice")
            out.extend(_slice(node, *step[1:]))
    else:  # filter
        _, left, op, right = step
        for node in nodes:
            if not isinstance(node, list | Mapping):
                raise _JsonPathError("not an array or slice and cannot be filtered")
            for item in _children(node):
                lefts = _operand_values(left, item)
                if not lefts:
                    continue
                if len(lefts) > 1:
                    raise _JsonPathError("can only compare one element at a time")
                if op == "exists":
                    out.append(item)
                    continue
                rights = _operand_values(right, item)
                if not rights:
                    continue
                if len(rights) > 1:
                    raise _JsonPathError("can only compare one element at a time")
                if _compare(lefts[0], op, rights[0]):
                    out.append(item)
    return out


def _evaluate(steps: Iterable[tuple[Any, ...]], nodes: list[Any]) -> list[Any]:
    for step in steps:
        nodes = _apply(step, nodes)
        if not nodes:
            return []
    return nodes


def jsonpath(path: str, obj: Any) -> list[Any]:
    """Values a kubectl JSONPath finds in ``obj`` (missing keys find nothing).

    The subset client-go evaluates for ``additionalPrinterColumns``: fields
    (``.a.b``, ``['a.b']``, ``\\.``-escaped dots), ``[n]``/``[-1]``, slices
    (``[-1:]``, ``[0:2]``), ``*``, ``..`` and filters
    (``[?(@.type=="Ready")]``, ``[?(@.x)]``, ``== != < <= > >=``).
    Raises ``ValueError`` for a malformed path or an index out of range.
    """
    return _evaluate(_compile(path), [obj])
