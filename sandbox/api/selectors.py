"""Label and field selectors, with Kubernetes' syntax, semantics and errors.

Selectors decide which objects a list or watch returns, which pods a
Deployment owns, which nodes a pod may land on. Two kinds exist:

- :class:`LabelSelector` over ``metadata.labels``: the string form of
  ``?labelSelector=`` and ``kubectl -l`` (:meth:`LabelSelector.parse`,
  ``env in (prod, qa),tier!=front,!canary``) and the structured
  ``metav1.LabelSelector`` of ``spec.selector`` (:meth:`LabelSelector.from_dict`).
- :class:`FieldSelector` over a few fields per kind (``?fieldSelector=`` and
  ``kubectl --field-selector``: ``spec.nodeName=,status.phase!=Succeeded``).
  Which fields a kind supports is :func:`supported_fields`; the API server
  rejects others with :meth:`FieldSelector.check_supported`.

Data flow: the REST facade or a client hands the store a selector string;
``parse`` (cached by the string, so a hot watch parses once) turns it into
immutable requirements; the store calls ``matches`` on every object a list
or watch event carries, which is plain dict lookups and set membership.
Parsed selectors are shared between callers and never mutated.

Semantics follow ``k8s.io/apimachinery/pkg/labels`` and ``.../fields``:

- requirements are ANDed; an empty selector matches everything; a nil
  ``metav1.LabelSelector`` (``from_dict(None)``) matches nothing, while ``{}``
  matches everything;
- ``!=`` and ``notin`` match objects that lack the key; ``=``/``in`` do not;
- ``str()`` is Kubernetes' ``String()``: requirements sorted by key, values
  sorted, so ``parse(str(s))`` selects exactly what ``s`` does;
- in field selectors a missing field compares as ``""`` (``spec.nodeName=``
  finds unscheduled pods), booleans as ``true``/``false`` and integers as
  decimal text; kinds whose Kubernetes field sets compute a value (a pod's
  ``spec.hostNetwork`` defaulting to ``false``, a Job's ``status.successful``
  read from ``status.succeeded``, an Event's ``source``) do the same here.

Errors: a malformed string raises :class:`~sandbox.api.errors.BadRequest`
with Kubernetes' message (``unable to parse requirement: ...``, ``found '(',
expected: ...``). For the structured form, :meth:`LabelSelector.validate`
*returns* ``FieldError`` values with field paths, for admission to turn into
a 422 (``ValidateLabelSelector``), and :meth:`LabelSelector.from_dict`
*raises* ``BadRequest`` on the first invalid requirement, as
``LabelSelectorAsSelector`` returns an error.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from typing import Any, Final

from sandbox.api.errors import BadRequest, FieldError

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Operator",
    "Requirement",
    "escape_value",
    "field_value",
    "label_key_errors",
    "label_value_errors",
    "supported_fields",
    "unescape_value",
]


class Operator(enum.StrEnum):
    """``selection.Operator``: the text Kubernetes uses for each operator."""

    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


# Validation of label keys and values (k8s.io/apimachinery/pkg/util/validation) --

_QUALIFIED_NAME_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_MSG: Final = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT: Final = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_MSG: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT: Final = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_MSG: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_RE: Final = re.compile(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE: Final = re.compile(_LABEL_VALUE_FMT)
_DNS1123_SUBDOMAIN_RE: Final = re.compile(_DNS1123_SUBDOMAIN_FMT)
_MAX_NAME_LENGTH: Final = 63
_MAX_SUBDOMAIN_LENGTH: Final = 253


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``validation.RegexError``, double space after each example included."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {listed}regex used for validation is '{fmt}')"


def _subdomain_errors(value: str) -> list[str]:
    errs = []
    if len(value) > _MAX_SUBDOMAIN_LENGTH:
        errs.append(f"must be no more than {_MAX_SUBDOMAIN_LENGTH} characters")
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def label_key_errors(key: str) -> list[str]:
    """Why ``key`` is not a valid label key (``IsQualifiedName``); empty if valid."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _subdomain_errors(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > _MAX_NAME_LENGTH:
        errs.append(f"name part must be no more than {_MAX_NAME_LENGTH} characters")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errs.append(
            "name part "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    """Why ``value`` is not a valid label value (``IsValidLabelValue``); empty if valid."""
    errs: list[str] = []
    if len(value) > _MAX_NAME_LENGTH:
        errs.append(f"must be no more than {_MAX_NAME_LENGTH} characters")
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(
            _regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


def _go_strings(values: Iterable[str]) -> str:
    """A ``[]string`` as Go's ``%#v`` prints it in field errors."""
    return "[]string{" + ", ".join(json.dumps(v) for v in values) + "}"


def _aggregate(messages: list[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message, or a deduplicated list."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# Label selectors --------------------------------------------------------------

_MISSING: Final = object()
_INT64_RE: Final = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``, or None when it would fail."""
    if not _INT64_RE.fullmatch(text):
        return None
    n = int(text)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


# How a requirement tests a label value, decided once per requirement.
_HAS_VALUE, _LACKS_VALUE, _HAS_KEY, _LACKS_KEY, _GREATER, _LESS = range(6)
_MATCH_KIND: Final = {
    Operator.EQUALS: _HAS_VALUE,
    Operator.DOUBLE_EQUALS: _HAS_VALUE,
    Operator.IN: _HAS_VALUE,
    Operator.NOT_EQUALS: _LACKS_VALUE,
    Operator.NOT_IN: _LACKS_VALUE,
    Operator.EXISTS: _HAS_KEY,
    Operator.DOES_NOT_EXIST: _LACKS_KEY,
    Operator.GREATER_THAN: _GREATER,
    Operator.LESS_THAN: _LESS,
}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label requirement: ``key``, ``operator`` and its ``values``.

    ``values`` are kept sorted and unique (their order never matters);
    ``Exists``/``DoesNotExist`` have none, the equality operators and
    ``gt``/``lt`` exactly one. Construct through :class:`LabelSelector` to
    have them validated.
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()
    _set: frozenset[str] = dataclass_field(init=False, repr=False, compare=False, hash=False)
    _kind: int = dataclass_field(init=False, repr=False, compare=False, hash=False)
    _bound: int | None = dataclass_field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        op = Operator(self.operator)
        object.__setattr__(self, "operator", op)
        values = tuple(sorted(set(self.values)))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "_set", frozenset(values))
        object.__setattr__(self, "_kind", _MATCH_KIND[op])
        bound = _parse_int64(values[0]) if len(values) == 1 else None
        object.__setattr__(self, "_bound", bound)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``: whether a label set satisfies this requirement."""
        value = labels.get(self.key, _MISSING)
        kind = self._kind
        if kind == _HAS_VALUE:
            return value is not _MISSING and value in self._set
        if kind == _LACKS_VALUE:
            return value is _MISSING or value not in self._set
        if kind == _HAS_KEY:
            return value is not _MISSING
        if kind == _LACKS_KEY:
            return value is _MISSING
        if value is _MISSING or self._bound is None or not isinstance(value, str):
            return False
        number = _parse_int64(value)
        if number is None:
            return False
        return number > self._bound if kind == _GREATER else number < self._bound

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        joined = ",".join(self.values)
        if op is Operator.IN:
            return f"{self.key} in ({joined})"
        if op is Operator.NOT_IN:
            return f"{self.key} notin ({joined})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{symbol}{joined}"


def _requirement_errors(key: str, op: Operator, values: list[str]) -> list[str]:
    """``labels.NewRequirement``'s checks, as the messages of its aggregate error."""
    errs: list[str] = []
    key_msgs = label_key_errors(key)
    if key_msgs:
        errs.append(FieldError("Invalid", "key", value=key, detail="; ".join(key_msgs)).message)
    if op in (Operator.IN, Operator.NOT_IN):
        if not values:
            errs.append(
                "values: Invalid value: "
                f"{_go_strings(values)}: for 'in', 'notin' operators, values set can't be empty"
            )
    elif op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
        if len(values) != 1:
            errs.append(
                "values: Invalid value: "
                f"{_go_strings(values)}: exact-match compatibility requires one single value"
            )
    elif op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        if values:
            errs.append(
                "values: Invalid value: "
                f"{_go_strings(values)}: values set must be empty for exists and does not exist"
            )
    else:
        if len(values) != 1:
            errs.append(
                "values: Invalid value: "
                f"{_go_strings(values)}: for 'Gt', 'Lt' operators, exactly one value is required"
            )
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append(
                    FieldError(
                        "Invalid",
                        f"values[{i}]",
                        value=v,
                        detail="for 'Gt', 'Lt' operators, the value must be an integer",
                    ).message
                )
    for i, v in enumerate(values):
        value_msgs = label_value_errors(v)
        if value_msgs:
            errs.append(
                FieldError(
                    "Invalid", f"values[{i}][{key}]", value=v, detail="; ".join(value_msgs)
                ).message
            )
    return errs


def _new_requirement(key: str, op: Operator, values: list[str]) -> Requirement:
    errs = _requirement_errors(key, op, values)
    if errs:
        raise ValueError(_aggregate(errs))
    return Requirement(key, op, tuple(values))


# The lexer and parser of labels.Parse, token for token.

(
    _ERROR,
    _END,
    _CLOSED_PAR,
    _COMMA,
    _DOES_NOT_EXIST,
    _DOUBLE_EQUALS,
    _EQUALS,
    _GREATER_THAN,
    _IDENTIFIER,
    _IN,
    _LESS_THAN,
    _NOT_EQUALS,
    _NOT_IN,
    _OPEN_PAR,
) = range(14)
_STRING_TO_TOKEN: Final = {
    ")": _CLOSED_PAR,
    ",": _COMMA,
    "!": _DOES_NOT_EXIST,
    "==": _DOUBLE_EQUALS,
    "=": _EQUALS,
    ">": _GREATER_THAN,
    "in": _IN,
    "<": _LESS_THAN,
    "!=": _NOT_EQUALS,
    "notin": _NOT_IN,
    "(": _OPEN_PAR,
}
_SPECIAL_SYMBOLS: Final = frozenset("=!(),><")
_WHITESPACE: Final = frozenset(" \t\r\n")
_BINARY_OPERATORS: Final = "in, notin, =, ==, !=, gt, lt"
_OPERATOR_OF_TOKEN: Final = {
    _IN: Operator.IN,
    _EQUALS: Operator.EQUALS,
    _DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
    _GREATER_THAN: Operator.GREATER_THAN,
    _LESS_THAN: Operator.LESS_THAN,
    _NOT_IN: Operator.NOT_IN,
    _NOT_EQUALS: Operator.NOT_EQUALS,
}


def _lex(text: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            items.append((_END, ""))
            return items
        if text[pos] in _SPECIAL_SYMBOLS:
            # Every special symbol is a token; "!=" and "==" are the longest.
            pair = text[pos : pos + 2]
            literal = pair if pair in ("!=", "==") else text[pos]
            items.append((_STRING_TO_TOKEN[literal], literal))
            pos += len(literal)
            continue
        start = pos
        while pos < end and text[pos] not in _SPECIAL_SYMBOLS and text[pos] not in _WHITESPACE:
            pos += 1
        literal = text[start:pos]
        items.append((_STRING_TO_TOKEN.get(literal, _IDENTIFIER), literal))


class _ParseError(Exception):
    pass


class _LabelParser:
    """``labels.Parser``: 'in' and 'notin' are identifiers where values are expected."""

    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def lookahead(self, *, values: bool = True) -> tuple[int, str]:
        tok, lit = self.items[self.position]
        if values and tok in (_IN, _NOT_IN):
            tok = _IDENTIFIER
        return tok, lit

    def consume(self, *, values: bool = True) -> tuple[int, str]:
        tok, lit = self.lookahead(values=values)
        self.position += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok in (_IDENTIFIER, _DOES_NOT_EXIST):
                try:
                    requirements.append(self.parse_requirement())
                except (_ParseError, ValueError) as e:
                    raise _ParseError(f"unable to parse requirement: {e}") from None
                tok, lit = self.consume()
                if tok == _END:
                    return requirements
                if tok == _COMMA:
                    tok2, lit2 = self.lookahead()
                    if tok2 not in (_IDENTIFIER, _DOES_NOT_EXIST):
                        raise _ParseError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise _ParseError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _END:
                return requirements
            else:
                raise _ParseError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, op = self.parse_key_and_infer_operator()
        if op is not None:
            return _new_requirement(key, op, [])
        op = self.parse_operator()
        if op in (Operator.IN, Operator.NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        return _new_requirement(key, op, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, Operator | None]:
        op: Operator | None = None
        tok, literal = self.consume()
        if tok == _DOES_NOT_EXIST:
            op = Operator.DOES_NOT_EXIST
            tok, literal = self.consume()
        if tok != _IDENTIFIER:
            raise _ParseError(f"found '{literal}', expected: identifier")
        key_msgs = label_key_errors(literal)
        if key_msgs:
            # Kubernetes validates the key here with a nil field path.
            raise _ParseError(
                FieldError("Invalid", "<nil>", value=literal, detail="; ".join(key_msgs)).message
            )
        if self.lookahead()[0] in (_END, _COMMA) and op is None:
            op = Operator.EXISTS
        return literal, op

    def parse_operator(self) -> Operator:
        tok, lit = self.consume(values=False)
        op = _OPERATOR_OF_TOKEN.get(tok)
        if op is None:
            raise _ParseError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        return op

    def parse_values(self) -> set[str]:
        tok, lit = self.consume()
        if tok != _OPEN_PAR:
            raise _ParseError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok in (_IDENTIFIER, _COMMA):
            values = self.parse_identifiers_list()
            if self.consume()[0] != _CLOSED_PAR:
                raise _ParseError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSED_PAR:
            self.consume()
            return {""}
        raise _ParseError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume()
            if tok == _IDENTIFIER:
                values.add(lit)
                tok2, lit2 = self.lookahead()
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSED_PAR:
                    return values
                raise _ParseError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                # "(,a", "a,,b" and "a,)" all carry the empty value.
                if not values:
                    values.add("")
                tok2 = self.lookahead()[0]
                if tok2 == _CLOSED_PAR:
                    values.add("")
                    return values
                if tok2 == _COMMA:
                    self.consume()
                    values.add("")
            else:
                raise _ParseError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_END, _COMMA):
            return {""}
        tok, lit = self.consume()
        if tok == _IDENTIFIER:
            return {lit}
        raise _ParseError(f"found '{lit}', expected: identifier")


@lru_cache(maxsize=1024)
def _parse_label_selector(text: str) -> LabelSelector:
    try:
        requirements = _LabelParser(text).parse()
    except _ParseError as e:
        raise BadRequest(str(e)) from None
    return LabelSelector(requirements) if requirements else _EVERYTHING


_SELECTOR_OPERATORS: Final = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _join(path: str, child: str) -> str:
    return f"{path}.{child}" if path else child


class LabelSelector:
    """An immutable label selector: requirements ANDed together.

    Build one with :meth:`parse` (selector text), :meth:`from_dict`
    (``metav1.LabelSelector``), :meth:`from_labels` (``a=1,b=2`` from a label
    set), :meth:`everything` or :meth:`nothing`.
    """

    __slots__ = ("_nothing", "_requirements")

    _requirements: tuple[Requirement, ...]
    _nothing: bool

    def __init__(self, requirements: Iterable[Requirement] = ()) -> None:
        # Stable sort by key: Kubernetes sorts by key for a deterministic String().
        object.__setattr__(self, "_requirements", tuple(sorted(requirements, key=lambda r: r.key)))
        object.__setattr__(self, "_nothing", False)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("LabelSelector is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        if self._nothing:
            return (LabelSelector.nothing, ())
        return (LabelSelector, (self._requirements,))

    # Construction -----------------------------------------------------------

    @classmethod
    def everything(cls) -> LabelSelector:
        """Matches every label set (the empty selector)."""
        return _EVERYTHING

    @classmethod
    def nothing(cls) -> LabelSelector:
        """Matches no label set (what a nil ``metav1.LabelSelector`` means)."""
        return _NOTHING

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse selector text (``env in (prod,qa),tier!=front,!canary``).

        Raises :class:`BadRequest` with Kubernetes' message when malformed.
        Results are cached by ``text``.
        """
        if not isinstance(text, str):
            raise TypeError(f"a label selector must be a string, not {type(text).__name__}")
        return _parse_label_selector(text)

    @classmethod
    def from_labels(cls, labels: Mapping[str, str] | None) -> LabelSelector:
        """``a=1,b=2`` selecting exactly this label set (``SelectorFromSet``, unvalidated)."""
        if not labels:
            return _EVERYTHING
        return cls(Requirement(k, Operator.EQUALS, (v,)) for k, v in labels.items())

    @classmethod
    def from_dict(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """The selector a ``metav1.LabelSelector`` dict means (``LabelSelectorAsSelector``).

        ``None`` matches nothing; ``{}`` (no matchLabels, no matchExpressions)
        matches everything. Raises :class:`BadRequest` on the first invalid
        requirement, with Kubernetes' message; admission should instead call
        :meth:`validate` to answer 422 with field paths.
        """
        if selector is None:
            return _NOTHING
        if not isinstance(selector, Mapping):
            raise BadRequest(f"a label selector must be an object, not {_json_type(selector)}")
        match_labels = selector.get("matchLabels") or {}
        expressions = selector.get("matchExpressions") or []
        if not isinstance(match_labels, Mapping):
            raise BadRequest(f"matchLabels must be an object, not {_json_type(match_labels)}")
        if not isinstance(expressions, list):
            raise BadRequest(f"matchExpressions must be a list, not {_json_type(expressions)}")
        if not match_labels and not expressions:
            return _EVERYTHING
        requirements: list[Requirement] = []
        try:
            for key in sorted(match_labels, key=str):
                value = match_labels[key]
                if not isinstance(key, str) or not isinstance(value, str):
                    raise ValueError(f"matchLabels[{key}]: label keys and values must be strings")
                requirements.append(_new_requirement(key, Operator.EQUALS, [value]))
            for expr in expressions:
                if not isinstance(expr, Mapping):
                    raise ValueError(
                        f"matchExpressions items must be objects, not {_json_type(expr)}"
                    )
                name = expr.get("operator") or ""
                op = _SELECTOR_OPERATORS.get(name) if isinstance(name, str) else None
                if op is None:
                    raise ValueError(f"{json.dumps(name)} is not a valid label selector operator")
                key = expr.get("key") or ""
                values = expr.get("values") or []
                if not isinstance(key, str) or not isinstance(values, list):
                    raise ValueError("matchExpressions: key must be a string, values a list")
                if not all(isinstance(v, str) for v in values):
                    raise ValueError("matchExpressions: values must be strings")
                requirements.append(_new_requirement(key, op, list(values)))
        except ValueError as e:
            raise BadRequest(str(e)) from None
        return cls(requirements)

    @staticmethod
    def validate(selector: Any, *, path: str = "") -> list[FieldError]:
        """Problems of a ``metav1.LabelSelector`` dict, as ``ValidateLabelSelector`` reports them.

        ``path`` is where the selector sits (``spec.selector``). ``None`` is valid.
        """
        errors: list[FieldError] = []
        if selector is None:
            return errors
        if not isinstance(selector, Mapping):
            return [FieldError("TypeInvalid", path, value=selector, detail="must be an object")]
        labels_path = _join(path, "matchLabels")
        match_labels = selector.get("matchLabels") or {}
        if not isinstance(match_labels, Mapping):
            errors.append(
                FieldError(
                    "TypeInvalid", labels_path, value=match_labels, detail="must be an object"
                )
            )
            match_labels = {}
        for key, value in match_labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                errors.append(
                    FieldError("TypeInvalid", labels_path, value=value, detail="must be a string")
                )
                continue
            errors.extend(
                FieldError("Invalid", labels_path, value=key, detail=m)
                for m in label_key_errors(key)
            )
            errors.extend(
                FieldError("Invalid", labels_path, value=value, detail=m)
                for m in label_value_errors(value)
            )
        expressions = selector.get("matchExpressions") or []
        exprs_path = _join(path, "matchExpressions")
        if not isinstance(expressions, list):
            errors.append(
                FieldError("TypeInvalid", exprs_path, value=expressions, detail="must be a list")
            )
            expressions = []
        for i, expr in enumerate(expressions):
            errors.extend(_requirement_field_errors(expr, path=f"{exprs_path}[{i}]"))
        return errors

    def add(self, *requirements: Requirement) -> LabelSelector:
        """A new selector with more requirements (``Selector.Add``)."""
        if self._nothing:
            return self
        return LabelSelector((*self._requirements, *requirements))

    # Use --------------------------------------------------------------------

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self._requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether a label set satisfies every requirement."""
        if self._nothing:
            return False
        if labels is None:
            labels = {}
        # A plain loop: this runs for every object of every filtered watch event.
        for requirement in self._requirements:  # noqa: SIM110
            if not requirement.matches(labels):
                return False
        return True

    def is_empty(self) -> bool:
        """True when the selector restricts nothing (``Empty()``; false for :meth:`nothing`)."""
        return not self._nothing and not self._requirements

    def matches_nothing(self) -> bool:
        """True only for :meth:`nothing` (``labels.MatchesNothing``)."""
        return self._nothing

    def equality_labels(self) -> dict[str, str]:
        """Labels the selector requires to have one exact value (for index lookups).

        ``a=x``, ``a==x`` and ``a in (x)`` give ``{"a": "x"}``; the first
        requirement of a key decides, as in ``RequiresExactMatch``.
        """
        exact: dict[str, str] = {}
        seen: set[str] = set()
        for r in self._requirements:
            if r.key in seen:
                continue
            seen.add(r.key)
            if r._kind == _HAS_VALUE and len(r.values) == 1:
                exact[r.key] = r.values[0]
        return exact

    def __str__(self) -> str:
        # A "nothing" selector prints as "" in Kubernetes too.
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        if self._nothing:
            return "LabelSelector.nothing()"
        return f"LabelSelector.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return self._nothing == other._nothing and self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash((self._nothing, self._requirements))


def _make_nothing() -> LabelSelector:
    selector = LabelSelector()
    object.__setattr__(selector, "_nothing", True)
    return selector


_EVERYTHING: Final = LabelSelector()
_NOTHING: Final = _make_nothing()


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _requirement_field_errors(expr: Any, *, path: str) -> list[FieldError]:
    """``ValidateLabelSelectorRequirement`` for one ``matchExpressions`` item."""
    if not isinstance(expr, Mapping):
        return [FieldError("TypeInvalid", path, value=expr, detail="must be an object")]
    errors: list[FieldError] = []
    operator = expr.get("operator") or ""
    values = expr.get("values") or []
    values_path = f"{path}.values"
    if not isinstance(values, list):
        errors.append(FieldError("TypeInvalid", values_path, value=values, detail="must be a list"))
        values = []
    if operator in ("In", "NotIn"):
        if not values:
            errors.append(
                FieldError(
                    "Required",
                    values_path,
                    detail="must be specified when `operator` is 'In' or 'NotIn'",
                )
            )
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errors.append(
                FieldError(
                    "Forbidden",
                    values_path,
                    detail="may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    else:
        errors.append(
            FieldError(
                "Invalid",
                f"{path}.operator",
                value=operator,
                detail="not a valid selector operator",
            )
        )
    key = expr.get("key") or ""
    if not isinstance(key, str):
        errors.append(
            FieldError("TypeInvalid", f"{path}.key", value=key, detail="must be a string")
        )
    else:
        errors.extend(
            FieldError("Invalid", f"{path}.key", value=key, detail=m) for m in label_key_errors(key)
        )
    for i, value in enumerate(values):
        if not isinstance(value, str):
            errors.append(
                FieldError(
                    "TypeInvalid", f"{values_path}[{i}]", value=value, detail="must be a string"
                )
            )
            continue
        errors.extend(
            FieldError("Invalid", f"{values_path}[{i}]", value=value, detail=m)
            for m in label_value_errors(value)
        )
    return errors


# Field selectors ----------------------------------------------------------------

_VALUE_ESCAPES: Final = str.maketrans({"\\": "\\\\", ",": "\\,", "=": "\\="})


def escape_value(value: str) -> str:
    """Escape ``\\``, ``,`` and ``=`` so any text can be a field selector value."""
    return value.translate(_VALUE_ESCAPES)


def unescape_value(text: str) -> str:
    """The literal value of escaped field selector text (``fields.UnescapeValue``).

    Raises :class:`BadRequest` for an unknown escape or a bare ``,``/``=``.
    """
    if "\\" not in text and "," not in text and "=" not in text:
        return text
    out: list[str] = []
    in_slash = False
    for c in text:
        if in_slash:
            if c not in "\\,=":
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune as its number (%v of a rune).
            raise BadRequest(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not escaped; escapes stay in the terms."""
    if not text:
        return []
    terms: list[str] = []
    start = 0
    in_slash = False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


_TERM_OPERATORS: Final = ("!=", "==", "=")


def _split_term(term: str) -> tuple[str, str, str] | None:
    """(field, operator, raw value) at the first operator; fields have no escapes."""
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """``field = value`` or ``field != value`` (``==`` parses as ``=``)."""

    field: str
    operator: Operator
    value: str
    _path: tuple[str, ...] = dataclass_field(init=False, repr=False, compare=False, hash=False)
    _equal: bool = dataclass_field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        op = Operator(self.operator)
        if op is Operator.DOUBLE_EQUALS:
            op = Operator.EQUALS
        if op not in (Operator.EQUALS, Operator.NOT_EQUALS):
            raise ValueError(f"field selectors support only = and !=, not {op.value}")
        object.__setattr__(self, "operator", op)
        object.__setattr__(self, "_path", tuple(self.field.split(".")))
        object.__setattr__(self, "_equal", op is Operator.EQUALS)

    def __str__(self) -> str:
        symbol = "=" if self._equal else "!="
        return f"{self.field}{symbol}{escape_value(self.value)}"


def _render(value: Any) -> str:
    """A field's value as its field-selector text; non-scalars are not selectable."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return ""


def _lookup(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = obj
    for part in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
        if current is None:
            return None
    return current


# Fields whose Kubernetes field set is computed rather than read straight
# from the object (the kinds' ToSelectableFields / GetAttrs).


def _bool_field(*path: str) -> Callable[[Mapping[str, Any]], str]:
    def get(obj: Mapping[str, Any]) -> str:
        return "true" if _lookup(obj, path) is True else "false"

    return get


def _int_field(*path: str) -> Callable[[Mapping[str, Any]], str]:
    def get(obj: Mapping[str, Any]) -> str:
        value = _lookup(obj, path)
        return _render(value) if isinstance(value, (int, float)) else "0"

    return get


def _pod_ip(obj: Mapping[str, Any]) -> str:
    ips = _lookup(obj, ("status", "podIPs"))
    if isinstance(ips, list) and ips and isinstance(ips[0], Mapping):
        return _render(ips[0].get("ip"))
    return _render(_lookup(obj, ("status", "podIP")))


def _event_source(obj: Mapping[str, Any]) -> str:
    return _render(_lookup(obj, ("source", "component"))) or _render(obj.get("reportingComponent"))


_COMPUTED_FIELDS: Final[dict[tuple[str, str], dict[str, Callable[[Mapping[str, Any]], str]]]] = {
    ("", "Pod"): {
        "spec.hostNetwork": _bool_field("spec", "hostNetwork"),
        "status.podIP": _pod_ip,
    },
    ("", "Node"): {"spec.unschedulable": _bool_field("spec", "unschedulable")},
    ("", "Event"): {"source": _event_source},
    ("", "ReplicationController"): {"status.replicas": _int_field("status", "replicas")},
    ("apps", "ReplicaSet"): {"status.replicas": _int_field("status", "replicas")},
    ("extensions", "ReplicaSet"): {"status.replicas": _int_field("status", "replicas")},
    ("batch", "Job"): {"status.successful": _int_field("status", "succeeded")},
}


def _computed_fields(
    obj: Mapping[str, Any],
) -> dict[str, Callable[[Mapping[str, Any]], str]] | None:
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    api_version = obj.get("apiVersion")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    return _COMPUTED_FIELDS.get((group, kind))


def field_value(obj: Mapping[str, Any], field_path: str) -> str:
    """The text a field selector compares for ``field_path`` of ``obj`` ("" if missing)."""
    computed = _computed_fields(obj)
    if computed:
        getter = computed.get(field_path)
        if getter is not None:
            return getter(obj)
    return _render(_lookup(obj, tuple(field_path.split("."))))


@lru_cache(maxsize=1024)
def _parse_field_selector(text: str) -> FieldSelector:
    requirements: list[FieldRequirement] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, raw = split
        requirements.append(FieldRequirement(name, Operator(op), unescape_value(raw)))
    return FieldSelector(requirements) if requirements else _EVERY_FIELD


class FieldSelector:
    """An immutable field selector: ``field=value`` / ``field!=value`` terms ANDed."""

    __slots__ = ("_requirements",)

    _requirements: tuple[FieldRequirement, ...]

    def __init__(self, requirements: Iterable[FieldRequirement] = ()) -> None:
        # Kubernetes sorts the terms; sorting the rendered terms keeps str() stable.
        object.__setattr__(self, "_requirements", tuple(sorted(requirements, key=str)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FieldSelector is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FieldSelector, (self._requirements,))

    @classmethod
    def everything(cls) -> FieldSelector:
        return _EVERY_FIELD

    @classmethod
    def parse(cls, text: str) -> FieldSelector:
        """Parse ``a=b,c!=d`` (``==`` too; ``\\,``, ``\\=``, ``\\\\`` escape values).

        Raises :class:`BadRequest` with Kubernetes' message. Cached by ``text``.
        """
        if not isinstance(text, str):
            raise TypeError(f"a field selector must be a string, not {type(text).__name__}")
        return _parse_field_selector(text)

    @property
    def requirements(self) -> tuple[FieldRequirement, ...]:
        return self._requirements

    def is_empty(self) -> bool:
        return not self._requirements

    def fields(self) -> frozenset[str]:
        """The field paths the selector reads."""
        return frozenset(r.field for r in self._requirements)

    def check_supported(self, supported: Collection[str]) -> None:
        """Raise :class:`BadRequest` (``field label not supported: f``) for a field
        the kind does not support; ``supported`` comes from :func:`supported_fields`.
        """
        for r in self._requirements:
            if r.field not in supported:
                raise BadRequest(f"field label not supported: {r.field}")

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` (a whole object dict) satisfies every term."""
        requirements = self._requirements
        if not requirements:
            return True
        computed = _computed_fields(obj)
        for r in requirements:
            getter = computed.get(r.field) if computed else None
            value = getter(obj) if getter is not None else _render(_lookup(obj, r._path))
            if (value == r.value) is not r._equal:
                return False
        return True

    def matches_fields(self, fields: Mapping[str, str]) -> bool:
        """Whether a precomputed field set (field path -> text) satisfies every term."""
        for r in self._requirements:  # noqa: SIM110 (hot path, as in matches)
            if (fields.get(r.field, "") == r.value) is not r._equal:
                return False
        return True

    def equality_fields(self) -> dict[str, str]:
        """Fields required to equal one value (``spec.nodeName=n1``), for index lookups."""
        exact: dict[str, str] = {}
        for r in self._requirements:
            if r._equal:
                exact.setdefault(r.field, r.value)
        return exact

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        return f"FieldSelector.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash(self._requirements)


_EVERY_FIELD: Final = FieldSelector()

# Which fields each kind supports (the kinds' field label conversion funcs).

_METADATA_FIELDS: Final = frozenset({"metadata.name", "metadata.namespace"})
_SUPPORTED_FIELDS: Final[dict[tuple[str, str], frozenset[str]]] = {
    ("", "Pod"): _METADATA_FIELDS
    | {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    },
    ("", "Node"): frozenset({"metadata.name", "spec.unschedulable"}),
    ("", "Namespace"): frozenset({"metadata.name", "status.phase"}),
    ("", "Event"): _METADATA_FIELDS
    | {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    ("", "Secret"): _METADATA_FIELDS | {"type"},
    ("", "Service"): _METADATA_FIELDS | {"spec.clusterIP", "spec.type"},
    ("", "ReplicationController"): _METADATA_FIELDS | {"status.replicas"},
    ("apps", "ReplicaSet"): _METADATA_FIELDS | {"status.replicas"},
    ("extensions", "ReplicaSet"): _METADATA_FIELDS | {"status.replicas"},
    ("batch", "Job"): _METADATA_FIELDS | {"status.successful"},
}


def supported_fields(
    group: str,
    kind: str,
    selectable_fields: Iterable[str] = (),
    *,
    namespaced: bool = True,
    builtin: bool = True,
) -> frozenset[str]:
    """The fields a field selector may use on ``group``/``kind``.

    Built-in kinds use Kubernetes' tables (a Node supports only
    ``metadata.name`` and ``spec.unschedulable``); other built-ins support
    ``metadata.name`` and ``metadata.namespace``. A custom resource
    (``builtin=False``) supports ``metadata.name``, ``metadata.namespace`` when
    namespaced, and its CRD's ``selectableFields`` (JSONPaths without the
    leading dot, as :class:`~sandbox.api.kinds.ResourceType` keeps them).
    """
    if builtin:
        table = _SUPPORTED_FIELDS.get((group, kind))
        if table is not None:
            return table
        base = _METADATA_FIELDS
    else:
        base = _METADATA_FIELDS if namespaced else frozenset({"metadata.name"})
    return base | frozenset(f.lstrip(".") for f in selectable_fields)
