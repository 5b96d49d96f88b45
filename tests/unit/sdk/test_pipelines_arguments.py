"""Text arguments (-p k=v) become values by the pipeline's declared parameter types."""

import pytest

from sandbox.pipelines import dsl
from sandbox.sdk.pipelines import arguments_from_text, split_assignments


@dsl.component(base_image="python:3.11")
def show(text: str, n: int, lr: float, flag: bool, items: list, config: dict) -> str:
    return text


@dsl.pipeline(name="typed")
def typed(version: str, n: int = 1, lr: float = 0.1, flag: bool = False, items: list = [],  # noqa: B006
          config: dict = {}):  # noqa: B006
    show(text=version, n=n, lr=lr, flag=flag, items=items, config=config)


def test_split_assignments_keeps_everything_after_the_first_equals_sign() -> None:
    assert split_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ValueError, match="expected NAME=VALUE, got 'oops'"):
        split_assignments(["oops"])
    with pytest.raises(ValueError):
        split_assignments(["=1"])


def test_string_parameters_keep_their_text_and_others_parse_as_json() -> None:
    values = arguments_from_text(typed.pipeline_spec, {
        "version": "1.10", "n": "3", "lr": "0.5", "flag": "true", "items": "[1, 2]",
        "config": '{"a": 1}'})
    assert values == {"version": "1.10", "n": 3, "lr": 0.5, "flag": True, "items": [1, 2],
                      "config": {"a": 1}}


def test_text_that_is_not_json_stays_text_for_binding_to_refuse() -> None:
    assert arguments_from_text(typed.pipeline_spec, {"n": "three", "other": "7"}) == {
        "n": "three", "other": 7}
