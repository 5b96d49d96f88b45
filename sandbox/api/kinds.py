"""The kinds registry: which resource types exist and how they are named.

A :class:`ResourceType` is one served version of one kind, with the names
kubectl resolves (plural, singular, short names, categories), its scope, its
subresources, its printer columns and, where known, its OpenAPI v3 schema.
The :class:`KindRegistry` answers the questions every layer above asks:

- the store: "which storage key does ``apps/v1 Deployment`` live under?"
  (:meth:`KindRegistry.get`, :attr:`ResourceType.resource`);
- the REST facade: "what is ``/apis/kubeflow.org/v1/tfjobs``?"
  (:meth:`KindRegistry.by_resource`);
- kubectl-shaped verbs: "what does ``deploy`` or ``tfjob.kubeflow.org``
  mean?" (:meth:`KindRegistry.resolve`).

Built-in kinds come from :mod:`sandbox.api.builtin_kinds`; CRDs add and
remove kinds at run time (:func:`resource_types_from_crd`). All versions of a
group/kind share one storage key, like Kubernetes, which stores one object
whatever version a client reads it through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.api.errors import NotFound

__all__ = [
    "DEFAULT_VERBS",
    "KindRegistry",
    "ResourceType",
    "UnknownKind",
    "resource_types_from_crd",
    "split_api_version",
]

DEFAULT_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; ``"v1"`` -> ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


class UnknownKind(NotFound):
    """A kind or resource the registry does not serve."""

    @classmethod
    def kind(cls, api_version: str, kind: str) -> UnknownKind:
        return cls(f'no matches for kind "{kind}" in version "{api_version}"')

    @classmethod
    def resource(cls, name: str) -> UnknownKind:
        return cls(f'the server doesn\'t have a resource type "{name}"')


@dataclass(frozen=True)
class ResourceType:
    """One served version of one kind."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str = ""
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: Subresources served, e.g. ``{"status", "scale", "log"}``.
    subresources: frozenset[str] = frozenset()
    verbs: tuple[str, ...] = DEFAULT_VERBS
    #: CRD-style ``additionalPrinterColumns`` (name, type, jsonPath, ...).
    printer_columns: tuple[Mapping[str, Any], ...] = ()
    #: OpenAPI v3 schema of the whole object, ``None`` when unknown (accept any).
    schema: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    #: The version objects are stored in (one per group/kind).
    storage: bool = True
    #: Built-in kinds support strategic merge patch; custom resources do not.
    builtin: bool = True
    #: CRD ``scale`` subresource paths (specReplicasPath, statusReplicasPath, labelSelectorPath).
    scale_paths: Mapping[str, str] | None = field(default=None, compare=False, hash=False)
    #: CRD ``selectableFields`` (JSONPaths usable in field selectors).
    selectable_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.singular:
            object.__setattr__(self, "singular", self.kind.lower())

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The storage key of the kind: ``deployments.apps``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def __repr__(self) -> str:
        return f"<ResourceType {self.api_version} {self.kind} ({self.resource})>"


class KindRegistry:
    """Every resource type served, indexed the ways the API server needs.

    Thread-safe: CRDs register kinds while other threads read.
    """

    def __init__(self, types: Iterable[ResourceType] = ()) -> None:
        self._lock = threading.RLock()
        self._by_gvk: dict[tuple[str, str, str], ResourceType] = {}
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        for rt in types:
            self.register(rt)

    # Mutation --------------------------------------------------------------

    def register(self, rt: ResourceType) -> None:
        """Add or replace one served version of a kind."""
        with self._lock:
            old = self._by_gvk.get((rt.group, rt.version, rt.kind))
            if old is not None:
                self._by_gvr.pop((old.group, old.version, old.plural), None)
            self._by_gvk[(rt.group, rt.version, rt.kind)] = rt
            self._by_gvr[(rt.group, rt.version, rt.plural)] = rt

    def unregister(self, group: str, kind: str) -> list[ResourceType]:
        """Remove every version of ``group``/``kind``; returns what was removed."""
        with self._lock:
            gone = [rt for rt in self._by_gvk.values() if rt.group == group and rt.kind == kind]
            for rt in gone:
                del self._by_gvk[(rt.group, rt.version, rt.kind)]
                self._by_gvr.pop((rt.group, rt.version, rt.plural), None)
            return gone

    def copy(self) -> KindRegistry:
        with self._lock:
            return KindRegistry(self._by_gvk.values())

    # Lookup ----------------------------------------------------------------

    def get(self, api_version: str, kind: str) -> ResourceType:
        """The type of ``apiVersion``/``kind``, or :class:`UnknownKind`."""
        group, version = split_api_version(api_version)
        rt = self._by_gvk.get((group, version, kind))
        if rt is None:
            raise UnknownKind.kind(api_version, kind)
        return rt

    def find(self, api_version: str, kind: str) -> ResourceType | None:
        group, version = split_api_version(api_version)
        return self._by_gvk.get((group, version, kind))

    def by_resource(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self._by_gvr.get((group, version, plural))
        if rt is None:
            raise UnknownKind.resource(f"{plural}.{group}" if group else plural)
        return rt

    def versions(self, group: str, kind: str) -> list[ResourceType]:
        """Served versions of a kind, storage version first."""
        found = [rt for rt in self.all() if rt.group == group and rt.kind == kind]
        return sorted(found, key=lambda rt: (not rt.storage, rt.version))

    def storage_type(self, group: str, kind: str) -> ResourceType:
        found = self.versions(group, kind)
        if not found:
            raise UnknownKind.kind(group, kind)
        return found[0]

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._by_gvk.values())

    def groups(self) -> dict[str, list[str]]:
        """Group name -> served versions (core group is ``""``)."""
        out: dict[str, list[str]] = {}
        for rt in self.all():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def resolve(self, name: str) -> ResourceType:
        """Resolve what a user types, like kubectl: ``po``, ``pods``, ``Pod``,
        ``deploy``, ``deployments.apps``, ``tfjob.kubeflow.org``,
        ``deployments.v1.apps``.

        A bare name matching several groups prefers the core group, then the
        lexically first group, and the storage version, as kubectl's
        priority order does for built-ins.
        """
        candidates = self.resolve_all(name)
        if not candidates:
            raise UnknownKind.resource(name)
        return candidates[0]

    def resolve_all(self, name: str) -> list[ResourceType]:
        lowered = name.lower()
        resource, _, rest = lowered.partition(".")
        group_hint: str | None = None
        version_hint: str | None = None
        if rest:
            first, _, remainder = rest.partition(".")
            # "deployments.v1.apps": a version then a group.
            if remainder and first.startswith("v") and first[1:2].isdigit():
                version_hint, group_hint = first, remainder
            else:
                group_hint = rest
        matches: list[ResourceType] = []
        for rt in self.all():
            if group_hint is not None and rt.group.lower() != group_hint:
                continue
            if version_hint is not None and rt.version != version_hint:
                continue
            names = {rt.plural.lower(), rt.singular.lower(), rt.kind.lower()}
            names.update(s.lower() for s in rt.short_names)
            if resource in names:
                matches.append(rt)
        if not matches and group_hint is not None and version_hint is None:
            # "pods" style names with dots in them do not exist; also try the
            # whole string as a category-free plural of the core group.
            return []
        return sorted(matches, key=lambda rt: (rt.group != "", rt.group, not rt.storage, rt.version))

    def by_category(self, category: str) -> list[ResourceType]:
        return [rt for rt in self.all() if category in rt.categories and rt.storage]

    def __contains__(self, item: tuple[str, str]) -> bool:
        api_version, kind = item
        return self.find(api_version, kind) is not None

    def __len__(self) -> int:
        return len(self._by_gvk)


def resource_types_from_crd(crd: Mapping[str, Any]) -> list[ResourceType]:
    """The served versions a ``CustomResourceDefinition`` declares."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    types: list[ResourceType] = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        types.append(
            ResourceType(
                group=group,
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                namespaced=namespaced,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=frozenset(subresources),
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                schema=schema,
                storage=bool(version.get("storage", False)),
                builtin=False,
                scale_paths=subresources.get("scale"),
                selectable_fields=tuple(
                    f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or ()
                ),
            )
        )
    return types
