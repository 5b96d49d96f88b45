"""Strategic merge patch: ``application/strategic-merge-patch+json``, built-in kinds only.

What client-side ``kubectl apply`` (on a re-apply), ``kubectl patch`` (the
default type), ``kubectl diff`` and the Python client's ``CoreV1Api.patch_*``
send. It is a merge patch (objects merge, ``null`` deletes) whose *lists*
follow the schema: a list whose field carries
``x-kubernetes-patch-strategy: merge`` is merged element by element — maps by
their ``x-kubernetes-patch-merge-key`` (containers, env, volumes by ``name``;
ports by ``containerPort``; conditions by ``type``), primitives as a set —
and every other list is replaced. ``x-kubernetes-list-type: set`` without a
patch strategy also merges primitives as a set. A field without a schema node
(unknown to the schema, or no schema at all) merges if it is an object and is
replaced if it is a list.

Data flow: :func:`apply_strategic_merge_patch` copies the object and the
patch, then walks the *patch* alongside the object, asking
:mod:`sandbox.api.patch._schema` for each child's schema node as it descends
(the schema itself is never traversed, so shared and cyclic schema nodes are
fine). Directives are handled in the order kube-apiserver's ``mergeMap``
handles them:

1. ``$patch`` in an object: ``replace`` (the object becomes the patch),
   ``delete`` (the field is removed), ``merge`` (the default, accepted);
2. ``$retainKeys``: keys of the live object not listed are dropped (used by
   the ``retainKeys`` strategy, e.g. a Deployment's ``strategy`` and volumes);
3. ``$setElementOrder/<list>``: the list is merged, then ordered like
   Kubernetes does: the listed items in the listed order, interleaved with
   server-only items, which keep their relative order;
4. the fields themselves (``null`` deletes; in a merged list an element
   ``{"$patch": "delete", <key>: …}`` deletes by merge key and
   ``{"$patch": "replace"}`` replaces the list with the other elements);
5. ``$deleteFromPrimitiveList/<list>``: values removed from a primitive list.

Order of merged lists (no ``$setElementOrder``): patch items in patch order,
server-only items in their live order, merged so that a server-only item stays
ahead of a patch item it preceded in the live list; new items therefore come
before the server-only items that follow no patch item — Kubernetes' rule.

Errors follow ``interpretStrategicMergePatchError``: a malformed directive
(``$retainKeys``, ``$setElementOrder``, ``$deleteFromPrimitiveList`` that is
not a list, a patch key outside ``$retainKeys``) is 400 BadRequest with
Kubernetes' words; other failures Kubernetes surfaces as 500 with the Go
error text (a list element without its merge key, an unknown ``$patch``
value, a ``$setElementOrder`` list that contradicts the patch), and so do we,
as :class:`InternalError`.

Deliberate differences from Kubernetes, all on inputs kubectl never sends:
``$patch: delete`` in a nested object removes the field (Kubernetes leaves an
empty object, which typed objects then drop); ``$patch: merge`` is accepted
where Kubernetes rejects it; directives and ``null`` inside a value added
where the live object had none are processed rather than stored verbatim; a
list that comes with a ``$setElementOrder`` is merged (by the key its order
list spells out) even when the schema does not say so, since only merged lists
get one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.api.errors import BadRequest, InternalError, UnsupportedMediaType
from sandbox.api.objects import deep_copy
from sandbox.api.patch._schema import (
    Schema,
    field_schema,
    items_schema,
    list_merge,
    map_replaces,
)
from sandbox.api.patch._values import canonical, go_json_type, go_repr, json_equal

__all__ = [
    "STRATEGIC_UNSUPPORTED_MESSAGE",
    "apply_strategic_merge_patch",
    "strategic_merge_unsupported",
]

#: kube-apiserver's 415 for a strategic merge patch on a custom resource.
STRATEGIC_UNSUPPORTED_MESSAGE = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"

_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_SET_ORDER = "invalid patch format of setElementOrder list"
_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"

_MISSING: Any = object()
_DELETED: Any = object()


def strategic_merge_unsupported(kind_label: str, api_version: str, kind: str) -> UnsupportedMediaType:
    """The 415 kube-apiserver answers a strategic merge patch on a custom resource with.

    The arguments name the refused type (``tfjobs.kubeflow.org``,
    ``kubeflow.org/v1``, ``TFJob``) at the call site, but Kubernetes' Status
    carries only the fixed message: kubectl builds its prefix
    (``error: application/strategic-merge-patch+json is not supported by
    kubeflow.org/v1, Kind=TFJob: …``) from its own discovery data.
    """
    del kind_label, api_version, kind
    return UnsupportedMediaType(STRATEGIC_UNSUPPORTED_MESSAGE)


def apply_strategic_merge_patch(
    obj: Mapping[str, Any], patch: Any, schema: Schema | None = None
) -> dict[str, Any]:
    """``obj`` with the strategic merge ``patch`` applied; neither input is changed.

    ``schema`` is the OpenAPI v3 schema of the whole object with ``$ref``s
    resolved; ``None`` merges objects and replaces lists everywhere.
    """
    if not isinstance(patch, Mapping):
        raise BadRequest(
            f"json: cannot unmarshal {go_json_type(patch)} into Go value of type "
            "map[string]interface {}"
        )
    result = _merge_map(deep_copy(dict(obj)), deep_copy(dict(patch)), schema)
    return {} if result is _DELETED else result


# Objects ----------------------------------------------------------------------


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> Any:
    """Merge ``patch`` into ``original`` (both private copies); ``_DELETED`` for ``$patch: delete``."""
    if _DIRECTIVE in patch:
        directive = patch.pop(_DIRECTIVE)
        if directive == "replace":
            return _merge_map({}, patch, schema)
        if directive == "delete":
            return _DELETED
        if directive != "merge":
            raise InternalError(f"unknown patch type: {go_repr(directive)} in map: {go_repr(patch)}")
    _retain_keys(original, patch)
    _merge_ordered_lists(original, patch, schema)
    deletions: list[tuple[str, Any]] = []
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVE):
            deletions.append((key, value))
            continue
        if value is None:
            original.pop(key, None)
            continue
        merged = _merge_value(original.get(key, _MISSING), value, field_schema(schema, key))
        if merged is _DELETED:
            original.pop(key, None)
        else:
            original[key] = merged
    for key, values in deletions:
        _delete_from_primitive_list(original, key, values)
    return original


def _merge_value(original: Any, patch: Any, schema: Schema | None) -> Any:
    if isinstance(patch, dict):
        if isinstance(original, dict) and not map_replaces(schema):
            return _merge_map(original, patch, schema)
        return _merge_map({}, patch, schema)
    if isinstance(patch, list):
        rule = list_merge(schema)
        if rule.merge:
            base = original if isinstance(original, list) else []
            return _merge_list(base, patch, items_schema(schema), rule.merge_key)
        return patch
    return patch


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if _RETAIN_KEYS not in patch:
        return
    keep = patch.pop(_RETAIN_KEYS)
    if not isinstance(keep, list):
        raise BadRequest(_BAD_RETAIN_KEYS)
    for key, value in patch.items():
        if value is None or key.startswith((_SET_ORDER, _DELETE_PRIMITIVE)):
            continue
        if key not in keep:
            raise BadRequest(_BAD_RETAIN_KEYS)
    for key in [k for k in original if k not in keep]:
        del original[key]


def _delete_from_primitive_list(original: dict[str, Any], key: str, values: Any) -> None:
    field = key[len(_DELETE_PRIMITIVE):]
    if not field or not isinstance(values, list):
        raise BadRequest(_BAD_PRIMITIVE_LIST)
    current = original.get(field)
    if isinstance(current, list):
        original[field] = [v for v in current if not any(json_equal(v, d) for d in values)]


# Lists ------------------------------------------------------------------------


def _key_of(merge_key: str | None) -> Callable[[Any], str]:
    """The identity of a list element: its merge key value, or the whole value."""
    if merge_key is None:
        return canonical

    def by_key(item: Any) -> str:
        return canonical(item.get(merge_key)) if isinstance(item, dict) else canonical(item)

    return by_key


def _require_merge_key(item: Any, merge_key: str) -> None:
    if not isinstance(item, dict) or merge_key not in item:
        raise InternalError(
            f"map: {go_repr(item)} does not contain declared merge key: {merge_key}"
        )


def _merge_list(
    original: list[Any], patch: list[Any], item_schema: Schema | None, merge_key: str | None
) -> list[Any]:
    """Merge a patch list into a live list (both private copies)."""
    if not original and not patch:
        return original
    maps = any(isinstance(v, dict) for v in (*original, *patch))
    if not maps:
        return _merge_primitives(original, patch)
    if merge_key is None:
        raise InternalError("cannot merge lists without merge key for type map")
    key = _key_of(merge_key)
    regular: list[dict[str, Any]] = []
    replace = False
    for element in patch:
        if not isinstance(element, dict):
            raise InternalError(
                f"expected a map[string]interface {{}}, but received a {go_json_type(element)}"
            )
        directive = element.pop(_DIRECTIVE, None)
        if directive == "replace":
            replace = True
            continue
        if directive not in (None, "merge", "delete"):
            shown = {**element, _DIRECTIVE: directive}
            raise InternalError(f"unknown patch type: {go_repr(directive)} in map: {go_repr(shown)}")
        _require_merge_key(element, merge_key)
        if directive == "delete":
            gone = key(element)
            original = [o for o in original if key(o) != gone]
        else:
            regular.append(element)
    if replace:
        return [_merge_map({}, e, item_schema) for e in regular]
    merged = list(original)
    for element in regular:
        wanted = key(element)
        for i, live in enumerate(merged):
            if isinstance(live, dict) and key(live) == wanted:
                merged[i] = _merge_map(live, element, item_schema)
                break
        else:
            merged.append(_merge_map({}, element, item_schema))
    return _order(merged, [key(e) for e in regular], [key(o) for o in original], key)


def _merge_primitives(original: list[Any], patch: list[Any]) -> list[Any]:
    merged: list[Any] = []
    seen: set[str] = set()
    for value in (*original, *patch):
        text = canonical(value)
        if text not in seen:
            seen.add(text)
            merged.append(value)
    return _order(merged, [canonical(v) for v in patch], [canonical(v) for v in original], canonical)


def _order(
    merged: list[Any], patch_order: list[str], server_order: list[str], key: Callable[[Any], str]
) -> list[Any]:
    """Kubernetes' ``normalizeElementOrder``: patch items by ``patch_order``, server-only
    items by ``server_order``, interleaved so server-only items keep their place."""
    in_patch = set(patch_order)
    patch_items = [m for m in merged if key(m) in in_patch]
    server_only = [m for m in merged if key(m) not in in_patch]
    patch_index = _first_index(patch_order)
    server_index = _first_index(server_order)
    patch_items.sort(key=lambda m: patch_index.get(key(m), -1))
    server_only.sort(key=lambda m: server_index.get(key(m), -1))
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) and j < len(patch_items):
        left = server_index.get(key(server_only[i]), -1)
        right = server_index.get(key(patch_items[j]), -1)
        if left >= 0 and right >= 0 and left < right:
            out.append(server_only[i])
            i += 1
        else:
            out.append(patch_items[j])
            j += 1
    return out + server_only[i:] + patch_items[j:]


def _first_index(keys: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, k in enumerate(keys):
        index.setdefault(k, i)
    return index


# $setElementOrder ---------------------------------------------------------------


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> None:
    """Merge each list that has a ``$setElementOrder`` and put it in that order."""
    for directive in [k for k in patch if k.startswith(_SET_ORDER)]:
        order = patch.pop(directive)
        field = directive[len(_SET_ORDER):]
        if not field or not isinstance(order, list):
            raise BadRequest(_BAD_SET_ORDER)
        child = field_schema(schema, field)
        merge_key = list_merge(child).merge_key or _inferred_merge_key(order)
        current = original.get(field)
        live = current if isinstance(current, list) else None
        in_patch = field in patch
        change = patch.pop(field, None)
        if in_patch and change is None:
            original.pop(field, None)
            continue
        if change is not None and not isinstance(change, list):
            raise BadRequest(_BAD_SET_ORDER)
        if change is None and live is None:
            continue
        key = _key_of(merge_key)
        if merge_key is not None:
            for item in order:
                _require_merge_key(item, merge_key)
        _check_order(change or [], order, key)
        if change is None:
            merged = list(live or [])
        else:
            # An order list only comes with a merged list, whatever the schema knows.
            merged = _merge_list(live or [], change, items_schema(child), merge_key)
        order_keys = [key(v) for v in order]
        original[field] = _order(merged, order_keys, [key(v) for v in live or []], key)


def _inferred_merge_key(order: list[Any]) -> str | None:
    """The merge key an order list spells out (``[{"name": "a"}, …]``) when the schema has none."""
    keys = {next(iter(v)) for v in order if isinstance(v, dict) and len(v) == 1}
    if len(keys) == 1 and all(isinstance(v, dict) and len(v) == 1 for v in order):
        return keys.pop()
    return None


def _check_order(patch_list: list[Any], order: list[Any], key: Callable[[Any], str]) -> None:
    """Kubernetes' ``validatePatchWithSetOrderList``: patch items appear in the order list, in its order."""
    items = [v for v in patch_list if not (isinstance(v, dict) and _DIRECTIVE in v)]
    order_keys = [key(v) for v in order]
    i = 0
    for item in items:
        wanted = key(item)
        while i < len(order_keys) and order_keys[i] != wanted:
            i += 1
        if i == len(order_keys):
            raise InternalError(
                f"The order in patch list:\n{go_repr(patch_list)}\n doesn't match "
                f"$setElementOrder list:\n{go_repr(order)}\n"
            )
        i += 1
