"""Shared informers: one list+watch per kind, a local cache, and change callbacks.

Controllers must not ask the API server for every object they look at, and
must not miss a change. An informer (client-go's reflector + indexer +
shared informer in one class) does both for one kind:

1. **list** every object, remembering the list's ``resourceVersion``;
2. **watch** from that version, applying each event to the cache first and
   then calling the registered handlers (which only enqueue keys), so a
   reconcile triggered by an event always finds the cache at least as new
   as the event;
3. when the watch fails, start again. A watch that ends normally is resumed
   from the last version seen. A ``410 Gone`` (the server no longer has
   that version in its history) means events were lost: the informer
   **relists** and turns the difference between the new list and its cache
   into add/update/delete callbacks, so handlers converge as if they had
   seen every event. Any other error relists after an exponential backoff
   on the injected clock (0.8 s doubling to 30 s, like the reflector);
4. every ``resync_period`` it re-delivers every cached object as an update,
   so level-triggered controllers get a periodic second look.

**Cached objects are shared and read-only.** Handlers receive the cached
dict itself (they only read keys from it). The lookups :meth:`get`,
:meth:`list` and :meth:`by_index` return deep copies by default, like
controller-runtime's cache reader, so a reconciler can edit what it read
and send it back; hot paths that only read may pass ``copy=False`` and get
the shared objects, which they must not mutate (the same trade as
controller-runtime's ``UnsafeDisableDeepCopy``).

Objects from a list do not always carry ``apiVersion`` and ``kind`` (real
Kubernetes lists omit them); the informer fills them in so that handlers and
readers can rely on them.

Indexes map a value to the keys of the objects that produce it. Three are
built in: :data:`INDEX_NAMESPACE`, :data:`INDEX_OWNER_UID` (every owner
reference's uid) and :data:`INDEX_LABEL` (``"key=value"`` per label); more
can be added with :meth:`SharedInformer.add_indexer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from typing import Any, Protocol

from sandbox.api.errors import ApiError, Gone, from_status
from sandbox.api.objects import ObjectKey, fast_copy, key_of, labels, meta
from sandbox.api.selectors import LabelSelector
from sandbox.client.protocol import Client
from sandbox.clock import Clock, SystemClock

__all__ = [
    "INDEX_LABEL",
    "INDEX_NAMESPACE",
    "INDEX_OWNER_UID",
    "IndexFunc",
    "ResourceEventHandler",
    "SharedInformer",
]

log = logging.getLogger(__name__)

IndexFunc = Callable[[Mapping[str, Any]], Iterable[str]]
"""Maps an object to the index values it should be found under."""

INDEX_NAMESPACE = "namespace"
INDEX_OWNER_UID = "ownerUID"
INDEX_LABEL = "label"


def _index_namespace(obj: Mapping[str, Any]) -> Iterable[str]:
    return (meta(obj).get("namespace") or "",)


def _index_owner_uid(obj: Mapping[str, Any]) -> Iterable[str]:
    return [ref["uid"] for ref in meta(obj).get("ownerReferences") or () if ref.get("uid")]


def _index_label(obj: Mapping[str, Any]) -> Iterable[str]:
    return [f"{k}={v}" for k, v in labels(obj).items()]


class ResourceEventHandler(Protocol):
    """Callbacks for cache changes. They run in the informer's task: enqueue, never block."""

    def on_add(self, obj: Mapping[str, Any]) -> None: ...

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None: ...

    def on_delete(self, obj: Mapping[str, Any]) -> None: ...


class SharedInformer:
    """A cache of one kind (optionally one namespace), kept current by list+watch."""

    def __init__(
        self,
        client: Client,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        field_selector: str | None = None,
        clock: Clock | None = None,
        resync_period: float | None = None,
        backoff_base: float = 0.8,
        backoff_max: float = 30.0,
    ) -> None:
        self.client = client
        self.api_version = api_version
        self.kind = kind
        self.namespace = namespace
        #: Server-side filter of what is cached (a kubelet watches ``spec.nodeName=<node>``).
        self.field_selector = field_selector
        self.resync_period = resync_period
        self._clock: Clock = clock or SystemClock()
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._items: dict[ObjectKey, dict[str, Any]] = {}
        self._indexers: dict[str, IndexFunc] = {
            INDEX_NAMESPACE: _index_namespace,
            INDEX_OWNER_UID: _index_owner_uid,
            INDEX_LABEL: _index_label,
        }
        # index name -> value -> keys; and per key the values it was indexed under.
        self._indices: dict[str, dict[str, set[ObjectKey]]] = {n: {} for n in self._indexers}
        self._indexed: dict[ObjectKey, dict[str, tuple[str, ...]]] = {}
        self._handlers: list[ResourceEventHandler] = []
        self._synced = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_rv = ""
        self._watch_events = 0
        #: How many times the informer listed (1 after the first sync); handy for tests.
        self.list_count = 0

    def __repr__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"<SharedInformer {self.api_version} {self.kind}{where}: {len(self._items)} cached>"

    # Lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Begin list+watch (and resync) in background tasks; a no-op if running."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._run(), name=f"informer-{self.kind}"))
        if self.resync_period and self.resync_period > 0:
            self._tasks.append(loop.create_task(self._resync(), name=f"resync-{self.kind}"))

    async def stop(self) -> None:
        """Cancel the watch and resync tasks; the cache stays readable."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def has_synced(self) -> bool:
        """Whether the first list has been loaded into the cache."""
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    @property
    def last_sync_resource_version(self) -> str:
        """The resourceVersion of the last list or watch event applied."""
        return self._last_rv

    # Handlers and indexers -------------------------------------------------------

    def add_event_handler(self, handler: ResourceEventHandler) -> None:
        """Register ``handler``. If the cache already synced, it first gets an
        ``on_add`` for every cached object, as client-go does for late joiners."""
        self._handlers.append(handler)
        if self.has_synced():
            for obj in list(self._items.values()):
                self._call(handler.on_add, obj)

    def remove_event_handler(self, handler: ResourceEventHandler) -> None:
        self._handlers.remove(handler)

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        """Register a custom index; objects already cached are indexed at once."""
        if name in self._indexers:
            raise ValueError(f"indexer {name!r} already exists")
        self._indexers[name] = func
        self._indices[name] = {}
        for key, obj in self._items.items():
            values = tuple(func(obj))
            self._indexed[key][name] = values
            for value in values:
                self._indices[name].setdefault(value, set()).add(key)

    # Cache lookups ----------------------------------------------------------------

    def get(self, namespace: str, name: str, *, copy: bool = True) -> dict[str, Any] | None:
        """The cached object, or ``None``. ``namespace`` is ``""`` for cluster-scoped kinds."""
        obj = self._items.get((namespace or "", name))
        if obj is None:
            return None
        return fast_copy(obj) if copy else obj

    def list(
        self,
        namespace: str | None = None,
        *,
        label_selector: str | Mapping[str, Any] | LabelSelector | None = None,
        copy: bool = True,
    ) -> list[dict[str, Any]]:
        """Cached objects (all namespaces when ``namespace`` is ``None``), sorted by key.

        ``label_selector`` is a selector string (``app=web,tier!=db``), a
        ``{matchLabels, matchExpressions}`` dict or a parsed :class:`LabelSelector`.
        """
        if namespace is None:
            keys: Iterable[ObjectKey] = self._items.keys()
        else:
            keys = self._indices[INDEX_NAMESPACE].get(namespace, set())
        found = [self._items[k] for k in sorted(keys)]
        if label_selector is not None:
            if isinstance(label_selector, str):
                selector = LabelSelector.parse(label_selector)
            elif isinstance(label_selector, LabelSelector):
                selector = label_selector
            else:
                selector = LabelSelector.from_dict(label_selector)
            found = [o for o in found if selector.matches(labels(o))]
        return [fast_copy(o) for o in found] if copy else found

    def by_index(self, name: str, value: str, *, copy: bool = True) -> list[dict[str, Any]]:
        """Cached objects that index ``name`` maps to ``value``, sorted by key."""
        if name not in self._indices:
            raise KeyError(f"no indexer {name!r}")
        found = [self._items[k] for k in sorted(self._indices[name].get(value, ()))]
        return [fast_copy(o) for o in found] if copy else found

    def keys(self) -> list[ObjectKey]:
        return sorted(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Shared, read-only cached objects (no copies)."""
        return iter(list(self._items.values()))

    # List and watch -----------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._list_and_watch()
            except asyncio.CancelledError:
                raise
            except Gone as exc:
                if self._watch_events:
                    # Events flowed, then the server forgot our version: relist now.
                    failures = 0
                    log.info("%s watch expired (%s); relisting", self.kind, exc)
                    continue
                log.warning("%s watch expired right after a list: %s", self.kind, exc)
            except Exception as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # a cancellation that cleanup turned into another error
                if self._watch_events:
                    failures = 0
                log.warning(
                    "%s %s list/watch failed: %s",
                    self.api_version,
                    self.kind,
                    exc,
                    exc_info=not isinstance(exc, ApiError),
                )
            else:
                log.debug("%s watch ended without events", self.kind)
            delay = self._backoff(failures)
            failures += 1
            log.debug("%s relisting in %.3gs", self.kind, delay)
            await self._clock.sleep(delay)

    def _backoff(self, failures: int) -> float:
        return min(self._backoff_base * 2 ** min(failures, 32), self._backoff_max)

    async def _list_and_watch(self) -> None:
        """List, then watch (resuming after each normal end) until an error.

        Returns only when a watch ended without delivering any event: a
        server that closes watches at once must not make us spin, so the
        caller backs off (client-go calls this a "very short watch").
        """
        self._watch_events = 0
        listed = await self.client.list(
            self.api_version, self.kind, namespace=self.namespace,
            field_selector=self.field_selector,
        )
        self.list_count += 1
        self._replace(listed.get("items") or [], meta(listed).get("resourceVersion", ""))
        while True:
            if not await self._watch_once():
                return

    async def _watch_once(self) -> int:
        """One watch from the last version; returns how many events it delivered."""
        stream = self.client.watch(
            self.api_version,
            self.kind,
            namespace=self.namespace,
            field_selector=self.field_selector,
            resource_version=self._last_rv or None,
            allow_bookmarks=True,
            shared_objects=True,  # the cache is read-only: no copy per event
        )
        seen = 0
        try:
            async for event in stream:
                if event.type == "ERROR":
                    raise from_status(event.object)
                seen += 1
                self._watch_events += 1
                if event.type != "BOOKMARK":
                    self._apply(event.type, event.object)
                if event.resource_version:
                    self._last_rv = event.resource_version
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        return seen

    async def _resync(self) -> None:
        assert self.resync_period
        while True:
            await self._clock.sleep(self.resync_period)
            if not self.has_synced():
                continue
            for obj in list(self._items.values()):
                self._dispatch_update(obj, obj)

    # Cache mutation (always before handlers run) -------------------------------------

    def _stamp(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("apiVersion", self.api_version)
        obj.setdefault("kind", self.kind)
        return obj

    def _replace(self, items: list[dict[str, Any]], resource_version: str) -> None:
        """Load a fresh list: turn its difference from the cache into callbacks."""
        fresh = {key_of(o): self._stamp(o) for o in items}
        gone = [k for k in self._items if k not in fresh]
        for key in gone:
            old = self._remove(key)
            if old is not None:
                self._dispatch_delete(old)
        for key, obj in fresh.items():
            old = self._items.get(key)
            self._store(key, obj)
            if old is None:
                self._dispatch_add(obj)
            elif meta(old).get("resourceVersion") != meta(obj).get("resourceVersion"):
                self._dispatch_update(old, obj)
        self._last_rv = resource_version
        self._synced.set()

    def _apply(self, event_type: str, obj: dict[str, Any]) -> None:
        obj = self._stamp(obj)
        key = key_of(obj)
        if event_type == "DELETED":
            self._remove(key)
            self._dispatch_delete(obj)
            return
        old = self._items.get(key)
        self._store(key, obj)
        if old is None:
            self._dispatch_add(obj)
        else:
            self._dispatch_update(old, obj)

    def _store(self, key: ObjectKey, obj: dict[str, Any]) -> None:
        if key in self._items:
            self._unindex(key)
        self._items[key] = obj
        values = {name: tuple(func(obj)) for name, func in self._indexers.items()}
        self._indexed[key] = values
        for name, vals in values.items():
            for value in vals:
                self._indices[name].setdefault(value, set()).add(key)

    def _remove(self, key: ObjectKey) -> dict[str, Any] | None:
        if key not in self._items:
            return None
        self._unindex(key)
        return self._items.pop(key)

    def _unindex(self, key: ObjectKey) -> None:
        for name, vals in self._indexed.pop(key, {}).items():
            index = self._indices[name]
            for value in vals:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    def _dispatch_add(self, obj: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_add, obj)

    def _dispatch_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_update, old, new)

    def _dispatch_delete(self, obj: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_delete, obj)

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("%s event handler %r failed", self.kind, callback)
