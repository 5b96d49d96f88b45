"""Parameter values as text, the way KFP's launcher reads and writes output parameter files."""

from __future__ import annotations

import pytest

from sandbox.components.pipelines.storage import (
    ParameterTextError,
    format_parameter_text,
    parse_parameter_text,
)


@pytest.mark.parametrize("text,kind,value", [
    ("  spaced \n", "STRING", "  spaced \n"),
    ("", "STRING", ""),
    (" 42\n", "NUMBER_INTEGER", 42),
    ("-3", "INT", -3),
    ("2.5\n", "NUMBER_DOUBLE", 2.5),
    ("1e3", "DOUBLE", 1000.0),
    ("true", "BOOLEAN", True),
    ("T\n", "BOOLEAN", True),
    ("1", "BOOLEAN", True),
    ("FALSE", "BOOLEAN", False),
    ("0", "BOOLEAN", False),
    ('[1, "a"]', "LIST", [1, "a"]),
    ('{"a": {"b": null}}', "STRUCT", {"a": {"b": None}}),
])
def test_text_parses_by_declared_type(text, kind, value):
    assert parse_parameter_text(text, kind) == value


@pytest.mark.parametrize("text,kind", [
    ("4.0", "NUMBER_INTEGER"), ("four", "NUMBER_INTEGER"), ("", "NUMBER_DOUBLE"),
    ("yes", "BOOLEAN"), ("{}", "LIST"), ("[]", "STRUCT"), ("[1", "LIST"), ("1", "TASK_CONFIG"),
])
def test_text_that_does_not_fit_is_refused(text, kind):
    with pytest.raises(ParameterTextError):
        parse_parameter_text(text, kind)


@pytest.mark.parametrize("value,text", [
    ("as is", "as is"), (3, "3"), (3.0, "3"), (0.1, "0.1"), (1e21, "1000000000000000000000"),
    (2.5e-7, "0.00000025"), (True, "true"), (False, "false"), (None, ""),
    ([1, 2.5, "x"], '[1,2.5,"x"]'), ((1,), "[1]"), ({"a": True}, '{"a":true}'),
])
def test_values_are_written_as_kfp_writes_them(value, text):
    assert format_parameter_text(value) == text


@pytest.mark.parametrize("value", [float("inf"), float("nan"), object()])
def test_values_without_text_are_refused(value):
    with pytest.raises(ParameterTextError):
        format_parameter_text(value)
