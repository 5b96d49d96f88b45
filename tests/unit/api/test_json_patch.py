"""JSON Patch (RFC 6902) and the errors kube-apiserver answers it with."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox.api.errors import BadRequest, Invalid
from sandbox.api.patch import apply_json_patch
from sandbox.api.patch.json_patch import REJECTED_MESSAGE


def configmap() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"app": "web"}},
        "data": {"a": "1", "b": "2"},
        "items": ["x", "y"],
    }


def test_add_remove_and_replace_apply_in_order() -> None:
    ops = [
        {"op": "add", "path": "/data/c", "value": "3"},
        {"op": "remove", "path": "/data/a"},
        {"op": "replace", "path": "/data/b", "value": "9"},
        {"op": "add", "path": "/items/-", "value": "z"},
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
    ]
    patched = apply_json_patch(configmap(), ops)
    assert patched["data"] == {"b": "9", "c": "3"}
    assert patched["items"] == ["x", "y", "z"]
    assert patched["metadata"]["labels"] == {"app": "web", "tier": "front"}


def test_move_copy_and_a_passing_test_operation() -> None:
    ops = [
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "copy", "from": "/data/a", "path": "/data/copied"},
        {"op": "move", "from": "/data/b", "path": "/data/moved"},
    ]
    assert apply_json_patch(configmap(), ops)["data"] == {"a": "1", "copied": "1", "moved": "2"}


def test_a_failed_test_operation_is_kubernetes_422_with_the_reason_as_a_cause() -> None:
    with pytest.raises(Invalid) as caught:
        apply_json_patch(configmap(), [{"op": "test", "path": "/data/a", "value": "2"}])
    err = caught.value
    assert err.code == 422
    assert err.message == REJECTED_MESSAGE == (
        "the server rejected our request due to an error in our request"
    )
    assert err.status["reason"] == "Invalid"
    assert err.status["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "field": "patch",
         "message": "testing value /data/a failed: test failed"}
    ]


def test_a_test_operation_tells_a_number_from_a_boolean() -> None:
    obj = {"spec": {"replicas": 1}}
    with pytest.raises(Invalid):
        apply_json_patch(obj, [{"op": "test", "path": "/spec/replicas", "value": True}])


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        ({"op": "remove", "path": "/data/missing"},
         "jsonpatch remove operation does not apply: doc is missing path: /data/missing"),
        ({"op": "replace", "path": "/nope/x", "value": 1},
         "jsonpatch replace operation does not apply: doc is missing path: /nope/x"),
        ({"op": "add", "path": "/nope/x", "value": 1},
         "jsonpatch add operation does not apply: doc is missing path: /nope/x"),
        ({"op": "move", "from": "/nope", "path": "/x"},
         "jsonpatch move operation does not apply: doc is missing from path: /nope"),
        ({"op": "frob", "path": "/data"}, "invalid JSON patch operation frob: Unknown operation 'frob'"),
    ],
)
def test_operations_that_cannot_apply_are_422(op: dict[str, Any], reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        apply_json_patch(configmap(), [op])
    assert caught.value.message == REJECTED_MESSAGE
    assert caught.value.status["details"]["causes"][0]["message"] == reason


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ("[]", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
)
def test_a_body_that_is_not_a_list_of_operations_is_400(body: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_json_patch(configmap(), body)
    assert caught.value.message == message


def test_replacing_the_document_with_a_non_object_is_422() -> None:
    with pytest.raises(Invalid):
        apply_json_patch(configmap(), [{"op": "replace", "path": "", "value": [1]}])


def test_inputs_are_never_mutated_and_values_are_not_shared() -> None:
    obj = configmap()
    ops = [{"op": "add", "path": "/spec", "value": {"list": [1]}}]
    before_obj, before_ops = copy.deepcopy(obj), copy.deepcopy(ops)
    patched = apply_json_patch(obj, ops)
    patched["spec"]["list"].append(2)
    assert obj == before_obj
    assert ops == before_ops
