"""List calls: KFP's filter (as kfp.Client writes it), sort_by and page tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.components.pipelines.api.errors import InvalidArgument
from sandbox.components.pipelines.api.listing import ListQuery, list_page

ITEMS = [
    {"run_id": "a", "display_name": "alpha", "state": "SUCCEEDED", "created_at": "2026-01-01T00:00:03Z",
     "runtime_config": {"pipeline_root": "minio://x"}},
    {"run_id": "b", "display_name": "beta", "state": "FAILED", "created_at": "2026-01-01T00:00:01Z"},
    {"run_id": "c", "display_name": "gamma", "state": "RUNNING", "created_at": "2026-01-01T00:00:02Z"},
]
SORTABLE = ("run_id", "display_name", "created_at", "state")


def page(**params: Any) -> list[str]:
    query = ListQuery.from_params({k: str(v) for k, v in params.items()})
    return [m["run_id"] for m in list_page(ITEMS, query, sortable=SORTABLE,
                                           aliases={"name": "display_name"}).items]


def kfp_filter(*predicates: dict[str, Any]) -> str:
    return json.dumps({"predicates": list(predicates)})


def test_the_filter_kfp_client_sends_selects_by_display_name() -> None:
    # kfp.Client.get_pipeline_id / get_experiment: operation as a number, value in camelCase.
    assert page(filter=kfp_filter({"operation": 1, "key": "display_name", "stringValue": "beta"})) == ["b"]
    assert page(filter=kfp_filter({"operation": "EQUALS", "key": "display_name", "string_value": "beta"})) == ["b"]


@pytest.mark.parametrize(("predicate", "expected"), [
    ({"operation": "NOT_EQUALS", "key": "state", "string_value": "FAILED"}, ["c", "a"]),
    ({"operation": "IN", "key": "state", "string_values": {"values": ["FAILED", "RUNNING"]}}, ["b", "c"]),
    ({"operation": "IS_SUBSTRING", "key": "display_name", "string_value": "mm"}, ["c"]),
    ({"operation": "GREATER_THAN", "key": "created_at", "timestamp_value": "2026-01-01T00:00:01Z"}, ["c", "a"]),
    ({"operation": "LESS_THAN_EQUALS", "key": "created_at", "long_value": "1767225602"}, ["b", "c"]),
    ({"operation": "EQUALS", "key": "runtime_config.pipeline_root", "string_value": "minio://x"}, ["a"]),
    ({"operation": "EQUALS", "key": "name", "string_value": "alpha"}, ["a"]),
])
def test_each_filter_operation(predicate: dict[str, Any], expected: list[str]) -> None:
    assert page(filter=kfp_filter(predicate)) == expected


def test_all_predicates_must_hold() -> None:
    both = kfp_filter({"operation": 9, "key": "display_name", "stringValue": "a"},
                      {"operation": 2, "key": "state", "stringValue": "SUCCEEDED"})
    assert page(filter=both) == ["b", "c"]


def test_sorting_defaults_to_creation_time_and_takes_desc() -> None:
    assert page() == ["b", "c", "a"]
    assert page(sort_by="created_at desc") == ["a", "c", "b"]
    assert page(sort_by="display_name") == ["a", "b", "c"]
    assert page(sort_by="name desc") == ["c", "b", "a"]


def test_pages_follow_the_token_which_keeps_the_first_calls_filter_and_sort() -> None:
    query = ListQuery.from_params({"page_size": "2", "sort_by": "display_name desc"})
    first = list_page(ITEMS, query, sortable=SORTABLE)
    assert [m["run_id"] for m in first.items] == ["c", "b"] and first.total_size == 3
    assert first.next_page_token
    second = list_page(ITEMS, ListQuery.from_params({"page_size": "2", "page_token": first.next_page_token}),
                       sortable=SORTABLE)
    assert [m["run_id"] for m in second.items] == ["a"] and second.next_page_token == ""


@pytest.mark.parametrize("params", [
    {"filter": "{not json"},
    {"filter": kfp_filter({"operation": 4, "key": "state", "string_value": "x"})},
    {"filter": kfp_filter({"operation": "EQUALS", "string_value": "x"})},
    {"filter": kfp_filter({"operation": "EQUALS", "key": "state"})},
    {"filter": kfp_filter({"operation": "IN", "key": "state", "string_value": "x"})},
    {"sort_by": "colour"},
    {"sort_by": "created_at sideways"},
    {"page_size": "many"},
    {"page_token": "not-a-token"},
])
def test_bad_list_parameters_are_invalid_arguments(params: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument):
        list_page(ITEMS, ListQuery.from_params(params), sortable=SORTABLE)
