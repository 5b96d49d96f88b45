"""Content negotiation: what a request body is, and what shape the answer takes.

Kubernetes negotiates both directions with media types and parameters:

- **Request bodies** (:func:`decode_body`): ``application/json`` (also when
  the Content-Type is missing — the Python client 37 sends none on POST/PUT),
  ``application/yaml``; a PATCH names its patch type with its Content-Type
  (:data:`PATCH_TYPES`), and server-side apply bodies are YAML (JSON is YAML).
  Protobuf bodies (kubectl ≥ 1.32's typed ``create`` commands and ``auth
  can-i``) are decoded by :mod:`.protobuf` for the kinds those commands send.
- **Responses** (:func:`negotiate_output`): plain JSON or YAML objects, or a
  server-side rendering asked for with ``as=``: a ``meta.k8s.io`` ``Table``
  (``kubectl get``), ``PartialObjectMetadata`` or ``PartialObjectMetadataList``
  (metadata-only clients). The Accept list is read in the client's order and
  the first form the server can produce wins; protobuf is skipped (kubectl
  lists JSON after it), and nothing acceptable is a 406.

Pure functions of header strings and bytes: the app decides what to do with
the outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from sandbox.api.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from sandbox.backends.inprocess.apiserver import protobuf

__all__ = [
    "APPLY_PATCH",
    "JSON",
    "PATCH_TYPES",
    "Output",
    "decode_body",
    "decode_patch",
    "media_type",
    "negotiate_output",
]

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
APPLY_PATCH = "application/apply-patch+yaml"

#: PATCH Content-Type -> the store's patch type.
PATCH_TYPES: dict[str, str] = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    APPLY_PATCH: "apply",
}

_BODY_TYPES = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
_PATCH_LIST = ("application/json-patch+json, application/merge-patch+json, "
               "application/apply-patch+yaml, application/strategic-merge-patch+json")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Form = Literal["object", "table", "partial", "partial-list"]


@dataclass(frozen=True, slots=True)
class Output:
    """The negotiated response: an encoding and, for ``as=`` requests, a conversion."""

    form: Form = "object"
    #: ``meta.k8s.io`` version of a Table/PartialObjectMetadata answer (v1 or v1beta1).
    version: str = "v1"
    yaml: bool = False


OBJECT_JSON = Output()


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``"application/json;as=Table;v=v1"`` -> ``("application/json", {"as": "Table", "v": "v1"})``."""
    if not header:
        return "", {}
    kind, *params = header.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), parsed


def negotiate_output(accept: str | None) -> Output:
    """The first acceptable form in the client's Accept list (406 if there is none)."""
    if not accept:
        return OBJECT_JSON
    for entry in accept.split(","):
        kind, params = media_type(entry)
        as_ = params.get("as")
        if kind in (JSON, YAML, "*/*", "application/*"):
            if not as_:
                return Output(yaml=kind == YAML)
            if params.get("g") != "meta.k8s.io" or params.get("v", "v1") not in ("v1", "v1beta1"):
                continue
            version = params.get("v", "v1")
            if as_ == "Table":
                return Output("table", version)
            if as_ == "PartialObjectMetadata":
                return Output("partial", version)
            if as_ == "PartialObjectMetadataList":
                return Output("partial-list", version)
        # protobuf and anything else: the next entry may be JSON.
    raise NotAcceptable(
        "only the following media types are accepted: application/json, application/yaml"
    )


def _load(body: bytes, *, as_yaml: bool) -> Any:
    if not body.strip():
        return None
    if not as_yaml or body.lstrip()[:1] in (b"{", b"["):
        try:
            return json.loads(body)
        except ValueError as exc:
            if not as_yaml:
                raise BadRequest(f"json: cannot unmarshal the request body: {exc}") from None
    try:
        return yaml.load(body, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise BadRequest(f"error converting YAML to JSON: {exc}") from None


def decode_body(body: bytes, content_type: str | None) -> Any:
    """The body of a POST/PUT/DELETE as Python data (None when empty)."""
    kind, _ = media_type(content_type)
    if kind in ("", JSON, "*/*"):
        return _load(body, as_yaml=False)
    if kind in (YAML, "application/x-yaml", "text/yaml"):
        return _load(body, as_yaml=True)
    if kind == PROTOBUF:
        return protobuf.decode(body)
    raise UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        + _BODY_TYPES
    )


def decode_patch(body: bytes, content_type: str | None) -> tuple[str, Any]:
    """``(patch_type, patch)`` for a PATCH request, or kube-apiserver's 415."""
    kind, _ = media_type(content_type)
    patch_type = PATCH_TYPES.get(kind)
    if patch_type is None:
        raise UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            + _PATCH_LIST
        )
    patch = _load(body, as_yaml=patch_type == "apply")
    if patch is None:
        raise BadRequest("the body of the request is empty: a patch is required")
    return patch_type, patch
