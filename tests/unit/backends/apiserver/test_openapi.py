"""OpenAPI documents: what kubectl apply, explain and client-side validation read."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from discovery_helpers import TFJOB_SCHEMA, registry_with_tfjob, tfjob_crd

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.errors import NotFound
from sandbox.api.kinds import KindRegistry, ResourceType, resource_types_from_crd
from sandbox.backends.inprocess.apiserver.openapi import (
    PROTOBUF_V2,
    PROTOBUF_V2_ACCEPT,
    crd_definition_name,
    definition_for,
    encode_v2_protobuf,
    openapi_document,
    openapi_v2,
    openapi_v3,
    openapi_v3_index,
)

GVK = "x-kubernetes-group-version-kind"
TFJOB_V2 = "org.kubeflow.v1.TFJob"


def _gvk(rt: ResourceType) -> dict[str, str]:
    return {"group": rt.group, "kind": rt.kind, "version": rt.version}


def _walk(node: Any, path: str = "") -> Any:
    """Every (path, dict) in a JSON document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def _schemas(node: dict[str, Any], path: str = "") -> Any:
    """Every (path, schema) of a schema tree (property names are not schemas)."""
    yield path, node
    for name, prop in (node.get("properties") or {}).items():
        yield from _schemas(prop, f"{path}.{name}")
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            yield from _schemas(node[key], f"{path}/{key}")
    for key in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(node.get(key) or ()):
            yield from _schemas(sub, f"{path}/{key}/{index}")


def _kubectl_v2_model_errors(definitions: dict[str, Any]) -> list[str]:
    """The checks kube-openapi's ``proto.NewOpenAPIData`` makes when kubectl loads v2."""
    errors: list[str] = []

    def parse(schema: dict[str, Any], path: str) -> None:
        if "$ref" in schema:
            ref = schema["$ref"]
            if schema.get("properties") or schema.get("type"):
                errors.append(f"{path}: a reference with a type or properties")
            if not ref.startswith("#/definitions/") or ref.removeprefix("#/definitions/") not in definitions:
                errors.append(f"{path}: unknown model in reference {ref}")
            return
        type_ = schema.get("type")
        types = [type_] if isinstance(type_, str) else list(type_ or [])
        if len(types) > 1:
            errors.append(f"{path}: multiple types")
            return
        if not types or types[0] == "object":
            if "properties" in schema:
                for name, prop in schema["properties"].items():
                    parse(prop, f"{path}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                parse(schema["additionalProperties"], f"{path}[]")
        elif types[0] == "array":
            if not isinstance(schema.get("items"), dict):
                errors.append(f"{path}: array should have exactly one sub-item")
            else:
                parse(schema["items"], f"{path}[]")
        elif types[0] not in ("string", "number", "integer", "boolean"):
            errors.append(f"{path}: unknown primitive type {types[0]}")

    for name, schema in definitions.items():
        parse(schema, name)
    return errors


def _patch_supports(doc: dict[str, Any], gvk: dict[str, str], param: str) -> bool:
    """kubectl's ``supportsQueryParam``: the first PATCH tagged with the GVK decides."""
    for item in doc["paths"].values():
        patch = item.get("patch")
        if patch is None or patch.get(GVK) != gvk:
            continue
        return any(p["name"] == param and p["in"] == "query" for p in patch.get("parameters", ()))
    raise AssertionError(f"no PATCH operation for {gvk}")


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return doc["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def _explain(doc: dict[str, Any], group: str, version: str, resource: str, fields: list[str]) -> dict[str, Any]:
    """kubectl explain's v3 lookup: the GVK from a resource path, the schema by GVK, then fields."""
    prefix = f"/apis/{group}" if group else "/api"
    searched = [
        f"{prefix}/{version}/{resource}",
        f"{prefix}/{version}/{resource}/{{name}}",
        f"{prefix}/{version}/namespaces/{{namespace}}/{resource}",
        f"{prefix}/{version}/namespaces/{{namespace}}/{resource}/{{name}}",
    ]
    gvk = next(
        doc["paths"][path][method][GVK]
        for path in searched
        if path in doc["paths"]
        for method in ("get", "post", "put", "patch", "delete")
        if method in doc["paths"][path]
    )
    schema = next(s for s in doc["components"]["schemas"].values() if gvk in s.get(GVK, []))
    for field in fields:
        schema = _resolve(doc, schema)
        if "items" in schema:
            schema = _resolve(doc, schema["items"])
        schema = schema["properties"][field]
    return schema


# OpenAPI v2 -----------------------------------------------------------------------------


def test_v2_defines_every_served_kind_with_its_gvk() -> None:
    registry = registry_with_tfjob()
    doc = openapi_v2(registry)
    assert (doc["swagger"], doc["info"]) == ("2.0", {"title": "Kubernetes", "version": "v1.31.0"})
    for rt in registry.all():
        assert _gvk(rt) in doc["definitions"][definition_for(rt)][GVK], rt


def test_v2_definitions_load_as_kubectl_models() -> None:
    doc = openapi_v2(registry_with_tfjob())
    assert _kubectl_v2_model_errors(doc["definitions"]) == []


def test_v2_uses_only_v2_vocabulary() -> None:
    doc = openapi_v2(registry_with_tfjob())
    for name, definition in doc["definitions"].items():
        for path, node in _schemas(definition, name):
            assert not {"nullable", "anyOf", "oneOf", "allOf", "not"} & set(node), path
            if "$ref" in node:
                assert node["$ref"].startswith("#/definitions/"), path
    int_or_string = doc["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert (int_or_string["type"], int_or_string["format"]) == ("string", "int-or-string")
    assert doc["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"


def test_v2_patch_operations_announce_server_side_field_validation() -> None:
    registry = registry_with_tfjob()
    doc = openapi_v2(registry)
    for rt in registry.all():
        if "patch" in rt.verbs:
            assert _patch_supports(doc, _gvk(rt), "fieldValidation"), rt


def test_v2_keeps_strategic_merge_metadata_of_built_ins() -> None:
    spec = openapi_v2(builtin_registry())["definitions"]["io.k8s.api.core.v1.PodSpec"]
    containers = spec["properties"]["containers"]
    assert (containers["x-kubernetes-patch-strategy"], containers["x-kubernetes-patch-merge-key"]) == ("merge", "name")
    assert containers["items"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Container"}


def test_crd_schema_is_converted_to_v2_like_kube_apiserver() -> None:
    tfjob = openapi_v2(registry_with_tfjob())["definitions"][TFJOB_V2]
    spec = tfjob["properties"]["spec"]
    replica = spec["properties"]["tfReplicaSpecs"]["additionalProperties"]["properties"]
    # nullable: untyped, its children gone, and no longer required by its parent.
    assert spec["properties"]["runPolicy"] == {"description": "RunPolicy encapsulates policies of the job."}
    assert spec["required"] == ["tfReplicaSpecs"]
    assert replica["tags"] == {}
    # preserve-unknown-fields: no type, no properties, the extension kept.
    assert replica["template"] == {"x-kubernetes-preserve-unknown-fields": True}
    # int-or-string: untyped, no anyOf.
    assert replica["port"] == {"x-kubernetes-int-or-string": True}
    # junctors are dropped; value validations stay.
    assert spec["properties"]["mode"] == {"type": "string"}
    assert replica["replicas"] == {"type": "integer", "minimum": 0}
    # embedded resources get TypeMeta and ObjectMeta.
    embedded = spec["properties"]["podTemplate"]
    assert embedded["properties"]["metadata"]["$ref"] == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    assert set(embedded["required"]) == {"apiVersion", "kind"}
    # kube-apiserver's additions at the root, and nothing structural schemas lack.
    assert tfjob["properties"]["metadata"]["$ref"] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert tfjob["properties"]["kind"]["type"] == "string"
    assert tfjob["properties"]["apiVersion"]["type"] == "string"
    assert tfjob[GVK] == [{"group": "kubeflow.org", "kind": "TFJob", "version": "v1"}]
    assert "example" not in tfjob


def test_crd_without_a_schema_or_keeping_unknown_fields_is_a_bare_object_in_v2() -> None:
    registry = builtin_registry()
    for rt in resource_types_from_crd(
        tfjob_crd(schema={"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    ):
        registry.register(rt)
    bare = {"type": "object", GVK: [{"group": "kubeflow.org", "kind": "TFJob", "version": "v1"}]}
    assert openapi_v2(registry)["definitions"][TFJOB_V2] == bare
    registry.register(ResourceType(group="example.com", version="v1", kind="Foo", plural="foos", builtin=False))
    assert openapi_v2(registry)["definitions"]["com.example.v1.Foo"][GVK] == [
        {"group": "example.com", "kind": "Foo", "version": "v1"}
    ]
    # v3 keeps the schema: explain shows what there is.
    assert "properties" in openapi_v3(registry, "kubeflow.org", "v1")["components"]["schemas"][TFJOB_V2]


def test_crd_conversion_leaves_the_registered_schema_alone() -> None:
    registry = registry_with_tfjob()
    (rt,) = [rt for rt in registry.all() if rt.kind == "TFJob"]
    before = copy.deepcopy(rt.schema)
    openapi_v2(registry)
    openapi_v3(registry, "kubeflow.org", "v1")
    assert rt.schema == before
    assert rt.schema == TFJOB_SCHEMA


def test_crd_definition_names_reverse_the_group() -> None:
    assert crd_definition_name("kubeflow.org", "v1", "TFJob") == "org.kubeflow.v1.TFJob"
    assert crd_definition_name("serving.kserve.io", "v1beta1", "InferenceService") == (
        "io.kserve.serving.v1beta1.InferenceService"
    )


# OpenAPI v3 -----------------------------------------------------------------------------------


def test_crd_schema_is_converted_to_v3_like_kube_apiserver() -> None:
    doc = openapi_v3(registry_with_tfjob(), "kubeflow.org", "v1")
    tfjob = doc["components"]["schemas"][TFJOB_V2]
    spec = tfjob["properties"]["spec"]
    replica = spec["properties"]["tfReplicaSpecs"]["additionalProperties"]["properties"]
    assert replica["port"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert spec["properties"]["runPolicy"]["nullable"] is True
    assert spec["required"] == ["tfReplicaSpecs", "runPolicy"]
    assert "properties" in replica["template"]
    assert spec["properties"]["mode"]["oneOf"] == [{"enum": ["a"]}, {"enum": ["b"]}]
    assert tfjob["properties"]["metadata"]["$ref"] == (
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    assert tfjob[GVK] == [{"group": "kubeflow.org", "kind": "TFJob", "version": "v1"}]


def test_v3_documents_hold_every_schema_they_refer_to() -> None:
    registry = registry_with_tfjob()
    for group, version in [("", "v1"), ("apps", "v1"), ("kubeflow.org", "v1"), ("batch", "v1")]:
        doc = openapi_v3(registry, group, version)
        assert doc["openapi"] == "3.0.0"
        schemas = doc["components"]["schemas"]
        for path, node in _walk(doc):
            if isinstance(node.get("$ref"), str):
                assert node["$ref"].removeprefix("#/components/schemas/") in schemas, path


def test_v3_lets_kubectl_explain_pod_containers() -> None:
    doc = openapi_v3(builtin_registry(), "", "v1")
    containers = _explain(doc, "", "v1", "pods", ["spec", "containers"])
    assert containers["type"] == "array"
    container = _resolve(doc, containers["items"])
    assert "image" in container["properties"]
    assert _explain(doc, "", "v1", "nodes", ["spec"])["$ref"].endswith("NodeSpec")


def test_v3_lets_kubectl_explain_tfjob_spec() -> None:
    doc = openapi_v3(registry_with_tfjob(), "kubeflow.org", "v1")
    spec = _explain(doc, "kubeflow.org", "v1", "tfjobs", ["spec"])
    assert spec["description"] == "Specification of the desired state of the TFJob."
    assert "tfReplicaSpecs" in spec["properties"]


def test_v3_patch_operations_announce_server_side_field_validation() -> None:
    registry = registry_with_tfjob()
    doc = openapi_v3(registry, "apps", "v1")
    deployment = {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert _patch_supports(doc, deployment, "fieldValidation")
    item = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert "application/strategic-merge-patch+json" in item["patch"]["requestBody"]["content"]
    tfjobs = openapi_v3(registry, "kubeflow.org", "v1")["paths"]
    patch = tfjobs["/apis/kubeflow.org/v1/namespaces/{namespace}/tfjobs/{name}"]["patch"]
    # Custom resources take no strategic merge patch.
    assert set(patch["requestBody"]["content"]) == {
        "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml",
    }


def test_subresource_paths_carry_their_response_kind() -> None:
    registry = registry_with_tfjob()
    apps = openapi_v3(registry, "apps", "v1")["paths"]
    scale = apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"][GVK] == {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    status = apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]
    assert status["put"][GVK] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    core = openapi_v3(registry, "", "v1")["paths"]
    log = core["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert list(log["responses"]["200"]) == ["description"]
    assert core["/api/v1/nodes/{name}"]["get"]["operationId"] == "readCoreV1Node"
    assert core["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    kubeflow = openapi_v3(registry, "kubeflow.org", "v1")["paths"]
    assert "/apis/kubeflow.org/v1/namespaces/{namespace}/tfjobs/{name}/scale" in kubeflow


def test_v3_for_an_unserved_group_version_is_not_found() -> None:
    with pytest.raises(NotFound):
        openapi_v3(builtin_registry(), "kubeflow.org", "v1")
    with pytest.raises(NotFound):
        openapi_document(builtin_registry(), "/openapi/v3/apis/kubeflow.org/v1")


def test_v3_index_lists_each_group_version_with_the_hash_of_its_document() -> None:
    registry = registry_with_tfjob()
    paths = openapi_v3_index(registry)["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/kubeflow.org/v1"} <= set(paths)
    document = openapi_document(registry, "/openapi/v3/apis/kubeflow.org/v1")
    assert paths["apis/kubeflow.org/v1"]["serverRelativeURL"] == (
        f"/openapi/v3/apis/kubeflow.org/v1?hash={document.hash}"
    )
    assert json.loads(document.body) == openapi_v3(registry, "kubeflow.org", "v1")


def test_v3_hash_changes_only_for_the_group_version_that_changed() -> None:
    registry = registry_with_tfjob()
    before = openapi_v3_index(registry)["paths"]
    schema = copy.deepcopy(TFJOB_SCHEMA)
    schema["properties"]["spec"]["description"] = "Changed."
    for rt in resource_types_from_crd(tfjob_crd(schema=schema)):
        registry.register(rt)
    after = openapi_v3_index(registry)["paths"]
    assert after["apis/kubeflow.org/v1"] != before["apis/kubeflow.org/v1"]
    assert after["apis/apps/v1"] == before["apis/apps/v1"]


def test_custom_kinds_appear_and_disappear_from_openapi() -> None:
    registry = registry_with_tfjob()
    assert TFJOB_V2 in openapi_v2(registry)["definitions"]
    assert "apis/kubeflow.org/v1" in json.loads(openapi_document(registry, "/openapi/v3").body)["paths"]
    registry.unregister("kubeflow.org", "TFJob")
    v2 = json.loads(openapi_document(registry, "/openapi/v2").body)
    assert TFJOB_V2 not in v2["definitions"]
    assert not any("kubeflow.org" in path for path in v2["paths"])
    assert "apis/kubeflow.org/v1" not in json.loads(openapi_document(registry, "/openapi/v3").body)["paths"]


# Serving and protobuf ------------------------------------------------------------------------


def _fields(buffer: bytes) -> dict[int, list[Any]]:
    """Decode one protobuf message: field number -> values (ints, or bytes for length-delimited)."""
    out: dict[int, list[Any]] = {}
    index = 0

    def varint() -> int:
        nonlocal index
        shift = value = 0
        while True:
            byte = buffer[index]
            index += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while index < len(buffer):
        key = varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value: Any = varint()
        elif wire_type == 1:
            value, index = buffer[index : index + 8], index + 8
        elif wire_type == 2:
            length = varint()
            value, index = buffer[index : index + length], index + length
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        out.setdefault(number, []).append(value)
    return out


def _named(message: bytes) -> dict[str, bytes]:
    """A gnostic ``repeated Named<X>`` map (field 1 of its container) as a dict."""
    named = {}
    for entry in _fields(message).get(1, []):
        fields = _fields(entry)
        named[fields[1][0].decode()] = fields[2][0]
    return named


def _extensions(message: bytes, number: int) -> dict[str, Any]:
    out = {}
    for entry in _fields(message).get(number, []):
        fields = _fields(entry)
        out[fields[1][0].decode()] = yaml.safe_load(_fields(fields[2][0])[2][0].decode())
    return out


def test_v2_protobuf_is_the_gnostic_document_kubectl_decodes() -> None:
    registry = registry_with_tfjob()
    served = openapi_document(registry, "/openapi/v2", accept=PROTOBUF_V2_ACCEPT)
    assert served.content_type == PROTOBUF_V2
    document = _fields(served.body)
    assert document[1] == [b"2.0"]
    info = _fields(document[2][0])
    assert (info[1], info[2]) == ([b"Kubernetes"], [b"v1.31.0"])

    definitions = _named(document[9][0])
    assert set(definitions) == set(openapi_v2(registry)["definitions"])
    pod = _fields(definitions["io.k8s.api.core.v1.Pod"])
    assert _extensions(definitions["io.k8s.api.core.v1.Pod"], 31)[GVK] == [
        {"group": "", "kind": "Pod", "version": "v1"}
    ]
    properties = _named(pod[25][0])
    assert _fields(properties["spec"])[1] == [b"#/definitions/io.k8s.api.core.v1.PodSpec"]

    paths = {}
    for entry in _fields(document[8][0])[2]:
        fields = _fields(entry)
        paths[fields[1][0].decode()] = _fields(fields[2][0])
    patch = paths["/apis/kubeflow.org/v1/namespaces/{namespace}/tfjobs/{name}"][8][0]
    assert _extensions(patch, 13)[GVK] == {"group": "kubeflow.org", "kind": "TFJob", "version": "v1"}
    query_names = set()
    for item in _fields(patch)[8]:
        non_body = _fields(_fields(item)[1][0]).get(2)
        if non_body:
            query = _fields(non_body[0]).get(3)
            if query:
                query_names.add(_fields(query[0])[4][0].decode())
    assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= query_names


def test_protobuf_keeps_empty_messages_and_false_booleans() -> None:
    encoded = encode_v2_protobuf(
        {"swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": {},
         "definitions": {"A": {"type": "object", "properties": {}, "additionalProperties": False,
                               "required": ["x"], "enum": ["a", 1], "maximum": 2}}}
    )
    schema = _fields(_named(_fields(encoded)[9][0])["A"])
    # An empty properties message still marks "an object with properties" for kubectl.
    assert schema[25] == [b""]
    assert _fields(schema[21][0]) == {2: [0]}
    assert _fields(schema[22][0]) == {1: [b"object"]}
    assert schema[19] == [b"x"]
    assert [yaml.safe_load(_fields(v)[2][0]) for v in schema[20]] == ["a", 1]
    assert len(schema[7][0]) == 8


def test_openapi_documents_by_path_and_accept() -> None:
    registry = builtin_registry()
    as_json = openapi_document(registry, "/openapi/v2")
    assert as_json.content_type == "application/json"
    assert json.loads(as_json.body) == openapi_v2(registry)
    assert openapi_document(registry, "/swagger-2.0.0.pb-v1").content_type == PROTOBUF_V2
    assert json.loads(openapi_document(registry, "/openapi/v3/").body) == openapi_v3_index(registry)
    assert json.loads(openapi_document(registry, "/openapi/v3/api/v1").body)["openapi"] == "3.0.0"
    for path in ("/openapi/v4", "/openapi/v3/api", "/openapi/v3/apis/apps"):
        with pytest.raises(NotFound):
            openapi_document(registry, path)


def test_openapi_documents_are_cached_per_registry_state() -> None:
    registry: KindRegistry = builtin_registry()
    first = openapi_document(registry, "/openapi/v2", accept=PROTOBUF_V2_ACCEPT)
    assert openapi_document(builtin_registry(), "/openapi/v2", accept=PROTOBUF_V2_ACCEPT) is first
    for rt in resource_types_from_crd(tfjob_crd()):
        registry.register(rt)
    assert openapi_document(registry, "/openapi/v2", accept=PROTOBUF_V2_ACCEPT) is not first
