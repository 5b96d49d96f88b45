"""Subresources: ``status``, ``scale``, ``log``, ``binding``, ``eviction``, ``finalize``, ``token``, ``proxy``.

=================  ================================================================
``status``         GET the object; PUT/PATCH write ``status`` only (the store's
                   status subresource)
``scale``          an ``autoscaling/v1 Scale`` (:mod:`.scale`): GET, PUT with a
                   Scale, PATCH the Scale (any patch type); writes set the
                   workload's replicas, honouring the Scale's resourceVersion
``log``            pod logs, text or a followed stream (:mod:`.logs`)
``binding``        POST a ``Binding``: the scheduler's way to assign a node
``eviction``       POST an ``Eviction``: deletes the pod with its DeleteOptions
                   (PodDisruptionBudgets are not consulted)
``finalize``       PUT a Namespace's ``spec.finalizers`` (the namespace controller)
``token``          POST a ``TokenRequest`` for a ServiceAccount (``kubectl create
                   token``): answered with the account's token Secret's token,
                   which never expires (audiences and expiry are echoed, not
                   enforced)
``proxy``          pods and services, any method: the request goes on to the pod
                   and its answer comes back (:mod:`.proxy`)
=================  ================================================================

``exec``, ``attach`` and ``portforward`` need streaming protocols
(WebSocket/SPDY) the sandbox does not speak, and ``nodes/proxy`` a kubelet
HTTP API the in-process kubelets do not serve; they answer a 400 Status
saying so, which kubectl prints. A subresource the kind does not have is a 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.api import patch as patches
from sandbox.api.errors import BadRequest, InternalError, MethodNotAllowed
from sandbox.api.kinds import ResourceType
from sandbox.backends.inprocess.apiserver import logs, proxy, writes
from sandbox.backends.inprocess.apiserver.auth import service_account_token
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.negotiation import decode_body, decode_patch
from sandbox.backends.inprocess.apiserver.render import render_object
from sandbox.backends.inprocess.apiserver.responses import json_reply, not_found, success_status
from sandbox.backends.inprocess.apiserver.scale import replicas_patch, scale_of, validate_scale
from sandbox.clock import format_time

__all__ = ["STREAMING_SUBRESOURCES", "handle"]

#: Subresources that need an upgraded, multiplexed connection.
STREAMING_SUBRESOURCES = {
    "exec": "kubectl exec",
    "attach": "kubectl attach",
    "portforward": "kubectl port-forward",
}

# Methods each subresource answers (by RequestInfo verb).
_VERBS: dict[str, frozenset[str]] = {
    "status": frozenset({"get", "update", "patch"}),
    "scale": frozenset({"get", "update", "patch"}),
    "log": frozenset({"get"}),
    "binding": frozenset({"create"}),
    "eviction": frozenset({"create"}),
    "finalize": frozenset({"update"}),
    "token": frozenset({"create"}),
}


def _not_allowed() -> MethodNotAllowed:
    return MethodNotAllowed("the server does not allow this method on the requested resource")


async def handle(state: ServerState, call: Call, rt: ResourceType) -> Any:
    info = call.info
    sub = info.subresource
    if sub not in rt.subresources:
        raise not_found()
    if sub == "proxy":
        if rt.api_version == "v1" and rt.plural in proxy.PROXIED:
            return await proxy.handle(state, call, rt)
        raise BadRequest(
            f"{rt.plural}/proxy is not supported by kf-sandbox: the in-process kubelets serve no "
            "HTTP API. Reach pods with pods/proxy or services/proxy "
            "(docs/explanation/fidelity.md)"
        )
    if len(info.parts) > 3:
        raise not_found()
    if sub in STREAMING_SUBRESOURCES:
        raise BadRequest(
            f"{rt.plural}/{sub} is not supported by kf-sandbox: {STREAMING_SUBRESOURCES[sub]} needs "
            "a streaming (WebSocket/SPDY) connection the sandbox does not serve. Containers run as "
            "processes on this machine: use `kubectl logs`, or run the command locally "
            "(docs/explanation/fidelity.md)"
        )
    allowed = _VERBS.get(sub)
    if allowed is None:
        raise not_found()
    if info.verb not in allowed:
        raise _not_allowed()
    namespace = info.namespace if rt.namespaced else None
    if sub == "status":
        return await _status(state, call, rt, namespace)
    if sub == "scale":
        return await _scale(state, call, rt, namespace)
    if sub == "log":
        return await logs.pod_logs(state, call, namespace or "")
    if sub == "binding":
        return await _binding(state, call, namespace)
    if sub == "eviction":
        return await _eviction(state, call, rt, namespace)
    if sub == "token":
        return await _token(state, call, namespace or "")
    return await _finalize(state, call, rt)


async def _body_of(call: Call, rt: ResourceType, **expected: str) -> dict[str, Any]:
    body = decode_body(await call.body(), call.header(b"content-type"))
    obj = writes.object_body(body, rt, **expected)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    if meta.get("name", call.info.name) != call.info.name:
        raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the name on "
                         f"the URL ({call.info.name})")
    meta["name"] = call.info.name
    return obj


async def _status(state: ServerState, call: Call, rt: ResourceType, namespace: str | None) -> Any:
    store = state.store
    if call.info.verb == "get":
        return render_object(call, state, rt, store.get(rt.api_version, rt.kind, call.info.name,
                                                        namespace=namespace))
    if call.info.verb == "update":
        obj = await _body_of(call, rt)
        writes.check_fields(state, call, rt, obj)
        updated = store.replace(rt.api_version, rt.kind, obj, namespace=namespace,
                                subresource="status", dry_run=call.dry_run,
                                field_manager=call.field_manager)
        return render_object(call, state, rt, updated)
    patched, _ = await writes.patch_object(state, call, rt, subresource="status")
    return render_object(call, state, rt, patched)


async def _scale(state: ServerState, call: Call, rt: ResourceType, namespace: str | None) -> Any:
    store = state.store
    name = call.info.name
    verb = call.info.verb
    # Read the body before the object: nothing may change it between read and write.
    if verb == "update":
        wanted = await _body_of(call, rt, expected_kind="Scale",
                                expected_api_version="autoscaling/v1")
    elif verb == "patch":
        patch_type, patch = decode_patch(await call.body(), call.header(b"content-type"))
    current = store.get(rt.api_version, rt.kind, name, namespace=namespace)
    if verb == "get":
        return json_reply(scale_of(rt, current))
    if verb == "update":
        # A resourceVersion in the Scale is a precondition on the workload.
        resource_version = (wanted.get("metadata") or {}).get("resourceVersion")
    else:
        scale = scale_of(rt, current)
        if patch_type == "json":
            wanted = patches.apply_json_patch(scale, patch)
        elif patch_type == "strategic":
            wanted = patches.apply_strategic_merge_patch(scale, patch)
        else:  # merge, and apply: a Scale has no lists to own
            wanted = patches.apply_merge_patch(scale, patch)
        # Only a version the patch itself sets is a precondition.
        resource_version = (wanted.get("metadata") or {}).get("resourceVersion")
        if resource_version == scale["metadata"].get("resourceVersion"):
            resource_version = None
    replicas = validate_scale(wanted)
    updated = store.patch(
        rt.api_version, rt.kind, name, replicas_patch(rt, replicas,
                                                      resource_version=resource_version),
        namespace=namespace, patch_type="merge", field_manager=call.field_manager,
        dry_run=call.dry_run,
    )
    return json_reply(scale_of(rt, updated))


async def _binding(state: ServerState, call: Call, namespace: str | None) -> Any:
    binding_type = state.store.registry.get("v1", "Binding")
    binding = await _body_of(call, binding_type)
    state.store.create("v1", "Binding", binding, namespace=namespace, dry_run=call.dry_run)
    return json_reply(success_status(201), 201)


async def _eviction(state: ServerState, call: Call, rt: ResourceType,
                    namespace: str | None) -> Any:
    body = decode_body(await call.body(), call.header(b"content-type"))
    if not isinstance(body, dict) or body.get("kind", "Eviction") != "Eviction":
        raise BadRequest("the body of an eviction must be an Eviction (policy/v1)")
    name = (body.get("metadata") or {}).get("name", call.info.name)
    if name != call.info.name:
        raise BadRequest(f"name in URL does not match name in Eviction object: {call.info.name} "
                         f"!= {name}")
    options = writes.delete_options(call, body.get("deleteOptions") or {})
    state.store.delete(
        rt.api_version, rt.kind, name, namespace=namespace,
        grace_period_seconds=options.get("gracePeriodSeconds"),
        preconditions=options.get("preconditions") or None,
        propagation_policy=options.get("propagationPolicy"),
        dry_run=bool(options.get("dryRun")) or call.dry_run,
    )
    return json_reply(success_status(201), 201)


async def _finalize(state: ServerState, call: Call, rt: ResourceType) -> Any:
    obj = await _body_of(call, rt)
    updated = state.store.replace(rt.api_version, rt.kind, obj, subresource="finalize",
                                  dry_run=call.dry_run, field_manager=call.field_manager)
    return render_object(call, state, rt, updated)


async def _token(state: ServerState, call: Call, namespace: str) -> Any:
    body = decode_body(await call.body(), call.header(b"content-type")) or {}
    if not isinstance(body, dict) or body.get("kind", "TokenRequest") != "TokenRequest":
        raise BadRequest("the body of a token request must be a TokenRequest "
                         "(authentication.k8s.io/v1)")
    account = state.store.get("v1", "ServiceAccount", call.info.name, namespace=namespace)
    token = service_account_token(state.store, namespace, account)
    if token is None:
        raise InternalError(f"service account {namespace}/{call.info.name} has no token Secret "
                            "yet (the serviceaccount controller creates one)")
    spec = {k: v for k, v in (body.get("spec") or {}).items() if v is not None}
    spec["audiences"] = spec.get("audiences") or ["https://kubernetes.default.svc.cluster.local"]
    seconds = spec["expirationSeconds"] = int(spec.get("expirationSeconds") or 3600)
    expires = state.clock.now() + timedelta(seconds=seconds)
    return json_reply({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": call.info.name, "namespace": namespace, "creationTimestamp": None},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": format_time(expires)},
    }, 201)
