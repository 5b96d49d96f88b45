"""Generate ``sandbox/api/schema/data/builtin-1.31.json.gz``: OpenAPI v3 schemas of built-in kinds.

Where the data comes from
    The Kubernetes 1.31 API definitions as JSON Schema, shipped in the PyPI
    wheel ``kubernetes-validate`` 1.37.0 (file
    ``kubernetes_validate/kubernetes-json-schema/v1.31.0-local/_definitions.json``,
    ``$defs`` keyed like ``io.k8s.api.core.v1.PodSpec``). That file is itself
    generated from the ``swagger.json`` of kubernetes/kubernetes v1.31.0.
    The descriptions in it are Kubernetes' API documentation, © The Kubernetes
    Authors, licensed under Apache-2.0 (like kf-sandbox); kubernetes-validate is
    Apache-2.0 too.

    The PodGroup of scheduler-plugins (``scheduling.x-k8s.io/v1alpha1``) is not
    part of upstream Kubernetes; its schema is written by hand below, following
    the field names and types of the scheduler-plugins CRD.

What it does
    1. Picks the definition of every kind in
       :data:`sandbox.api.builtin_kinds.BUILTIN_TYPES` (by its
       ``x-kubernetes-group-version-kind``) and the closure of the definitions
       they reference (List kinds are not needed).
    2. Converts JSON-Schema style to OpenAPI v3 style, as kube-apiserver
       publishes under ``/openapi/v3``:

       - ``type: [X, "null"]`` becomes ``type: X`` + ``nullable: true``;
       - ``IntOrString`` becomes ``x-kubernetes-int-or-string: true`` with
         ``format: int-or-string``; ``Quantity`` the same with
         ``format: quantity`` (the validator also accepts numbers there and
         parses strings as quantities);
       - ``$ref: "#/$defs/N"`` becomes ``$ref: "#/components/schemas/N"``;
       - free-form values (``RawExtension``, ``FieldsV1``, apiextensions'
         ``JSON`` and ``JSONSchemaPropsOr*``) get
         ``x-kubernetes-preserve-unknown-fields: true``, so pruning and
         strict field validation leave their contents alone, as Go decoding
         does;
       - the single-value ``enum`` that kubernetes-validate adds to
         ``apiVersion``/``kind`` is dropped (the published schemas have none;
         the API server checks those two itself);
       - ``StatefulSetSpec.serviceName`` is not ``required``: the 1.31 schema
         says it is, but the API server never enforced it (1.32 fixed the
         schema), and manifests without it are common.

       Descriptions and all ``x-kubernetes-*`` extensions are kept
       (``kubectl explain`` and strategic merge patch need them).
    3. Writes one gzip-compressed JSON document::

           {"source": ..., "kubernetesVersion": "1.31.0",
            "kinds": {"apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment", ...},
            "schemas": {"io.k8s.api.apps.v1.Deployment": {...}, ...}}

How to rerun
    ::

        pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
        .venv/bin/python tools/gen_builtin_schemas.py \\
            --wheel /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

    The output is deterministic (sorted keys, fixed gzip mtime), so rerunning
    on the same input gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.api.builtin_kinds import BUILTIN_TYPES  # noqa: E402

KUBERNETES_VERSION = "1.31.0"
DEFINITIONS_PATH = "kubernetes_validate/kubernetes-json-schema/v1.31.0-local/_definitions.json"
DEFAULT_WHEEL = Path("/tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl")
OUTPUT = ROOT / "sandbox" / "api" / "schema" / "data" / "builtin-1.31.json.gz"

REF_IN = "#/$defs/"
REF_OUT = "#/components/schemas/"

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
#: Definitions whose values are arbitrary JSON in Go (no struct to decode into).
FREE_FORM = {
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
}

#: Fields the 1.31 schema lists as required that the API server accepts without.
NOT_REALLY_REQUIRED = {"io.k8s.api.apps.v1.StatefulSetSpec": ("serviceName",)}

# kubernetes-validate keeps only the oneOf of these two; the published schemas describe them.
_FALLBACK_DESCRIPTIONS = {
    INT_OR_STRING: "IntOrString is a type that can hold an int32 or a string.",
    QUANTITY: "Quantity is a fixed-point representation of a number, such as 500m or 1Gi.",
}

# Keys whose values are schemas, lists of schemas, or maps of schemas.
_SCHEMA_KEYS = ("items", "additionalProperties", "not")
_SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")

PODGROUP_NAME = "io.x-k8s.scheduling.v1alpha1.PodGroup"


def _int32(description: str) -> dict[str, Any]:
    return {"description": description, "type": "integer", "format": "int32"}


def podgroup_schema() -> dict[str, Any]:
    """scheduler-plugins' PodGroup, as its CRD (``podgroups.scheduling.x-k8s.io``) declares it.

    Written in OpenAPI v3 form directly. ``status.scheduled`` is from older
    scheduler-plugins releases that the training operator still writes.
    """
    return {
        "description": "PodGroup is a set of pods scheduled together: none starts until minMember can.",
        "type": "object",
        "properties": {
            "apiVersion": {"description": "The versioned schema of this object.", "type": "string"},
            "kind": {"description": "The REST resource this object represents.", "type": "string"},
            "metadata": {"$ref": REF_OUT + OBJECT_META, "description": "Standard object metadata."},
            "spec": {
                "description": "The desired behaviour of the pod group.",
                "type": "object",
                "properties": {
                    "minMember": _int32(
                        "The least number of pods that must be schedulable together; "
                        "if fewer fit, none is started."
                    ),
                    "minResources": {
                        "description": "The least total resources the group needs before any pod starts.",
                        "type": "object",
                        "additionalProperties": {"$ref": REF_OUT + QUANTITY},
                    },
                    "scheduleTimeoutSeconds": _int32(
                        "How long pods of the group may wait for each other before scheduling fails."
                    ),
                },
            },
            "status": {
                "description": "What the scheduler last observed about the group.",
                "type": "object",
                "properties": {
                    "phase": {"description": "Current phase of the PodGroup.", "type": "string"},
                    "occupiedBy": {
                        "description": "UID of the workload that owns the group; empty until set.",
                        "type": "string",
                    },
                    "scheduled": _int32("The number of pods scheduled (older releases)."),
                    "running": _int32("The number of running pods."),
                    "succeeded": _int32("The number of pods that reached phase Succeeded."),
                    "failed": _int32("The number of pods that reached phase Failed."),
                    "scheduleStartTime": {
                        "description": "When scheduling of the group started.",
                        "type": "string",
                        "format": "date-time",
                    },
                },
            },
        },
        "x-kubernetes-group-version-kind": [
            {"group": "scheduling.x-k8s.io", "version": "v1alpha1", "kind": "PodGroup"}
        ],
    }


def load_definitions(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as zf, zf.open(DEFINITIONS_PATH) as fh:
        return json.load(fh)["$defs"]


def refs_of(node: Any, out: set[str]) -> None:
    """Collect the definition names a (JSON-Schema style) node references."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.add(ref.removeprefix(REF_IN).removeprefix(REF_OUT))
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    refs_of(sub, out)
            elif key in _SCHEMA_KEYS or key in _SCHEMA_LIST_KEYS:
                refs_of(value, out)
    elif isinstance(node, list):
        for item in node:
            refs_of(item, out)


def closure(defs: dict[str, Any], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        refs_of(defs[name], found)
        stack.extend(found - seen)
    return seen


def convert(node: Any) -> Any:
    """One JSON-Schema style node to OpenAPI v3 style (see the module docstring)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = REF_OUT + value.removeprefix(REF_IN)
        elif key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            if len(kinds) != 1:
                raise ValueError(f"unexpected type list {value!r}")
            out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: convert(sub) for name, sub in value.items()}
        elif key in _SCHEMA_KEYS:
            out[key] = convert(value)
        elif key in _SCHEMA_LIST_KEYS:
            out[key] = [convert(sub) for sub in value]
        else:
            out[key] = value
    return out


def convert_definition(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    if name in (INT_OR_STRING, QUANTITY):
        return {
            "description": definition.get("description", _FALLBACK_DESCRIPTIONS[name]),
            "format": "int-or-string" if name == INT_OR_STRING else "quantity",
            "x-kubernetes-int-or-string": True,
        }
    out = convert(definition)
    if name in NOT_REALLY_REQUIRED:
        out["required"] = [f for f in out["required"] if f not in NOT_REALLY_REQUIRED[name]]
    if name in FREE_FORM:
        out["x-kubernetes-preserve-unknown-fields"] = True
    if "x-kubernetes-group-version-kind" in out:
        for field in ("apiVersion", "kind"):
            prop = out.get("properties", {}).get(field)
            if prop is not None:
                prop.pop("enum", None)
    return out


def build(defs: dict[str, Any]) -> dict[str, Any]:
    by_gvk: dict[tuple[str, str, str], str] = {}
    for name, definition in defs.items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            by_gvk.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    kinds: dict[str, str] = {}
    roots: list[str] = []
    for rt in BUILTIN_TYPES:
        key = f"{rt.api_version}/{rt.kind}"
        if (rt.group, rt.version, rt.kind) == ("scheduling.x-k8s.io", "v1alpha1", "PodGroup"):
            kinds[key] = PODGROUP_NAME
            continue
        name = by_gvk.get((rt.group, rt.version, rt.kind))
        if name is None:
            raise SystemExit(f"no definition for {key}")
        kinds[key] = name
        roots.append(name)
    names = closure(defs, [*roots, OBJECT_META, QUANTITY])
    schemas = {name: convert_definition(name, defs[name]) for name in sorted(names)}
    schemas[PODGROUP_NAME] = podgroup_schema()
    return {
        "source": "kubernetes-validate 1.37.0: " + DEFINITIONS_PATH,
        "kubernetesVersion": KUBERNETES_VERSION,
        "licence": "Kubernetes API definitions and descriptions (c) The Kubernetes Authors, Apache-2.0",
        "kinds": dict(sorted(kinds.items())),
        "schemas": schemas,
    }


def write(document: dict[str, Any], path: Path) -> int:
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, default=DEFAULT_WHEEL)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    document = build(load_definitions(args.wheel))
    size = write(document, args.output)
    print(f"wrote {args.output} ({len(document['schemas'])} schemas, {size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
