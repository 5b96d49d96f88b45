"""Admission hooks let components default and validate their kinds."""

from __future__ import annotations

import pytest

from sandbox.api.errors import FieldError, Forbidden, Invalid
from sandbox.store import AdmissionRequest, Store


def cm(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": data}


def test_mutating_hooks_run_before_validation_and_storage(store: Store) -> None:
    def add_label(request: AdmissionRequest) -> None:
        request.object["metadata"].setdefault("labels", {})["admitted"] = request.operation.lower()

    store.admission.add_mutating("", "ConfigMap", add_label)
    created = store.create("v1", "ConfigMap", cm("a"))
    assert created["metadata"]["labels"] == {"admitted": "create"}
    updated = store.patch("v1", "ConfigMap", "a", {"data": {"k": "v"}}, namespace="default")
    assert updated["metadata"]["labels"] == {"admitted": "update"}


def test_validating_hooks_reject_with_field_errors(store: Store) -> None:
    def no_secrets(request: AdmissionRequest) -> list[FieldError]:
        data = request.object.get("data") or {}
        return [FieldError("Forbidden", f"data[{k}]", detail="no passwords in ConfigMaps")
                for k in data if "password" in k]

    store.admission.add_validating("", "ConfigMap", no_secrets, name="no-secrets")
    with pytest.raises(Invalid) as err:
        store.create("v1", "ConfigMap", cm("a", db_password="x"))
    assert err.value.message == (
        'ConfigMap "a" is invalid: data[db_password]: Forbidden: no passwords in ConfigMaps'
    )
    store.admission.remove("no-secrets")
    assert store.create("v1", "ConfigMap", cm("a", db_password="x"))


def test_hooks_may_raise_any_api_error_and_only_match_their_kind(store: Store) -> None:
    def deny(request: AdmissionRequest) -> None:
        raise Forbidden(f'{request.kind} "{request.object["metadata"]["name"]}" is forbidden')

    store.admission.add_validating("apps", "*", deny)
    store.create("v1", "ConfigMap", cm("fine"))
    with pytest.raises(Forbidden):
        store.create("apps/v1", "Deployment", {
            "metadata": {"name": "d", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        })


def test_mutating_hooks_are_not_called_for_status_writes(store: Store) -> None:
    calls: list[str | None] = []

    def note(request: AdmissionRequest) -> None:
        calls.append(request.subresource)

    store.admission.add_mutating("", "Pod", note)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    store.create("v1", "Pod", pod)
    written = store.get("v1", "Pod", "p", namespace="default")
    written["status"] = {"phase": "Running"}
    store.replace("v1", "Pod", written, namespace="default", subresource="status")
    store.patch("v1", "Pod", "p", {"metadata": {"labels": {"a": "b"}}}, namespace="default")
    assert calls == [None, None]  # the create and the main-resource patch
    assert store.get("v1", "Pod", "p", namespace="default")["status"]["phase"] == "Running"
