"""What every write shares: the body as an object, field validation, patches, DeleteOptions.

Used by the verbs of :mod:`.handlers` and the subresources of
:mod:`.subresources` alike:

- :func:`object_body`: the decoded body must be an object of the URL's kind;
  ``apiVersion``/``kind`` default to the URL's (kube-apiserver decodes with
  the URL's group-version-kind as the default);
- :func:`check_fields`: ``fieldValidation`` — ``Strict`` refuses a field the
  kind's schema does not know with kube-apiserver's 400 (``Deployment in
  version "v1" cannot be handled as a Deployment: strict decoding error:
  unknown field "spec.replica"``), ``Warn`` (the default) adds a ``Warning``
  header, ``Ignore`` does not look; strategic-merge directives
  (``$setElementOrder/…``) are not fields;
- :func:`patch_object`: the four patch types, server-side apply creating a
  missing object;
- :func:`delete_options`: ``DeleteOptions`` from the body, completed by the
  query (``gracePeriodSeconds``, ``propagationPolicy``, ``orphanDependents``,
  ``dryRun``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import BadRequest, NotFound
from sandbox.api.kinds import ResourceType
from sandbox.api.schema import unknown_fields
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.negotiation import decode_patch
from sandbox.backends.inprocess.apiserver.requestinfo import query_bool, query_int

__all__ = ["check_fields", "delete_one", "delete_options", "object_body", "patch_object"]


def object_body(body: Any, rt: ResourceType, *, expected_kind: str | None = None,
                expected_api_version: str | None = None) -> dict[str, Any]:
    """The request body as an object of ``rt``: apiVersion/kind defaulted from the URL."""
    if not isinstance(body, dict):
        raise BadRequest("the body of the request must be a JSON or YAML object")
    kind = expected_kind or rt.kind
    api_version = expected_api_version or rt.api_version
    body_kind = body.get("kind")
    body_version = body.get("apiVersion")
    if body_kind and body_kind != kind:
        raise BadRequest(f"the object provided is unrecognized (must be of type {kind}): "
                         f"kind {body_kind!r} in the request body")
    if body_version and body_version != api_version:
        raise BadRequest(f"the API version in the data ({body_version}) does not match the "
                         f"expected API version ({api_version})")
    body["kind"] = kind
    body["apiVersion"] = api_version
    return body


def _is_directive(path: str) -> bool:
    """Strategic merge patch directives (``$setElementOrder/containers`` …) are not fields."""
    return "$" in path


def check_fields(state: ServerState, call: Call, rt: ResourceType, obj: Any) -> None:
    """``fieldValidation``: Strict refuses unknown fields, Warn reports them, Ignore does not look."""
    mode = call.field_validation
    if mode == "Ignore" or not isinstance(obj, dict):
        return
    schema = state.store.admission.schema_for(rt)
    if schema is None:
        return
    unknown = [f'unknown field "{p}"' for p in unknown_fields(obj, schema) if not _is_directive(p)]
    if not unknown:
        return
    if mode == "Strict":
        raise BadRequest(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                         f"strict decoding error: {', '.join(unknown)}")
    call.warnings.extend(unknown)


def _exists(state: ServerState, rt: ResourceType, name: str, namespace: str | None) -> bool:
    try:
        state.store.get(rt.api_version, rt.kind, name, namespace=namespace)
    except NotFound:
        return False
    return True


async def patch_object(
    state: ServerState, call: Call, rt: ResourceType, *, subresource: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Apply the request's patch; ``(object, created)``."""
    patch_type, patch = decode_patch(await call.body(), call.header(b"content-type"))
    if patch_type != "json":
        check_fields(state, call, rt, patch)
    name = call.info.name
    namespace = (call.info.namespace if rt.namespaced and call.info.namespace else None)
    creates = patch_type == "apply" and not subresource and not _exists(state, rt, name, namespace)
    if patch_type == "apply" and isinstance(patch, dict):
        object_body(patch, rt)
    result = state.store.patch(
        rt.api_version, rt.kind, name, patch, namespace=namespace, patch_type=patch_type,
        subresource=subresource,
        field_manager=call.query.get("fieldManager") if patch_type == "apply" else call.field_manager,
        force=query_bool(call.query, "force"), dry_run=call.dry_run,
    )
    return result, creates


def delete_options(call: Call, body: Any) -> dict[str, Any]:
    """``DeleteOptions`` from the body and the query (the query fills what the body omits)."""
    options: dict[str, Any] = dict(body) if isinstance(body, Mapping) else {}
    if body is not None and not isinstance(body, Mapping):
        raise BadRequest("the body of a DELETE must be a DeleteOptions object")
    q = call.query
    if "gracePeriodSeconds" not in options and q.get("gracePeriodSeconds"):
        options["gracePeriodSeconds"] = query_int(q, "gracePeriodSeconds")
    if "propagationPolicy" not in options and q.get("propagationPolicy"):
        options["propagationPolicy"] = q["propagationPolicy"]
    if "orphanDependents" not in options and "orphanDependents" in q:
        options["orphanDependents"] = query_bool(q, "orphanDependents")
    if "dryRun" not in options and q.get("dryRun"):
        options["dryRun"] = [q["dryRun"]]
    if options.get("orphanDependents") is not None:
        if options.get("propagationPolicy"):
            raise BadRequest("DeleteOptions: Invalid value: \"orphanDependents\": "
                             "orphanDependents and propagationPolicy cannot both be set")
        options["propagationPolicy"] = "Orphan" if options["orphanDependents"] else "Background"
    dry_run = options.get("dryRun") or []
    if any(v != "All" for v in dry_run):
        raise BadRequest(f'Invalid dry run value: "{dry_run}": supported values: "All"')
    return options


def delete_one(state: ServerState, rt: ResourceType, name: str, namespace: str | None,
                options: Mapping[str, Any]) -> dict[str, Any]:
    grace = options.get("gracePeriodSeconds")
    return state.store.delete(
        rt.api_version, rt.kind, name, namespace=namespace,
        propagation_policy=options.get("propagationPolicy"),
        grace_period_seconds=int(grace) if grace is not None else None,
        preconditions=options.get("preconditions") or None,
        dry_run=bool(options.get("dryRun")),
    )


