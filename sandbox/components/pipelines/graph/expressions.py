"""A safe evaluator for the CEL subset KFP writes into IR (no ``eval()``).

KFP's backend evaluates two kinds of expression with Google's CEL:

- ``triggerPolicy.condition`` of a task inside ``dsl.If``/``Elif``/``Else``
  (and the legacy ``dsl.Condition``), against the task's resolved inputs.
  The kfp compiler writes comparisons of ``inputs.parameter_values['x']``
  with a literal, wrapping integer operands in ``int(…)`` and mixed
  int/float ones in ``double(…)``; ``Elif``/``Else`` become conjunctions of
  negated earlier branches: ``!(a == 'heads') && a == 'tails'``.
- ``parameterExpressionSelector`` of an input, against one protobuf ``Value``:
  ``parseJson(string_value)["a"]`` picks field ``a`` of a loop item
  (``item.a`` in the DSL). The value's set field is a variable
  (``string_value``, ``number_value``, ``bool_value``, ``list_value``,
  ``struct_value``, ``null_value``) and ``string_value`` is always there,
  holding the value's text (JSON for lists and structs), as KFP arranges.

The grammar here is that subset of CEL, parsed by recursive descent into a
small AST (cached per expression text) and walked by :func:`evaluate`:
literals (single/double-quoted strings with escapes, ints, floats, ``true``,
``false``, ``null``), variables, ``a.b`` member access, ``a[k]`` indexing,
calls of ``int``, ``double``, ``string``, ``bool``, ``parseJson`` and
``size``, unary ``!`` and ``-``, ``== != < <= > >=``, ``&&``, ``||``,
``c ? a : b`` and parentheses. Semantics follow CEL: equality across kinds is
false (``2 == '2'``), ordering across kinds is an error, ints and floats
compare by value, ``&&``/``||`` short-circuit and absorb an error from one
side when the other decides. Anything outside the subset is an
:class:`ExpressionError` that names the expression.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..storage.parameters import ParameterTextError, format_parameter_text

__all__ = [
    "ExpressionError",
    "evaluate",
    "evaluate_condition",
    "parameter_names",
    "parse",
    "select",
    "value_text",
]


class ExpressionError(ValueError):
    """An expression that does not parse, or fails to evaluate."""


# --------------------------------------------------------------------------- lexer

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
  | (?P<int>\d+)
  | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,?:-])
""", re.VERBOSE)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _unquote(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise ExpressionError(f"unsupported escape \\{nxt} in {text}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected character {text[position]!r} at {position} in "
                                  f"{text!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- parser
# The AST is nested tuples: ("lit", v), ("var", name), ("member", obj, name),
# ("index", obj, key), ("call", name, args), ("not", x), ("neg", x),
# ("cmp", op, a, b), ("and", a, b), ("or", a, b), ("cond", c, a, b).

Node = tuple[Any, ...]
_FUNCTIONS = {"int", "double", "string", "bool", "parseJson", "size"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self, text: str | None = None, kind: str | None = None) -> _Token:
        token = self.peek()
        if (text is not None and token.text != text) or (kind is not None and token.kind != kind):
            wanted = text or kind
            found = token.text or "end of expression"
            raise ExpressionError(f"expected {wanted!r} at {token.position} in {self.text!r}, "
                                  f"found {found!r}")
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek().kind == "op" and self.peek().text == text:
            self.index += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.conditional()
        self.take(kind="end")
        return node

    def conditional(self) -> Node:
        node = self.disjunction()
        if self.accept("?"):
            then = self.conditional()
            self.take(":")
            return ("cond", node, then, self.conditional())
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.accept("||"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.relation()
        while self.accept("&&"):
            node = ("and", node, self.relation())
        return node

    def relation(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            node = ("cmp", op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("!"):
            return ("not", self.unary())
        if self.accept("-"):
            return ("neg", self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                node = ("member", node, self.take(kind="name").text)
            elif self.accept("["):
                key = self.conditional()
                self.take("]")
                node = ("index", node, key)
            else:
                return node

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "int":
            self.index += 1
            return ("lit", int(token.text))
        if token.kind == "float":
            self.index += 1
            return ("lit", float(token.text))
        if token.kind == "string":
            self.index += 1
            return ("lit", _unquote(token.text))
        if token.kind == "name":
            self.index += 1
            if token.text in ("true", "false"):
                return ("lit", token.text == "true")
            if token.text == "null":
                return ("lit", None)
            if self.accept("("):
                if token.text not in _FUNCTIONS:
                    raise ExpressionError(f"unknown function {token.text}() in {self.text!r}")
                args = []
                if not self.accept(")"):
                    args.append(self.conditional())
                    while self.accept(","):
                        args.append(self.conditional())
                    self.take(")")
                return ("call", token.text, tuple(args))
            return ("var", token.text)
        if self.accept("("):
            node = self.conditional()
            self.take(")")
            return node
        found = token.text or "end of expression"
        raise ExpressionError(f"unexpected {found!r} at {token.position} in {self.text!r}")


@lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The AST of ``text`` (cached); :class:`ExpressionError` when it is not in the subset."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(text).parse()


def parameter_names(text: str) -> set[str]:
    """The names a condition reads as ``inputs.parameter_values['name']``."""
    names: set[str] = set()

    def walk(node: Node) -> None:
        if node[0] == "index" and node[1] == ("member", ("var", "inputs"), "parameter_values") \
                and node[2][0] == "lit" and isinstance(node[2][1], str):
            names.add(node[2][1])
        for part in node[1:]:
            if isinstance(part, tuple) and part and isinstance(part[0], str):
                walk(part)
            elif isinstance(part, tuple):
                for item in part:
                    if isinstance(item, tuple):
                        walk(item)

    walk(parse(text))
    return names


# --------------------------------------------------------------------------- evaluation


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    return type(value).__name__


def _equal(left: Any, right: Any) -> bool:
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "list":
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right,
                                                                             strict=True))
    if kind == "map":
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    kind = _kind(left)
    if kind != _kind(right) or kind not in ("number", "string", "bool"):
        raise ExpressionError(f"cannot compare {_kind(left)} {left!r} {op} {_kind(right)} "
                              f"{right!r}")
    match op:
        case "<":
            return bool(left < right)
        case "<=":
            return bool(left <= right)
        case ">":
            return bool(left > right)
        case _:
            return bool(left >= right)


def value_text(value: Any) -> str:
    """A value's text as KFP's ``string_value`` holds it: strings as they are,
    ``true``/``false``, numbers without exponent or trailing ``.0``, JSON for
    lists and structs, the empty string for null."""
    try:
        return format_parameter_text(value)
    except ParameterTextError as error:
        raise ExpressionError(str(error)) from None


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ExpressionError(f"int() of bool {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError(f"int() of {value!r} is out of range")
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ExpressionError(f"int() of string {value!r}") from None
    raise ExpressionError(f"int() of {_kind(value)}")


def _to_double(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ExpressionError(f"double() of string {value!r}") from None
    raise ExpressionError(f"double() of {_kind(value)}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false", "True", "False", "TRUE", "FALSE",
                                            "t", "f", "1", "0"):
        return value in ("true", "True", "TRUE", "t", "1")
    raise ExpressionError(f"bool() of {_kind(value)} {value!r}")


def _parse_json(value: Any) -> Any:
    if not isinstance(value, str):
        raise ExpressionError(f"parseJson() of {_kind(value)}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ExpressionError(f"parseJson() of invalid JSON {value!r}: {error.msg}") from None


def _size(value: Any) -> int:
    if isinstance(value, (str, list, Mapping)):
        return len(value)
    raise ExpressionError(f"size() of {_kind(value)}")


_CALLS: dict[str, Callable[[Any], Any]] = {
    "int": _to_int, "double": _to_double, "string": value_text, "bool": _to_bool,
    "parseJson": _parse_json, "size": _size,
}


def _bool_operand(value: Any, op: str) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"{op} needs bool operands, got {_kind(value)} {value!r}")
    return value


def _logic(node: Node, env: Mapping[str, Any]) -> bool:
    op = "&&" if node[0] == "and" else "||"
    decisive = op == "||"
    try:
        left = _bool_operand(_eval(node[1], env), op)
    except ExpressionError as left_error:
        right = _bool_operand(_eval(node[2], env), op)
        if right is decisive:
            return decisive
        raise left_error from None
    if left is decisive:
        return decisive
    return _bool_operand(_eval(node[2], env), op)


def _eval(node: Node, env: Mapping[str, Any]) -> Any:
    match node[0]:
        case "lit":
            return node[1]
        case "var":
            if node[1] not in env:
                raise ExpressionError(f"undeclared reference to {node[1]!r}")
            return env[node[1]]
        case "member":
            target = _eval(node[1], env)
            if not isinstance(target, Mapping) or node[2] not in target:
                raise ExpressionError(f"no such key: {node[2]}")
            return target[node[2]]
        case "index":
            target, key = _eval(node[1], env), _eval(node[2], env)
            if isinstance(target, Mapping):
                if key not in target:
                    raise ExpressionError(f"no such key: {key!r}")
                return target[key]
            if isinstance(target, list):
                if isinstance(key, bool) or not isinstance(key, int) \
                        or not 0 <= key < len(target):
                    raise ExpressionError(f"index {key!r} out of range for a list of "
                                          f"{len(target)}")
                return target[key]
            raise ExpressionError(f"cannot index {_kind(target)} with {key!r}")
        case "call":
            if len(node[2]) != 1:
                raise ExpressionError(f"{node[1]}() takes one argument, got {len(node[2])}")
            return _CALLS[node[1]](_eval(node[2][0], env))
        case "not":
            return not _bool_operand(_eval(node[1], env), "!")
        case "neg":
            value = _eval(node[1], env)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ExpressionError(f"cannot negate {_kind(value)} {value!r}")
            return -value
        case "cmp":
            return _compare(node[1], _eval(node[2], env), _eval(node[3], env))
        case "and" | "or":
            return _logic(node, env)
        case "cond":
            if _bool_operand(_eval(node[1], env), "?:"):
                return _eval(node[2], env)
            return _eval(node[3], env)
    raise ExpressionError(f"unknown node {node[0]!r}")  # pragma: no cover - parser makes none


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Evaluate expression ``text`` with variables ``env``."""
    try:
        return _eval(parse(text), env)
    except ExpressionError as error:
        raise ExpressionError(f"{text!r}: {error}") from None
    except RecursionError:
        raise ExpressionError(f"{text!r}: expression nests too deeply") from None


def evaluate_condition(text: str, parameter_values: Mapping[str, Any]) -> bool:
    """A ``triggerPolicy.condition`` against the task's parameter values
    (``inputs.parameter_values['x']``); must evaluate to a bool."""
    result = evaluate(text, {"inputs": {"parameter_values": parameter_values}})
    if not isinstance(result, bool):
        raise ExpressionError(f"{text!r}: a condition must be a bool, got {_kind(result)} "
                              f"{result!r}")
    return result


def select(text: str, value: Any) -> Any:
    """A ``parameterExpressionSelector`` applied to ``value`` (see the module docstring)."""
    env: dict[str, Any] = {"string_value": value_text(value)}
    if value is None:
        env["null_value"] = None
    elif isinstance(value, bool):
        env["bool_value"] = value
    elif isinstance(value, (int, float)):
        env["number_value"] = value
    elif isinstance(value, list):
        env["list_value"] = value
    elif isinstance(value, Mapping):
        env["struct_value"] = value
    return evaluate(text, env)
