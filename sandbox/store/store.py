"""The store: the core of the fake API server.

Objects are plain dicts, kept in memory per resource (``pods``,
``deployments.apps``, ``tfjobs.kubeflow.org``) and namespace/name, and written
through to a :class:`~sandbox.store.persistence.Persistence` before a write is
acknowledged. The store does what kube-apiserver and etcd do together:

- identity and versions: ``uid``, ``creationTimestamp``, one global monotonic
  ``resourceVersion``, ``generation`` bumped on spec changes only,
  ``generateName`` suffixes;
- optimistic concurrency: a stale ``resourceVersion`` is a 409 Conflict;
- the status subresource: a main update ignores ``status``, a status update
  ignores everything else;
- admission (defaulting, validation, hooks) before anything is stored;
- deletion with finalizers, ``deletionTimestamp``, grace periods,
  preconditions, and ``propagationPolicy`` recorded as the
  ``foregroundDeletion``/``orphan`` finalizers the garbage collector reads;
- namespaces: no creation in a missing or terminating namespace;
- CustomResourceDefinitions register their kinds and get Established;
- watches from any resourceVersion still in the bounded history (older:
  410 Gone), list with ``limit``/``continue``.

Everything is synchronous and guarded by one lock: a write is a few dict
operations, so one lock is both simplest and fastest. Stored objects are
never mutated after they are stored; reads return copies.
"""

from __future__ import annotations

import base64
import json
import logging
import marshal
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sandbox.api import patch as patches
from sandbox.api import selectors
from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Timeout,
)
from sandbox.api.kinds import KindRegistry, ResourceType, resource_types_from_crd
from sandbox.api.objects import condition_is, deep_copy, fast_copy, set_condition
from sandbox.clock import Clock, SystemClock, format_time, parse_time
from sandbox.store.admission import AdmissionChain, AdmissionRequest
from sandbox.store.persistence import MemoryPersistence, Persistence
from sandbox.store.watch import Change, Watcher

__all__ = ["BOOTSTRAP_NAMESPACES", "Store"]

log = logging.getLogger(__name__)

BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

# Alphabet of Kubernetes' generateName suffixes (no vowels, no look-alikes).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_FOREGROUND = "foregroundDeletion"
_ORPHAN = "orphan"
_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")

#: Verify that no committed object is changed in place (the test suite turns
#: this on). Readers get copies, but watch events and informer caches share
#: the store's objects, and the history replays them: an object must stay as
#: it was committed. When on, each commit fingerprints the new object and
#: checks the one it replaces, raising ``AssertionError`` if it changed (and
#: noting it in :data:`IMMUTABILITY_VIOLATIONS`, which a caller that catches
#: every error — a controller's worker — cannot hide).
CHECK_IMMUTABLE = False
IMMUTABILITY_VIOLATIONS: list[str] = []

# What a brief write result keeps of the metadata.
_BRIEF_META = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
               "deletionTimestamp")

# Fields a client cannot set through ordinary writes.
_SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation", "resourceVersion")


def _ns_key(rt: ResourceType, namespace: str | None) -> str:
    return (namespace or "") if rt.namespaced else ""


class Store:
    """The fake API server core. See the module docstring."""

    def __init__(
        self,
        *,
        registry: KindRegistry | None = None,
        clock: Clock | None = None,
        persistence: Persistence | None = None,
        admission: AdmissionChain | None = None,
        history: int = 10_000,
        bootstrap: bool = True,
    ) -> None:
        self.registry = registry or builtin_registry()
        self.clock = clock or SystemClock()
        self.admission = admission or AdmissionChain()
        self._persistence = persistence or MemoryPersistence()
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._history: deque[Change] = deque(maxlen=max(1, history))
        self._watchers: dict[str, set[Watcher]] = {}
        self._fingerprints: dict[int, bytes] = {}
        self._listeners: list[Callable[[Change], None]] = []
        self._rng = random.Random()

        last_rv, rows = self._persistence.load()
        self._rv = last_rv
        for resource, namespace, name, obj in rows:
            self._objects.setdefault(resource, {})[(namespace, name)] = obj
        # Everything up to here is outside the watch history: a watch from an
        # older version must relist.
        self._compacted_rv = self._rv
        for crd in list(self._bucket(self._crd_type()).values()):
            self._register_crd(crd)
        if bootstrap:
            self._bootstrap()

    # Plumbing -----------------------------------------------------------------

    def _crd_type(self) -> ResourceType:
        return self.registry.storage_type(*_CRD)

    def _bucket(self, rt: ResourceType) -> dict[tuple[str, str], dict[str, Any]]:
        return self._objects.setdefault(rt.resource, {})

    def _type(self, api_version: str, kind: str) -> ResourceType:
        return self.registry.get(api_version, kind)

    @property
    def resource_version(self) -> int:
        return self._rv

    def _now(self) -> str:
        return format_time(self.clock.now())

    def _result(self, obj: Mapping[str, Any], rt: ResourceType, brief: bool) -> dict[str, Any]:
        """What a write returns: the caller's copy, or with ``brief`` only what identifies the
        version written (the whole object's copy costs more than many writes' own work)."""
        if not brief:
            return self._view(obj, rt)
        meta = obj.get("metadata") or {}
        return {"apiVersion": rt.api_version, "kind": rt.kind,
                "metadata": {k: meta[k] for k in _BRIEF_META if k in meta}}

    def _view(self, obj: Mapping[str, Any], rt: ResourceType) -> dict[str, Any]:
        """A caller's copy of a stored object, as the version they asked for."""
        out = fast_copy(obj)
        out["apiVersion"] = rt.api_version
        return out

    def _commit(
        self,
        rt: ResourceType,
        type_: str,
        obj: dict[str, Any],
        old: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """Assign the next resourceVersion, persist, store and notify. Lock held."""
        rv = self._rv + 1
        obj["metadata"]["resourceVersion"] = str(rv)
        if CHECK_IMMUTABLE:
            self._check_unchanged(rt, old, obj if type_ != "DELETED" else None)
        namespace = obj["metadata"].get("namespace", "")
        name = obj["metadata"]["name"]
        if type_ == "DELETED":
            self._persistence.delete(rt.resource, namespace, name, rv)
            self._bucket(rt).pop((namespace, name), None)
        else:
            self._persistence.put(rt.resource, namespace, name, obj, rv)
            self._bucket(rt)[(namespace, name)] = obj
        self._rv = rv
        change = Change(rv, rt.resource, type_, obj, old)
        if len(self._history) == self._history.maxlen:
            self._compacted_rv = self._history[0].rv
        self._history.append(change)
        for watcher in tuple(self._watchers.get(rt.resource, ())):
            watcher.offer(change)
        for listener in self._listeners:
            listener(change)
        return obj

    def _shares_safely(self, rt: ResourceType) -> bool:
        """Whether a merge patch of ``rt`` may share what it does not change with the stored version.

        Not when a write may change parts the patch did not name: a mutating
        hook's doing (hooks edit in place), a CRD's status, a Namespace's
        finalizers. Defaulting and pruning find nothing to do in what the
        stored version already went through.
        """
        return (rt.group, rt.kind) not in (_CRD, ("", "Namespace")) and not self.admission.has_mutating_hooks(rt)

    def _check_unchanged(self, rt: ResourceType, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        """See :data:`CHECK_IMMUTABLE`."""
        if old is not None:
            before = self._fingerprints.pop(id(old), None)
            if before is not None and _fingerprint(old) != before:
                m = old.get("metadata") or {}
                problem = (f"{rt.resource} {m.get('namespace', '')}/{m.get('name', '')}: the stored "
                           f"version {m.get('resourceVersion')} was changed in place after its commit")
                IMMUTABILITY_VIOLATIONS.append(problem)
                raise AssertionError(problem)
        if new is not None:
            fingerprint = _fingerprint(new)
            if fingerprint is not None:
                self._fingerprints[id(new)] = fingerprint

    def add_listener(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener`` synchronously on every committed change (under the lock)."""
        self._listeners.append(listener)

    def _bootstrap(self) -> None:
        ns_type = self.registry.get("v1", "Namespace")
        for name in BOOTSTRAP_NAMESPACES:
            if ("", name) not in self._bucket(ns_type):
                self.create("v1", "Namespace", {"metadata": {"name": name}})

    def _suffix(self) -> str:
        return "".join(self._rng.choice(_SUFFIX_ALPHABET) for _ in range(5))

    # Namespaces ---------------------------------------------------------------

    def _check_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        if not rt.namespaced:
            return
        if not namespace:
            raise BadRequest("namespace is required for a namespaced resource")
        ns_obj = self._bucket(self.registry.get("v1", "Namespace")).get(("", namespace))
        if ns_obj is None:
            raise NotFound.of("namespaces", namespace)
        if ns_obj["metadata"].get("deletionTimestamp"):
            raise Forbidden(
                f'{rt.resource} "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated",
                details={"name": name, "kind": rt.plural, "group": rt.group}
                if rt.group
                else {"name": name, "kind": rt.plural},
            )

    # Reads ----------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        rt = self._type(api_version, kind)
        with self._lock:
            obj = self._bucket(rt).get((_ns_key(rt, namespace), name))
            if obj is None:
                raise NotFound.of(rt.plural, name, group=rt.group)
            return self._view(obj, rt)

    def _matcher(
        self,
        rt: ResourceType,
        label_selector: str | Mapping[str, Any] | None,
        field_selector: str | None,
    ) -> Callable[[Mapping[str, Any]], bool] | None:
        checks: list[Callable[[Mapping[str, Any]], bool]] = []
        if label_selector:
            if isinstance(label_selector, str):
                lsel = selectors.LabelSelector.parse(label_selector)
            else:
                lsel = selectors.LabelSelector.from_dict(label_selector)
            if not lsel.is_empty():
                checks.append(lambda o: lsel.matches((o.get("metadata") or {}).get("labels") or {}))
        if field_selector:
            fsel = selectors.FieldSelector.parse(field_selector)
            fsel.check_supported(
                selectors.supported_fields(
                    rt.group, rt.kind, rt.selectable_fields,
                    namespaced=rt.namespaced, builtin=rt.builtin,
                )
            )
            checks.append(fsel.matches)
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda o: all(c(o) for c in checks)

    def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
    ) -> dict[str, Any]:
        rt = self._type(api_version, kind)
        matches = self._matcher(rt, label_selector, field_selector)
        start: tuple[str, str] | None = None
        if continue_:
            start = _decode_continue(continue_)
        with self._lock:
            self._check_list_version(resource_version, resource_version_match)
            bucket = self._bucket(rt)
            ns = _ns_key(rt, namespace) if namespace is not None else None
            keys = sorted(k for k in bucket if ns is None or k[0] == ns)
            items: list[dict[str, Any]] = []
            remaining = 0
            next_key: tuple[str, str] | None = None
            for key in keys:
                if start is not None and key <= start:
                    continue
                obj = bucket[key]
                if matches is not None and not matches(obj):
                    continue
                if limit and len(items) >= limit:
                    remaining += 1
                    continue
                items.append(obj)
                next_key = key
            list_meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
            if limit and remaining:
                assert next_key is not None
                list_meta["continue"] = _encode_continue(next_key, self._rv)
                list_meta["remainingItemCount"] = remaining
            return {
                "apiVersion": rt.api_version,
                "kind": rt.list_kind,
                "metadata": list_meta,
                "items": [self._view(o, rt) for o in items],
            }

    def _check_list_version(self, rv: str | None, match: str | None) -> None:
        if not rv or rv == "0":
            return
        try:
            wanted = int(rv)
        except ValueError:
            raise BadRequest(f"invalid resource version: {rv!r}") from None
        if wanted > self._rv:
            raise Timeout(f"Too large resource version: {wanted}, current: {self._rv}")
        if match == "Exact" and wanted != self._rv:
            # The store serves only the latest state (see docs/explanation/fidelity.md).
            raise Gone.too_old(wanted, self._rv)

    # Writes -------------------------------------------------------------------

    def create(
        self,
        api_version: str,
        kind: str,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        managed_fields: list[dict[str, Any]] | None = None,
        brief: bool = False,
    ) -> dict[str, Any]:
        """Create (POST). ``managed_fields``: the ownership to store instead of
        recording ``field_manager``'s (server-side apply's create). ``brief``:
        return only the object's identity and version (:meth:`_result`)."""
        rt = self._type(api_version, kind)
        if (rt.group, rt.kind) == ("", "Binding"):
            return self._bind(obj, namespace=namespace, dry_run=dry_run)
        new = deep_copy(dict(obj))
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        body_ns = meta.get("namespace")
        if rt.namespaced:
            ns = namespace or body_ns or ""
            if namespace and body_ns and body_ns != namespace:
                raise BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for key in _SYSTEM_META:
            meta.pop(key, None)
        meta.pop("managedFields", None)
        with self._lock:
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = self._generate_name(rt, meta)
            name = meta.get("name") or ""
            if rt.namespaced and name:
                self._check_namespace(rt, meta["namespace"], name)
            # Identity first: some defaults derive from the uid (a Job's selector).
            now = self._now()
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now
            meta["generation"] = 1
            request = AdmissionRequest("CREATE", rt, new, dry_run=dry_run)
            new = self.admission.admit(request)
            meta = new["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            if key in self._bucket(rt):
                raise AlreadyExists.of(rt.plural, meta["name"], group=rt.group)
            if (rt.group, rt.kind) == _CRD:
                self._accept_crd(new, now)
            if (rt.group, rt.kind) == ("", "Namespace"):
                new.setdefault("status", {})["phase"] = "Active"
            if managed_fields is not None:
                meta["managedFields"] = managed_fields
            else:
                patches.record_update(
                    None, new, manager=field_manager or "unknown", now=now,
                    api_version=rt.api_version, operation="Update",
                    schema=self.admission.schema_for(rt),
                    ignore_paths=patches.ignored_paths(None, status_subresource=rt.has_status),
                )
            if dry_run:
                meta["resourceVersion"] = ""
                return self._result(new, rt, brief)
            self._commit(rt, "ADDED", new, None)
            if (rt.group, rt.kind) == _CRD:
                self._register_crd(new)
            return self._result(new, rt, brief)

    def _generate_name(self, rt: ResourceType, meta: Mapping[str, Any]) -> str:
        prefix = meta["generateName"]
        if len(prefix) > 58:
            prefix = prefix[:58]
        bucket = self._bucket(rt)
        for _ in range(20):
            candidate = prefix + self._suffix()
            if (meta.get("namespace", ""), candidate) not in bucket:
                return candidate
        raise AlreadyExists(f"could not generate a unique name from {prefix!r}")

    def replace(
        self,
        api_version: str,
        kind: str,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        brief: bool = False,
    ) -> dict[str, Any]:
        """Update (PUT). ``subresource="status"`` writes status only."""
        rt = self._type(api_version, kind)
        meta = obj.get("metadata") or {}
        name = meta.get("name") or ""
        if not name:
            raise BadRequest("name is required for an update")
        ns = _ns_key(rt, namespace if namespace is not None else meta.get("namespace"))
        with self._lock:
            old = self._bucket(rt).get((ns, name))
            if old is None:
                raise NotFound.of(rt.plural, name, group=rt.group)
            rv = meta.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise Conflict.modified(rt.plural, name, group=rt.group)
            if subresource == "status":
                # Only the status and the metadata (preconditions) of the body are read: copy those.
                body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
                body["metadata"] = deep_copy(dict(meta))
                if "status" in obj:
                    body["status"] = deep_copy(obj["status"])
            else:
                body = deep_copy(dict(obj))
            return self._update(rt, old, body, subresource=subresource,
                                dry_run=dry_run, field_manager=field_manager, brief=brief)

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: str = "merge",
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        brief: bool = False,
    ) -> dict[str, Any]:
        rt = self._type(api_version, kind)
        ns = _ns_key(rt, namespace)
        if patch_type == "apply" and not field_manager:
            raise BadRequest("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        if patch_type == "strategic" and not rt.builtin:
            raise patches.strategic_merge_unsupported(rt.resource, rt.api_version, rt.kind)
        with self._lock:
            old = self._bucket(rt).get((ns, name))
            schema = self.admission.schema_for(rt)
            if patch_type == "apply":
                if not isinstance(patch, Mapping):
                    raise BadRequest("an apply patch must be an object")
                if old is None:
                    if subresource:
                        raise NotFound.of(rt.plural, name, group=rt.group)
                    applied = patches.server_side_apply(
                        None, dict(patch), manager=field_manager or "", force=force,
                        schema=schema, now=self._now(), api_version=rt.api_version,
                        ignore_paths=patches.ignored_paths(None, status_subresource=rt.has_status),
                    )
                    applied.setdefault("metadata", {})["name"] = name
                    if rt.namespaced:
                        applied["metadata"]["namespace"] = ns
                    # The Apply ownership, not an Update entry for the create.
                    managed = applied["metadata"].pop("managedFields", None)
                    return self.create(api_version, kind, applied, namespace=ns or None, dry_run=dry_run,
                                       field_manager=field_manager, managed_fields=managed, brief=brief)
                new = patches.server_side_apply(
                    self._view(old, rt), dict(patch), manager=field_manager or "", force=force,
                    schema=schema, now=self._now(), api_version=rt.api_version,
                    subresource=subresource,
                    ignore_paths=patches.ignored_paths(subresource, status_subresource=rt.has_status),
                )
                return self._update(rt, old, new, subresource=subresource, dry_run=dry_run,
                                    field_manager=None, check_rv_of=patch, brief=brief)
            if old is None:
                raise NotFound.of(rt.plural, name, group=rt.group)
            if patch_type == "merge" and isinstance(patch, Mapping) and self._shares_safely(rt):
                # Only the objects along the patch are new; the rest is shared with the stored
                # version, which nothing changes in place (see CHECK_IMMUTABLE).
                new = patches.merged(old, patch)
                new["metadata"] = dict(new.get("metadata") or {})
                new["apiVersion"] = rt.api_version
                return self._update(rt, old, new, subresource=subresource, dry_run=dry_run,
                                    field_manager=field_manager, check_rv_of=new, brief=brief)
            current = self._view(old, rt)
            if patch_type == "json":
                new = patches.apply_json_patch(current, patch)
            elif patch_type == "merge":
                # ``current`` is this call's own copy: merge into it rather than copy it again.
                new = patches.merge_into(current, patch) if isinstance(patch, Mapping) else patches.apply_merge_patch(
                    current, patch)
            elif patch_type == "strategic":
                new = patches.apply_strategic_merge_patch(current, patch, schema)
            else:
                raise BadRequest(f"unsupported patch type {patch_type!r}")
            if not isinstance(new, dict):
                raise BadRequest("the patch must produce an object")
            return self._update(rt, old, new, subresource=subresource, dry_run=dry_run,
                                field_manager=field_manager, check_rv_of=new, brief=brief)

    def _update(
        self,
        rt: ResourceType,
        old: dict[str, Any],
        new: dict[str, Any],
        *,
        subresource: str | None,
        dry_run: bool,
        field_manager: str | None,
        check_rv_of: Mapping[str, Any] | None = None,
        brief: bool = False,
    ) -> dict[str, Any]:
        """The shared tail of replace and patch. Lock held."""
        old_meta = old["metadata"]
        name = old_meta["name"]
        if check_rv_of is not None:
            rv = (check_rv_of.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old_meta["resourceVersion"]:
                raise Conflict.modified(rt.plural, name, group=rt.group)
        if subresource not in (None, "status", "finalize"):
            raise NotFound(f"the server could not find the requested resource ({subresource})")
        if subresource and subresource not in rt.subresources:
            raise NotFound(
                f"the server could not find the requested resource (put {rt.resource} {name}/{subresource})"
            )
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        if meta.get("name", name) != name:
            raise BadRequest(
                f'the name of the object ({meta.get("name")}) does not match the name on the URL ({name})'
            )
        if rt.namespaced and meta.get("namespace", old_meta.get("namespace")) != old_meta.get("namespace"):
            raise BadRequest("the namespace of the provided object does not match the namespace sent on the request")
        if meta.get("uid") and meta["uid"] != old_meta["uid"]:
            raise Conflict(
                f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {old_meta['uid']}"
            )

        if subresource == "status":
            # Everything but the status and the metadata's top level is the stored version's, shared:
            # a status write changes neither, and no mutating hook runs for a subresource.
            merged = dict(old)
            merged["metadata"] = dict(old["metadata"])
            merged["status"] = new.get("status", {})
            new = merged
            meta = new["metadata"]
        elif subresource == "finalize":
            merged = fast_copy(old)
            merged.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get("finalizers") or []
            new = merged
            meta = new["metadata"]
        else:
            if rt.has_status:
                if "status" in old:
                    new["status"] = fast_copy(old["status"])
                else:
                    new.pop("status", None)
            # System fields are the server's, whatever the body says.
            for key in _SYSTEM_META:
                if key in old_meta:
                    meta[key] = old_meta[key]
                else:
                    meta.pop(key, None)
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = old_meta["namespace"]
            if (rt.group, rt.kind) == ("", "Namespace"):
                # spec.finalizers of a Namespace change only through /finalize.
                new.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
                new["status"] = fast_copy(old.get("status", {}))
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ())
            if added:
                raise Invalid.of(rt.kind, name, [FieldError(
                    "Forbidden", "metadata.finalizers",
                    detail="no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {sorted(added)!r}",
                )], plural=rt.plural, group=rt.group)

        request = AdmissionRequest("UPDATE", rt, new, old_object=old, subresource=subresource,
                                   dry_run=dry_run)
        new = self.admission.admit(request)
        meta = new["metadata"]
        if _spec_changed(old, new, rt):
            meta["generation"] = old_meta.get("generation", 1) + 1
        if (rt.group, rt.kind) == _CRD and subresource is None:
            self._accept_crd(new, self._now())
        if field_manager is not None:
            patches.record_update(
                old, new, manager=field_manager, now=self._now(), api_version=rt.api_version,
                operation="Update", subresource=subresource, schema=self.admission.schema_for(rt),
                ignore_paths=patches.ignored_paths(subresource, status_subresource=rt.has_status),
            )
        if _same(old, new):
            return self._result(old, rt, brief)
        if dry_run:
            return self._result(new, rt, brief)
        # The last finalizer gone from an object being deleted: delete it now.
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not (
            (rt.group, rt.kind) == ("", "Namespace") and (new.get("spec") or {}).get("finalizers")
        ):
            return self._result(self._remove(rt, new, old), rt, brief)
        self._commit(rt, "MODIFIED", new, old)
        if (rt.group, rt.kind) == _CRD:
            self._register_crd(new)
        return self._result(new, rt, brief)

    def _bind(
        self, binding: Mapping[str, Any], *, namespace: str | None, dry_run: bool
    ) -> dict[str, Any]:
        """``pods/binding``: the one way a pod gets its node (what the scheduler calls).

        Like kube-apiserver, it sets ``spec.nodeName`` and the ``PodScheduled``
        condition in one write, and refuses to move a pod already bound."""
        meta = binding.get("metadata") or {}
        name = meta.get("name") or ""
        ns = namespace or meta.get("namespace") or ""
        target = binding.get("target") or {}
        if target.get("kind", "Node") != "Node" or not target.get("name"):
            raise Invalid.of("Binding", name, [FieldError(
                "Required" if not target.get("name") else "NotSupported", "target.name"
                if not target.get("name") else "target.kind",
                value=target.get("kind"), supported=("Node",),
            )])
        pod_type = self.registry.get("v1", "Pod")
        with self._lock:
            old = self._bucket(pod_type).get((ns, name))
            if old is None:
                raise NotFound.of("pods", name)
            if old["metadata"].get("deletionTimestamp"):
                raise Conflict(f"Operation cannot be fulfilled on pods/binding \"{name}\": "
                               f"pod {name} is being deleted, cannot be assigned to a host")
            bound_to = (old.get("spec") or {}).get("nodeName")
            if bound_to:
                raise Conflict(f"Operation cannot be fulfilled on pods/binding \"{name}\": "
                               f"pod {name} is already assigned to node \"{bound_to}\"")
            new = fast_copy(old)
            new["spec"]["nodeName"] = target["name"]
            if meta.get("annotations"):
                new["metadata"].setdefault("annotations", {}).update(meta["annotations"])
            set_condition(new, "PodScheduled", True, reason="", now=self.clock.now(),
                          observed_generation=None)
            for cond in new["status"]["conditions"]:
                if cond["type"] == "PodScheduled":
                    cond.pop("reason", None)
                    cond.pop("message", None)
                    cond["lastProbeTime"] = None
            if not dry_run:
                self._commit(pod_type, "MODIFIED", new, old)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "code": 201}

    # Deletion -----------------------------------------------------------------

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Delete; returns the object as deleted or as it now waits for finalizers."""
        rt = self._type(api_version, kind)
        if propagation_policy not in (None, "Background", "Foreground", "Orphan"):
            raise BadRequest(
                f'propagationPolicy: Unsupported value: "{propagation_policy}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        with self._lock:
            ns = _ns_key(rt, namespace)
            old = self._bucket(rt).get((ns, name))
            if old is None:
                raise NotFound.of(rt.plural, name, group=rt.group)
            old_meta = old["metadata"]
            if preconditions:
                if preconditions.get("uid") and preconditions["uid"] != old_meta["uid"]:
                    raise Conflict(
                        f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                        f"UID in object meta: {old_meta['uid']}",
                        details={"name": name, "kind": rt.plural},
                    )
                wanted_rv = preconditions.get("resourceVersion")
                if wanted_rv and wanted_rv != old_meta["resourceVersion"]:
                    raise Conflict(
                        f"Precondition failed: ResourceVersion in precondition: {wanted_rv}, "
                        f"ResourceVersion in object meta: {old_meta['resourceVersion']}",
                        details={"name": name, "kind": rt.plural},
                    )
            new = fast_copy(old)
            meta = new["metadata"]
            finalizers = list(meta.get("finalizers") or ())
            if propagation_policy == "Foreground" and _FOREGROUND not in finalizers:
                finalizers.append(_FOREGROUND)
            elif propagation_policy == "Orphan" and _ORPHAN not in finalizers:
                finalizers.append(_ORPHAN)
            if propagation_policy in ("Foreground", "Orphan") and not meta.get("deletionTimestamp"):
                # A later policy replaces an earlier one, as in Kubernetes.
                other = _ORPHAN if propagation_policy == "Foreground" else _FOREGROUND
                finalizers = [f for f in finalizers if f != other]
            is_namespace = (rt.group, rt.kind) == ("", "Namespace")
            grace = self._grace_period(rt, old, grace_period_seconds)
            waits = bool(finalizers) or grace > 0 or (
                is_namespace and (old.get("spec") or {}).get("finalizers")
            )
            if not waits:
                if dry_run:
                    return self._view(old, rt)
                return self._view(self._remove(rt, new, old), rt)
            if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or ()):
                if grace == 0 and not finalizers and not is_namespace:
                    return self._view(self._remove(rt, new, old), rt)
                return self._view(old, rt)
            if finalizers:
                meta["finalizers"] = finalizers
            if not meta.get("deletionTimestamp"):
                now = self.clock.now()
                meta["deletionTimestamp"] = format_time(now + timedelta(seconds=grace))
                meta["deletionGracePeriodSeconds"] = grace
                if is_namespace:
                    new.setdefault("status", {})["phase"] = "Terminating"
            if dry_run:
                return self._view(new, rt)
            self._commit(rt, "MODIFIED", new, old)
            return self._view(new, rt)

    def _grace_period(self, rt: ResourceType, obj: Mapping[str, Any], requested: int | None) -> int:
        """Pods bound to a node terminate gracefully; everything else at once."""
        if (rt.group, rt.kind) != ("", "Pod"):
            return 0
        spec = obj.get("spec") or {}
        if not spec.get("nodeName"):
            return 0  # never scheduled: nothing runs, delete at once (as Kubernetes does)
        if requested is not None:
            return max(0, int(requested))
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def _remove(self, rt: ResourceType, new: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
        self._commit(rt, "DELETED", new, old)
        if (rt.group, rt.kind) == _CRD:
            self._unregister_crd(new)
        return new

    # CustomResourceDefinitions ----------------------------------------------------

    def _accept_crd(self, crd: dict[str, Any], now: str) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        self._warn_unsupported(crd)
        status = crd.setdefault("status", {})
        accepted = dict(names)
        accepted.setdefault("singular", str(names.get("kind", "")).lower())
        accepted.setdefault("listKind", f"{names.get('kind', '')}List")
        status["acceptedNames"] = accepted
        status["storedVersions"] = sorted(
            {v["name"] for v in spec.get("versions") or () if v.get("storage")}
            | set(status.get("storedVersions") or ())
        )
        moment = parse_time(now)
        conflict = self._crd_name_conflict(crd)
        set_condition(crd, "NamesAccepted", conflict is None,
                      reason="NoConflicts" if conflict is None else "MultipleNameConflict",
                      message="no conflicts found" if conflict is None else conflict, now=moment)
        set_condition(crd, "Established", conflict is None,
                      reason="InitialNamesAccepted" if conflict is None else "NotAccepted",
                      message="the initial names have been accepted" if conflict is None
                      else "not all names are accepted", now=moment)

    def _warn_unsupported(self, crd: Mapping[str, Any]) -> None:
        """Say so when a CRD relies on something the fake does not do (DESIGN.md §1.6)."""
        name = (crd.get("metadata") or {}).get("name")
        for version in (crd.get("spec") or {}).get("versions") or ():
            schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
            if "x-kubernetes-validations" in json.dumps(schema):
                log.warning(
                    "CustomResourceDefinition %s version %s has x-kubernetes-validations (CEL) "
                    "rules; the sandbox does not evaluate them (docs/explanation/fidelity.md)",
                    name, version.get("name"),
                )
        if ((crd.get("spec") or {}).get("conversion") or {}).get("strategy") == "Webhook":
            log.warning(
                "CustomResourceDefinition %s asks for webhook conversion; the sandbox serves every "
                "version from one stored object without converting it (docs/explanation/fidelity.md)",
                name,
            )

    def _crd_name_conflict(self, crd: Mapping[str, Any]) -> str | None:
        spec = crd.get("spec") or {}
        group = spec.get("group", "")
        names = spec.get("names") or {}
        for rt in self.registry.all():
            if rt.group != group:
                continue
            if rt.kind == names.get("kind"):
                continue  # the same CRD, re-registered
            if rt.plural == names.get("plural"):
                return f'"{rt.plural}" is already in use'
        return None

    def _register_crd(self, crd: Mapping[str, Any]) -> None:
        if not condition_is(crd, "Established"):
            return
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        self.registry.unregister(spec.get("group", ""), names.get("kind", ""))
        for rt in resource_types_from_crd(crd):
            self.registry.register(rt)

    def _unregister_crd(self, crd: Mapping[str, Any]) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        removed = self.registry.unregister(spec.get("group", ""), names.get("kind", ""))
        if not removed:
            return
        rt = next((r for r in removed if r.storage), removed[0])
        # The instances go with their definition.
        for (_ns, _name), obj in list(self._bucket(rt).items()):
            gone = fast_copy(obj)
            self._commit(rt, "DELETED", gone, obj)
        self._objects.pop(rt.resource, None)
        for watcher in tuple(self._watchers.get(rt.resource, ())):
            watcher.close()

    # Watch ----------------------------------------------------------------------

    def watch(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | None = None,
    ) -> Watcher:
        """A live watcher. From ``None``/``""``/``"0"``: synthetic ADDED events
        for what exists now, then changes. From ``N``: every change after ``N``
        still in the history, then live changes; older than the history:
        ``Gone`` (410)."""
        rt = self._type(api_version, kind)
        matches = self._matcher(rt, label_selector, field_selector)
        ns = _ns_key(rt, namespace) if namespace is not None else None
        with self._lock:
            watcher = Watcher(
                resource=rt.resource, namespace=ns, matches=matches,
                api_version=rt.api_version, on_close=self._drop_watcher,
            )
            if not resource_version or resource_version == "0":
                watcher.push_initial(list(self._bucket(rt).values()), self._rv)
            else:
                try:
                    since = int(resource_version)
                except ValueError:
                    raise BadRequest(f"invalid resource version: {resource_version!r}") from None
                if since < self._compacted_rv:
                    raise Gone.too_old(since, self._compacted_rv)
                if since > self._rv:
                    raise Timeout(f"Too large resource version: {since}, current: {self._rv}")
                watcher.replay([c for c in self._history if c.rv > since and c.resource == rt.resource])
                watcher.last_rv = max(watcher.last_rv, since, self._rv)
            self._watchers.setdefault(rt.resource, set()).add(watcher)
            return watcher

    def _drop_watcher(self, watcher: Watcher) -> None:
        with self._lock:
            self._watchers.get(watcher.resource, set()).discard(watcher)

    def compact(self, keep: int = 0) -> None:
        """Forget all but the last ``keep`` changes (a watch from before them gets 410)."""
        with self._lock:
            while len(self._history) > keep:
                self._compacted_rv = self._history.popleft().rv

    def watcher_count(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._watchers.values())

    def close(self) -> None:
        with self._lock:
            for watchers in list(self._watchers.values()):
                for watcher in list(watchers):
                    watcher.close()
            self._persistence.close()


def _fingerprint(obj: Mapping[str, Any]) -> bytes | None:
    try:
        # Version 2: no back-references, whose use depends on reference counts, not on the value.
        return marshal.dumps(obj, 2)
    except ValueError:
        return None


def _strip_for_compare(obj: Mapping[str, Any], rt: ResourceType) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k not in ("metadata", "apiVersion", "kind")}
    if rt.has_status:
        out.pop("status", None)
    return out


def _spec_changed(old: Mapping[str, Any], new: Mapping[str, Any], rt: ResourceType) -> bool:
    """Generation moves when anything but metadata (and status, when it is a
    subresource) changes, as for Kubernetes' built-ins and CRDs."""
    return _strip_for_compare(old, rt) != _strip_for_compare(new, rt)


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """A no-op write: Kubernetes answers it without a new resourceVersion."""
    old_meta = {k: v for k, v in old["metadata"].items() if k not in ("resourceVersion", "managedFields")}
    new_meta = {k: v for k, v in new["metadata"].items() if k not in ("resourceVersion", "managedFields")}
    if old_meta != new_meta:
        return False
    return {k: v for k, v in old.items() if k != "metadata"} == {
        k: v for k, v in new.items() if k != "metadata"
    }


def _encode_continue(key: tuple[str, str], rv: int) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        ns, name = data["start"]
        return (str(ns), str(name))
    except (ValueError, KeyError, TypeError):
        raise BadRequest("continue key is not valid: incorrect encoded start resourceVersion") from None

