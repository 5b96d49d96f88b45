"""The CEL subset evaluator: what kfp writes evaluates as KFP's CEL does, nothing else runs."""

from __future__ import annotations

import pytest

from sandbox.components.pipelines.graph.expressions import (
    ExpressionError,
    evaluate,
    evaluate_condition,
    parameter_names,
    parse,
    select,
    value_text,
)

P = "inputs.parameter_values"


@pytest.mark.parametrize("condition,values,expected", [
    (f"{P}['a'] == 'heads'", {"a": "heads"}, True),
    (f"{P}['a'] == 'heads'", {"a": "tails"}, False),
    (f'{P}["a"] != "x"', {"a": "y"}, True),
    (f"int({P}['n']) > 5", {"n": 6.0}, True),
    (f"int({P}['n']) > 5", {"n": "5"}, False),
    (f"int({P}['n']) <= 2", {"n": 2}, True),
    (f"{P}['f'] >= 2.5", {"f": 2.5}, True),
    (f"{P}['f'] < 1e-3", {"f": 0.0001}, True),
    (f"double(int({P}['n'])) > 2.5", {"n": 3}, True),
    (f"{P}['b'] == true", {"b": True}, True),
    (f"{P}['b'] == false", {"b": True}, False),
    (f"!({P}['a'] == 'heads') && {P}['a'] == 'tails'", {"a": "tails"}, True),
    (f"!({P}['a'] == 'heads') && !({P}['a'] == 'tails')", {"a": "heads"}, False),
    (f"{P}['a'] == 'x' || ({P}['n'] > 1 && {P}['n'] < 3)", {"a": "y", "n": 2}, True),
    (f"{P}['n'] > -1", {"n": 0}, True),
    (f"{P}['a'] == 'it\\'s'", {"a": "it's"}, True),
    (f"{P}['n'] == 2 ? {P}['a'] == 'two' : false", {"n": 2, "a": "two"}, True),
    (f"size({P}['l']) == 2 && {P}['l'][1] == 'b'", {"l": ["a", "b"]}, True),
    (f"{P}['m']['k'] == 1", {"m": {"k": 1}}, True),
    (f"string({P}['n']) == '3'", {"n": 3.0}, True),
    (f"bool({P}['s'])", {"s": "True"}, True),
])
def test_conditions_kfp_writes_evaluate_like_cel(condition, values, expected):
    assert evaluate_condition(condition, values) is expected


def test_equality_across_kinds_is_false_and_numbers_compare_by_value():
    assert evaluate_condition(f"{P}['x'] == '2'", {"x": 2}) is False
    assert evaluate_condition(f"{P}['x'] != '2'", {"x": 2}) is True
    assert evaluate_condition(f"{P}['x'] == 1", {"x": True}) is False
    assert evaluate_condition(f"{P}['x'] == 2", {"x": 2.0}) is True
    assert evaluate_condition(f"{P}['x'] == null", {"x": None}) is True
    assert evaluate_condition(f"{P}['x'] == {P}['y']", {"x": [1, {"a": 2}], "y": [1.0, {"a": 2}]})
    assert not evaluate_condition(f"{P}['x'] == {P}['y']", {"x": [1], "y": [True]})


@pytest.mark.parametrize("condition,values,message", [
    (f"{P}['x'] < 'b'", {"x": 1}, "cannot compare number 1 < string 'b'"),
    (f"int({P}['x']) > 1", {"x": "1.5"}, "int() of string '1.5'"),
    (f"{P}['missing'] == 1", {}, "no such key: 'missing'"),
    (f"{P}['x']", {"x": "yes"}, "a condition must be a bool"),
    (f"!{P}['x']", {"x": 1}, "! needs bool operands"),
    ("outputs.x == 1", {}, "undeclared reference to 'outputs'"),
    (f"parseJson({P}['x'])['a'] == 1", {"x": "{"}, "parseJson() of invalid JSON"),
    (f"{P}['l'][5] == 1", {"l": [1]}, "index 5 out of range"),
])
def test_evaluation_errors_name_the_expression(condition, values, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate_condition(condition, values)
    assert message in str(caught.value) and condition in str(caught.value)


def test_and_or_absorb_an_error_when_the_other_side_decides():
    broken = f"{P}['missing'] == 1"
    assert evaluate_condition(f"{broken} && false", {}) is False
    assert evaluate_condition(f"false && {broken}", {}) is False
    assert evaluate_condition(f"{broken} || true", {}) is True
    with pytest.raises(ExpressionError):
        evaluate_condition(f"{broken} && true", {})


@pytest.mark.parametrize("text", [
    "__import__('os').system('id')", "open('/etc/passwd')", "a; b", "a = 1", "x.y()",
    "1 +", "'unterminated", "(1 == 1", "1 == 1)", "a @ b", "", "   ", "[1, 2]", "lambda: 1",
])
def test_anything_outside_the_subset_does_not_parse(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(ExpressionError):
        evaluate("!" * 5000 + "true", {})


def test_condition_parameter_names_are_found():
    text = f"!(int({P}['a']) > 1) && {P}[\"b\"] == 'x' || size({P}['c']) == 0"
    assert parameter_names(text) == {"a", "b", "c"}


@pytest.mark.parametrize("selector,value,expected", [
    ('parseJson(string_value)["a"]', {"a": 1, "b": "x"}, 1),
    ('parseJson(string_value)["b"]', '{"a": 1, "b": "x"}', "x"),
    ('parseJson(string_value)["a"]["b"]', {"a": {"b": [1]}}, [1]),
    ("struct_value['a']", {"a": True}, True),
    ("list_value[1]", ["x", "y"], "y"),
    ("number_value", 2.5, 2.5),
    ("string_value", 3.0, "3"),
    ("string_value", 0.1, "0.1"),
    ("string_value", 1e-7, "0.0000001"),
    ("string_value", True, "true"),
    ("string_value", [1, {"a": None}], '[1,{"a":null}]'),
    ("bool_value", False, False),
])
def test_selectors_pick_from_a_value_as_kfp_exposes_it(selector, value, expected):
    assert select(selector, value) == expected


def test_a_selector_for_a_missing_field_fails():
    with pytest.raises(ExpressionError, match="no such key: 'c'"):
        select('parseJson(string_value)["c"]', {"a": 1})
    with pytest.raises(ExpressionError, match="undeclared reference to 'number_value'"):
        select("number_value", "text")


def test_value_text_refuses_what_has_no_text():
    with pytest.raises(ExpressionError):
        value_text(float("nan"))
