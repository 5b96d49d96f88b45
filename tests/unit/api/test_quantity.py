"""Resource quantities: Kubernetes' grammar, canonical text, exact arithmetic."""

from __future__ import annotations

import copy
import pickle
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.quantity import (
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    Quantity,
    add_resources,
    canonicalize,
    compare,
    cpu_millis,
    fits,
    parse_quantity,
    subtract_resources,
    to_bytes,
)

FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
SUFFIX_ERROR = "unable to parse quantity's suffix"
PROPERTY = settings(max_examples=200, deadline=None)

# Parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("1", 1),
        ("500m", Fraction(1, 2)),
        ("0.5", Fraction(1, 2)),
        (".5", Fraction(1, 2)),
        ("1.", 1),
        ("+2", 2),
        ("-2", -2),
        ("2Gi", 2 * 1024**3),
        ("1Ki", 1024),
        ("1Ei", 2**60),
        ("1k", 1000),
        ("1M", 10**6),
        ("1E", 10**18),
        ("1e3", 1000),
        ("1E3", 1000),
        ("1e+3", 1000),
        ("1E-3", Fraction(1, 1000)),
        ("12e6", 12 * 10**6),
        ("1n", Fraction(1, 10**9)),
        ("1u", Fraction(1, 10**6)),
        ("1.5Gi", 1536 * 1024**2),
    ],
)
def test_parse_quantity_reads_every_suffix_family_exactly(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


def test_parse_quantity_reads_yaml_numbers_from_their_text() -> None:
    assert parse_quantity(2) == 2
    assert parse_quantity(0.1) == Fraction(1, 10)
    assert parse_quantity(1e16) == 10**16
    assert parse_quantity(Fraction(3, 2)) == Fraction(3, 2)


def test_kubernetes_docs_memory_examples_are_about_equal_and_ordered() -> None:
    # "The following represent roughly the same value" (Kubernetes docs).
    assert Quantity("128974848") == Quantity("123Mi") == Quantity("128974848000m")
    assert Quantity("129e6") == Quantity("129M")
    assert Quantity("123Mi") < Quantity("129M")
    spread = parse_quantity("129M") / parse_quantity("123Mi")
    assert 1 < spread < Fraction(101, 100)
    assert sorted(Quantity(t) for t in ["129M", "1e3", "123Mi", "500m", "2Gi"]) == [
        Quantity("500m"),
        Quantity("1e3"),
        Quantity("123Mi"),
        Quantity("129M"),
        Quantity("2Gi"),
    ]


def test_decimal_fractions_add_without_float_error() -> None:
    assert Quantity("0.1") + Quantity("0.2") == Quantity("300m")
    assert str(Quantity("0.1") + Quantity("0.2")) == "300m"
    assert parse_quantity("0.1") + parse_quantity("0.2") == parse_quantity("0.3")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("0.1n", "1n"),
        ("1.5n", "2n"),
        ("-1.5n", "-2n"),
        ("1e-10", "1e-9"),
    ],
)
def test_values_below_one_nano_round_up_away_from_zero(text: str, canonical: str) -> None:
    assert str(Quantity(text)) == canonical


def test_binary_values_are_capped_at_the_largest_int64() -> None:
    assert parse_quantity("8Ei") == 2**63 - 1
    assert parse_quantity("-8Ei") == -(2**63 - 1)
    assert parse_quantity("9E") == 9 * 10**18  # decimal SI is not capped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5.5", FORMAT_ERROR),
        ("Kb", FORMAT_ERROR),
        ("1 Gi", FORMAT_ERROR),
        ("", FORMAT_ERROR),
        (" 1", FORMAT_ERROR),
        ("1\n", FORMAT_ERROR),
        ("1Gb", FORMAT_ERROR),
        ("1e3.5", FORMAT_ERROR),
        ("Ki", FORMAT_ERROR),
        (".", FORMAT_ERROR),
        ("-", FORMAT_ERROR),
        ("1K", SUFFIX_ERROR),
        ("1mi", SUFFIX_ERROR),
        ("1e", SUFFIX_ERROR),
        ("1ee3", SUFFIX_ERROR),
        ("1m3", SUFFIX_ERROR),
        ("1e99999", SUFFIX_ERROR),
    ],
)
def test_malformed_quantities_raise_kubernetes_messages(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_quantity(text)
    assert str(err.value) == message


def test_booleans_are_malformed_quantities_and_other_types_are_type_errors() -> None:
    with pytest.raises(ValueError, match="regular expression"):
        parse_quantity(True)
    with pytest.raises(TypeError):
        parse_quantity(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Quantity.from_str(5)  # type: ignore[arg-type]


# Canonical text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("0", "0"),
        ("0Ki", "0"),
        ("-0", "0"),
        ("1000m", "1"),
        ("1000", "1k"),
        ("1500", "1500"),
        ("1.5k", "1500"),
        ("0.5", "500m"),
        ("1.5", "1500m"),
        ("-1.5", "-1500m"),
        ("0.0001", "100u"),
        ("100035k", "100035k"),
        ("1536Mi", "1536Mi"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Ki", "512"),
        ("1.5Ki", "1536"),
        ("1.1Ki", "1126400m"),
        ("-2000", "-2k"),
        ("-2Ki", "-2Ki"),
        ("1024Ei", "9223372036854775807"),
        ("1e3", "1e3"),
        ("1E3", "1e3"),
        ("1.5e3", "1500"),
        ("12e6", "12e6"),
        ("129e6", "129e6"),
        ("1e-3", "1e-3"),
        ("1000E", "1000E"),
        ("+1", "1"),
    ],
)
def test_str_is_kubernetes_canonical_form_in_the_same_suffix_family(
    text: str, canonical: str
) -> None:
    assert str(Quantity(text)) == canonical
    assert canonicalize(text) == canonical


def test_quantity_remembers_the_suffix_family_it_was_written_in() -> None:
    assert Quantity("1Mi").format == BINARY_SI
    assert Quantity("1M").format == DECIMAL_SI
    assert Quantity("1").format == DECIMAL_SI
    assert Quantity("1e6").format == DECIMAL_EXPONENT
    assert Quantity(Fraction(1, 2)).format == DECIMAL_SI
    assert str(Quantity("1048576", format=BINARY_SI)) == "1Mi"
    with pytest.raises(ValueError, match="unknown quantity format"):
        Quantity("1", format="Octal")  # type: ignore[arg-type]


# The Quantity value ---------------------------------------------------------------


def test_quantity_is_immutable_hashable_and_equal_by_value() -> None:
    q = Quantity("1Ki")
    with pytest.raises(AttributeError):
        q._nanos = 0  # type: ignore[misc]
    assert len({Quantity("1Ki"), Quantity("1024"), Quantity("1.024k")}) == 1
    assert hash(Quantity("2")) == hash(2)
    assert Quantity("2") == 2
    assert Quantity("500m") == Fraction(1, 2)
    assert Quantity("500m") != "500m"
    assert Quantity("1") < 2 <= Quantity("2Ki")
    assert repr(Quantity("1.5")) == "Quantity('1500m')"


def test_quantity_survives_pickle_and_copy() -> None:
    q = Quantity("1536Mi")
    assert pickle.loads(pickle.dumps(q)) == q
    assert str(pickle.loads(pickle.dumps(q))) == "1536Mi"
    assert copy.deepcopy(q) is q


def test_addition_keeps_the_left_format_unless_the_left_is_zero() -> None:
    assert str(Quantity("1Gi") + Quantity("512Mi")) == "1536Mi"
    assert str(Quantity("1Gi") + Quantity("1G")) == "2073741824"
    assert (Quantity("0") + Quantity("1Ki")).format == BINARY_SI
    assert str(Quantity("0") + Quantity("1Ki")) == "1Ki"
    assert str(Quantity("1") - Quantity("250m")) == "750m"
    assert str(Quantity("1") - "2") == "-1"
    assert str(5 - Quantity("1")) == "4"
    assert str(-Quantity("2Ki")) == "-2Ki"
    assert sum([Quantity("1Gi"), Quantity("1Gi")]) == Quantity("2Gi")
    assert str(sum([Quantity("1Gi"), Quantity("1Gi")])) == "2Gi"


def test_milli_and_int_values_round_away_from_zero() -> None:
    assert Quantity("1n").milli_value() == 1
    assert Quantity("-1n").milli_value() == -1
    assert Quantity("1.5").int_value() == 2
    assert Quantity("2").milli_value() == 2000


# Helpers for the scheduler and kubelet ----------------------------------------------


def test_cpu_millis_rounds_up_like_milli_value() -> None:
    assert cpu_millis("500m") == 500
    assert cpu_millis("0.5") == 500
    assert cpu_millis(2) == 2000
    assert cpu_millis("1n") == 1
    assert cpu_millis("100u") == 1
    assert cpu_millis(Quantity("1.5")) == 1500


def test_to_bytes_rounds_up_like_value() -> None:
    assert to_bytes("1Ki") == 1024
    assert to_bytes("2Gi") == 2 * 1024**3
    assert to_bytes("129M") == 129_000_000
    assert to_bytes("1500m") == 2
    assert to_bytes("-1.5") == -2


def test_compare_orders_mixed_spellings() -> None:
    assert compare("1Ki", "1000") == 1
    assert compare("1k", "1000000m") == 0
    assert compare("999m", 1) == -1


def test_add_resources_sums_resource_lists_key_by_key() -> None:
    total = add_resources(
        {"cpu": "500m", "memory": "1Gi"}, {"cpu": "1", "nvidia.com/gpu": 1, "memory": "512Mi"}
    )
    assert {k: str(v) for k, v in total.items()} == {
        "cpu": "1500m",
        "memory": "1536Mi",
        "nvidia.com/gpu": "1",
    }
    assert list(total) == ["cpu", "memory", "nvidia.com/gpu"]
    assert add_resources({}, {}) == {}


def test_subtract_resources_leaves_what_is_free() -> None:
    free = subtract_resources({"cpu": "4", "memory": "8Gi"}, {"cpu": "1500m", "pods": "1"})
    assert {k: str(v) for k, v in free.items()} == {"cpu": "2500m", "memory": "8Gi", "pods": "-1"}


def test_fits_names_every_resource_that_does_not_fit() -> None:
    free = {"cpu": "1500m", "memory": "2Gi"}
    assert fits({"cpu": "1", "memory": "2Gi"}, free) == []
    assert fits({"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": "1"}, free) == [
        "cpu",
        "nvidia.com/gpu",
    ]
    assert fits({"nvidia.com/gpu": "0"}, free) == []
    assert fits({"memory": "2049Mi"}, free) == ["memory"]


# Properties ------------------------------------------------------------------------

_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_DECIMAL_EXPONENTS = {
    "": 0,
    "n": -9,
    "u": -6,
    "m": -3,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_DIGITS = st.text(alphabet="0123456789", max_size=12)


@st.composite
def quantity_texts(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "+", "-"]))
    whole = draw(_DIGITS)
    fraction = draw(st.none() | _DIGITS)
    if not whole and not fraction:
        whole = "0"
    exponent_suffix = st.builds(
        lambda e, s: f"{e}{s}",
        st.sampled_from(["e", "E"]),
        st.integers(min_value=-25, max_value=25),
    )
    suffix = draw(st.sampled_from(_SUFFIXES) | exponent_suffix)
    number = whole if fraction is None else f"{whole}.{fraction}"
    return f"{sign}{number}{suffix}"


def _reference_value(text: str) -> Fraction:
    """Kubernetes' value computed another way: Fraction arithmetic on the parts."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    cut = len(body) - len(body.lstrip("0123456789."))
    number, suffix = body[:cut], body[cut:]
    exact = Fraction(number if number != "." else "0")
    if suffix in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"):
        exact *= 1024 ** ("KMGTPE".index(suffix[0]) + 1)
        exact = min(exact, Fraction(2**63 - 1))
    elif suffix and suffix[0] in "eE" and len(suffix) > 1:
        exact *= Fraction(10) ** int(suffix[1:])
    else:
        exact *= Fraction(10) ** _DECIMAL_EXPONENTS[suffix]
    nanos = exact * 10**9
    rounded = -(-nanos.numerator // nanos.denominator)  # ceil; exact is non-negative
    return sign * Fraction(rounded, 10**9)


@PROPERTY
@given(quantity_texts())
def test_parse_matches_an_independent_fraction_computation(text: str) -> None:
    assert parse_quantity(text) == _reference_value(text)


@PROPERTY
@given(quantity_texts())
def test_parsing_the_canonical_text_gives_the_same_quantity(text: str) -> None:
    q = Quantity(text)
    again = Quantity(str(q))
    assert again == q
    assert str(again) == str(q)


@PROPERTY
@given(quantity_texts(), quantity_texts())
def test_ordering_and_arithmetic_agree_with_fraction_values(a: str, b: str) -> None:
    qa, qb = Quantity(a), Quantity(b)
    va, vb = parse_quantity(a), parse_quantity(b)
    assert compare(a, b) == (va > vb) - (va < vb)
    assert (qa < qb) == (va < vb)
    assert (qa <= qb) == (va <= vb)
    assert (qa == qb) == (va == vb)
    assert (qa + qb).value == va + vb
    assert (qa - qb) + qb == qa


@PROPERTY
@given(quantity_texts())
def test_cpu_millis_and_to_bytes_are_the_value_rounded_away_from_zero(text: str) -> None:
    value = parse_quantity(text)
    millis, whole = cpu_millis(text), to_bytes(text)
    assert abs(millis) >= abs(value * 1000) > abs(millis) - 1
    assert abs(whole) >= abs(value) > abs(whole) - 1
    assert millis * value >= 0 and whole * value >= 0


@PROPERTY
@given(st.text(min_size=1).filter(lambda t: any(c not in "0123456789.+-eEinumkKMGTP" for c in t)))
def test_text_with_a_foreign_character_is_rejected(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_quantity(text)
    assert str(err.value) == FORMAT_ERROR


@PROPERTY
@given(
    st.text(alphabet="0123456789", min_size=1),
    st.text(alphabet="einumkKMGTP", min_size=1).filter(
        lambda s: s not in _SUFFIXES and s not in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
    ),
)
def test_unknown_suffixes_are_rejected(digits: str, suffix: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_quantity(digits + suffix)
    assert str(err.value) == SUFFIX_ERROR
