"""The garbage collector: dependents follow their owners, as ``ownerReferences`` say.

Kubernetes' ``pkg/controller/garbagecollector``, level-triggered. An object
whose ``metadata.ownerReferences`` all point at owners that are gone (missing,
or replaced by a new object with another uid) is deleted; this is how a
Deployment's ReplicaSets and pods, a Job's pods or a TFJob's workers go with
their owner. How they go depends on how the owner was deleted (the store
records ``propagationPolicy`` as finalizers, see ``sandbox.store``):

``Background`` (the default)
    the owner goes at once; its dependents find it missing and are deleted
    after it (each with the policy its own finalizers ask for).
``Foreground``
    the owner stays, with ``deletionTimestamp`` and the ``foregroundDeletion``
    finalizer, while its dependents are deleted (themselves in foreground if
    they have dependents in turn). The collector removes the finalizer (and
    so the owner) once no dependent whose reference has
    ``blockOwnerDeletion: true`` is left.
``Orphan``
    the collector removes the owner's reference from every dependent, then
    the ``orphan`` finalizer; the dependents live on, unowned.

An object with several owners is kept while any of them exists; references
to owners that are gone (or waiting for their own dependents) are removed
from it instead.

Data flow: the collector watches every kind that can be deleted and watched
(the *resources* callable, a discovery-like list the backend provides,
minus Events, which Kubernetes' collector ignores too). Its informers index
objects by owner uid, and its handler enqueues:

- an object that has owner references, when added or when its references
  change (are its owners there?);
- an object being deleted with the ``foregroundDeletion`` or ``orphan``
  finalizer (work to do for its dependents);
- on deletion of any object: its dependents (their owner is gone) and its
  owners (one may be waiting in foreground for exactly this).

Each reconcile re-reads the object and its owners from the API server, not
from the caches: an owner created a moment ago may not be in its informer
yet, and deleting a dependent on such a stale "missing" would be
unrecoverable. Deletes carry the dependent's uid as a precondition, so an
object recreated under the same name is never collected by mistake.

Kinds added later (CustomResourceDefinitions) are picked up when a CRD
changes: the controller's primary kind is CRD, and reconciling one starts
(or stops) watching the kinds the resources callable now lists. A reference
to an owner of a kind that is not served is retried with backoff (the CRD
may be on its way), unless the kind was served before: a kind that went away
(a deleted CRD) took its objects with it, so looking the owner up says it is
gone. A cyclic
foreground deletion (A waits on B which waits on A) is not broken as
Kubernetes does by unblocking references; it waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox.api.errors import Conflict, NotFound
from sandbox.api.kinds import ResourceType, split_api_version
from sandbox.api.objects import is_being_deleted, meta
from sandbox.runtime import (
    INDEX_OWNER_UID,
    Controller,
    Manager,
    Request,
    Result,
    SharedInformer,
    WorkQueue,
    get_logger,
)
from sandbox.runtime.handlers import request_for

__all__ = ["GarbageCollector", "Resources", "controller"]

log = get_logger(__name__)

Resources = Callable[[], Iterable[ResourceType]]
"""What the cluster serves (a discovery): called again whenever CRDs change."""

CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
_REQUIRED_VERBS = frozenset({"delete", "list", "watch"})
_IGNORED = frozenset({("", "Event"), ("events.k8s.io", "Event")})

Obj = dict[str, Any]
GroupKind = tuple[str, str]


def controller(manager: Manager, *, resources: Resources) -> Controller:
    """The garbage collector over every kind ``resources`` lists."""
    collector = GarbageCollector(manager, resources=resources)
    built = Controller(
        "garbage-collector-controller",
        for_=CRD,
        reconciler=collector,
        watches=[(rt.api_version, rt.kind, collector.events) for rt in collector.monitored().values()],
    )
    collector.bind(built)
    return built


def _owner_refs(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(meta(obj).get("ownerReferences") or ())


def _waits_for_collector(obj: Mapping[str, Any]) -> bool:
    finalizers = meta(obj).get("finalizers") or ()
    return is_being_deleted(obj) and (FOREGROUND in finalizers or ORPHAN in finalizers)


class _GraphEvents:
    """Enqueues what a change means for owners and dependents (see the module docstring)."""

    def __init__(self, collector: GarbageCollector) -> None:
        self._collector = collector

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        if _owner_refs(obj) or _waits_for_collector(obj):
            queue.add(request_for(obj))

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        old_refs, new_refs = _owner_refs(old), _owner_refs(new)
        if old_refs != new_refs:
            queue.add(request_for(new))
            # An owner waiting in foreground may have just lost this dependent.
            for ref in old_refs:
                request = self._collector.owner_request(new, ref)
                if request is not None:
                    queue.add(request)
        elif _waits_for_collector(new):
            queue.add(request_for(new))

    def on_delete(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        uid = meta(obj).get("uid")
        if uid:
            for dependent in self._collector.dependents(uid):
                queue.add(request_for(dependent))
        for ref in _owner_refs(obj):
            request = self._collector.owner_request(obj, ref)
            if request is not None:
                queue.add(request)


class _QueueAdapter:
    """Informer callbacks → the collector's handler and queue (for kinds added later)."""

    def __init__(self, events: _GraphEvents, queue: WorkQueue[Request]) -> None:
        self._events = events
        self._queue = queue

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self._events.on_add(obj, queue=self._queue)

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self._events.on_update(old, new, queue=self._queue)

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self._events.on_delete(obj, queue=self._queue)


class GarbageCollector:
    """Deletes or orphans dependents of deleted owners (see the module docstring)."""

    def __init__(self, manager: Manager, *, resources: Resources) -> None:
        self.manager = manager
        self.client = manager.client
        self.recorder = manager.event_recorder("garbage-collector-controller")
        self._resources = resources
        self.events = _GraphEvents(self)
        self._controller: Controller | None = None
        # Every kind ever watched, kept after it is no longer served (see the docstring).
        self._types: dict[GroupKind, ResourceType] = {}
        # Every informer the collector ever attached its handler to, and those watched now.
        self._attached: dict[GroupKind, SharedInformer] = {}
        self._watched: set[GroupKind] = set()
        for key, rt in self.monitored().items():
            self._types[key] = rt
            self._attached[key] = manager.informer(rt.api_version, rt.kind)
            self._watched.add(key)

    def bind(self, built: Controller) -> None:
        """Remember the controller whose queue kinds added later feed."""
        self._controller = built

    def monitored(self) -> dict[GroupKind, ResourceType]:
        """One served version of each deletable, watchable kind (the storage version first)."""
        found: dict[GroupKind, ResourceType] = {}
        for rt in sorted(self._resources(), key=lambda r: not r.storage):
            key = (rt.group, rt.kind)
            if key in _IGNORED or key in found or not set(rt.verbs) >= _REQUIRED_VERBS:
                continue
            found[key] = rt
        return found

    async def sync_monitors(self) -> None:
        """Watch the kinds served now, stop watching the ones no longer served."""
        wanted = self.monitored()
        for key in sorted(self._watched - wanted.keys()):
            log.info("garbage collector: no longer watching %s/%s", *key)
            await self._attached[key].stop()
            self._watched.discard(key)
        for key, rt in wanted.items():
            self._types[key] = rt
            if key in self._watched:
                continue
            informer = self._attached.get(key)
            if informer is None:
                informer = self.manager.informer(rt.api_version, rt.kind)
                assert self._controller is not None
                informer.add_event_handler(_QueueAdapter(self.events, self._controller.queue))
                self._attached[key] = informer
            informer.start()
            self._watched.add(key)
            log.info("garbage collector: watching %s", rt.api_version + " " + rt.kind)

    # Graph lookups (from the caches; only to decide what to look at) ----------------------

    def dependents(self, uid: str) -> list[Obj]:
        """Cached objects with an owner reference to ``uid`` (shared, read-only)."""
        found: list[Obj] = []
        for key in self._watched:
            found += self._attached[key].by_index(INDEX_OWNER_UID, uid, copy=False)
        return found

    def _type_of(self, ref: Mapping[str, Any]) -> ResourceType | None:
        group = split_api_version(ref.get("apiVersion", ""))[0]
        return self._types.get((group, ref.get("kind", "")))

    def owner_request(self, dependent: Mapping[str, Any], ref: Mapping[str, Any]) -> Request | None:
        rt = self._type_of(ref)
        if rt is None or not ref.get("name"):
            return None
        namespace = (meta(dependent).get("namespace") or "") if rt.namespaced else ""
        return Request(rt.api_version, rt.kind, namespace, ref["name"])

    # Reconcile -----------------------------------------------------------------------------

    async def reconcile(self, request: Request) -> Result | None:
        if (request.api_version, request.kind) == CRD:
            await self.sync_monitors()
        try:
            obj = await self.client.get(
                request.api_version, request.kind, request.name, namespace=request.namespace or None
            )
        except NotFound:
            return None
        obj.setdefault("apiVersion", request.api_version)
        obj.setdefault("kind", request.kind)
        if is_being_deleted(obj):
            finalizers = meta(obj).get("finalizers") or ()
            if ORPHAN in finalizers:
                await self._orphan_dependents(obj)
                await self._remove_finalizer(obj, ORPHAN)
            elif FOREGROUND in finalizers:
                await self._process_deleting_dependents(obj)
            return None
        refs = _owner_refs(obj)
        if not refs:
            return None
        solid, dangling, waiting = await self._classify(obj, refs)
        if solid:
            gone = {ref["uid"] for ref in [*dangling, *waiting]}
            if gone:
                await self._patch_owner_refs(obj, [r for r in refs if r.get("uid") not in gone])
            return None
        if waiting and self.dependents(meta(obj)["uid"]):
            policy = "Foreground"
        else:
            finalizers = meta(obj).get("finalizers") or ()
            policy = "Orphan" if ORPHAN in finalizers else "Foreground" if FOREGROUND in finalizers else "Background"
        await self._delete(obj, policy)
        return None

    async def _classify(self, obj: Obj, refs: list[dict[str, Any]]) -> tuple[list[Obj], list[Obj], list[Obj]]:
        """Owner references split into solid, dangling and waiting-for-dependents ones."""
        solid: list[Obj] = []
        dangling: list[Obj] = []
        waiting: list[Obj] = []
        namespace = meta(obj).get("namespace") or ""
        for ref in refs:
            rt = self._type_of(ref)
            if rt is None:
                raise LookupError(
                    f"unable to get REST mapping for {ref.get('apiVersion')}/{ref.get('kind')} "
                    f"(owner of {obj.get('kind')} {meta(obj).get('name')})"
                )
            if rt.namespaced and not namespace:
                await self.recorder.warning(
                    obj, reason="OwnerRefInvalidNamespace",
                    message=f"ownerRef [{rt.api_version}/{rt.kind}, namespace: , name: {ref.get('name')}, "
                    f"uid: {ref.get('uid')}] does not exist in namespace \"\"",
                )
                dangling.append(ref)
                continue
            if self._known_owner(rt, ref, namespace if rt.namespaced else ""):
                solid.append(ref)  # in the graph, as Kubernetes' collector keeps it: no lookup
                continue
            try:
                owner = await self.client.get(
                    rt.api_version, rt.kind, ref.get("name", ""), namespace=namespace if rt.namespaced else None
                )
            except NotFound:
                dangling.append(ref)
                continue
            if meta(owner).get("uid") != ref.get("uid"):
                dangling.append(ref)
            elif is_being_deleted(owner) and FOREGROUND in (meta(owner).get("finalizers") or ()):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    def _known_owner(self, rt: ResourceType, ref: Mapping[str, Any], namespace: str) -> bool:
        """Whether the cache holds the referenced owner (same uid), not being deleted.

        Only a yes is trusted: an owner the cache does not show (yet, or any more) is
        looked up on the API server before a dependent is called dangling; one deleted
        after this answer enqueues its dependents again.
        """
        informer = self._attached.get((rt.group, rt.kind))
        if informer is None or (rt.group, rt.kind) not in self._watched:
            return False
        cached = informer.get(namespace, str(ref.get("name", "")), copy=False)
        return cached is not None and meta(cached).get("uid") == ref.get("uid") and not is_being_deleted(cached)

    async def _process_deleting_dependents(self, owner: Obj) -> None:
        """Foreground: wait for blocking dependents (deleting them), then let the owner go."""
        uid = meta(owner)["uid"]
        blocking = [
            dependent for dependent in self.dependents(uid)
            if any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in _owner_refs(dependent))
        ]
        if not blocking:
            await self._remove_finalizer(owner, FOREGROUND)
            return
        assert self._controller is not None
        for dependent in blocking:
            if not _waits_for_collector(dependent):
                self._controller.queue.add(request_for(dependent))

    async def _orphan_dependents(self, owner: Obj) -> None:
        uid = meta(owner)["uid"]
        for dependent in self.dependents(uid):
            dep_meta = meta(dependent)
            try:
                fresh = await self.client.get(
                    dependent["apiVersion"], dependent["kind"], dep_meta["name"],
                    namespace=dep_meta.get("namespace") or None,
                )
            except NotFound:
                continue
            refs = _owner_refs(fresh)
            kept = [r for r in refs if r.get("uid") != uid]
            if kept != refs:
                await self._patch_owner_refs(fresh, kept)

    # Writes ------------------------------------------------------------------------------------

    async def _patch_owner_refs(self, obj: Obj, refs: list[dict[str, Any]]) -> None:
        """Replace the owner references, if ``obj`` did not change since it was read."""
        obj_meta = meta(obj)
        patch = {"metadata": {"ownerReferences": refs or None, "resourceVersion": obj_meta["resourceVersion"]}}
        try:
            await self.client.patch(
                obj["apiVersion"], obj["kind"], obj_meta["name"], patch,
                namespace=obj_meta.get("namespace") or None,
            )
        except NotFound:
            pass

    async def _remove_finalizer(self, obj: Obj, finalizer: str) -> None:
        obj_meta = meta(obj)
        remaining = [f for f in obj_meta.get("finalizers") or () if f != finalizer]
        patch = {"metadata": {"finalizers": remaining or None, "resourceVersion": obj_meta["resourceVersion"]}}
        try:
            await self.client.patch(
                obj["apiVersion"], obj["kind"], obj_meta["name"], patch,
                namespace=obj_meta.get("namespace") or None,
            )
        except NotFound:
            pass

    async def _delete(self, obj: Obj, policy: str) -> None:
        obj_meta = meta(obj)
        log.info("deleting %s %s (propagationPolicy=%s)", obj["kind"], obj_meta["name"], policy)
        try:
            await self.client.delete(
                obj["apiVersion"], obj["kind"], obj_meta["name"],
                namespace=obj_meta.get("namespace") or None,
                propagation_policy=policy,  # type: ignore[arg-type]
                preconditions={"uid": obj_meta["uid"]},
            )
        except (NotFound, Conflict):
            pass  # gone, or replaced by a new object of the same name
