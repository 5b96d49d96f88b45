"""Parameter coercion, artifact compatibility, durations, retry backoff and loop items."""

from __future__ import annotations

import pytest

from sandbox.components.pipelines.graph import (
    ArtifactIterator,
    LoopError,
    ParameterIterator,
    ParameterType,
    ParameterTypeError,
    RetryPolicy,
    Task,
    TaskKind,
    coerce_parameter,
    loop_items,
    parse_duration,
)
from sandbox.components.pipelines.graph.types import artifact_types_compatible


@pytest.mark.parametrize("value,kind,expected", [
    ("x", "STRING", "x"),
    (3.0, "NUMBER_INTEGER", 3),
    (3, "NUMBER_INTEGER", 3),
    (3, "NUMBER_DOUBLE", 3.0),
    (True, "BOOLEAN", True),
    ((1, 2), "LIST", [1, 2]),
    ({"a": 1}, "STRUCT", {"a": 1}),
    ({"state": "FAILED"}, "TASK_FINAL_STATUS", {"state": "FAILED"}),
    (7, "INT", 7),
    ("anything", "TASK_CONFIG", "anything"),
])
def test_json_values_coerce_to_their_declared_type(value, kind, expected):
    result = coerce_parameter(value, kind)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("value,kind", [
    (3.5, "NUMBER_INTEGER"), ("3", "NUMBER_INTEGER"), (True, "NUMBER_INTEGER"),
    (True, "NUMBER_DOUBLE"), ("1.0", "NUMBER_DOUBLE"), (1, "BOOLEAN"), ("true", "BOOLEAN"),
    (1, "STRING"), ("[1]", "LIST"), ([1], "STRUCT"), (float("inf"), "NUMBER_INTEGER"),
])
def test_values_that_do_not_fit_are_refused(value, kind):
    with pytest.raises(ParameterTypeError):
        coerce_parameter(value, kind)


def test_unknown_parameter_types_are_refused():
    with pytest.raises(ParameterTypeError, match="unknown parameter type 'COMPLEX'"):
        ParameterType.parse("COMPLEX")


@pytest.mark.parametrize("given,expected,ok", [
    (("system.Dataset", "0.0.1", False), ("system.Dataset", "0.0.2", False), True),
    (("system.Dataset", "0.0.1", False), ("system.Dataset", "1.0.0", False), False),
    (("system.Model", "0.0.1", False), ("system.Dataset", "0.0.1", False), False),
    (("system.Model", "0.0.1", False), ("system.Artifact", "0.0.1", False), True),
    (("system.Artifact", "0.0.1", False), ("system.Metrics", "0.0.1", False), True),
    (("system.Dataset", "0.0.1", True), ("system.Dataset", "0.0.1", False), False),
    (("system.Artifact", "0.0.1", True), ("system.Dataset", "0.0.1", False), False),
])
def test_artifact_compatibility_follows_kfp(given, expected, ok):
    assert artifact_types_compatible(given, expected) is ok


@pytest.mark.parametrize("text,seconds", [
    ("0s", 0.0), ("5s", 5.0), ("0.5s", 0.5), ("3600s", 3600.0), ("1m30s", 90.0),
    ("1h", 3600.0), ("250ms", 0.25), ("12", 12.0), (7, 7.0),
])
def test_durations_parse_to_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["soon", "5x", "-1s", "", "s", -3, True, None, "1s junk"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_retry_backoff_grows_by_the_factor_and_stops_at_the_limits():
    policy = RetryPolicy(max_retry_count=3, backoff_duration=5.0, backoff_factor=2.0,
                         backoff_max_duration=60.0)
    assert [policy.backoff(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert policy.next_attempt_at(failures=1, first_started=100.0, last_finished=101.0) == 106.0
    assert policy.next_attempt_at(failures=3, first_started=100.0, last_finished=130.0) == 150.0
    assert policy.next_attempt_at(failures=4, first_started=100.0, last_finished=131.0) is None
    # The wait would end past first start + backoffMaxDuration: Argo stops retrying.
    assert policy.next_attempt_at(failures=3, first_started=100.0, last_finished=145.0) is None
    assert policy.next_attempt_at(failures=0, first_started=0.0, last_finished=0.0) is None


def test_a_zero_factor_means_no_growth_and_no_max_means_no_deadline():
    policy = RetryPolicy(max_retry_count=5, backoff_duration=2.0, backoff_factor=0.0)
    assert [policy.backoff(n) for n in (1, 2, 5)] == [2.0, 2.0, 2.0]
    assert policy.next_attempt_at(failures=5, first_started=0.0, last_finished=1e6) == 1e6 + 2


def _loop(**iterators) -> Task:
    return Task(name="for-loop-1", display_name="for-loop-1", component_ref="comp-for-loop-1",
                kind=TaskKind.DAG, **iterators)


def test_loop_items_come_from_raw_json_or_an_input():
    raw = _loop(parameter_iterator=ParameterIterator(item_input="item", raw='[1, "a", {"b": 2}]'))
    assert loop_items(raw) == [1, "a", {"b": 2}]
    by_input = _loop(parameter_iterator=ParameterIterator(item_input="item",
                                                          input_parameter="xs"))
    assert loop_items(by_input, parameters={"xs": [3, 4]}) == [3, 4]
    assert loop_items(by_input, parameters={"xs": '["x"]'}) == ["x"]
    artifacts = _loop(artifact_iterator=ArtifactIterator(item_input="item", input_artifact="ds"))
    assert loop_items(artifacts, artifacts={"ds": [{"uri": "minio://b/1"}]}) == [
        {"uri": "minio://b/1"}]


@pytest.mark.parametrize("task,kwargs,message", [
    (_loop(parameter_iterator=ParameterIterator(item_input="i", input_parameter="xs")), {},
     'iterates over input "xs", which has no value'),
    (_loop(parameter_iterator=ParameterIterator(item_input="i", input_parameter="xs")),
     {"parameters": {"xs": {"a": 1}}}, "is a dict, not a list"),
    (_loop(parameter_iterator=ParameterIterator(item_input="i", input_parameter="xs")),
     {"parameters": {"xs": "nope"}}, "is not a JSON list"),
    (_loop(parameter_iterator=ParameterIterator(item_input="i", raw='{"a": 1}')), {},
     "is a dict, not a list"),
    (_loop(artifact_iterator=ArtifactIterator(item_input="i", input_artifact="ds")), {},
     'artifact input "ds", which has no value'),
    (_loop(), {}, "is not a loop"),
])
def test_loops_without_a_list_are_errors(task, kwargs, message):
    with pytest.raises(LoopError, match=message):
        loop_items(task, **kwargs)
