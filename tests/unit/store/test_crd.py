"""CustomResourceDefinitions register kinds that are then creatable, validated and listable."""

from __future__ import annotations

import pytest

from sandbox.api.errors import Invalid, NotFound, UnsupportedMediaType
from sandbox.api.kinds import UnknownKind
from sandbox.api.objects import condition_is
from sandbox.store import Store

TFJOB_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "tfjobs.kubeflow.org"},
    "spec": {
        "group": "kubeflow.org",
        "scope": "Namespaced",
        "names": {"kind": "TFJob", "plural": "tfjobs", "singular": "tfjob", "shortNames": ["tfj"]},
        "versions": [{
            "name": "v1",
            "served": True,
            "storage": True,
            "subresources": {"status": {}},
            "additionalPrinterColumns": [
                {"name": "State", "type": "string", "jsonPath": ".status.conditions[-1:].type"}
            ],
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["tfReplicaSpecs"],
                        "properties": {
                            "runPolicy": {"type": "object", "properties": {
                                "cleanPodPolicy": {"type": "string", "default": "None",
                                                   "enum": ["All", "Running", "None"]},
                            }, "default": {}},
                            "tfReplicaSpecs": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "properties": {
                                        "replicas": {"type": "integer", "minimum": 0},
                                        "template": {"type": "object",
                                                     "x-kubernetes-preserve-unknown-fields": True},
                                    },
                                },
                            },
                        },
                    },
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }},
        }],
    },
}


def tfjob(name: str = "mnist", replicas: int = 2) -> dict:
    return {"apiVersion": "kubeflow.org/v1", "kind": "TFJob",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"tfReplicaSpecs": {"Worker": {"replicas": replicas, "template": {"spec": {}}}},
                     "unknownField": True}}


@pytest.fixture
def crd_store(store: Store) -> Store:
    store.create("apiextensions.k8s.io/v1", "CustomResourceDefinition", TFJOB_CRD)
    return store


def test_crd_gets_established_and_names_accepted(crd_store: Store) -> None:
    crd = crd_store.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "tfjobs.kubeflow.org")
    assert condition_is(crd, "Established")
    assert condition_is(crd, "NamesAccepted")
    assert crd["status"]["acceptedNames"]["listKind"] == "TFJobList"
    assert crd["status"]["storedVersions"] == ["v1"]


def test_crd_kind_is_creatable_defaulted_pruned_and_listable(crd_store: Store) -> None:
    created = crd_store.create("kubeflow.org/v1", "TFJob", tfjob())
    assert created["spec"]["runPolicy"]["cleanPodPolicy"] == "None"
    assert "unknownField" not in created["spec"]
    assert crd_store.registry.resolve("tfj").kind == "TFJob"
    listed = crd_store.list("kubeflow.org/v1", "TFJob", namespace="default")
    assert listed["kind"] == "TFJobList"
    assert [o["metadata"]["name"] for o in listed["items"]] == ["mnist"]


def test_crd_kind_is_validated_against_its_schema(crd_store: Store) -> None:
    with pytest.raises(Invalid) as err:
        crd_store.create("kubeflow.org/v1", "TFJob", tfjob(replicas=-1))
    assert err.value.status["details"]["causes"][0]["field"] == "spec.tfReplicaSpecs.Worker.replicas"
    missing = tfjob("empty")
    del missing["spec"]["tfReplicaSpecs"]
    with pytest.raises(Invalid) as err2:
        crd_store.create("kubeflow.org/v1", "TFJob", missing)
    assert "spec.tfReplicaSpecs: Required value" in err2.value.message


def test_custom_resources_refuse_strategic_merge_patch(crd_store: Store) -> None:
    crd_store.create("kubeflow.org/v1", "TFJob", tfjob())
    with pytest.raises(UnsupportedMediaType) as err:
        crd_store.patch("kubeflow.org/v1", "TFJob", "mnist", {"spec": {}}, namespace="default",
                        patch_type="strategic")
    assert err.value.code == 415


def test_deleting_the_crd_removes_the_kind_and_its_objects(crd_store: Store) -> None:
    crd_store.create("kubeflow.org/v1", "TFJob", tfjob())
    crd_store.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "tfjobs.kubeflow.org")
    with pytest.raises(UnknownKind):
        crd_store.list("kubeflow.org/v1", "TFJob")
    crd_store.create("apiextensions.k8s.io/v1", "CustomResourceDefinition", TFJOB_CRD)
    with pytest.raises(NotFound):
        crd_store.get("kubeflow.org/v1", "TFJob", "mnist", namespace="default")


def test_cel_rules_are_not_silently_ignored(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    crd = {**TFJOB_CRD, "metadata": {"name": "tfjobs.kubeflow.org"}}
    version = dict(crd["spec"]["versions"][0])
    version["schema"] = {"openAPIV3Schema": {
        "type": "object",
        "x-kubernetes-validations": [{"rule": "self.spec.x > 0"}],
        "x-kubernetes-preserve-unknown-fields": True,
    }}
    crd["spec"] = {**crd["spec"], "versions": [version]}
    store.create("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd)
    assert "does not evaluate them" in caplog.text
