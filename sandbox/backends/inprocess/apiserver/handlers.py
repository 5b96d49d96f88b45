"""Resource requests: the REST verbs over the store.

``/api/v1/...`` and ``/apis/<group>/<version>/...`` resolve through the kinds
registry to a :class:`~sandbox.api.kinds.ResourceType` (an unknown group,
version or resource, or the wrong scope, is kube-apiserver's plain 404),
then:

========================  ==================================================
GET collection            list (``limit``/``continue``, selectors,
                          ``resourceVersion``/``resourceVersionMatch``), or a
                          watch stream (:mod:`.watch`) with ``watch=true``
GET object                get
POST collection           create (201); reviews are answered, not stored
                          (:mod:`.reviews`)
PUT object                update
PATCH object              the four patch types; server-side apply creates
                          (201) when the object is missing
DELETE object             delete with ``DeleteOptions`` (body or query);
                          answers the deleted object (kubectl and the Python
                          client both accept it, G16 of the reference)
DELETE collection         deletecollection: delete what the selectors match,
                          answer the list of deleted objects
========================  ==================================================

Subresources go to :mod:`.subresources`. Writes share ``dryRun=All``,
``fieldManager`` and ``fieldValidation`` (:mod:`.writes`). A verb the
resource does not serve is 405.
"""

from __future__ import annotations

from typing import Any

from sandbox.api.errors import BadRequest, MethodNotAllowed, NotFound
from sandbox.api.kinds import ResourceType, UnknownKind
from sandbox.backends.inprocess.apiserver import reviews, subresources, watch
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.negotiation import APPLY_PATCH, decode_body, media_type
from sandbox.backends.inprocess.apiserver.render import render_list, render_object
from sandbox.backends.inprocess.apiserver.requestinfo import query_int
from sandbox.backends.inprocess.apiserver.responses import json_reply, not_found
from sandbox.backends.inprocess.apiserver.writes import (
    check_fields,
    delete_one,
    delete_options,
    object_body,
    patch_object,
)

__all__ = ["handle_resource", "resolve"]

def resolve(state: ServerState, call: Call) -> ResourceType:
    """The resource type of the URL, or 404 as kube-apiserver answers unknown paths."""
    info = call.info
    try:
        rt = state.store.registry.by_resource(info.api_group, info.api_version, info.resource)
    except UnknownKind:
        raise not_found() from None
    if not rt.namespaced:
        if info.namespace and rt.resource != "namespaces":
            raise not_found()
    elif not info.namespace and not info.watch_prefix:
        if info.name:
            raise not_found()
        if info.verb not in ("list", "watch"):
            raise _method_not_allowed()  # across namespaces: list and watch only
    return rt


def _method_not_allowed() -> MethodNotAllowed:
    return MethodNotAllowed("the server does not allow this method on the requested resource")


def _namespace(rt: ResourceType, call: Call) -> str | None:
    return call.info.namespace if rt.namespaced and call.info.namespace else None


async def handle_resource(state: ServerState, call: Call) -> Any:
    info = call.info
    if reviews.is_self_subject_review(info):
        if call.method != "POST" or info.name or info.namespace:
            raise _method_not_allowed()
        return json_reply(reviews.self_subject_review(call), 201)
    rt = resolve(state, call)
    if info.subresource:
        return await subresources.handle(state, call, rt)
    if len(info.parts) > 2:
        raise not_found()
    verb = info.verb
    if verb not in rt.verbs:
        raise _method_not_allowed()
    if verb == "list":
        return _list(state, call, rt)
    if verb == "watch":
        return watch.open_watch(state, call, rt)
    if verb == "get":
        obj = state.store.get(rt.api_version, rt.kind, info.name, namespace=_namespace(rt, call))
        return render_object(call, state, rt, obj)
    if verb == "create":
        if info.name:
            raise _method_not_allowed()
        return await _create(state, call, rt)
    if verb == "update":
        return await _update(state, call, rt)
    if verb == "patch":
        return await _patch(state, call, rt)
    if verb == "delete":
        return await _delete(state, call, rt)
    if verb == "deletecollection":
        return await _delete_collection(state, call, rt)
    raise _method_not_allowed()


def _list(state: ServerState, call: Call, rt: ResourceType) -> Any:
    q = call.query
    result = state.store.list(
        rt.api_version, rt.kind, namespace=_namespace(rt, call),
        label_selector=q.get("labelSelector") or None, field_selector=q.get("fieldSelector") or None,
        limit=query_int(q, "limit"), continue_=q.get("continue") or None,
        resource_version=q.get("resourceVersion"),
        resource_version_match=q.get("resourceVersionMatch") or None,
    )
    return render_list(call, state, rt, result)


# Writes ---------------------------------------------------------------------------


async def _create(state: ServerState, call: Call, rt: ResourceType) -> Any:
    obj = object_body(decode_body(await call.body(), call.header(b"content-type")), rt)
    if reviews.is_review(rt):
        return json_reply(reviews.answer(state, call, rt, obj), 201)
    check_fields(state, call, rt, obj)
    created = state.store.create(
        rt.api_version, rt.kind, obj, namespace=_namespace(rt, call), dry_run=call.dry_run,
        field_manager=call.field_manager,
    )
    return render_object(call, state, rt, created, 201)


async def _update(state: ServerState, call: Call, rt: ResourceType) -> Any:
    obj = object_body(decode_body(await call.body(), call.header(b"content-type")), rt)
    name = call.info.name
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") != name:
        body_name = meta.get("name", "") if isinstance(meta, dict) else ""
        raise BadRequest(f"the name of the object ({body_name}) does not match the name on the URL "
                         f"({name})")
    namespace = _namespace(rt, call)
    if namespace and meta.get("namespace") not in (None, "", namespace):
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    check_fields(state, call, rt, obj)
    updated = state.store.replace(
        rt.api_version, rt.kind, obj, namespace=namespace, dry_run=call.dry_run,
        field_manager=call.field_manager,
    )
    return render_object(call, state, rt, updated)


async def _patch(state: ServerState, call: Call, rt: ResourceType) -> Any:
    if "force" in call.query and media_type(call.header(b"content-type"))[0] != APPLY_PATCH:
        raise BadRequest("force: Forbidden: may not be specified for non-apply patch")
    result, created = await patch_object(state, call, rt)
    return render_object(call, state, rt, result, 201 if created else 200)


async def _delete(state: ServerState, call: Call, rt: ResourceType) -> Any:
    body = decode_body(await call.body(), call.header(b"content-type"))
    options = delete_options(call, body)
    deleted = delete_one(state, rt, call.info.name, _namespace(rt, call), options)
    return render_object(call, state, rt, deleted)


async def _delete_collection(state: ServerState, call: Call, rt: ResourceType) -> Any:
    body = decode_body(await call.body(), call.header(b"content-type"))
    options = delete_options(call, body)
    q = call.query
    namespace = _namespace(rt, call)
    listed = state.store.list(
        rt.api_version, rt.kind, namespace=namespace,
        label_selector=q.get("labelSelector") or None, field_selector=q.get("fieldSelector") or None,
    )
    deleted = []
    for item in listed["items"]:
        meta = item["metadata"]
        try:
            deleted.append(delete_one(state, rt, meta["name"], meta.get("namespace") or None,
                                       options))
        except NotFound:
            continue  # deleted meanwhile
    listed["items"] = deleted
    return render_list(call, state, rt, listed)
