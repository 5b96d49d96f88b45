"""OpenAPI v3 schemas: built-in data, validation with Kubernetes' words, pruning, defaults."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from sandbox.api.builtin_kinds import BUILTIN_TYPES
from sandbox.api.errors import Invalid
from sandbox.api.schema import (
    apply_defaults,
    builtin_schema,
    compile_schema,
    definition_name,
    gvk_of_definition,
    openapi_components,
    prune,
    unknown_fields,
    validate,
    validate_structural,
)


def messages(errors: list[Any]) -> list[str]:
    return [e.message for e in errors]


def deployment(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
        },
    }
    body.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": body,
    }


def obj_schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


# Built-in schemas -------------------------------------------------------------------


def test_every_builtin_kind_has_a_schema() -> None:
    for rt in BUILTIN_TYPES:
        schema = builtin_schema(rt.group, rt.version, rt.kind)
        assert schema is not None, rt
        assert schema["type"] == "object"


def test_unknown_kinds_have_no_schema() -> None:
    assert builtin_schema("example.com", "v1", "Widget") is None


def test_builtin_schemas_resolve_refs_into_shared_dicts() -> None:
    pod = builtin_schema("", "v1", "Pod")
    deploy = builtin_schema("apps", "v1", "Deployment")
    job = builtin_schema("batch", "v1", "Job")
    assert pod is not None and deploy is not None and job is not None
    pod_spec = pod["properties"]["spec"]
    assert "$ref" not in pod_spec
    assert pod_spec["required"] == ["containers"]
    assert deploy["properties"]["spec"]["properties"]["template"]["properties"]["spec"] is pod_spec
    assert job["properties"]["spec"]["properties"]["template"]["properties"]["spec"] is pod_spec
    assert builtin_schema("", "v1", "Pod") is pod


def test_recursive_definitions_become_cycles() -> None:
    crd = builtin_schema("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    assert crd is not None
    version = crd["properties"]["spec"]["properties"]["versions"]["items"]
    props = version["properties"]["schema"]["properties"]["openAPIV3Schema"]
    assert props["properties"]["not"] is props
    assert props["properties"]["properties"]["additionalProperties"] is props
    # A property literally named "$ref" is a field, not a reference.
    assert props["properties"]["$ref"]["type"] == "string"


def test_kinds_map_to_definitions_and_back() -> None:
    assert definition_name("apps", "v1", "Deployment") == "io.k8s.api.apps.v1.Deployment"
    assert gvk_of_definition("io.k8s.api.apps.v1.Deployment") == ("apps", "v1", "Deployment")
    assert gvk_of_definition("io.k8s.api.core.v1.PodSpec") is None
    assert definition_name("scheduling.x-k8s.io", "v1alpha1", "PodGroup") == (
        "io.x-k8s.scheduling.v1alpha1.PodGroup"
    )


def test_components_keep_refs_descriptions_and_extensions() -> None:
    components = openapi_components()
    spec = components["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec["properties"]["template"]["$ref"] == (
        "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"
    )
    assert spec["properties"]["strategy"]["x-kubernetes-patch-strategy"] == "retainKeys"
    assert "Defaults to 1" in spec["properties"]["replicas"]["description"]
    assert spec["properties"]["replicas"]["nullable"] is True
    containers = components["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    int_or_string = components["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["x-kubernetes-int-or-string"] is True
    assert int_or_string["format"] == "int-or-string"
    assert components["io.k8s.apimachinery.pkg.api.resource.Quantity"]["format"] == "quantity"


def test_resolved_refs_keep_sibling_extensions() -> None:
    deploy = builtin_schema("apps", "v1", "Deployment")
    assert deploy is not None
    strategy = deploy["properties"]["spec"]["properties"]["strategy"]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    assert "rollingUpdate" in strategy["properties"]


def test_a_valid_deployment_has_no_errors() -> None:
    schema = builtin_schema("apps", "v1", "Deployment")
    assert schema is not None
    assert validate(deployment(), schema) == []


# Validation messages ----------------------------------------------------------------


def test_wrong_type_names_the_type_found_like_kubernetes() -> None:
    schema = builtin_schema("apps", "v1", "Deployment")
    assert schema is not None
    errors = validate(deployment(replicas="three"), schema)
    assert messages(errors) == [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'
    ]
    assert errors[0].reason == "FieldValueTypeInvalid"


def test_missing_required_field() -> None:
    schema = builtin_schema("", "v1", "Pod")
    assert schema is not None
    errors = validate(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}, schema
    )
    assert messages(errors) == ["spec.containers: Required value"]


def test_paths_index_lists_and_dot_map_keys() -> None:
    schema = builtin_schema("apps", "v1", "Deployment")
    assert schema is not None
    obj = deployment()
    obj["metadata"]["labels"] = {"app": 7}
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "80"}]
    assert messages(validate(obj, schema)) == [
        'metadata.labels.app: Invalid value: "integer": metadata.labels.app in body must be of type string: "integer"',
        'spec.template.spec.containers[0].ports[0].containerPort: Invalid value: "string": '
        'spec.template.spec.containers[0].ports[0].containerPort in body must be of type integer: "string"',
    ]


def test_path_prefixes_fields_but_not_the_name_in_the_message() -> None:
    schema = obj_schema(n={"type": "integer"})
    assert messages(validate({"n": "x"}, schema, path="spec.versions[0].default")) == [
        'spec.versions[0].default.n: Invalid value: "string": n in body must be of type integer: "string"'
    ]


def test_enum_lists_supported_values() -> None:
    schema = obj_schema(mode={"type": "string", "enum": ["Fast", "Slow"]})
    errors = validate({"mode": "Medium"}, schema)
    assert messages(errors) == [
        'mode: Unsupported value: "Medium": supported values: "Fast", "Slow"'
    ]


def test_pattern_and_lengths() -> None:
    schema = obj_schema(
        name={"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 4}
    )
    assert messages(validate({"name": "A"}, schema)) == [
        'name: Invalid value: "A": name in body should be at least 2 chars long',
        "name: Invalid value: \"A\": name in body should match '^[a-z]+$'",
    ]
    assert messages(validate({"name": "abcdef"}, schema)) == [
        "name: Too long: may not be longer than 4"
    ]


def test_numeric_bounds() -> None:
    schema = obj_schema(
        a={"type": "integer", "minimum": 0},
        b={"type": "integer", "maximum": 10, "exclusiveMaximum": True},
        c={"type": "number", "minimum": 0.5, "exclusiveMinimum": True},
        d={"type": "integer", "multipleOf": 5},
    )
    assert messages(validate({"a": -1, "b": 10, "c": 0.5, "d": 7}, schema)) == [
        "a: Invalid value: -1: a in body should be greater than or equal to 0",
        "b: Invalid value: 10: b in body should be less than 10",
        "c: Invalid value: 0.5: c in body should be greater than 0.5",
        "d: Invalid value: 7: d in body should be a multiple of 5",
    ]


def test_item_and_property_counts() -> None:
    schema = obj_schema(
        items={"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        labels={
            "type": "object",
            "additionalProperties": {"type": "string"},
            "minProperties": 1,
            "maxProperties": 1,
        },
    )
    assert messages(validate({"items": [], "labels": {}}, schema)) == [
        "items: Invalid value: 0: items in body should have at least 1 items",
        "labels: Invalid value: 1: labels in body should have at least 1 properties",
    ]
    assert messages(
        validate({"items": ["a", "b", "c"], "labels": {"a": "1", "b": "2"}}, schema)
    ) == [
        "items: Too many: 3: must have at most 2 items",
        "labels: Too many: 2: must have at most 1 items",
    ]


def test_formats_int32_date_time_and_byte() -> None:
    schema = obj_schema(
        n={"type": "integer", "format": "int32"},
        at={"type": "string", "format": "date-time"},
        raw={"type": "string", "format": "byte"},
    )
    assert validate({"n": 2**31 - 1, "at": "2024-05-01T10:00:00Z", "raw": "aGk="}, schema) == []
    assert messages(validate({"n": 2**31, "at": "yesterday", "raw": "!!"}, schema)) == [
        "n: Invalid value: 2147483648: n in body must be of type int32",
        'at: Invalid value: "yesterday": at in body must be of type date-time: "yesterday"',
        'raw: Invalid value: "!!": raw in body must be of type byte: "!!"',
    ]


def test_integral_floats_are_integers_and_bools_are_not() -> None:
    schema = obj_schema(n={"type": "integer"})
    assert validate({"n": 3.0}, schema) == []
    assert messages(validate({"n": 2.5}, schema)) == [
        'n: Invalid value: "number": n in body must be of type integer: "number"'
    ]
    assert messages(validate({"n": True}, schema)) == [
        'n: Invalid value: "boolean": n in body must be of type integer: "boolean"'
    ]


def test_null_is_allowed_only_where_nullable() -> None:
    schema = obj_schema(a={"type": "string"}, b={"type": "string", "nullable": True})
    assert messages(validate({"a": None, "b": None}, schema)) == [
        'a: Invalid value: "null": a in body must be of type string: "null"'
    ]


def test_int_or_string_accepts_both_and_nothing_else() -> None:
    deploy = builtin_schema("apps", "v1", "Deployment")
    assert deploy is not None
    ok = deployment(
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"},
        }
    )
    assert validate(ok, deploy) == []
    bad = deployment(strategy={"rollingUpdate": {"maxSurge": 1.5}})
    assert messages(validate(bad, deploy)) == [
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "number": '
        'spec.strategy.rollingUpdate.maxSurge in body must be of type integer,string: "number"'
    ]


def test_quantities_accept_numbers_and_must_parse() -> None:
    pytest.importorskip("sandbox.api.quantity")
    schema = builtin_schema("", "v1", "Pod")
    assert schema is not None
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "c", "image": "i", "resources": {"limits": {"cpu": 0.5, "memory": "1Gi"}}}
            ]
        },
    }
    assert validate(pod, schema) == []
    pod["spec"]["containers"][0]["resources"]["limits"]["memory"] = "lots"
    assert messages(validate(pod, schema)) == [
        'spec.containers[0].resources.limits.memory: Invalid value: "lots": quantities must match '
        "the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    ]


def test_additional_properties_false_forbids_other_keys() -> None:
    schema = obj_schema(
        spec={
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": False,
        }
    )
    assert messages(validate({"spec": {"a": "x", "b": 1}}, schema)) == [
        'spec: Invalid value: "b": spec.b in body is a forbidden property'
    ]


def test_list_map_keys_must_be_unique() -> None:
    schema = obj_schema(
        ports={
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": obj_schema(name={"type": "string"}, port={"type": "integer"}),
        }
    )
    obj = {"ports": [{"name": "a", "port": 1}, {"name": "b"}, {"name": "a", "port": 2}]}
    assert messages(validate(obj, schema, path="spec")) == [
        'spec.ports[2]: Duplicate value: map[string]interface {}{"name":"a"}'
    ]
    assert validate(obj, schema, list_types=False) == []


def test_list_sets_must_be_unique() -> None:
    schema = obj_schema(
        tags={"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}
    )
    assert messages(validate({"tags": ["a", "b", "a"]}, schema)) == [
        'tags[2]: Duplicate value: "a"'
    ]


def test_builtin_containers_are_a_list_map() -> None:
    schema = builtin_schema("", "v1", "Pod")
    assert schema is not None
    pod = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}}
    assert messages(validate(pod, schema)) == [
        'spec.containers[1]: Duplicate value: map[string]interface {}{"name":"a"}'
    ]


def test_preserve_unknown_fields_accepts_anything_untyped() -> None:
    schema = obj_schema(config={"x-kubernetes-preserve-unknown-fields": True})
    assert validate({"config": {"any": ["thing", 1]}}, schema) == []
    assert validate({"config": "text"}, schema) == []


def test_embedded_resources_need_api_version_and_kind() -> None:
    schema = obj_schema(
        template={
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        }
    )
    assert messages(validate({"template": {"metadata": {}}}, schema, path="")) == [
        "template.apiVersion: Required value: must not be empty",
        "template.kind: Required value: must not be empty",
    ]


def test_any_of_reports_at_the_root_then_the_closest_branch() -> None:
    schema = obj_schema(
        size={"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+Gi$"}]}
    )
    assert validate({"size": "5Gi"}, schema) == []
    errors = validate({"size": "5GB"}, schema)
    assert (
        messages(errors)[0]
        == '<nil>: Invalid value: "": "size" must validate at least one schema (anyOf)'
    )
    assert len(errors) == 2


def test_one_of_all_of_and_not() -> None:
    one_of = obj_schema(v={"oneOf": [{"minimum": 0}, {"maximum": 10}]})
    assert messages(validate({"v": 5}, one_of)) == [
        '<nil>: Invalid value: "": "v" must validate one and only one schema (oneOf). Found 2 valid alternatives'
    ]
    all_of = obj_schema(v={"allOf": [{"minimum": 0}, {"maximum": 10}]})
    assert messages(validate({"v": 11}, all_of, path="spec")) == [
        "spec.v: Invalid value: 11: v in body should be less than or equal to 10",
        'spec: Invalid value: "": "v" must validate all the schemas (allOf)',
    ]
    not_ = obj_schema(v={"not": {"type": "string"}})
    assert messages(validate({"v": "s"}, not_)) == [
        '<nil>: Invalid value: "": "v" must not validate the schema (not)'
    ]


def test_invalid_aggregates_like_kubectl_shows_it() -> None:
    schema = builtin_schema("apps", "v1", "Deployment")
    assert schema is not None
    error = Invalid.of("Deployment", "web", validate(deployment(replicas="3"), schema))
    assert error.message == (
        'Deployment "web" is invalid: spec.replicas: Invalid value: "string": '
        'spec.replicas in body must be of type integer: "string"'
    )


# Compilation -------------------------------------------------------------------------


def test_compiled_schemas_are_cached_by_identity() -> None:
    schema = obj_schema(a={"type": "string"})
    assert compile_schema(schema) is compile_schema(schema)
    assert compile_schema(copy.deepcopy(schema)) is not compile_schema(schema)


def test_validation_walks_only_the_data_on_cyclic_schemas() -> None:
    crd = builtin_schema("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    assert crd is not None
    nested: dict[str, Any] = {"type": "object"}
    node = nested
    for _ in range(30):
        child: dict[str, Any] = {"type": "object"}
        node["properties"] = {"x": child}
        node = child
    node["type"] = 7
    obj = {
        "spec": {
            "group": "example.com",
            "names": {"plural": "ws", "kind": "W"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": nested},
                }
            ],
        }
    }
    errors = validate(obj, crd)
    assert len(errors) == 1
    assert errors[0].field.endswith(".properties.x.type")


def test_validating_a_deployment_is_fast() -> None:
    schema = builtin_schema("apps", "v1", "Deployment")
    assert schema is not None
    obj = deployment()
    validate(obj, schema)
    start = time.perf_counter()
    for _ in range(500):
        validate(obj, schema, list_types=False)
    # Generous bound for slow CI machines; the measured cost is ~15 us.
    assert (time.perf_counter() - start) / 500 < 0.0005


# Unknown fields and pruning ------------------------------------------------------------


def test_unknown_fields_in_builtin_kinds() -> None:
    schema = builtin_schema("apps", "v1", "Deployment")
    assert schema is not None
    obj = deployment(replica=3)
    obj["metadata"]["lables"] = {}
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert unknown_fields(obj, schema) == [
        "metadata.lables",
        "spec.replica",
        "spec.template.spec.containers[0].imagePullPolcy",
    ]


def test_free_form_builtin_fields_are_not_unknown() -> None:
    schema = builtin_schema("apps", "v1", "ControllerRevision")
    assert schema is not None
    obj = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "r"},
        "revision": 1,
        "data": {"spec": {"anything": True}},
    }
    assert unknown_fields(obj, schema) == []


CRD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "default": 1},
                "params": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {
                        "lr": {"type": "object", "properties": {"value": {"type": "number"}}}
                    },
                },
                "resources": {
                    "type": "object",
                    "additionalProperties": obj_schema(amount={"type": "string"}),
                },
                "workers": {
                    "type": "array",
                    "items": obj_schema(
                        name={"type": "string"}, replicas={"type": "integer", "default": 1}
                    ),
                },
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": obj_schema(a={"type": "string"})},
                },
            },
        },
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
    },
}


def test_prune_removes_unknown_fields_and_reports_them() -> None:
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}, "colour": "red"},
        "spec": {
            "size": 2,
            "extra": True,
            "params": {"anything": 1, "lr": {"value": 0.1, "typo": 1}},
            "resources": {"gpu": {"amount": "1", "brand": "x"}},
            "workers": [{"name": "w0", "rank": 0}],
            "template": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "t", "bogus": 1},
                "spec": {"a": "x", "b": "y"},
                "other": 1,
            },
        },
        "top": 1,
    }
    removed = prune(obj, CRD_SCHEMA)
    assert removed == [
        "metadata.colour",
        "spec.extra",
        "spec.params.lr.typo",
        "spec.resources[gpu].brand",
        "spec.template.metadata.bogus",
        "spec.template.other",
        "spec.template.spec.b",
        "spec.workers[0].rank",
        "top",
    ]
    assert obj["apiVersion"] == "example.com/v1" and obj["kind"] == "Widget"
    assert obj["metadata"] == {"name": "w", "labels": {"a": "b"}}
    assert obj["spec"]["params"] == {"anything": 1, "lr": {"value": 0.1}}
    assert obj["spec"]["template"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "t"},
        "spec": {"a": "x"},
    }


def test_unknown_fields_match_what_prune_removes() -> None:
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"extra": 1, "size": 1},
    }
    before = copy.deepcopy(obj)
    assert unknown_fields(obj, CRD_SCHEMA) == ["spec.extra"]
    assert obj == before
    assert prune(obj, CRD_SCHEMA) == ["spec.extra"]


# Defaults ------------------------------------------------------------------------------


def test_defaults_fill_missing_fields_of_objects_that_exist() -> None:
    obj: dict[str, Any] = {"spec": {"workers": [{"name": "a"}, {"name": "b", "replicas": 3}]}}
    apply_defaults(obj, CRD_SCHEMA)
    assert obj == {
        "spec": {"size": 1, "workers": [{"name": "a", "replicas": 1}, {"name": "b", "replicas": 3}]}
    }
    empty: dict[str, Any] = {"status": {}}
    apply_defaults(empty, CRD_SCHEMA)
    assert empty == {"status": {}}


def test_defaults_apply_inside_defaults_and_map_values() -> None:
    schema = obj_schema(
        spec={
            "type": "object",
            "default": {},
            "properties": {"mode": {"type": "string", "default": "fast"}},
        },
        slots={
            "type": "object",
            "additionalProperties": obj_schema(size={"type": "integer", "default": 8}),
        },
    )
    obj: dict[str, Any] = {"slots": {"a": {}, "b": {"size": 1}}}
    apply_defaults(obj, schema)
    assert obj == {"spec": {"mode": "fast"}, "slots": {"a": {"size": 8}, "b": {"size": 1}}}


def test_defaults_replace_or_drop_non_nullable_nulls() -> None:
    schema = obj_schema(
        a={"type": "string", "default": "x"},
        b={"type": "string"},
        c={"type": "string", "nullable": True},
    )
    obj: dict[str, Any] = {"a": None, "b": None, "c": None}
    apply_defaults(obj, schema)
    assert obj == {"a": "x", "c": None}


def test_default_values_are_copies() -> None:
    schema = obj_schema(tags={"type": "array", "items": {"type": "string"}, "default": ["a"]})
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    apply_defaults(first, schema)
    apply_defaults(second, schema)
    first["tags"].append("b")
    assert second["tags"] == ["a"]


# Structural schemas --------------------------------------------------------------------

PREFIX = "spec.versions[0].schema.openAPIV3Schema"


def test_a_structural_schema_passes() -> None:
    assert validate_structural(CRD_SCHEMA, path=PREFIX) == []


def test_every_node_needs_a_type() -> None:
    schema = {"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}
    assert messages(validate_structural(schema, path=PREFIX)) == [
        f"{PREFIX}.properties[spec].type: Required value: must not be empty for specified object fields"
    ]
    items = {"type": "object", "properties": {"l": {"type": "array", "items": {}}}}
    assert messages(validate_structural(items)) == [
        "properties[l].items.type: Required value: must not be empty for specified array items"
    ]


def test_untyped_nodes_are_fine_when_preserving_or_int_or_string() -> None:
    schema = obj_schema(
        a={"x-kubernetes-preserve-unknown-fields": True},
        b={"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    )
    assert validate_structural(schema) == []


def test_the_root_must_be_an_object_and_refs_are_not_supported() -> None:
    assert messages(validate_structural({"type": "string"}, path=PREFIX)) == [
        f'{PREFIX}.type: Invalid value: "string": must be object at the root'
    ]
    with_ref = obj_schema(a={"$ref": "#/definitions/A"})
    assert messages(validate_structural(with_ref, path=PREFIX)) == [
        f"{PREFIX}.properties[a].$ref: Forbidden: $ref is not supported"
    ]


def test_arrays_need_items_and_value_validations_may_not_declare_types() -> None:
    schema = obj_schema(
        l={"type": "array"},
        v={"type": "string", "anyOf": [{"type": "string", "pattern": "^a"}]},
    )
    assert messages(validate_structural(schema)) == [
        "properties[l].items: Required value: must be specified",
        "properties[v].anyOf[0].type: Forbidden: must be empty to be structural",
    ]


def test_metadata_may_only_restrict_name_and_generate_name() -> None:
    ok = obj_schema(
        metadata={"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}
    )
    assert validate_structural(ok) == []
    bad = obj_schema(metadata={"type": "object", "properties": {"labels": {"type": "object"}}})
    assert messages(validate_structural(bad)) == [
        "properties[metadata]: Forbidden: must not specify anything other than name and "
        "generateName, but metadata is implicitly specified"
    ]


def test_openapi_problems_are_reported_before_structural_ones() -> None:
    schema = {
        "properties": {
            "m": {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": {"type": "string"},
            },
            "s": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
        }
    }
    assert messages(validate_structural(schema)) == [
        "properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
        "properties[s].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime "
        "complexity becomes quadratic",
    ]


def test_structural_errors_are_sorted_by_message() -> None:
    schema = {"properties": {"b": {}, "a": {}}}
    assert messages(validate_structural(schema)) == [
        "properties[a].type: Required value: must not be empty for specified object fields",
        "properties[b].type: Required value: must not be empty for specified object fields",
        "type: Required value: must not be empty at the root",
    ]
