"""Shared fixtures of the discovery and OpenAPI tests: a TFJob CRD and registries."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.kinds import KindRegistry, resource_types_from_crd

TFJOB_SCHEMA: dict[str, Any] = {
    "description": "TFJob represents a TensorFlow training job.",
    "type": "object",
    "properties": {
        "spec": {
            "description": "Specification of the desired state of the TFJob.",
            "type": "object",
            "required": ["tfReplicaSpecs", "runPolicy"],
            "properties": {
                "runPolicy": {
                    "description": "RunPolicy encapsulates policies of the job.",
                    "type": "object",
                    "nullable": True,
                    "properties": {
                        "cleanPodPolicy": {
                            "type": "string",
                            "enum": ["All", "Running", "None"],
                            "default": "None",
                        },
                    },
                },
                "tfReplicaSpecs": {
                    "description": "A map of TFReplicaType (type) to ReplicaSpec (value).",
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "replicas": {"type": "integer", "minimum": 0},
                            "port": {"x-kubernetes-int-or-string": True},
                            "template": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                                "properties": {"metadata": {"type": "object"}},
                            },
                            "tags": {"type": "array", "items": {"type": "string"}, "nullable": True},
                        },
                    },
                },
                "podTemplate": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object"}},
                },
                "mode": {
                    "type": "string",
                    "oneOf": [{"enum": ["a"]}, {"enum": ["b"]}],
                },
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
    "example": {"spec": {}},
}


def tfjob_crd(*, versions: tuple[str, ...] = ("v1",), storage: str = "v1",
              schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "tfjobs.kubeflow.org"},
        "spec": {
            "group": "kubeflow.org",
            "scope": "Namespaced",
            "names": {
                "kind": "TFJob",
                "plural": "tfjobs",
                "singular": "tfjob",
                "shortNames": ["tfj"],
                "categories": ["all", "kubeflow"],
            },
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": version == storage,
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                        },
                    },
                    "schema": {"openAPIV3Schema": copy.deepcopy(schema or TFJOB_SCHEMA)},
                }
                for version in versions
            ],
        },
    }


def registry_with_tfjob(**kwargs: Any) -> KindRegistry:
    registry = builtin_registry()
    for rt in resource_types_from_crd(tfjob_crd(**kwargs)):
        registry.register(rt)
    return registry
