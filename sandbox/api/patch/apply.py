"""Server-side apply and field ownership (``metadata.managedFields``).

``kubectl apply --server-side`` and the Python client with
``application/apply-patch+yaml`` send the *whole intent* of one field manager.
:func:`server_side_apply` merges that intent into the live object, records
which fields the manager now owns, removes the fields it owned before and no
longer applies, and refuses (409) to change a field another manager owns.
:func:`record_update` keeps ownership current for every other write (create,
update, merge/json/strategic patch), so a later apply sees conflicts with
``kubectl-edit``, ``kubectl-client-side-apply`` or a controller.

Data flow of an apply::

    live ──decode managedFields──► {manager: set of paths}
    applied config ──field_values──► the applier's new set
    live + config ──_merge (schema-aware)──► merged
    merged ──prune: paths the applier owned before, now owned by nobody──► result
    live vs result ──compare──► added/modified/removed
        (modified or added) and owned by another manager → Conflict (unless force)
    ──encode──► result.metadata.managedFields

What ownership covers, and what is simplified versus Kubernetes (this text is
meant for the user docs):

* Ownership is tracked per manager exactly as Kubernetes identifies managers:
  (name, operation, subresource) for ``Apply`` entries and (name, operation,
  apiVersion, subresource) for ``Update`` entries, stored as ``FieldsV1``
  (``f:`` fields, ``k:{…}`` associative-list items, ``v:…`` set items, ``.``
  for an owned item with owned children).
* Owned paths are leaves (scalars, atomic lists and objects, empty objects and
  lists) and the items of associative lists and sets. An object with fields is
  never owned itself, so ``FieldsV1`` has ``.`` only under list items, where
  Kubernetes also writes it under maps it created in an update
  (``f:labels: {.: {}}``).
* Lists follow the schema: ``x-kubernetes-list-type: map`` with its keys, or
  ``set``, or ``atomic``; without a list type a list with a patch merge key is
  associative by that key (``containers`` by ``name``), a merged list without
  one is a set, anything else is atomic. Objects with
  ``x-kubernetes-map-type: atomic`` are owned whole. Without a schema node,
  objects are granular and lists atomic.
* Conflicts: applying a value that differs from the live one at a path another
  manager owns raises :class:`~sandbox.api.errors.Conflict` with Kubernetes'
  message (``Apply failed with 1 conflict: conflict with "kubectl-edit" using
  apps/v1: .spec.replicas``) and one ``FieldManagerConflict`` cause per path.
  ``force=True`` takes the fields over. Applying the value already there is no
  conflict: the field becomes shared.
* Removal: a field the manager applied before and omits now is removed from the
  object when no manager owns it any more; objects and lists emptied by that
  removal are removed with it.
* Ordinary writes take over every field they add or change from the other
  managers (Kubernetes' forced update) and drop removed fields from every set.
* An apply onto an object that has no ``managedFields`` first gives all its
  fields to ``before-first-apply`` (operation Update), like Kubernetes.
* ``ignore_paths`` (default: ``apiVersion``, ``kind`` and the system fields of
  ``metadata``; see :func:`ignored_paths`) are never owned. They cover what
  Kubernetes' ResetFields do for ownership; resetting the *values* a request
  may not change (``status`` on the main resource, everything but ``status``
  on ``/status``) is the store's job.
* A ``null`` in an applied configuration is treated as if the field were
  omitted.

Not modelled: the upgrade from client-side apply through the
``last-applied-configuration`` annotation (``kubectl-last-applied``), the cap
of ten ``Update`` managers (``ancient-changes``), version conversion of field
sets (sets are kept in whatever apiVersion wrote them), and
``metadata.managedFields`` edited through an update to reset ownership.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.api.errors import BadRequest, Conflict
from sandbox.api.objects import deep_copy
from sandbox.api.patch._schema import Schema, field_schema, items_schema, list_kind, map_is_atomic
from sandbox.api.patch._values import json_equal
from sandbox.api.patch.fieldsets import (
    FieldPath,
    compare,
    decode_fields,
    encode_fields,
    field_path,
    field_values,
    list_elements,
    patch_fields,
    path_string,
    strip_ignored,
)

__all__ = [
    "BEFORE_FIRST_APPLY",
    "DEFAULT_IGNORED_PATHS",
    "ignored_paths",
    "record_update",
    "server_side_apply",
]

#: The manager that owns what an object held before its first apply.
BEFORE_FIRST_APPLY = "before-first-apply"

#: Fields no manager ever owns (Kubernetes' stripMeta set).
DEFAULT_IGNORED_PATHS: frozenset[FieldPath] = frozenset({
    field_path("apiVersion"),
    field_path("kind"),
    field_path("metadata", "name"),
    field_path("metadata", "namespace"),
    field_path("metadata", "uid"),
    field_path("metadata", "creationTimestamp"),
    field_path("metadata", "selfLink"),
    field_path("metadata", "generation"),
    field_path("metadata", "managedFields"),
    field_path("metadata", "resourceVersion"),
})

_MISSING: Any = object()


def ignored_paths(
    subresource: str | None = None, *, status_subresource: bool = False
) -> frozenset[FieldPath]:
    """The paths to leave unowned for a write to ``subresource``.

    The main resource of a kind with a status subresource does not own
    ``status``; a write to ``/status`` owns nothing but ``status``.
    """
    if subresource == "status":
        return DEFAULT_IGNORED_PATHS | {field_path("metadata"), field_path("spec")}
    if status_subresource:
        return DEFAULT_IGNORED_PATHS | {field_path("status")}
    return DEFAULT_IGNORED_PATHS


# Managers -------------------------------------------------------------------------


@dataclass
class _Manager:
    """One ``managedFields`` entry, decoded."""

    manager: str
    operation: str
    api_version: str
    subresource: str
    time: str | None
    fields: set[FieldPath]

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """Kubernetes' manager identifier: Apply entries ignore the apiVersion."""
        version = "" if self.operation == "Apply" else self.api_version
        return (self.manager, self.operation, version, self.subresource)

    @property
    def identifier(self) -> str:
        """The JSON identifier Kubernetes sorts conflicting managers by."""
        body: dict[str, str] = {"manager": self.manager, "operation": self.operation}
        if self.operation != "Apply":
            body["apiVersion"] = self.api_version
        if self.subresource:
            body["subresource"] = self.subresource
        return json.dumps(body, separators=(",", ":"))

    def label(self) -> str:
        """``"kubectl-edit" using apps/v1``, as conflict messages name a manager."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def entry(self, fields_v1: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``managedFields`` entry (``fields_v1``: its tree, when already encoded)."""
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = fields_v1 if fields_v1 is not None else encode_fields(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _decode_managers(entries: Any) -> dict[tuple[str, str, str, str], _Manager]:
    managers: dict[tuple[str, str, str, str], _Manager] = {}
    if not isinstance(entries, list):
        return managers
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("manager"), str):
            continue
        operation = entry.get("operation")
        if operation not in ("Apply", "Update"):
            continue
        manager = _Manager(
            manager=entry["manager"],
            operation=operation,
            api_version=str(entry.get("apiVersion") or ""),
            subresource=str(entry.get("subresource") or ""),
            time=entry.get("time") if isinstance(entry.get("time"), str) else None,
            fields=decode_fields(entry.get("fieldsV1")),
        )
        previous = managers.get(manager.identity)
        if previous is not None:
            previous.fields |= manager.fields
        else:
            managers[manager.identity] = manager
    return managers


def _encode_managers(obj: dict[str, Any], managers: Iterable[_Manager]) -> None:
    entries = [m for m in managers if m.fields]
    entries.sort(key=lambda m: (m.operation, m.time or "", m.manager, m.api_version, m.subresource))
    _set_managed_fields(obj, [m.entry() for m in entries])


def _set_managed_fields(obj: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    meta = obj.setdefault("metadata", {})
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def _owns(tree: Mapping[str, Any], path: FieldPath) -> bool:
    """Whether the canonical ``fieldsV1`` ``tree`` owns ``path`` (without decoding it)."""
    node: Any = tree
    for element in path:
        node = node.get(element)
        if not isinstance(node, dict):
            return False
    return not node or "." in node


def _entry_sort_key(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return (entry["operation"], entry.get("time") or "", entry["manager"], entry["apiVersion"],
            entry.get("subresource") or "")


def _update_canonical(
    entries: list[Any], me: _Manager, taken: set[FieldPath], removed: set[FieldPath]
) -> list[dict[str, Any]] | None:
    """What :func:`record_update` writes, computed on entries as the store wrote them.

    The trees are walked for the paths that moved and patched
    (:func:`patch_fields`), never decoded whole; an entry nothing happened
    to is shared with the stored object it came from (stored objects are
    never changed in place). None when the entries are not such (a manager
    listed twice, an unknown shape): the caller then decodes them.
    """
    gone = taken | removed
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()
    mine: Mapping[str, Any] | None = None
    for entry in entries:
        if not (isinstance(entry, dict) and isinstance(entry.get("manager"), str)
                and entry.get("operation") in ("Apply", "Update") and isinstance(entry.get("fieldsV1"), dict)
                and isinstance(entry.get("apiVersion"), str)):
            return None
        identity = (entry["manager"], entry["operation"], "" if entry["operation"] == "Apply" else entry["apiVersion"],
                    entry.get("subresource") or "")
        if identity in seen:
            return None
        seen.add(identity)
        if identity == me.identity:
            mine = entry
            continue
        lost = {path for path in gone if _owns(entry["fieldsV1"], path)}
        if not lost:
            out.append(entry)
            continue
        tree = patch_fields(entry["fieldsV1"], (), lost)
        if tree:
            out.append({**entry, "fieldsV1": tree})
    if mine is None:
        if taken:
            out.append(me.entry(encode_fields(taken)))
    else:
        tree = mine["fieldsV1"]
        lost = {path for path in removed if _owns(tree, path)}
        gained = {path for path in taken if not _owns(tree, path)}
        if taken or lost:
            tree = patch_fields(tree, gained, lost)
        if taken:
            mine = me.entry(tree)  # the time and apiVersion of this write
        elif lost:
            mine = {**mine, "fieldsV1": tree}
        if tree:
            out.append(dict(mine))
    out.sort(key=_entry_sort_key)
    return out


def _managed_fields_of(obj: Mapping[str, Any] | None) -> Any:
    meta = (obj or {}).get("metadata")
    return meta.get("managedFields") if isinstance(meta, Mapping) else None


def _without_managed_fields(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    if obj is None:
        return {}
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, Mapping) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def _without_equal_entries(old: Any, new: Any) -> tuple[Any, Any]:
    """``old`` and ``new`` without the map entries they share unchanged, at any depth.

    A field's path depends only on the keys above it, never on its siblings,
    so entries equal on both sides contribute the same (path, value) pairs to
    both and nothing to the difference an update records; dropping them first
    keeps managed-field bookkeeping proportional to what changed rather than
    to the object's size (a Workflow's status grows with every task). The
    equality test is the C-level ``==``; lists are kept whole (their items'
    paths may depend on their neighbours).
    """
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return old, new
    kept_old: dict[str, Any] = {}
    kept_new: dict[str, Any] = {}
    shared: str | None = None
    for key, value in old.items():
        if key not in new:
            kept_old[key] = value
        elif value != new[key]:
            kept_old[key], kept_new[key] = _without_equal_entries(value, new[key])
        elif shared is None:
            shared = key
    for key, value in new.items():
        if key not in old:
            kept_new[key] = value
    if shared is not None and ((old and not kept_old) or (new and not kept_new)):
        # An emptied map would read as an empty-map field of its own: keep one shared entry.
        kept_old[shared] = old[shared]
        kept_new[shared] = new[shared]
    return kept_old, kept_new


def _owned_values(obj: Mapping[str, Any], schema: Schema | None, ignored: frozenset[FieldPath]) -> dict[FieldPath, Any]:
    values = field_values(_without_managed_fields(obj), schema)
    keep = strip_ignored(values, ignored)
    return {p: v for p, v in values.items() if p in keep}


# Updates --------------------------------------------------------------------------


def record_update(
    old: Mapping[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    now: str,
    api_version: str,
    operation: str = "Update",
    subresource: str | None = None,
    schema: Schema | None = None,
    ignore_paths: Iterable[FieldPath] | None = None,
) -> None:
    """Record in ``new.metadata.managedFields`` what ``manager`` changed from ``old``.

    For create (``old`` is ``None``), update and non-apply patches. The
    manager takes every field it added or changed, from whoever owned it;
    removed fields leave every manager. ``managedFields`` sent in ``new`` are
    used as the starting point when present (a client may edit them), else
    those of ``old``. Mutates ``new``.
    """
    ignored = frozenset(ignore_paths) if ignore_paths is not None else ignored_paths(subresource)
    sent = (new.get("metadata") or {}).get("managedFields")
    stored = _managed_fields_of(old)
    source = sent if sent and subresource is None else stored
    old_part, new_part = _without_equal_entries(_without_managed_fields(old), _without_managed_fields(new))
    before = _owned_values(old_part, schema, ignored)
    after = _owned_values(new_part, schema, ignored)
    added, modified, removed = compare(before, after)
    taken = added | modified
    me = _Manager(manager, operation, api_version, subresource or "", now, set())
    if source is stored or source == stored:
        # As the store wrote them (a client that sends back what it read counts): no decoding.
        entries = _update_canonical(source or [], me, taken, removed)
        if entries is not None:
            _set_managed_fields(new, entries)
            return
    managers = _decode_managers(source)
    current = managers.get(me.identity)
    for other in managers.values():
        if other is not current:
            other.fields -= taken | removed
    if current is not None:
        current.fields -= removed
        if taken:
            current.fields |= taken
            current.time = now
            current.api_version = api_version
    elif taken:
        me.fields = set(taken)
        managers[me.identity] = me
    _encode_managers(new, managers.values())


# Apply ----------------------------------------------------------------------------


def server_side_apply(
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    *,
    manager: str,
    force: bool = False,
    schema: Schema | None = None,
    now: str,
    api_version: str,
    subresource: str | None = None,
    ignore_paths: Iterable[FieldPath] | None = None,
) -> dict[str, Any]:
    """The object after ``manager`` applies the configuration ``applied`` to ``live``.

    ``live`` is ``None`` to create. Returns a new dict with
    ``metadata.managedFields``; raises :class:`Conflict` when the apply would
    change fields other managers own (unless ``force``) and
    :class:`BadRequest` for an apiVersion that is not ``api_version`` or a
    configuration that sets ``metadata.managedFields``.
    """
    if not manager:
        raise BadRequest("PATCH, application/apply-patch+yaml requires fieldManager to be set")
    version = applied.get("apiVersion") or ""
    if version != api_version:
        raise BadRequest(
            "Incorrect version specified in apply patch. "
            f"Specified patch version: {version}, expected: {api_version}"
        )
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise BadRequest("metadata.managedFields must be nil")
    ignored = frozenset(ignore_paths) if ignore_paths is not None else ignored_paths(subresource)
    config = _drop_nulls(applied)

    managers = _decode_managers(_managed_fields_of(live))
    live_values = _owned_values(live or {}, schema, ignored)
    if live is not None and not managers and live_values:
        first = _Manager(BEFORE_FIRST_APPLY, "Update", str(live.get("apiVersion") or api_version),
                         "", now, set(live_values))
        managers[first.identity] = first

    me = _Manager(manager, "Apply", api_version, subresource or "", None, set())
    previous = managers.get(me.identity)
    last_set = previous.fields if previous is not None else set()
    me.time = previous.time if previous is not None else None
    me.fields = set(_owned_values(config, schema, ignored))
    managers[me.identity] = me

    base = deep_copy(_without_managed_fields(live))
    merged = _merge(base, config, schema)
    owned = set().union(*(m.fields for m in managers.values()))
    # Shorter paths first: an item goes whole before its key fields could be touched.
    for path in sorted(last_set - owned, key=len):
        _remove(merged, path, schema, (), owned)

    added, modified, removed = compare(live_values, _owned_values(merged, schema, ignored))
    changed = added | modified
    conflicts = [
        (m, sorted(m.fields & changed))
        for identity, m in managers.items()
        if identity != me.identity and m.fields & changed
    ]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for identity, m in managers.items():
        if identity != me.identity:
            m.fields -= changed | removed

    if me.time is None or not json_equal(merged, _without_managed_fields(live)):
        me.time = now
    _encode_managers(merged, managers.values())
    return merged


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _conflict_error(conflicts: list[tuple[_Manager, list[FieldPath]]]) -> Conflict:
    """Kubernetes' ``NewConflictError``: one message, one cause per conflicting path."""
    ordered = sorted(conflicts, key=lambda item: item[0].identifier)
    causes = [
        {"type": "FieldManagerConflict", "message": f"conflict with {m.label()}", "field": path_string(p)}
        for m, paths in ordered
        for p in paths
    ]
    total = len(causes)
    if total == 1:
        m, paths = ordered[0]
        message = f"Apply failed with 1 conflict: conflict with {m.label()}: {path_string(paths[0])}"
    else:
        lines: list[str] = []
        for m, paths in ordered:
            lines.append(f"conflicts with {m.label()}:")
            lines.extend(f"- {path_string(p)}" for p in paths)
        message = f"Apply failed with {total} conflicts: " + "\n".join(lines)
    return Conflict(message, details={"causes": causes})


# Merging and pruning ----------------------------------------------------------------


def _merge(live: Any, config: Any, schema: Schema | None) -> Any:
    """structured-merge-diff's merge: the configuration wins, lists merge by key when keyed."""
    if isinstance(config, Mapping):
        if map_is_atomic(schema):
            return deep_copy(dict(config))
        out = dict(live) if isinstance(live, Mapping) else {}
        for key, value in config.items():
            out[key] = _merge(out.get(key, _MISSING), value, field_schema(schema, key))
        return out
    if isinstance(config, list):
        kind = list_kind(schema)
        if kind.kind != "atomic" and isinstance(live, list):
            item_schema = items_schema(schema)
            left = list_elements(live, kind, item_schema)
            right = list_elements(config, kind, item_schema)
            if left is not None and right is not None:
                return _merge_list(left, right, kind.kind == "map", item_schema)
        return deep_copy(config)
    return config


def _merge_list(
    left: list[tuple[str, Any]], right: list[tuple[str, Any]], keyed: bool, item_schema: Schema | None
) -> list[Any]:
    """Merge list elements the way structured-merge-diff orders them.

    Configuration items come in configuration order; live-only items keep
    their place relative to the shared items around them.
    """
    live = dict(left)
    config = dict(right)
    shared = [element for element, _ in right if element in live]
    shared_at = 0

    def merged_item(element: str) -> Any:
        if keyed:
            return _merge(live.get(element, _MISSING), config[element], item_schema)
        return config[element]

    out: list[Any] = []
    done: set[str] = set()
    i = j = 0
    while i < len(left) or j < len(right):
        next_shared = shared[shared_at] if shared_at < len(shared) else None
        if i < len(left) and j < len(right):
            element = left[i][0]
            if element == right[j][0]:
                out.append(merged_item(element))
                done.add(element)
                i += 1
                j += 1
                shared_at += 1
                continue
            if element in config and next_shared is not None and next_shared != element:
                i += 1
                continue
        if i < len(left):
            element, item = left[i]
            if element not in config:
                out.append(item)
                i += 1
                continue
            if element in done:
                i += 1
                continue
        if j < len(right):
            element = right[j][0]
            done.add(element)
            out.append(merged_item(element))
            j += 1
            if next_shared == element:
                shared_at += 1
    return out


def _remove(
    node: Any,
    path: FieldPath,
    schema: Schema | None,
    prefix: FieldPath,
    owned: set[FieldPath],
    key_fields: tuple[str, ...] = (),
) -> None:
    """Remove ``path`` below ``node``; drop objects and lists the removal leaves empty.

    ``key_fields`` are the keys of the list item ``node`` is: they stay while
    the item does.
    """
    element, rest = path[0], path[1:]
    here = (*prefix, element)
    if isinstance(node, dict) and element.startswith("f:"):
        key = element[2:]
        if key not in node:
            return
        if not rest:
            if key not in key_fields:
                del node[key]
            return
        child = node[key]
        _remove(child, rest, field_schema(schema, key), here, owned)
        if isinstance(child, (dict, list)) and not child and here not in owned:
            del node[key]
        return
    if isinstance(node, list) and element[:2] in ("k:", "v:"):
        kind = list_kind(schema)
        item_schema = items_schema(schema)
        for index, (candidate, item) in enumerate(list_elements(node, kind, item_schema) or []):
            if candidate != element:
                continue
            if not rest:
                del node[index]
            else:
                _remove(item, rest, item_schema, here, owned, kind.keys)
            return
