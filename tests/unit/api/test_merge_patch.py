"""JSON Merge Patch (RFC 7386) and its diff helper."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.patch import apply_merge_patch, create_merge_patch, merge_into, merged


def test_null_deletes_a_field_and_objects_merge_recursively() -> None:
    obj = {"metadata": {"labels": {"app": "web", "tier": "front"}}, "data": {"a": "1"}}
    patched = apply_merge_patch(obj, {"metadata": {"labels": {"tier": None, "env": "dev"}}, "data": None})
    assert patched == {"metadata": {"labels": {"app": "web", "env": "dev"}}}


def test_merge_into_patches_the_callers_own_copy_in_place_and_copies_the_patch_values() -> None:
    target = {"metadata": {"labels": {"app": "web"}}, "data": {"a": "1"}}
    value = {"nested": [1]}
    out = merge_into(target, {"metadata": {"labels": {"env": "dev"}}, "data": None, "spec": value})
    assert out is target
    assert target == {"metadata": {"labels": {"app": "web", "env": "dev"}}, "spec": {"nested": [1]}}
    value["nested"].append(2)
    assert target["spec"] == {"nested": [1]}


def test_kubectl_label_body_adds_a_label() -> None:
    obj = {"metadata": {"name": "web"}}
    assert apply_merge_patch(obj, {"metadata": {"labels": {"env": "dev"}}}) == {
        "metadata": {"name": "web", "labels": {"env": "dev"}}
    }


def test_lists_are_replaced_never_merged() -> None:
    obj = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    patched = apply_merge_patch(obj, {"spec": {"containers": [{"name": "c"}]}})
    assert patched == {"spec": {"containers": [{"name": "c"}]}}


def test_a_non_object_patch_replaces_the_target() -> None:
    assert apply_merge_patch({"spec": {"x": {"y": 1}}}, {"spec": {"x": "flat"}}) == {"spec": {"x": "flat"}}
    assert apply_merge_patch({"a": 1}, ["whole"]) == ["whole"]


def test_an_object_patch_onto_a_scalar_starts_from_an_empty_object_without_nulls() -> None:
    assert apply_merge_patch({"x": 1}, {"x": {"a": 1, "b": None}}) == {"x": {"a": 1}}


def test_inputs_are_not_mutated() -> None:
    obj = {"a": {"b": [1]}}
    patch = {"a": {"c": [2]}}
    before = copy.deepcopy((obj, patch))
    patched = apply_merge_patch(obj, patch)
    patched["a"]["c"].append(3)
    assert (obj, patch) == before


def test_create_merge_patch_writes_only_the_differences() -> None:
    original = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
    modified = {"a": 1, "b": {"c": 2, "d": 4}, "f": "new"}
    assert create_merge_patch(original, modified) == {"b": {"d": 4}, "e": None, "f": "new"}
    assert create_merge_patch(original, original) == {}


scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.text(max_size=3))
keys = st.text(alphabet="abcd", min_size=1, max_size=2)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=10,
)
documents = st.dictionaries(keys, json_values, max_size=4)


@settings(max_examples=100, deadline=None)
@given(documents, documents)
def test_applying_the_created_patch_gives_the_target(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert apply_merge_patch(a, create_merge_patch(a, b)) == b


@settings(max_examples=60, deadline=None)
@given(documents, documents)
def test_a_merge_patch_is_idempotent(a: dict[str, Any], patch: dict[str, Any]) -> None:
    once = apply_merge_patch(a, patch)
    assert apply_merge_patch(once, patch) == once


patches_with_nulls = st.dictionaries(keys, st.one_of(st.none(), json_values), max_size=4)


@settings(max_examples=200, deadline=None)
@given(documents, patches_with_nulls)
def test_merged_equals_applying_the_patch_and_leaves_the_target_as_it_was(a: dict[str, Any],
                                                                          patch: dict[str, Any]) -> None:
    before = copy.deepcopy(a)
    assert merged(a, patch) == apply_merge_patch(a, patch)
    assert a == before


def test_merged_copies_only_the_objects_along_the_patch():
    target = {"spec": {"big": {"n": 1}, "x": 1}, "status": {"nodes": {"a": {"phase": "Running"}}}}
    out = merged(target, {"status": {"nodes": {"b": {"phase": "Pending"}}}})
    assert out["spec"] is target["spec"]  # untouched: shared
    assert out["status"] is not target["status"] and out["status"]["nodes"] is not target["status"]["nodes"]
    assert out["status"]["nodes"]["a"] is target["status"]["nodes"]["a"]
    assert set(out["status"]["nodes"]) == {"a", "b"} and set(target["status"]["nodes"]) == {"a"}
