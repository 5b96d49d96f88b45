"""API discovery: which groups, versions and resources this server serves.

kubectl learns everything it can type (``po``, ``deploy``, ``tfjobs``), each
resource's URL, scope and verbs from discovery before its first real request;
the Python client never asks. Two forms exist, and this module builds both
from one :class:`~sandbox.api.kinds.KindRegistry`:

- **legacy** (every kubectl): ``/api`` (``APIVersions``), ``/api/v1`` and
  ``/apis/<group>/<version>`` (``APIResourceList``, one entry per resource and
  one per subresource, ``pods/log``, ``deployments/scale`` ...), ``/apis``
  (``APIGroupList``) and ``/apis/<group>`` (``APIGroup``);
- **aggregated** (kubectl 1.26+ asks first): one ``APIGroupDiscoveryList`` for
  ``/api`` and one for ``/apis``, in ``apidiscovery.k8s.io/v2`` or
  ``v2beta1`` (the same shape), chosen by :func:`negotiate_discovery` from the
  Accept header exactly as kube-apiserver does; kubectl then skips the
  per-group fetches. Answering a version the client did not list, or with
  another Content-Type, makes kubectl report that pods do not exist, so the
  Content-Type is fixed by :func:`aggregated_content_type`.

Subresources answer with their own kind and verbs (``deployments/scale`` is an
``autoscaling/v1 Scale``, ``pods/eviction`` a ``policy/v1 Eviction``), from
:data:`SUBRESOURCES`, which :mod:`.openapi` shares for its paths.

Data flow: the pure builders (:func:`core_resources`, :func:`aggregated` ...)
take the registry and return fresh dicts; :func:`discovery_document` is the
serving path: it keys a small cache on the registry's state (the set of served
types, which changes when CRDs come and go) and hands out precomputed JSON
bytes with a Content-Type and an ETag, so a request costs a dictionary lookup.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from sandbox.api.errors import NotFound
from sandbox.api.kinds import KindRegistry, ResourceType

__all__ = [
    "AGGREGATED_GROUP",
    "AGGREGATED_KIND",
    "AGGREGATED_VERSIONS",
    "JSON",
    "SUBRESOURCES",
    "Document",
    "StateCache",
    "Subresource",
    "aggregated",
    "aggregated_content_type",
    "api_group",
    "api_groups",
    "core_resources",
    "core_versions",
    "discovery_document",
    "group_order",
    "group_resources",
    "group_versions",
    "negotiate_discovery",
    "registry_state",
    "storage_version_hash",
    "subresource",
    "version_priority",
]

JSON = "application/json"
AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
#: Aggregated discovery versions this server speaks, newest first.
AGGREGATED_VERSIONS: tuple[str, ...] = ("v2", "v2beta1")

#: kube-apiserver's order of built-in groups in ``/apis`` (its group
#: priorities). kubectl resolves a name found in two groups to the first, so
#: the order is behaviour, not cosmetics. Other groups follow, by name.
_BUILTIN_GROUP_ORDER: tuple[str, ...] = (
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
)


# Subresources --------------------------------------------------------------


@dataclass(frozen=True)
class Subresource:
    """What a subresource answers with: its verbs and response kind.

    ``kind`` may contain ``{kind}`` (the parent's kind, e.g.
    ``{kind}ProxyOptions``); ``group``/``version`` of ``None`` mean the
    parent's group and version.
    """

    verbs: tuple[str, ...]
    kind: str = "{kind}"
    group: str | None = None
    version: str | None = None

    def response_kind(self, rt: ResourceType) -> tuple[str, str, str]:
        """``(group, version, kind)`` of the subresource of ``rt``."""
        group = rt.group if self.group is None else self.group
        version = rt.version if self.version is None else self.version
        return group, version, self.kind.format(kind=rt.kind)


_GET_PATCH_UPDATE = ("get", "patch", "update")

#: Subresources by name, as kube-apiserver 1.31 reports them in discovery.
SUBRESOURCES: dict[str, Subresource] = {
    "status": Subresource(_GET_PATCH_UPDATE),
    "scale": Subresource(_GET_PATCH_UPDATE, kind="Scale", group="autoscaling", version="v1"),
    "log": Subresource(("get",)),
    "exec": Subresource(("create", "get"), kind="{kind}ExecOptions"),
    "attach": Subresource(("create", "get"), kind="{kind}AttachOptions"),
    "portforward": Subresource(("create", "get"), kind="{kind}PortForwardOptions"),
    "proxy": Subresource(("create", "delete", "get", "patch", "update"), kind="{kind}ProxyOptions"),
    "binding": Subresource(("create",), kind="Binding", group="", version="v1"),
    "eviction": Subresource(("create",), kind="Eviction", group="policy", version="v1"),
    "ephemeralcontainers": Subresource(_GET_PATCH_UPDATE),
    "finalize": Subresource(("update",)),
    "token": Subresource(("create",), kind="TokenRequest", group="authentication.k8s.io", version="v1"),
}


def subresource(name: str) -> Subresource:
    """The table entry of a subresource; an unknown one behaves like ``status``."""
    return SUBRESOURCES.get(name, SUBRESOURCES["status"])


# Ordering ----------------------------------------------------------------------

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' priority order.

    GA before beta before alpha, higher numbers first (``v2``, ``v1``,
    ``v1beta2``, ``v1beta1``, ``v1alpha1``), then anything not shaped like a
    Kubernetes version, alphabetically (``CompareKubeAwareVersionStrings``).
    """
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), "")


def group_order(group: str) -> tuple[int, str]:
    """Sort key of a group: the core group, kube-apiserver's built-ins in its order, then by name."""
    if not group:
        return (-1, "")
    try:
        return (_BUILTIN_GROUP_ORDER.index(group), "")
    except ValueError:
        return (len(_BUILTIN_GROUP_ORDER), group)


def group_versions(types: Iterable[ResourceType]) -> dict[str, list[str]]:
    """Group -> its served versions, preferred first, groups in ``/apis`` order.

    The preferred version is the highest by Kubernetes' version priority, as
    kube-apiserver and the CRD discovery controller choose it (not the
    storage version).
    """
    found: dict[str, set[str]] = {}
    for rt in types:
        found.setdefault(rt.group, set()).add(rt.version)
    return {
        group: sorted(found[group], key=version_priority)
        for group in sorted(found, key=group_order)
    }


def storage_version_hash(rt: ResourceType) -> str:
    """kube-apiserver's ``storageVersionHash``: 8 bytes of SHA-256 of ``group/version/Kind``."""
    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _sorted_resources(types: Iterable[ResourceType]) -> list[ResourceType]:
    return sorted(types, key=lambda rt: rt.plural)


def _types_of(registry: KindRegistry, group: str, version: str) -> list[ResourceType]:
    return _sorted_resources(
        rt for rt in registry.all() if rt.group == group and rt.version == version
    )


def _group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


# Legacy discovery ---------------------------------------------------------------


def core_versions(*, server_address: str = "127.0.0.1") -> dict[str, Any]:
    """``GET /api``: the legacy core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address},
        ],
    }


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    entry["storageVersionHash"] = storage_version_hash(rt)
    entries = [entry]
    for name in sorted(rt.subresources):
        sub = subresource(name)
        group, version, kind = sub.response_kind(rt)
        sub_entry: dict[str, Any] = {
            "name": f"{rt.plural}/{name}",
            "singularName": "",
            "namespaced": rt.namespaced,
        }
        if (group, version) != (rt.group, rt.version):
            sub_entry["group"] = group
            sub_entry["version"] = version
        sub_entry["kind"] = kind
        sub_entry["verbs"] = list(sub.verbs)
        entries.append(sub_entry)
    return entries


def _resource_list(group: str, version: str, types: list[ResourceType]) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": _group_version(group, version),
        "resources": [entry for rt in types for entry in _resource_entries(rt)],
    }


def core_resources(registry: KindRegistry) -> dict[str, Any]:
    """``GET /api/v1``: the core group's ``APIResourceList``."""
    return _resource_list("", "v1", _types_of(registry, "", "v1"))


def group_resources(registry: KindRegistry, group: str, version: str) -> dict[str, Any]:
    """``GET /apis/<group>/<version>``: an ``APIResourceList``; 404 if not served."""
    types = _types_of(registry, group, version)
    if not types:
        raise _not_found()
    return _resource_list(group, version, types)


def _group_entry(group: str, versions: list[str]) -> dict[str, Any]:
    listed = [
        {"groupVersion": _group_version(group, version), "version": version}
        for version in versions
    ]
    return {"name": group, "versions": listed, "preferredVersion": listed[0]}


def api_groups(registry: KindRegistry) -> dict[str, Any]:
    """``GET /apis``: every named group (the core group is at ``/api``)."""
    groups = group_versions(registry.all())
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(g, versions) for g, versions in groups.items() if g],
    }


def api_group(registry: KindRegistry, group: str) -> dict[str, Any]:
    """``GET /apis/<group>``: one ``APIGroup``; 404 if not served."""
    versions = group_versions(rt for rt in registry.all() if rt.group == group).get(group)
    if not group or not versions:
        raise _not_found()
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def _not_found() -> NotFound:
    # kube-apiserver's answer for a path no handler serves.
    return NotFound("the server could not find the requested resource")


# Aggregated discovery -------------------------------------------------------------


def _aggregated_resource(rt: ResourceType) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        resource["shortNames"] = list(rt.short_names)
    if rt.categories:
        resource["categories"] = list(rt.categories)
    subresources = []
    for name in sorted(rt.subresources):
        sub = subresource(name)
        group, version, kind = sub.response_kind(rt)
        subresources.append(
            {
                "subresource": name,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": list(sub.verbs),
            }
        )
    if subresources:
        resource["subresources"] = subresources
    return resource


def aggregated(registry: KindRegistry, *, core: bool, version: str) -> dict[str, Any]:
    """The ``APIGroupDiscoveryList`` for ``/api`` (``core=True``) or ``/apis``.

    ``version`` is ``"v2"`` or ``"v2beta1"`` (the two share one shape); each
    group lists its versions preferred first, as kubectl expects.
    """
    if version not in AGGREGATED_VERSIONS:
        raise ValueError(f"unknown aggregated discovery version {version!r}")
    types = registry.all()
    items = []
    for group, versions in group_versions(types).items():
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": v,
                        "resources": [
                            _aggregated_resource(rt)
                            for rt in _sorted_resources(
                                rt for rt in types if rt.group == group and rt.version == v
                            )
                        ],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }


def aggregated_content_type(version: str) -> str:
    """The exact response Content-Type kubectl requires for aggregated discovery."""
    return f"{JSON};g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


def _accept_entries(accept: str) -> list[tuple[str, dict[str, str]]]:
    """Accept clauses ``(media type, params)`` by descending ``q``, stable otherwise."""
    entries: list[tuple[float, int, str, dict[str, str]]] = []
    for index, clause in enumerate(accept.split(",")):
        media, *raw_params = clause.split(";")
        params: dict[str, str] = {}
        for raw in raw_params:
            key, _, value = raw.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0
        if q > 0:
            entries.append((-q, index, media.strip().lower(), params))
    entries.sort(key=lambda e: (e[0], e[1]))
    return [(media, params) for _, _, media, params in entries]


def negotiate_discovery(accept: str | None) -> str | None:
    """The aggregated discovery version to answer with, or ``None`` for legacy JSON.

    Clauses are taken by preference (``q``, then the client's order). The
    first JSON clause decides: with ``g=apidiscovery.k8s.io``,
    ``as=APIGroupDiscoveryList`` and a version this server speaks it selects
    that version; a plain JSON or wildcard clause selects the legacy form.
    Clauses this server cannot produce (protobuf, unknown versions) are
    skipped, so a client only ever receives a form it listed.
    """
    if not accept:
        return None
    for media, params in _accept_entries(accept):
        if media not in (JSON, "application/*", "*/*"):
            continue
        if "as" not in params and "g" not in params:
            return None
        if (
            params.get("as") == AGGREGATED_KIND
            and params.get("g") == AGGREGATED_GROUP
            and params.get("v") in AGGREGATED_VERSIONS
        ):
            return params["v"]
    return None


# Serving ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A response body ready to send: bytes, its Content-Type, a hash and an ETag."""

    body: bytes
    content_type: str

    @classmethod
    def json(cls, data: Any, content_type: str = JSON) -> Document:
        return cls(json.dumps(data, separators=(",", ":")).encode(), content_type)

    @cached_property
    def hash(self) -> str:
        """Upper-case hex SHA-512 of the body, as ``/openapi/v3``'s ``?hash=`` carries it."""
        return hashlib.sha512(self.body).hexdigest().upper()

    @cached_property
    def etag(self) -> str:
        """A strong ETag: the hash, quoted."""
        return f'"{self.hash}"'

    @cached_property
    def gzipped(self) -> bytes:
        """The body gzip-compressed (once), for ``Accept-Encoding: gzip``."""
        return gzip.compress(self.body, compresslevel=6, mtime=0)


def registry_state(registry: KindRegistry) -> tuple[Hashable, tuple[ResourceType, ...]]:
    """A hashable key of everything discovery and OpenAPI are built from, and the types.

    Schemas are compared by identity (registries replace a CRD's types when
    its schema changes; schema dicts are never mutated in place); the
    returned types keep those schema objects alive while a cache holds them.
    """
    types = tuple(registry.all())
    key = frozenset(
        (
            rt.group,
            rt.version,
            rt.kind,
            rt.plural,
            rt.singular,
            rt.namespaced,
            rt.short_names,
            rt.categories,
            rt.subresources,
            rt.verbs,
            rt.storage,
            id(rt.schema),
        )
        for rt in types
    )
    return key, types


_T = TypeVar("_T")


class StateCache:
    """Per registry state, lazily built values by name; the last few states kept.

    Shared by :mod:`.discovery` and :mod:`.openapi`. A state's entry holds
    its types (and so their schemas), which keeps the ``id()``\\ s in the key
    meaningful.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._states: OrderedDict[Hashable, tuple[tuple[ResourceType, ...], dict[Hashable, Any]]]
        self._states = OrderedDict()

    def get(
        self,
        registry: KindRegistry,
        name: Hashable,
        build: Callable[[KindRegistry], _T],
    ) -> _T:
        key, types = registry_state(registry)
        with self._lock:
            entry = self._states.get(key)
            if entry is None:
                entry = (types, {})
                self._states[key] = entry
                while len(self._states) > self._size:
                    self._states.popitem(last=False)
            else:
                self._states.move_to_end(key)
            values = entry[1]
            if name in values:
                return values[name]
        # Built outside the lock on a frozen snapshot of the state: two
        # threads may build the same value once each; both results are equal.
        value = build(KindRegistry(types))
        with self._lock:
            return values.setdefault(name, value)


_cache = StateCache()


def discovery_document(
    registry: KindRegistry,
    path: str,
    *,
    accept: str | None = None,
    server_address: str = "127.0.0.1",
) -> Document:
    """The discovery response for ``path``, negotiated from ``accept``.

    ``path`` is one of ``/api``, ``/api/v1``, ``/apis``, ``/apis/<group>``,
    ``/apis/<group>/<version>`` (a trailing slash is ignored); anything else,
    or a group/version not served, raises :class:`NotFound`. ``/api`` and
    ``/apis`` answer in aggregated form when :func:`negotiate_discovery`
    picks a version, with :func:`aggregated_content_type`; everything else is
    ``application/json``.
    """
    parts = [p for p in path.strip("/").split("/") if p]
    if parts == ["api"] or parts == ["apis"]:
        core = parts == ["api"]
        version = negotiate_discovery(accept)
        if version is not None:
            return _cache.get(
                registry,
                ("aggregated", core, version),
                lambda r: Document.json(
                    aggregated(r, core=core, version=version), aggregated_content_type(version)
                ),
            )
        if core:
            return _cache.get(
                registry,
                ("api", server_address),
                lambda _r: Document.json(core_versions(server_address=server_address)),
            )
        return _cache.get(registry, "apis", lambda r: Document.json(api_groups(r)))
    if parts == ["api", "v1"]:
        return _cache.get(registry, "api/v1", lambda r: Document.json(core_resources(r)))
    if len(parts) == 2 and parts[0] == "apis":
        group = parts[1]
        return _cache.get(
            registry, ("group", group), lambda r: Document.json(api_group(r, group))
        )
    if len(parts) == 3 and parts[0] == "apis":
        group, version = parts[1], parts[2]
        return _cache.get(
            registry,
            ("group-version", group, version),
            lambda r: Document.json(group_resources(r, group, version)),
        )
    raise _not_found()
