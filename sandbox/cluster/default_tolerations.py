"""The DefaultTolerationSeconds admission plugin: pods tolerate a lost node for five minutes.

kube-apiserver's ``DefaultTolerationSeconds`` plugin (enabled by default)
mutates every Pod it admits: unless the pod already tolerates the taint with
effect ``NoExecute``, it appends::

    {key: node.kubernetes.io/not-ready,   operator: Exists, effect: NoExecute, tolerationSeconds: 300}
    {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}

so ``kubectl describe pod`` lists ``node.kubernetes.io/not-ready:NoExecute
op=Exists for 300s`` under ``Tolerations`` as on any real cluster, and
``kubectl get pod -o yaml`` shows the same spec.

Data flow::

    Pod CREATE / UPDATE (not a subresource) ──► spec.tolerations
        tolerates not-ready with NoExecute?   (key equal or empty, effect NoExecute or empty)
          no ─► append the not-ready toleration
        tolerates unreachable with NoExecute? ─► no ─► append the unreachable toleration

The check is upstream's, which looks only at key and effect: a toleration
with an empty key (``operator: Exists`` alone) or an empty effect counts,
whatever its operator or value. Like upstream the hook also runs on UPDATE,
where it changes nothing for a pod admitted with them (Kubernetes allows
adding tolerations to a pod, so a pod stored before the hook existed gains
them on its next update).

These tolerations change no scheduling decision (the scheduler's not-ready
and unreachable taints have effect NoSchedule) and no QoS class. What they
are for — the taint manager evicting pods 300 s after their node went
not-ready — is not simulated (docs/explanation/fidelity.md).

Like the ServiceAccount hook, it is written against the duck-typed admission
request so the cluster layer never imports the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

__all__ = [
    "DEFAULT_TOLERATION_SECONDS",
    "NOT_READY_TAINT",
    "UNREACHABLE_TAINT",
    "default_toleration_seconds",
]

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
#: kube-apiserver's ``--default-not-ready-toleration-seconds`` and
#: ``--default-unreachable-toleration-seconds``.
DEFAULT_TOLERATION_SECONDS = 300


class AdmissionRequestLike(Protocol):
    """What the hook reads from the store's ``AdmissionRequest`` (duck-typed)."""

    operation: str
    object: dict[str, Any]
    subresource: str | None


def _tolerates_no_execute(tolerations: Iterable[Mapping[str, Any]], key: str) -> bool:
    return any(
        (t.get("key") or "") in (key, "") and (t.get("effect") or "") in ("NoExecute", "")
        for t in tolerations
    )


def default_toleration_seconds(request: AdmissionRequestLike) -> None:
    """The mutating hook for Pods (register it for group ``""``, kind ``Pod``)."""
    if request.operation not in ("CREATE", "UPDATE") or request.subresource:
        return
    spec = request.object.get("spec")
    if not isinstance(spec, dict):
        return
    tolerations = spec.get("tolerations")
    if tolerations is None:
        tolerations = []
    elif not isinstance(tolerations, list):
        return  # malformed: validation answers it
    existing = [t for t in tolerations if isinstance(t, Mapping)]
    added = [
        {
            "key": key,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
        }
        for key in (NOT_READY_TAINT, UNREACHABLE_TAINT)
        if not _tolerates_no_execute(existing, key)
    ]
    if added:
        spec["tolerations"] = [*tolerations, *added]
