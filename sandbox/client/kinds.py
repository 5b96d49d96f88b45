"""kubectl's kind names over any client: the built-in kinds plus the cluster's CRDs.

``Kinds(client).resolve("deploy")`` answers what ``kubectl get deploy``
means — a :class:`~sandbox.api.kinds.ResourceType` with apiVersion, kind and
scope — the way kubectl's RESTMapper does: built-in names first, then the
kinds the cluster's CustomResourceDefinitions serve (listed once, on the
first name the built-ins do not know, and kept for the life of the object).

Data flow::

    "po" ─▶ builtin_registry().resolve_all ─▶ ResourceType(v1 Pod)
    "exp" ─▶ (miss) ─▶ client.list(CRDs) ─▶ registry + CRD kinds ─▶ resolve

Used by the CLI verbs and the scenario engine, so both read a kind the same way.
"""

from __future__ import annotations

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.kinds import KindRegistry, ResourceType, resource_types_from_crd
from sandbox.client.protocol import Client

__all__ = ["Kinds"]

_CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


class Kinds:
    """Resolve kubectl's kind names (``po``, ``deployments.apps``, a CRD's short name)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._registry: KindRegistry | None = None

    async def resolve(self, name: str) -> ResourceType:
        """The resource type ``name`` means; :class:`~sandbox.api.kinds.UnknownKind` when none."""
        found = builtin_registry().resolve_all(name)
        if found:
            return found[0]
        return (await self._with_crds()).resolve(name)

    def forget(self) -> None:
        """Drop the CRD kinds read so far (after CRDs were created or deleted)."""
        self._registry = None

    async def _with_crds(self) -> KindRegistry:
        if self._registry is None:
            registry = builtin_registry()
            for crd in (await self.client.list(*_CRD))["items"]:
                # The storage version first, so a bare kind name resolves to it.
                for rt in sorted(resource_types_from_crd(crd), key=lambda rt: not rt.storage):
                    registry.register(rt)
            self._registry = registry
        return self._registry
