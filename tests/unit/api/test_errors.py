"""Errors carry the exact Status Kubernetes answers with, and survive a round trip."""

from __future__ import annotations

from sandbox.api.errors import (
    AlreadyExists,
    Conflict,
    FieldError,
    Gone,
    Invalid,
    NotFound,
    from_status,
)


def test_not_found_for_a_custom_resource_names_its_group() -> None:
    err = NotFound.of("tfjobs", "nope", group="kubeflow.org")
    assert err.message == 'tfjobs.kubeflow.org "nope" not found'
    assert err.status["details"] == {"name": "nope", "kind": "tfjobs", "group": "kubeflow.org"}
    assert err.status["code"] == 404


def test_conflict_and_gone_wording() -> None:
    assert Conflict.modified("pods", "web").message == (
        'Operation cannot be fulfilled on pods "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    gone = Gone.too_old(1, 124)
    assert (gone.code, gone.reason, gone.message) == (410, "Expired", "too old resource version: 1 (124)")


def test_field_errors_format_like_kubernetes() -> None:
    assert FieldError("Required", "spec.containers").message == "spec.containers: Required value"
    assert FieldError("Invalid", "spec.replicas", value=-1,
                      detail="must be greater than or equal to 0").message == (
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    )
    assert FieldError("NotSupported", "spec.restartPolicy", value="Sometimes",
                      supported=("Always", "OnFailure", "Never")).message == (
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"'
    )


def test_invalid_summarises_one_or_many_errors() -> None:
    one = Invalid.of("Pod", "bad", [FieldError("Required", "spec.containers")])
    assert one.message == 'Pod "bad" is invalid: spec.containers: Required value'
    assert one.status["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}
    ]
    two = Invalid.of("Pod", "bad", [FieldError("Required", "a"), FieldError("Required", "b")])
    assert two.message == 'Pod "bad" is invalid: [a: Required value, b: Required value]'


def test_from_status_rebuilds_the_same_error() -> None:
    for err in (
        NotFound.of("pods", "x"),
        AlreadyExists.of("namespaces", "x"),
        Conflict.modified("pods", "x"),
        Gone.too_old(3, 9),
        Invalid.of("Pod", "x", [FieldError("Required", "spec.containers")]),
    ):
        rebuilt = from_status(err.status)
        assert type(rebuilt) is type(err)
        assert rebuilt.status == err.status
    invalid = from_status(Invalid.of("Pod", "x", [FieldError("Required", "spec.containers")]).status)
    assert isinstance(invalid, Invalid)
    assert invalid.errors[0].message == "spec.containers: Required value"
    assert type(from_status("plain text", code=404)) is NotFound
