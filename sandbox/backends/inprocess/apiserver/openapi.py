"""OpenAPI v2 and v3 documents of every served kind, for kubectl.

kubectl reads the server's OpenAPI for three things, and each needs real
content (a stub only unblocks the first):

- **whether the server validates fields itself**: kubectl looks for the PATCH
  operation tagged ``x-kubernetes-group-version-kind`` with the kind and
  checks that it lists the ``fieldValidation`` query parameter; if so it
  sends ``fieldValidation=Strict`` and leaves validation to the server,
  otherwise it validates client-side against the v2 schemas (1.27/1.28 read
  v2 only; 1.29+ read v3 and fall back to v2);
- **``kubectl explain``** (v3 by default, v2 with
  ``--output=plaintext-openapiv2``): finds the kind from a resource path's
  operation extension, then the ``components.schemas`` entry carrying the
  same GVK, and walks ``$ref``\\ s;
- **client-side apply patches** of built-in kinds: the
  ``x-kubernetes-patch-strategy``/``-merge-key`` extensions.

Built-in kinds' schemas come from :func:`sandbox.api.schema.openapi_components`
(Kubernetes 1.31's published v3 definitions). Custom resources' schemas are
their CRD ``openAPIV3Schema``, converted the way kube-apiserver's CRD OpenAPI
builder does: definition named like ``org.kubeflow.v1.TFJob``, ``metadata``,
``apiVersion`` and ``kind`` added, embedded resources completed, int-or-string
unfolded to ``anyOf`` (v3); for v2 additionally ``ToStructuralOpenAPIV2``:
junctors dropped, nullable and preserve-unknown-fields nodes made untyped.

Paths follow kube-apiserver's routes (list, create, deletecollection, read,
replace, patch, delete, and the subresources of :data:`.discovery.SUBRESOURCES`)
with Kubernetes' query parameters; every operation carries its GVK.

Wire forms: ``/openapi/v2`` is JSON, or the gnostic protobuf encoding that
kubectl asks for (``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
— kubectl decodes nothing else), produced here by a small encoder of the
``openapi.v2`` messages; ``/openapi/v3`` is an index whose URLs carry each
document's hash (kubectl caches by it), ``/openapi/v3/<api/v1|apis/g/v>`` the
per-group-version documents. :func:`openapi_document` serves them from a
cache keyed on the registry state (see :mod:`.discovery`).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.api.kinds import KindRegistry, ResourceType
from sandbox.api.schema import definition_name, openapi_components
from sandbox.api.schema.builtin import KUBERNETES_VERSION
from sandbox.backends.inprocess.apiserver.discovery import (
    JSON,
    Document,
    StateCache,
    group_versions,
    subresource,
)

__all__ = [
    "PROTOBUF_V2",
    "PROTOBUF_V2_ACCEPT",
    "crd_definition_name",
    "definition_for",
    "encode_v2_protobuf",
    "openapi_document",
    "openapi_v2",
    "openapi_v2_protobuf",
    "openapi_v3",
    "openapi_v3_index",
]

#: What kubectl sends in Accept for ``/openapi/v2`` (a ``@`` makes it an invalid Content-Type).
PROTOBUF_V2_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
#: The Content-Type kube-apiserver answers the protobuf form with.
PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

REF_V2 = "#/definitions/"
REF_V3 = "#/components/schemas/"
GVK_EXTENSION = "x-kubernetes-group-version-kind"
INFO = {"title": "Kubernetes", "version": f"v{KUBERNETES_VERSION}"}

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# TypeMeta's and PartialObjectMetadata's field documentation, as kube-apiserver adds it to CRDs.
_API_VERSION_DOC = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND_DOC = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
_METADATA_DOC = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_EMBEDDED_API_VERSION_DOC = (
    "apiVersion defines the versioned schema of this representation of an object. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_EMBEDDED_KIND_DOC = (
    "kind is a string value representing the type of this object. In CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)

_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_INT_OR_STRING = "x-kubernetes-int-or-string"
_EMBEDDED = "x-kubernetes-embedded-resource"
# The keys a structural schema keeps (kube-apiserver builds CRD OpenAPI from
# its structural form, which has no example, externalDocs, $schema ...).
_STRUCTURAL_KEYS = frozenset(
    {
        "description", "type", "title", "default", "nullable", "format", "maximum",
        "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
        "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum",
        "maxProperties", "minProperties", "required", "allOf", "oneOf", "anyOf", "not",
        "properties", "items", "additionalProperties",
    }
)
_JUNCTORS = ("allOf", "oneOf", "anyOf", "not")
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]


# Definition names ---------------------------------------------------------------


def crd_definition_name(group: str, version: str, kind: str) -> str:
    """kube-apiserver's name for a custom kind: ``kubeflow.org/v1 TFJob`` -> ``org.kubeflow.v1.TFJob``."""
    return ".".join([*reversed(group.split(".")), version, kind]) if group else f"{version}.{kind}"


def definition_for(rt: ResourceType) -> str:
    """The definition name of a served kind: the built-in one, else the CRD form."""
    return definition_name(rt.group, rt.version, rt.kind) or crd_definition_name(
        rt.group, rt.version, rt.kind
    )


def _gvk(rt: ResourceType) -> dict[str, str]:
    return {"group": rt.group, "kind": rt.kind, "version": rt.version}


# Schema conversion ----------------------------------------------------------------


def _builtin_to_v2(node: Any) -> Any:
    """A published v3 built-in definition in v2 form, as kube-apiserver serves ``/openapi/v2``.

    ``$ref``\\ s point at ``#/definitions/``, ``nullable`` goes (v2 has none),
    int-or-string values (IntOrString, Quantity) are ``type: string``, which
    kubectl's v2 validation accepts any scalar for.
    """
    if isinstance(node, list):
        return [_builtin_to_v2(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "nullable" or key == _INT_OR_STRING:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(REF_V3):
            out[key] = REF_V2 + value[len(REF_V3) :]
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _builtin_to_v2(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "allOf"):
            out[key] = _builtin_to_v2(value)
        else:
            out[key] = value
    if node.get(_INT_OR_STRING):
        out["type"] = "string"
    return out


def _structural(node: Any, *, v2: bool) -> Any:
    """One CRD schema node as kube-apiserver publishes it (v3, or v2 if ``v2``)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {
        key: value
        for key, value in node.items()
        if key in _STRUCTURAL_KEYS or key.startswith("x-kubernetes-")
    }
    if "required" in out:
        out["required"] = list(out["required"])
    if out.get(_INT_OR_STRING):
        # Structural.Unfold: int-or-string spelled out for OpenAPI readers.
        if "anyOf" not in out:
            out["anyOf"] = list(_INT_OR_STRING_ANY_OF)
        elif out["anyOf"] != _INT_OR_STRING_ANY_OF:
            out["allOf"] = [{"anyOf": list(_INT_OR_STRING_ANY_OF)}, *out.get("allOf", [])]
    if v2:
        # ToStructuralOpenAPIV2: what kubectl's v2 model cannot represent goes.
        for junctor in _JUNCTORS:
            out.pop(junctor, None)
        if out.pop("nullable", False):
            out.pop("type", None)
            out.pop("items", None)
            out.pop("properties", None)
        if out.get(_PRESERVE):
            out.pop("items", None)
            out.pop("properties", None)
            if out.get("type") == "object":
                out.pop("type")
        if out.get("type") == "array" and "items" not in out:
            out.pop("type")
        properties = out.get("properties") or {}
        nullable = {name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("nullable")}
        additional = out.get("additionalProperties")
        if isinstance(additional, dict) and additional.get("nullable"):
            out.pop("required", None)
        elif nullable and "required" in out:
            required = [name for name in out["required"] if name not in nullable]
            if required:
                out["required"] = required
            else:
                del out["required"]
    else:
        for junctor in ("allOf", "oneOf", "anyOf"):
            if junctor in out:
                out[junctor] = [_structural(item, v2=False) for item in out[junctor]]
        if "not" in out:
            out["not"] = _structural(out["not"], v2=False)
    if "properties" in out:
        out["properties"] = {name: _structural(prop, v2=v2) for name, prop in out["properties"].items()}
    if "items" in out:
        out["items"] = _structural(out["items"], v2=v2)
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _structural(out["additionalProperties"], v2=v2)
    _add_embedded_properties(out, v2=v2)
    return out


def _add_embedded_properties(node: dict[str, Any], *, v2: bool) -> None:
    # addEmbeddedProperties: an embedded object gets TypeMeta and ObjectMeta,
    # except in v2 when it keeps unknown fields (kubectl would then refuse them).
    if not node.get(_EMBEDDED) or (v2 and node.get(_PRESERVE)):
        return
    ref = (REF_V2 if v2 else REF_V3) + _OBJECT_META
    properties = node.setdefault("properties", {})
    properties["apiVersion"] = {"description": _EMBEDDED_API_VERSION_DOC, "type": "string"}
    properties["kind"] = {"description": _EMBEDDED_KIND_DOC, "type": "string"}
    properties["metadata"] = {"$ref": ref, "description": _METADATA_DOC}
    required = node.setdefault("required", [])
    for name in ("kind", "apiVersion"):
        if name not in required:
            required.append(name)


def _custom_definition(rt: ResourceType, *, v2: bool) -> dict[str, Any]:
    """A custom kind's definition, built like kube-apiserver's ``buildKubeNative``."""
    schema = rt.schema
    if schema is None or (v2 and schema.get(_PRESERVE)):
        # No properties: anything else would make kubectl forbid unknown fields.
        return {"type": "object", GVK_EXTENSION: [_gvk(rt)]}
    out = _structural(dict(schema), v2=v2)
    properties = out.setdefault("properties", {})
    properties["metadata"] = {"$ref": (REF_V2 if v2 else REF_V3) + _OBJECT_META, "description": _METADATA_DOC}
    properties["apiVersion"] = {"description": _API_VERSION_DOC, "type": "string"}
    properties["kind"] = {"description": _KIND_DOC, "type": "string"}
    out[GVK_EXTENSION] = [_gvk(rt)]
    return out


@cache
def _builtin_definitions_v2() -> dict[str, Any]:
    return {name: _builtin_to_v2(schema) for name, schema in openapi_components().items()}


def _refs(node: Any) -> Iterator[str]:
    """Every definition name a (v3) schema refers to."""
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_V3):
        yield ref[len(REF_V3) :]
    for prop in (node.get("properties") or {}).values():
        yield from _refs(prop)
    for key in ("items", "additionalProperties", "not"):
        yield from _refs(node.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or ():
            yield from _refs(sub)


def _closure(roots: Iterable[Mapping[str, Any]], components: Mapping[str, Any]) -> list[str]:
    """Names of the built-in definitions reachable from ``roots``, sorted."""
    seen: set[str] = set()
    stack = [name for root in roots for name in _refs(root)]
    while stack:
        name = stack.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        stack.extend(_refs(components[name]))
    return sorted(seen)


# Paths ----------------------------------------------------------------------------------

_QUERY_PARAMS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": ("boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
    "continue": ("string", "The continue option should be set when retrieving more results from the server."),
    "dryRun": ("string", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed"),
    "fieldManager": ("string", "fieldManager is a name associated with the actor or entity that is making these changes."),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
    "fieldValidation": ("string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict"),
    "force": ("boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
    "limit": ("integer", "limit is a maximum number of responses to return for a list call."),
    "orphanDependents": ("boolean", "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7."),
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "propagationPolicy": ("string", "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
    "resourceVersion": ("string", "resourceVersion sets a constraint on what resource versions a request may be served from."),
    "resourceVersionMatch": ("string", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
    "sendInitialEvents": ("boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications."),
}
_LIST_PARAMS = (
    "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
    "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch",
)
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_DELETE_PARAMS = ("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")
_ACTION_PARAMS: dict[str, tuple[str, ...]] = {
    "list": _LIST_PARAMS,
    "post": _WRITE_PARAMS,
    "put": _WRITE_PARAMS,
    "patch": (*_WRITE_PARAMS, "force"),
    "delete": _DELETE_PARAMS,
    "deletecollection": tuple(sorted({*_DELETE_PARAMS, *_LIST_PARAMS})),
}
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
_CONNECT = frozenset({"exec", "attach", "portforward", "proxy"})
# Kubernetes verb -> HTTP method (which is also the route's x-kubernetes-action
# for item and subresource routes; collections use list/post/deletecollection).
_METHOD_OF_VERB = {"get": "get", "update": "put", "patch": "patch", "delete": "delete", "create": "post"}
_OPERATION_VERB = {
    "get": "read", "put": "replace", "patch": "patch", "delete": "delete", "post": "create",
    "list": "list", "deletecollection": "deleteCollection", "connect": "connect",
}


@dataclass
class _Operation:
    method: str
    action: str
    operation_id: str
    description: str
    tag: str
    gvk: dict[str, str]
    params: tuple[str, ...] = ()
    response: str | None = None  # definition name of the 200 body
    body: str | None = None  # definition name of a POST/PUT body
    patch_types: tuple[str, ...] = ()
    produces: tuple[str, ...] = (JSON, "application/yaml")


@dataclass
class _Path:
    path: str
    path_params: tuple[str, ...]  # "namespace", "name"
    kind: str
    operations: list[_Operation] = field(default_factory=list)


def _article(noun: str) -> str:
    # endpoints.GetArticleForNoun: plurals ("Endpoints") take no article.
    if noun.endswith("s") and not noun.endswith("ss"):
        return " "
    return " an " if noun[:1].lower() in "aeiou" else " a "


def _group_words(group: str) -> list[str]:
    # "rbac.authorization.k8s.io" -> ["rbac", "authorization"]; "" -> ["core"]
    return group.removesuffix(".k8s.io").replace("-", ".").split(".") if group else ["core"]


def _id_prefix(group: str, version: str) -> str:
    """The group/version part of kube-apiserver's operation IDs: ``CoreV1``, ``KubeflowOrgV1``."""
    words = _group_words(group)
    return "".join(word[:1].upper() + word[1:] for word in words) + version[:1].upper() + version[1:]


def _operation_tag(group: str, version: str) -> str:
    """kube-apiserver's operation tag: ``core_v1``, ``rbacAuthorization_v1``."""
    first, *rest = _group_words(group)
    return first + "".join(word[:1].upper() + word[1:] for word in rest) + "_" + version


def _resource_paths(rt: ResourceType, definition: str) -> list[_Path]:
    """kube-apiserver's routes for one served kind, with their operations."""
    prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    scope = "Namespaced" if rt.namespaced else ""
    base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
    scope_params: tuple[str, ...] = ("namespace",) if rt.namespaced else ()
    id_prefix = _id_prefix(rt.group, rt.version)
    tag = _operation_tag(rt.group, rt.version)
    verbs = set(rt.verbs)
    gvk = _gvk(rt)
    patch_types = _PATCH_TYPES if rt.builtin else tuple(t for t in _PATCH_TYPES if "strategic" not in t)

    def op(method: str, action: str, *, sub: str = "", scoped: str = scope, **extra: Any) -> _Operation:
        verb = _OPERATION_VERB[action]
        sub_title = sub[:1].upper() + sub[1:]
        noun = f" {sub} of" if sub else ""
        if action == "list":
            text = f"list or watch objects of kind {rt.kind}"
        elif action == "deletecollection":
            text = f"delete collection of {rt.kind}"
        elif action == "patch":
            text = f"partially update{noun} the specified {rt.kind}"
        elif action in ("post", "delete"):
            text = f"{verb}{noun}{_article(rt.kind)}{rt.kind}"
        else:
            text = f"{verb}{noun} the specified {rt.kind}"
        return _Operation(
            method=method,
            action=action,
            operation_id=f"{verb}{id_prefix}{scoped}{rt.kind}{sub_title}",
            description=text,
            tag=tag,
            gvk=extra.pop("gvk", gvk),
            params=_ACTION_PARAMS.get(action, ()),
            **extra,
        )

    paths: list[_Path] = []
    if rt.namespaced and "list" in verbs:
        all_namespaces = _Path(f"{prefix}/{rt.plural}", (), rt.kind)
        listing = op("get", "list", scoped="")
        listing.operation_id += "ForAllNamespaces"
        all_namespaces.operations.append(listing)
        paths.append(all_namespaces)
    collection = _Path(base, scope_params, rt.kind)
    if "list" in verbs:
        collection.operations.append(op("get", "list"))
    if "create" in verbs:
        collection.operations.append(op("post", "post", response=definition, body=definition))
    if "deletecollection" in verbs:
        collection.operations.append(op("delete", "deletecollection"))
    if collection.operations:
        paths.append(collection)
    item = _Path(f"{base}/{{name}}", (*scope_params, "name"), rt.kind)
    for verb in ("get", "update", "patch", "delete"):
        if verb in verbs:
            method = _METHOD_OF_VERB[verb]
            item.operations.append(
                op(
                    method,
                    method,
                    response=definition,
                    body=definition if method == "put" else None,
                    patch_types=patch_types if method == "patch" else (),
                )
            )
    if item.operations:
        paths.append(item)
    for name in sorted(rt.subresources):
        sub = subresource(name)
        group, version, kind = sub.response_kind(rt)
        sub_gvk = {"group": group, "kind": kind, "version": version}
        same_kind = (group, version, kind) == (rt.group, rt.version, rt.kind)
        sub_path = _Path(f"{base}/{{name}}/{name}", (*scope_params, "name"), kind)
        for verb in sub.verbs:
            method = _METHOD_OF_VERB[verb]
            operation = op(
                method,
                "connect" if name in _CONNECT else method,
                sub=name,
                gvk=sub_gvk,
                response=definition if same_kind and name != "log" else None,
                body=definition if same_kind and method == "put" else None,
                patch_types=patch_types if method == "patch" else (),
                produces=("text/plain",) if name == "log" else (JSON, "application/yaml"),
            )
            if name in _CONNECT:
                operation.operation_id = (
                    f"connect{id_prefix}{method.title()}{scope}{rt.kind}{name.title()}"
                )
                operation.description = f"connect {method.upper()} requests to {name} of {rt.kind}"
                operation.params = ()
            sub_path.operations.append(operation)
        paths.append(sub_path)
    return paths


def _path_parameter(name: str, kind: str) -> tuple[str, str]:
    if name == "name":
        return name, f"name of the {kind}"
    return name, "object name and auth scope, such as for teams and projects"


def _render_paths(paths: list[_Path], *, v2: bool) -> dict[str, Any]:
    ref = REF_V2 if v2 else REF_V3
    out: dict[str, Any] = {}
    for path in paths:
        item: dict[str, Any] = {}
        for operation in path.operations:
            rendered: dict[str, Any] = {
                "tags": [operation.tag],
                "description": operation.description,
                "operationId": operation.operation_id,
            }
            parameters = [_query_parameter(name, v2=v2) for name in operation.params]
            responses: dict[str, Any] = {"200": {"description": "OK"}}
            if operation.response:
                schema = {"$ref": ref + operation.response}
                responses["200"] = _response("OK", schema, operation.produces, v2=v2)
                if operation.method == "post":
                    responses["201"] = _response("Created", schema, operation.produces, v2=v2)
                    responses["202"] = _response("Accepted", schema, operation.produces, v2=v2)
                if operation.method == "put":
                    responses["201"] = _response("Created", schema, operation.produces, v2=v2)
            responses["401"] = {"description": "Unauthorized"}
            body_types: tuple[str, ...] = ()
            body_schema: dict[str, Any] | None = None
            if operation.patch_types:
                body_types, body_schema = operation.patch_types, {"type": "object"}
            elif operation.body:
                body_types, body_schema = ("*/*",), {"$ref": ref + operation.body}
            if v2:
                if body_schema is not None:
                    parameters.insert(0, {"name": "body", "in": "body", "required": True, "schema": body_schema})
                    rendered["consumes"] = list(body_types)
                rendered["produces"] = list(operation.produces)
                rendered["schemes"] = ["https"]
            elif body_schema is not None:
                rendered["requestBody"] = {
                    "content": {media: {"schema": body_schema} for media in body_types},
                    "required": True,
                }
            if parameters:
                rendered["parameters"] = parameters
            rendered["responses"] = responses
            rendered["x-kubernetes-action"] = operation.action
            rendered[GVK_EXTENSION] = operation.gvk
            item[operation.method] = rendered
        path_params = [
            _path_param(*_path_parameter(name, path.kind), v2=v2) for name in path.path_params
        ]
        item["parameters"] = [*path_params, _query_parameter("pretty", v2=v2)]
        out[path.path] = item
    return out


def _query_parameter(name: str, *, v2: bool) -> dict[str, Any]:
    type_, description = _QUERY_PARAMS[name]
    if v2:
        return {"name": name, "in": "query", "description": description, "type": type_, "uniqueItems": True}
    return {"name": name, "in": "query", "description": description, "schema": {"type": type_, "uniqueItems": True}}


def _path_param(name: str, description: str, *, v2: bool) -> dict[str, Any]:
    if v2:
        return {"name": name, "in": "path", "description": description, "required": True, "type": "string", "uniqueItems": True}
    return {"name": name, "in": "path", "description": description, "required": True, "schema": {"type": "string", "uniqueItems": True}}


def _response(description: str, schema: dict[str, Any], produces: tuple[str, ...], *, v2: bool) -> dict[str, Any]:
    if v2:
        return {"description": description, "schema": schema}
    return {"description": description, "content": {media: {"schema": schema} for media in produces}}


# Documents --------------------------------------------------------------------------------


def _served(registry: KindRegistry) -> list[ResourceType]:
    return sorted(registry.all(), key=lambda rt: (rt.group, rt.version, rt.plural))


def openapi_v2(registry: KindRegistry) -> dict[str, Any]:
    """The swagger 2.0 document of ``/openapi/v2``: every definition and route.

    Built-in definitions are all published (as kube-apiserver does), custom
    kinds' definitions are added. Converted built-in definitions are shared
    between calls: treat the result as read-only.
    """
    definitions = dict(_builtin_definitions_v2())
    paths: list[_Path] = []
    for rt in _served(registry):
        name = definition_for(rt)
        if name not in definitions:
            definitions[name] = _custom_definition(rt, v2=True)
        paths.extend(_resource_paths(rt, name))
    return {
        "swagger": "2.0",
        "info": dict(INFO),
        "paths": _render_paths(paths, v2=True),
        "definitions": dict(sorted(definitions.items())),
    }


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3(registry: KindRegistry, group: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of one group/version (``/openapi/v3/api/v1`` ...).

    ``components.schemas`` holds the served kinds of that group/version and
    every definition they reach; :class:`NotFound` if nothing is served there.
    The built-in schemas inside are shared with :mod:`sandbox.api.schema`:
    treat the result as read-only.
    """
    types = [rt for rt in _served(registry) if rt.group == group and rt.version == version]
    if not types:
        raise NotFound("the server could not find the requested resource")
    components = openapi_components()
    kinds: dict[str, dict[str, Any]] = {}
    paths: list[_Path] = []
    for rt in types:
        name = definition_for(rt)
        kinds[name] = components.get(name) or _custom_definition(rt, v2=False)
        paths.extend(_resource_paths(rt, name))
    schemas = {name: components[name] for name in _closure(kinds.values(), components)}
    schemas.update(kinds)
    return {
        "openapi": "3.0.0",
        "info": dict(INFO),
        "paths": _render_paths(paths, v2=False),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def openapi_v3_index(registry: KindRegistry) -> dict[str, Any]:
    """``/openapi/v3``: each served group/version with its URL, versioned by content hash.

    kubectl caches a document by its URL, so the ``hash`` changes exactly when
    the document does.
    """
    return {
        "paths": {
            _gv_path(group, version): {
                "serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}?hash={_v3_document(registry, group, version).hash}"
            }
            for group, versions in group_versions(registry.all()).items()
            for version in versions
        }
    }


def openapi_v2_protobuf(registry: KindRegistry) -> bytes:
    """``/openapi/v2`` in the protobuf form kubectl reads (gnostic ``openapi.v2.Document``)."""
    return _v2_protobuf(registry).body


# Serving ------------------------------------------------------------------------------------

_cache = StateCache()


def _v2_json(registry: KindRegistry) -> Document:
    return _cache.get(registry, "v2", lambda r: Document.json(openapi_v2(r)))


def _v2_protobuf(registry: KindRegistry) -> Document:
    return _cache.get(
        registry,
        "v2-protobuf",
        lambda r: Document(encode_v2_protobuf(openapi_v2(r)), PROTOBUF_V2),
    )


def _v3_document(registry: KindRegistry, group: str, version: str) -> Document:
    return _cache.get(
        registry, ("v3", group, version), lambda r: Document.json(openapi_v3(r, group, version))
    )


def openapi_document(registry: KindRegistry, path: str, *, accept: str | None = None) -> Document:
    """The OpenAPI response for ``path`` (query string excluded), from the cache.

    - ``/openapi/v2``: protobuf (Content-Type :data:`PROTOBUF_V2`) when
      ``accept`` names the protobuf form, JSON otherwise; ``/swagger-2.0.0.pb-v1``
      (kubectl 1.27/1.28's fallback) is the protobuf form;
    - ``/openapi/v3``: the index; ``/openapi/v3/api/v1``,
      ``/openapi/v3/apis/<group>/<version>``: a group/version document, whose
      :attr:`Document.hash` is the ``hash`` its index URL carries.

    Anything else, or a group/version not served, raises :class:`NotFound`.
    """
    parts = [p for p in path.strip("/").split("/") if p]
    if parts == ["openapi", "v2"]:
        wants_protobuf = accept is not None and "protobuf" in accept and "proto-openapi" in accept
        return _v2_protobuf(registry) if wants_protobuf else _v2_json(registry)
    if parts == ["swagger-2.0.0.pb-v1"]:
        return _v2_protobuf(registry)
    if parts == ["openapi", "v3"]:
        return _cache.get(registry, "v3-index", lambda r: Document.json(openapi_v3_index(r)))
    if parts[:2] == ["openapi", "v3"]:
        rest = parts[2:]
        if rest[:1] == ["api"] and len(rest) == 2:
            return _v3_document(registry, "", rest[1])
        if rest[:1] == ["apis"] and len(rest) == 3:
            return _v3_document(registry, rest[1], rest[2])
    raise NotFound("the server could not find the requested resource")


# Protobuf (gnostic openapi.v2) ------------------------------------------------------------
#
# Only what openapi_v2 produces is encoded; field numbers are those of
# gnostic's OpenAPIv2.proto. Extension and default/enum values travel as YAML
# text (``Any.yaml``); JSON is valid YAML, and kubectl parses them with a
# YAML decoder.


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes(number: int, payload: bytes) -> bytes:
    """A length-delimited field (string or message); empty messages are kept (presence matters)."""
    return _tag(number, 2) + _varint(len(payload)) + payload


def _string(number: int, value: str) -> bytes:
    return _bytes(number, value.encode()) if value else b""


def _strings(number: int, values: Iterable[str]) -> bytes:
    return b"".join(_bytes(number, value.encode()) for value in values)


def _bool(number: int, value: bool) -> bytes:
    return _tag(number, 0) + b"\x01" if value else b""


def _int(number: int, value: int) -> bytes:
    return _tag(number, 0) + _varint(int(value))


def _double(number: int, value: float) -> bytes:
    return _tag(number, 1) + struct.pack("<d", float(value))


def _any(number: int, value: Any) -> bytes:
    return _bytes(number, _string(2, json.dumps(value, separators=(",", ":"))))


def _extensions(number: int, node: Mapping[str, Any]) -> bytes:
    return b"".join(
        _bytes(number, _string(1, key) + _any(2, value))
        for key, value in node.items()
        if key.startswith("x-")
    )


_SCHEMA_STRINGS = {"$ref": 1, "format": 2, "title": 3, "description": 4, "pattern": 13, "discriminator": 26}
_SCHEMA_DOUBLES = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_SCHEMA_BOOLS = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}
_SCHEMA_INTS = {"maxLength": 11, "minLength": 12, "maxItems": 14, "minItems": 15, "maxProperties": 17, "minProperties": 18}


def _schema(node: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for key, value in node.items():
        if key in _SCHEMA_STRINGS:
            out += _string(_SCHEMA_STRINGS[key], value)
        elif key in _SCHEMA_DOUBLES:
            out += _double(_SCHEMA_DOUBLES[key], value)
        elif key in _SCHEMA_BOOLS:
            out += _bool(_SCHEMA_BOOLS[key], value)
        elif key in _SCHEMA_INTS:
            out += _int(_SCHEMA_INTS[key], value)
        elif key == "default":
            out += _any(5, value)
        elif key == "example":
            out += _any(30, value)
        elif key == "required":
            out += _strings(19, value)
        elif key == "enum":
            out += b"".join(_any(20, item) for item in value)
        elif key == "additionalProperties":
            inner = _bytes(1, _schema(value)) if isinstance(value, dict) else _tag(2, 0) + _varint(int(bool(value)))
            out += _bytes(21, inner)
        elif key == "type":
            out += _bytes(22, _strings(1, [value] if isinstance(value, str) else value))
        elif key == "items":
            items = value if isinstance(value, list) else [value]
            out += _bytes(23, b"".join(_bytes(1, _schema(item)) for item in items))
        elif key == "allOf":
            out += b"".join(_bytes(24, _schema(item)) for item in value)
        elif key == "properties":
            out += _bytes(25, _named(value, _schema))
    out += _extensions(31, node)
    return bytes(out)


def _named(mapping: Mapping[str, Any], encode: Any) -> bytes:
    """``repeated Named<X> additional_properties = 1`` of an ordered map."""
    return b"".join(_bytes(1, _string(1, name) + _bytes(2, encode(value))) for name, value in mapping.items())


def _parameter(param: Mapping[str, Any]) -> bytes:
    where = param["in"]
    if where == "body":
        body = (
            _string(1, param.get("description", ""))
            + _string(2, param["name"])
            + _string(3, where)
            + _bool(4, param.get("required", False))
            + _bytes(5, _schema(param["schema"]))
        )
        return _bytes(1, _bytes(1, body))
    # Query and path sub-schemas number their fields alike up to ``format``,
    # except that a path parameter has no allow_empty_value (5).
    query = where == "query"
    sub = (
        _bool(1, param.get("required", False))
        + _string(2, where)
        + _string(3, param.get("description", ""))
        + _string(4, param["name"])
        + _string(6 if query else 5, param.get("type", ""))
        + _string(7 if query else 6, param.get("format", ""))
        + _bool(20 if query else 19, param.get("uniqueItems", False))
    )
    non_body = _bytes(3 if query else 4, sub)
    return _bytes(1, _bytes(2, non_body))


def _operation(op: Mapping[str, Any]) -> bytes:
    responses = b"".join(
        _bytes(
            1,
            _string(1, code)
            + _bytes(
                2,
                _bytes(
                    1,
                    _string(1, response.get("description", ""))
                    + (_bytes(2, _bytes(1, _schema(response["schema"]))) if "schema" in response else b""),
                ),
            ),
        )
        for code, response in op.get("responses", {}).items()
    )
    return (
        _strings(1, op.get("tags", ()))
        + _string(3, op.get("description", ""))
        + _string(5, op.get("operationId", ""))
        + _strings(6, op.get("produces", ()))
        + _strings(7, op.get("consumes", ()))
        + b"".join(_bytes(8, _parameter(p)) for p in op.get("parameters", ()))
        + _bytes(9, responses)
        + _strings(10, op.get("schemes", ()))
        + _extensions(13, op)
    )


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for method, number in _METHODS.items():
        if method in item:
            out += _bytes(number, _operation(item[method]))
    out += b"".join(_bytes(9, _parameter(p)) for p in item.get("parameters", ()))
    out += _extensions(10, item)
    return bytes(out)


def encode_v2_protobuf(document: Mapping[str, Any]) -> bytes:
    """A swagger 2.0 dict (as :func:`openapi_v2` builds it) as a gnostic ``openapi.v2.Document``."""
    info = document.get("info", {})
    paths = b"".join(
        _bytes(2, _string(1, path) + _bytes(2, _path_item(item)))
        for path, item in document.get("paths", {}).items()
    )
    return (
        _string(1, document.get("swagger", "2.0"))
        + _bytes(2, _string(1, info.get("title", "")) + _string(2, info.get("version", "")))
        + _bytes(8, paths)
        + _bytes(9, _named(document.get("definitions", {}), _schema))
    )
