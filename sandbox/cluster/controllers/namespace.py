"""The namespace controller: a deleted namespace empties itself, then goes.

Kubernetes' ``pkg/controller/namespace`` (``namespaced_resources_deleter.go``).
Deleting a Namespace only marks it: the store sets ``deletionTimestamp`` and
phase ``Terminating`` and keeps it while ``spec.finalizers`` holds
``kubernetes``, refusing new content meanwhile. This controller then, on each
reconcile of a terminating namespace:

1. deletes every object of every namespaced kind in it (kinds from the
   *resources* callable, a discovery-like list the backend provides; only
   kinds that support list and delete), with ``propagationPolicy:
   Background``; objects holding finalizers or terminating gracefully (bound
   pods) stay for a while;
2. lists what remains and writes the five namespace conditions Kubernetes
   writes, each ``True`` with a reason while something is wrong and
   ``False`` with its "ok" reason otherwise. ``kubectl describe ns`` then
   shows, for example::

       NamespaceContentRemaining     True  SomeResourcesRemain
           Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 resource instances
       NamespaceFinalizersRemaining  True  SomeFinalizersRemain
           Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances

3. while content remains, looks again after ``estimate / 2 + 1`` seconds
   (``estimate``: the longest termination grace period of the pods still
   running, or 15 s for objects waiting on finalizers), and sooner when a pod
   in the namespace is deleted (it watches pods for that, which Kubernetes
   does not: a namespace of running pods empties as soon as the kubelet has
   stopped them);
4. when nothing remains, removes its ``kubernetes`` finalizer through the
   namespace's ``finalize`` subresource (:func:`finalize_namespace`); the
   store then deletes the namespace, unless other ``spec.finalizers`` remain.

``finalize`` is not part of the client protocol yet: :func:`finalize_namespace`
calls ``client.replace(namespace, subresource="finalize")``, which the
in-memory client accepts and the protocol's ``replace`` should declare.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sandbox.api.errors import ApiError, MethodNotAllowed, NotFound
from sandbox.api.kinds import ResourceType
from sandbox.api.objects import deep_copy, is_being_deleted, meta
from sandbox.client.protocol import Client
from sandbox.clock import format_time
from sandbox.runtime import (
    Controller,
    EnqueueRequestsFromMapFunc,
    Manager,
    Request,
    Result,
    get_logger,
)

from ._workloads import error_message, pod_phase

__all__ = [
    "CONDITION_TYPES",
    "NamespaceReconciler",
    "Resources",
    "controller",
    "finalize_namespace",
]

log = get_logger(__name__)

NAMESPACE = ("v1", "Namespace")
POD = ("v1", "Pod")
FINALIZER = "kubernetes"
FINALIZER_ESTIMATE_SECONDS = 15
_REQUIRED_VERBS = frozenset({"delete", "list"})

Resources = Callable[[], Iterable[ResourceType]]
"""What the cluster serves (a discovery), read on every reconcile."""

CONDITION_TYPES = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
_OK = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": (
        "ContentDeleted", "All content successfully deleted, may be waiting on finalization"
    ),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentHasNoFinalizers", "All content-preserving finalizers finished"),
}

Obj = dict[str, Any]


class _Finalizing(Protocol):
    """The one call beyond the client protocol this controller needs."""

    async def replace(self, obj: Mapping[str, Any], *, subresource: str | None = None) -> dict[str, Any]: ...


def controller(manager: Manager, *, resources: Resources) -> Controller:
    """The namespace controller (events and logs as ``namespace-controller``)."""
    reconciler = NamespaceReconciler(manager, resources=resources)
    return Controller(
        "namespace-controller",
        for_=NAMESPACE,
        reconciler=reconciler,
        watches=[(*POD, EnqueueRequestsFromMapFunc(reconciler.namespace_of_deleted_pod))],
    )


async def finalize_namespace(client: Client, namespace: Mapping[str, Any], *, finalizer: str = FINALIZER) -> Obj:
    """Remove ``finalizer`` from ``spec.finalizers`` through the ``finalize`` subresource."""
    body = deep_copy(dict(namespace))
    spec = body.setdefault("spec", {})
    spec["finalizers"] = [f for f in spec.get("finalizers") or () if f != finalizer]
    finalizing: _Finalizing = client  # type: ignore[assignment]
    return await finalizing.replace(body, subresource="finalize")


class NamespaceReconciler:
    """Empties and finalizes terminating namespaces (see the module docstring)."""

    def __init__(self, manager: Manager, *, resources: Resources) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.namespaces = manager.informer(*NAMESPACE)
        self._resources = resources

    def namespace_of_deleted_pod(self, pod: Mapping[str, Any]) -> list[Request]:
        """A pod going away in a terminating namespace may be the last thing it waits for."""
        name = meta(pod).get("namespace") or ""
        namespace = self.namespaces.get("", name, copy=False)
        if namespace is None or not is_being_deleted(namespace) or not is_being_deleted(pod):
            return []
        return [Request(*NAMESPACE, "", name)]

    async def reconcile(self, request: Request) -> Result | None:
        try:
            namespace = await self.client.get(*NAMESPACE, request.name)
        except NotFound:
            return None
        if not is_being_deleted(namespace):
            return None
        if FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or ()):
            return None
        estimate, remaining, finalizers, errors = await self._delete_all_content(request.name)
        await self._update_conditions(namespace, remaining=remaining, finalizers=finalizers, errors=errors)
        if errors:
            raise errors[0]
        if remaining:
            return Result(requeue_after=float(estimate // 2 + 1))
        fresh = await self.client.get(*NAMESPACE, request.name)
        await finalize_namespace(self.client, fresh)
        log.info("namespace %s is empty; finalized", request.name)
        return None

    def _kinds(self) -> list[ResourceType]:
        """One served version of each namespaced kind that can be listed and deleted."""
        found: dict[tuple[str, str], ResourceType] = {}
        for rt in sorted(self._resources(), key=lambda r: not r.storage):
            if rt.namespaced and set(rt.verbs) >= _REQUIRED_VERBS:
                found.setdefault((rt.group, rt.kind), rt)
        return list(found.values())

    async def _delete_all_content(
        self, namespace: str
    ) -> tuple[int, dict[str, int], Counter[str], list[ApiError]]:
        """Delete everything; (estimate, remaining per resource, finalizers, errors)."""
        estimate = 0
        remaining: dict[str, int] = {}
        finalizers: Counter[str] = Counter()
        errors: list[ApiError] = []
        for rt in self._kinds():
            try:
                listed = await self.client.list(rt.api_version, rt.kind, namespace=namespace)
                items = listed.get("items") or []
                kind_estimate = _grace_estimate(items) if (rt.group, rt.kind) == ("", "Pod") else 0
                for item in items:
                    if is_being_deleted(item):
                        continue
                    try:
                        await self.client.delete(
                            rt.api_version, rt.kind, meta(item)["name"], namespace=namespace,
                            propagation_policy="Background",
                        )
                    except (NotFound, MethodNotAllowed):
                        pass
                left = (await self.client.list(rt.api_version, rt.kind, namespace=namespace)).get("items") or []
            except ApiError as exc:
                errors.append(exc)
                continue
            if not left:
                continue
            remaining[f"{rt.plural}.{rt.group}"] = len(left)
            these = Counter(f for item in left for f in meta(item).get("finalizers") or ())
            finalizers.update(these)
            if kind_estimate == 0 and these:
                kind_estimate = FINALIZER_ESTIMATE_SECONDS
            estimate = max(estimate, kind_estimate)
        return estimate, remaining, finalizers, errors

    async def _update_conditions(
        self, namespace: Obj, *, remaining: Mapping[str, int], finalizers: Counter[str], errors: list[ApiError]
    ) -> None:
        failing: dict[str, tuple[str, str]] = {}
        if errors:
            failing["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(errors)} remaining: "
                + ", ".join(error_message(e) for e in errors),
            )
        if remaining:
            listed = sorted(f"{resource} has {count} resource instances" for resource, count in remaining.items())
            failing["NamespaceContentRemaining"] = (
                "SomeResourcesRemain", f"Some resources are remaining: {', '.join(listed)}"
            )
        if finalizers:
            listed = sorted(f"{name} in {count} resource instances" for name, count in finalizers.items())
            failing["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain",
                f"Some content in the namespace has finalizers remaining: {', '.join(listed)}",
            )
        status = deep_copy(namespace.get("status") or {})
        conditions: list[Obj] = status.setdefault("conditions", [])
        now = format_time(self.clock.now())
        for type_ in CONDITION_TYPES:
            state, (reason, message) = ("True", failing[type_]) if type_ in failing else ("False", _OK[type_])
            current = next((c for c in conditions if c.get("type") == type_), None)
            if current is None:
                conditions.append({
                    "type": type_, "status": state, "lastTransitionTime": now, "reason": reason, "message": message,
                })
                continue
            if current.get("status") != state:
                current["lastTransitionTime"] = now
            current.update(status=state, reason=reason, message=message)
        if status == (namespace.get("status") or {}):
            return
        body = deep_copy(namespace)
        body["status"] = status
        body["metadata"].pop("resourceVersion", None)
        await self.client.replace_status(body)


def _grace_estimate(pods: Iterable[Mapping[str, Any]]) -> int:
    """The longest termination grace period of the pods still running."""
    estimate = 0
    for pod in pods:
        if pod_phase(pod) in ("Succeeded", "Failed"):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        if grace is not None:
            estimate = max(estimate, int(grace))
    return estimate
