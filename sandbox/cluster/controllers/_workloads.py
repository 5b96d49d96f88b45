"""What every workload controller needs: pods from templates, pod states, hashes.

ReplicaSet, Deployment, StatefulSet and DaemonSet controllers all turn a
``spec.template`` into Pods, judge pods by the status the kubelet writes, and
name things by a hash of a template. Kubernetes keeps these in
``pkg/controller/controller_utils.go`` and ``pkg/api/v1/pod``; this module is
that, over plain dict objects:

- :func:`pod_from_template` is ``GetPodFromTemplate``: labels, annotations,
  finalizers and spec copied from the template, the owner as controller
  reference (``controller: true, blockOwnerDeletion: true``);
- :func:`is_pod_active`, :func:`is_pod_ready`, :func:`is_pod_available` read a
  pod the way controllers count it (an active pod is neither finished nor
  being deleted; *available* means Ready for ``minReadySeconds``);
- :func:`scaled_value` resolves ``maxSurge``/``maxUnavailable``-style int or
  percent values with Kubernetes' rounding;
- :func:`template_hash` is ``ComputeHash``: FNV-32a of the template (plus the
  collision count) encoded with the same consonant-and-digit alphabet as
  generated names, so ``web-7d9f8c6b5`` looks like Kubernetes' names. The bytes
  hashed are canonical JSON, not Go's struct dump, so the hash *values* differ
  from a real cluster's; only their shape and stability matter;
- :func:`write_status` writes a computed status unconditionally (one
  controller owns each kind's status, and the work queue never reconciles one
  object twice at once, so there is no other writer to lose).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox.api.errors import ApiError
from sandbox.api.objects import deep_copy, find_condition, meta, owner_reference
from sandbox.api.selectors import LabelSelector
from sandbox.client.protocol import Client
from sandbox.clock import parse_time

__all__ = [
    "POD_TEMPLATE_HASH_LABEL",
    "REVISION_HASH_LABEL",
    "active_pods",
    "error_message",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "owned_by_uid",
    "pod_from_template",
    "pod_phase",
    "ready_since",
    "safe_encode",
    "scaled_value",
    "selector_of",
    "template_hash",
    "write_status",
]

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
"""The Deployment's label that tells its ReplicaSets' pods apart."""

REVISION_HASH_LABEL = "controller-revision-hash"
"""The StatefulSet/DaemonSet label naming the revision a pod was made from."""

# rand.SafeEncodeString's alphabet: no vowels (no words), no look-alikes.
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


# Templates ----------------------------------------------------------------------


def pod_from_template(
    template: Mapping[str, Any],
    *,
    owner: Mapping[str, Any],
    namespace: str,
    name: str | None = None,
    generate_name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Pod made from ``template``, controlled by ``owner``.

    ``labels`` are added to the template's. Without ``name`` the pod is named
    by the server from ``generate_name`` (default ``<owner name>-``).
    """
    template_meta = template.get("metadata") or {}
    pod_meta: dict[str, Any] = {
        "namespace": namespace,
        "labels": {**(template_meta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_reference(owner)],
    }
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = generate_name or f"{meta(owner)['name']}-"
    for key in ("annotations", "finalizers"):
        if template_meta.get(key):
            pod_meta[key] = deep_copy(template_meta[key])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": deep_copy(template.get("spec") or {}),
    }


def selector_of(obj: Mapping[str, Any]) -> LabelSelector:
    """The workload's ``spec.selector`` (a missing selector selects nothing)."""
    return LabelSelector.from_dict((obj.get("spec") or {}).get("selector"))


def owned_by_uid(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether ``obj``'s controller reference points at ``uid``."""
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in meta(obj).get("ownerReferences") or ()
    )


# Pod states ----------------------------------------------------------------------


def pod_phase(pod: Mapping[str, Any]) -> str:
    """``status.phase``; a pod no kubelet has written yet is ``Pending``."""
    return (pod.get("status") or {}).get("phase") or "Pending"


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """``IsPodActive``: not Succeeded, not Failed, not being deleted."""
    return pod_phase(pod) not in ("Succeeded", "Failed") and not meta(pod).get(
        "deletionTimestamp"
    )


def active_pods(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pods if is_pod_active(p)]


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    cond = find_condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: Mapping[str, Any]) -> datetime | None:
    """When the pod last became Ready (``None`` if it is not Ready)."""
    cond = find_condition(pod, "Ready")
    if cond is None or cond.get("status") != "True" or not cond.get("lastTransitionTime"):
        return None
    return parse_time(cond["lastTransitionTime"])


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> bool:
    """``IsPodAvailable``: Ready, and for at least ``min_ready_seconds``."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + timedelta(seconds=min_ready_seconds) <= now


# Numbers and hashes -------------------------------------------------------------------


def scaled_value(value: int | str | None, total: int, *, round_up: bool) -> int:
    """``GetScaledValueFromIntOrPercent``: an int as is, ``"25%"`` of ``total``.

    Percentages round up for surges and down for unavailability, so a rollout
    of 1 replica with the defaults (25%/25%) surges one pod and keeps it up.
    """
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage: {text!r}") from None
    try:
        percent = int(text[:-1])
    except ValueError:
        raise ValueError(f"invalid value {text!r}: must be an integer or a percentage") from None
    scaled = percent * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def _fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each character mapped into the name alphabet."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in text)


def without_nulls(value: Any) -> Any:
    """``value`` with every null-valued key dropped, at any depth.

    Go decodes a JSON ``null`` into a field's zero value, so to a controller
    ``creationTimestamp: null`` (which kubectl sends in templates) and no
    ``creationTimestamp`` are the same template; comparisons and hashes of
    templates must agree.
    """
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def template_hash(template: Any, collision_count: int | None = None) -> str:
    """``ComputeHash``: a short, stable, name-safe hash of ``template`` (nulls as absent)."""
    data = json.dumps(without_nulls(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += int(collision_count & 0xFFFFFFFF).to_bytes(4, "little")
    return safe_encode(str(_fnv32a(data)))


# Writing status -------------------------------------------------------------------------


async def write_status(
    client: Client, obj: Mapping[str, Any], status: Mapping[str, Any]
) -> dict[str, Any]:
    """Replace ``obj``'s status with ``status`` if it differs; returns the object as stored.

    Sent without ``resourceVersion``: the status is recomputed from the world on
    every reconcile, so the newest computation is always the one to keep.
    """
    if (obj.get("status") or {}) == status:
        return dict(obj)
    body = deep_copy(dict(obj))
    body["metadata"] = {k: v for k, v in meta(obj).items() if k != "resourceVersion"}
    body["status"] = deep_copy(dict(status))
    return await client.replace_status(body)


def error_message(exc: BaseException) -> str:
    """The message a user sees for ``exc`` (an API error's Status message)."""
    if isinstance(exc, ApiError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
