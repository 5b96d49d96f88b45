"""Kubernetes resource quantities, parsed and compared exactly.

Every number a pod asks for or a node offers (``cpu: 500m``, ``memory: 2Gi``,
``nvidia.com/gpu: "1"``) is a ``resource.Quantity``. This module gives the
layers above one exact representation of them:

- admission parses ``resources.requests``/``limits`` with :func:`parse_quantity`
  and turns a ``ValueError`` into a 422 whose words are Kubernetes' own;
- the store may re-emit a value in canonical form (:func:`canonicalize`,
  ``"1000m"`` -> ``"1"``), as the API server does when it serialises an object;
- the scheduler sums requests (:func:`add_resources`), subtracts them from a
  node's allocatable (:func:`subtract_resources`) and asks :func:`fits`, and
  the kubelet reads :func:`cpu_millis` / :func:`to_bytes`.

Data flow: text (or a YAML/JSON number) -> :func:`parse_quantity` (cached) ->
an integer count of nano-units plus the suffix family it was written in ->
:class:`Quantity` (ordered, hashable, ``+``/``-``) -> ``str()`` in canonical
form. Nothing is ever a float: a value is held as an integer number of
nano-units, which is exactly Kubernetes' resolution.

Fidelity with ``k8s.io/apimachinery/pkg/api/resource``:

- grammar, suffix tables and the three error messages are Kubernetes';
- values below 1n are rounded *up* (away from zero) to the next nano-unit
  (``0.1n`` -> ``1n``), and binary-suffixed values are capped at 2^63-1, as
  ``ParseQuantity`` does;
- ``str()`` follows ``CanonicalizeBytes``: the suffix family is kept (binary
  stays binary, SI stays SI, ``e``-notation stays ``e``-notation), the
  mantissa is an integer and the exponent as large as possible
  (``1.5`` -> ``1500m``, ``1.5Gi`` -> ``1536Mi``); binary values below 1024
  or with a fraction are shown in decimal SI (``0.5Ki`` -> ``512``).

Known differences, all on inputs nobody writes on purpose: Go's scanner also
accepts a number with no digit (``"."``, ``"-"``, ``"Ki"``, all zero), which
we reject as the documented grammar does; Go keeps a few non-canonical
spellings it parsed (``"+1"``, ``"1E3"``) where we always print the canonical
form; exponents beyond +/-1000 are rejected rather than computed; a decimal
value above 999E is printed with a larger mantissa (``1000E``) where Go would
drop the suffix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Final, Literal, TypeAlias

__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "Quantity",
    "QuantityFormat",
    "QuantityLike",
    "ResourceValues",
    "add_resources",
    "canonicalize",
    "compare",
    "cpu_millis",
    "fits",
    "parse_quantity",
    "subtract_resources",
    "to_bytes",
]

QuantityFormat = Literal["DecimalSI", "BinarySI", "DecimalExponent"]
DECIMAL_SI: Final = "DecimalSI"
BINARY_SI: Final = "BinarySI"
DECIMAL_EXPONENT: Final = "DecimalExponent"
_FORMATS: Final = frozenset({DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT})

# Kubernetes' error values, word for word (resource.ErrFormatWrong etc.).
_SPLIT_RE_STRING: Final = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG: Final = f"quantities must match the regular expression '{_SPLIT_RE_STRING}'"
ERR_NUMERIC: Final = "unable to parse numeric part of quantity"
ERR_SUFFIX: Final = "unable to parse quantity's suffix"

# The scanner of parseQuantityString as one anchored pattern: sign, digits,
# optional fraction, then a run of suffix letters, an optional sign and digits.
_QUANTITY_RE: Final = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)")

_NANO: Final = 10**9
_BINARY_MAX: Final = 2**63 - 1
_MAX_EXPONENT: Final = 1000

_DECIMAL_SUFFIXES: Final[dict[str, int]] = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES: Final[dict[str, int]] = {
    "Ki": 10,
    "Mi": 20,
    "Gi": 30,
    "Ti": 40,
    "Pi": 50,
    "Ei": 60,
}
_SI_BY_EXPONENT: Final = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def _ceil_away_from_zero(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded away from zero (Kubernetes' "round up")."""
    q, r = divmod(abs(numerator), denominator)
    if r:
        q += 1
    return q if numerator >= 0 else -q


def _interpret_suffix(suffix: str) -> tuple[int, int, QuantityFormat]:
    """(base, exponent, format) of a suffix, like ``suffixHandler.interpret``."""
    exponent = _DECIMAL_SUFFIXES.get(suffix)
    if exponent is not None:
        return 10, exponent, DECIMAL_SI
    exponent = _BINARY_SUFFIXES.get(suffix)
    if exponent is not None:
        return 2, exponent, BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = int(suffix[1:])
        except ValueError:
            raise ValueError(ERR_SUFFIX) from None
        if abs(exponent) > _MAX_EXPONENT:
            raise ValueError(ERR_SUFFIX)
        return 10, exponent, DECIMAL_EXPONENT
    raise ValueError(ERR_SUFFIX)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> tuple[int, QuantityFormat]:
    """Parse one quantity string into (nano-units, format); cached by text."""
    if not text:
        raise ValueError(ERR_FORMAT_WRONG)
    match = _QUANTITY_RE.fullmatch(text)
    if match is None:
        raise ValueError(ERR_FORMAT_WRONG)
    sign, whole, fraction, suffix = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:
        raise ValueError(ERR_FORMAT_WRONG)
    base, exponent, fmt = _interpret_suffix(suffix)
    try:
        mantissa = int(whole + fraction or "0")
    except ValueError:  # more digits than Python converts (sys.int_info)
        raise ValueError(ERR_NUMERIC) from None

    # value = mantissa * 10^-len(fraction) * base^exponent, in nano-units.
    if base == 10:
        shift = exponent - len(fraction) + 9
        if shift >= 0:
            nanos = mantissa * 10**shift
        else:
            nanos = _ceil_away_from_zero(mantissa, 10**-shift)
    else:
        nanos = _ceil_away_from_zero(mantissa * 2**exponent * _NANO, 10 ** len(fraction))
        nanos = min(nanos, _BINARY_MAX * _NANO)
        if 0 < nanos < _NANO:
            # Kubernetes: a binary value below one is kept as decimal SI.
            fmt = DECIMAL_SI
    return (-nanos if sign == "-" else nanos), fmt


def _parse(value: object) -> tuple[int, QuantityFormat]:
    if isinstance(value, Quantity):
        return value._nanos, value._format
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, bool):
        # JSON true/false reach ParseQuantity as text and fail its grammar.
        raise ValueError(ERR_FORMAT_WRONG)
    if isinstance(value, (int, float)):
        # A YAML/JSON number is parsed from its text, as UnmarshalJSON does.
        return _parse_text(repr(value))
    if isinstance(value, (Fraction, Decimal)):
        exact = Fraction(value) * _NANO
        return _ceil_away_from_zero(exact.numerator, exact.denominator), DECIMAL_SI
    raise TypeError(f"a quantity must be a string or a number, not {type(value).__name__}")


def parse_quantity(value: QuantityLike) -> Fraction:
    """The exact value of a quantity (``"1.5Gi"`` -> ``Fraction(1610612736)``).

    Raises ``ValueError`` with Kubernetes' message for malformed text.
    """
    nanos, _ = _parse(value)
    return Fraction(nanos, _NANO)


class Quantity:
    """An exact, immutable resource quantity that remembers its suffix family.

    ``Quantity("1536Mi")``, ``Quantity(2)``, ``Quantity(Fraction(1, 2))``.
    Equality and order are by value (``Quantity("1Ki") == Quantity("1024")``);
    ``format`` only decides how ``str()`` spells it. ``+`` and ``-`` keep the
    left operand's format unless it is zero, as ``Quantity.Add`` does.
    """

    __slots__ = ("_format", "_nanos", "_text")

    _nanos: int
    _format: QuantityFormat
    _text: str | None

    def __init__(
        self,
        value: QuantityLike = 0,
        *,
        format: QuantityFormat | None = None,
    ) -> None:
        nanos, fmt = _parse(value)
        if format is not None:
            if format not in _FORMATS:
                raise ValueError(f"unknown quantity format {format!r}")
            fmt = format
        object.__setattr__(self, "_nanos", nanos)
        object.__setattr__(self, "_format", fmt)
        object.__setattr__(self, "_text", None)

    @classmethod
    def from_str(cls, text: str) -> Quantity:
        """Parse Kubernetes quantity text; ``ValueError`` if it is malformed."""
        if not isinstance(text, str):
            raise TypeError(f"expected a string, not {type(text).__name__}")
        return cls(text)

    @classmethod
    def _of(cls, nanos: int, fmt: QuantityFormat) -> Quantity:
        q = object.__new__(cls)
        object.__setattr__(q, "_nanos", nanos)
        object.__setattr__(q, "_format", fmt)
        object.__setattr__(q, "_text", None)
        return q

    # Immutability -----------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Quantity is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Quantity is immutable")

    def __reduce__(self) -> tuple[object, tuple[int, QuantityFormat]]:
        return (Quantity._of, (self._nanos, self._format))

    def __copy__(self) -> Quantity:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Quantity:
        return self

    # Values -----------------------------------------------------------------

    @property
    def value(self) -> Fraction:
        """The exact value."""
        return Fraction(self._nanos, _NANO)

    @property
    def format(self) -> QuantityFormat:
        """``"DecimalSI"``, ``"BinarySI"`` or ``"DecimalExponent"``."""
        return self._format

    def is_zero(self) -> bool:
        return self._nanos == 0

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (``MilliValue``)."""
        return _ceil_away_from_zero(self._nanos, 10**6)

    def int_value(self) -> int:
        """The value rounded away from zero to an integer (``Value``)."""
        return _ceil_away_from_zero(self._nanos, _NANO)

    # Comparison -------------------------------------------------------------

    def _compare(self, other: object) -> int | None:
        if isinstance(other, Quantity):
            o = other._nanos
            return (self._nanos > o) - (self._nanos < o)
        if isinstance(other, bool) or not isinstance(other, (int, float, Fraction, Decimal)):
            return None
        mine, theirs = self.value, Fraction(other)
        return (mine > theirs) - (mine < theirs)

    def __eq__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c == 0

    def __lt__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c < 0

    def __le__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c <= 0

    def __gt__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c > 0

    def __ge__(self, other: object) -> bool:
        c = self._compare(other)
        return NotImplemented if c is None else c >= 0

    def __hash__(self) -> int:
        # Equal to the hash of the equal int/Fraction, since they compare equal.
        return hash(Fraction(self._nanos, _NANO))

    def __bool__(self) -> bool:
        return self._nanos != 0

    # Arithmetic -------------------------------------------------------------

    def __add__(self, other: object) -> Quantity:
        if not isinstance(other, (Quantity, str, int, float, Fraction, Decimal)):
            return NotImplemented
        nanos, fmt = _parse(other)
        return Quantity._of(self._nanos + nanos, fmt if self._nanos == 0 else self._format)

    def __radd__(self, other: object) -> Quantity:
        # ``sum(quantities)`` starts from the int 0.
        if not isinstance(other, (str, int, float, Fraction, Decimal)):
            return NotImplemented
        return Quantity(other) + self

    def __sub__(self, other: object) -> Quantity:
        if not isinstance(other, (Quantity, str, int, float, Fraction, Decimal)):
            return NotImplemented
        nanos, fmt = _parse(other)
        return Quantity._of(self._nanos - nanos, fmt if self._nanos == 0 else self._format)

    def __rsub__(self, other: object) -> Quantity:
        if not isinstance(other, (str, int, float, Fraction, Decimal)):
            return NotImplemented
        return Quantity(other) - self

    def __neg__(self) -> Quantity:
        return Quantity._of(-self._nanos, self._format)

    def __abs__(self) -> Quantity:
        return Quantity._of(abs(self._nanos), self._format)

    # Text -------------------------------------------------------------------

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = _canonical(self._nanos, self._format)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"


QuantityLike: TypeAlias = str | int | float | Fraction | Decimal | Quantity
"""What every function here accepts as a quantity: a YAML/JSON value or a Quantity."""

ResourceValues: TypeAlias = Mapping[str, QuantityLike]
"""A ResourceList-style dict: ``{"cpu": "500m", "memory": "1Gi"}``."""


def _canonical(nanos: int, fmt: QuantityFormat) -> str:
    """``CanonicalizeBytes``: integer mantissa, largest exponent, same family."""
    if nanos == 0:
        return "0"
    if fmt == BINARY_SI and abs(nanos) >= 1024 * _NANO and nanos % _NANO == 0:
        number = nanos // _NANO
        power = 0
        while power < 6 and number % 1024 == 0:
            number //= 1024
            power += 1
        return f"{number}{_BINARY_BY_POWER[power]}"

    digits = str(abs(nanos))
    stripped = digits.rstrip("0")
    exponent = -9 + (len(digits) - len(stripped))
    mantissa = int(stripped)
    # Lower the exponent to a multiple of three (Python's % is non-negative).
    extra = exponent % 3
    mantissa *= 10**extra
    exponent -= extra
    sign = "-" if nanos < 0 else ""
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    if exponent > 18:
        mantissa *= 10 ** (exponent - 18)
        exponent = 18
    return f"{sign}{mantissa}{_SI_BY_EXPONENT[exponent]}"


# Helpers for callers that hold plain YAML values ------------------------------


def canonicalize(value: QuantityLike) -> str:
    """The canonical text of a quantity (``"1000m"`` -> ``"1"``)."""
    return str(value if isinstance(value, Quantity) else Quantity(value))


def cpu_millis(value: QuantityLike) -> int:
    """Thousandths of the value, rounded up (``"500m"`` -> 500, ``"1"`` -> 1000)."""
    nanos, _ = _parse(value)
    return _ceil_away_from_zero(nanos, 10**6)


def to_bytes(value: QuantityLike) -> int:
    """The value as an integer, rounded up (``"1Ki"`` -> 1024)."""
    nanos, _ = _parse(value)
    return _ceil_away_from_zero(nanos, _NANO)


def compare(
    a: QuantityLike,
    b: QuantityLike,
) -> int:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b`` (``Cmp``)."""
    x, _ = _parse(a)
    y, _ = _parse(b)
    return (x > y) - (x < y)


def add_resources(a: ResourceValues, b: ResourceValues) -> dict[str, Quantity]:
    """Sum two ResourceLists key by key; a key missing on one side counts as zero.

    Returns Quantities (render with ``str()`` to write a ResourceList back);
    keys keep ``a``'s order, then ``b``'s new ones.
    """
    total: dict[str, Quantity] = {name: Quantity(v) for name, v in a.items()}
    for name, v in b.items():
        q = Quantity(v)
        total[name] = total[name] + q if name in total else q
    return total


def subtract_resources(a: ResourceValues, b: ResourceValues) -> dict[str, Quantity]:
    """``a - b`` key by key (e.g. allocatable minus requested); may go negative."""
    rest: dict[str, Quantity] = {name: Quantity(v) for name, v in a.items()}
    for name, v in b.items():
        q = Quantity(v)
        rest[name] = rest[name] - q if name in rest else -q
    return rest


def fits(requests: ResourceValues, free: ResourceValues) -> list[str]:
    """Names of requested resources that exceed what is free, in request order.

    A resource absent from ``free`` has none free, so any positive request of
    it does not fit (an extended resource on a node without it).
    """
    short: list[str] = []
    for name, want in requests.items():
        need, _ = _parse(want)
        have = free.get(name)
        available = _parse(have)[0] if have is not None else 0
        if need > available:
            short.append(name)
    return short
