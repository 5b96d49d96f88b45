"""The Deployment controller: ReplicaSets per pod template, rolled out by strategy.

Kubernetes' ``pkg/controller/deployment`` (``sync.go``, ``rolling.go``,
``recreate.go``, ``progress.go``), decision for decision, so that scaling,
rollouts and ``kubectl rollout status`` behave as on a real cluster.

Data flow of one reconcile::

    Deployment + ReplicaSets (cache) ──claim──► its ReplicaSets
        │                                          │ new RS = the one whose template equals
        │                                          │ the Deployment's (ignoring pod-template-hash)
        ▼                                          ▼
    paused or a scaling event? ── yes ──► scale proportionally (sync)
        │ no
        ├── RollingUpdate: grow the new RS up to replicas+maxSurge pods in total,
        │                  shrink old ones while replicas-maxUnavailable stay available
        └── Recreate:      old RSs to 0, wait until their pods are gone, new RS to replicas
                                           │
                                           ▼
              status (replicas, updated, ready, available, unavailable, observedGeneration)
              + conditions Available / Progressing / ReplicaFailure, events ScalingReplicaSet

Naming and bookkeeping match Kubernetes: the new ReplicaSet is
``<deployment>-<hash>`` where the hash is of the pod template (plus
``status.collisionCount`` after a name collision), and the label
``pod-template-hash=<hash>`` is added to its selector, template and so its
pods. ReplicaSets carry ``deployment.kubernetes.io/revision`` (max of the old
ones + 1; rolling back to an old template moves its revision forward and
records the old number in ``revision-history``), ``desired-replicas`` and
``max-replicas`` (used for proportional scaling during a rollout); the
Deployment carries the revision of its newest ReplicaSet. Old ReplicaSets
scaled to zero beyond ``revisionHistoryLimit`` are deleted once a rollout
completes.

``maxSurge`` rounds percentages up, ``maxUnavailable`` rounds down, and if
both come out as zero, ``maxUnavailable`` is 1 (``ResolveFenceposts``).

Progress: ``Progressing`` is ``True`` with ``NewReplicaSetCreated`` /
``FoundNewReplicaSet`` / ``ReplicaSetUpdated`` while a rollout advances (each
advance refreshes ``lastUpdateTime``), ``NewReplicaSetAvailable`` when it is
complete, and ``False`` with ``ProgressDeadlineExceeded`` when nothing
advanced for ``progressDeadlineSeconds``; the controller asks to be woken at
that deadline. ``Available`` is ``MinimumReplicasAvailable`` while at least
``replicas - maxUnavailable`` pods are available.

One difference from a real API server: Kubernetes writes the Deployment's
revision annotation through ``UpdateStatus`` (its status strategy keeps
annotation changes); the sandbox's status subresource keeps only ``status``,
so the annotation is a separate metadata patch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox.api.errors import AlreadyExists, ApiError, NotFound
from sandbox.api.objects import controller_of, deep_copy, is_being_deleted, meta
from sandbox.clock import format_time, parse_time
from sandbox.runtime import Controller, Manager, Request, Result, WorkQueue, get_logger

from ._workloads import (
    POD_TEMPLATE_HASH_LABEL,
    error_message,
    owned_by_uid,
    pod_phase,
    scaled_value,
    selector_of,
    template_hash,
    without_nulls,
    write_status,
)
from ._workloads_claim import claim
from ._workloads_handlers import ChildEventHandler, owners_selecting

__all__ = [
    "DeploymentReconciler",
    "calculate_status",
    "controller",
    "equal_ignore_hash",
    "max_surge",
    "max_unavailable",
    "new_rs_new_replicas",
    "resolve_fenceposts",
]

log = get_logger(__name__)

DEPLOYMENT = ("apps/v1", "Deployment")
RS = ("apps/v1", "ReplicaSet")
POD = ("v1", "Pod")

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
_NOT_COPIED = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
})
_REVISION_HISTORY_LIMIT_CHARS = 2000
_MAX_INT32 = 2**31 - 1

# Condition reasons (deployment/util).
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

Obj = dict[str, Any]


def controller(manager: Manager) -> Controller:
    """The Deployment controller (events from ``deployment-controller``)."""
    reconciler = DeploymentReconciler(manager)
    return Controller(
        "deployment-controller",
        for_=DEPLOYMENT,
        reconciler=reconciler,
        watches=[(*RS, reconciler.replicaset_events), (*POD, reconciler.pod_events)],
    )


# Pure helpers -----------------------------------------------------------------------------


def _replicas(obj: Mapping[str, Any] | None) -> int:
    if obj is None:
        return 0
    return int((obj.get("spec") or {}).get("replicas", 1))


def _status_count(obj: Mapping[str, Any] | None, field: str) -> int:
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field) or 0)


def _revision(rs: Mapping[str, Any]) -> int:
    try:
        return int((meta(rs).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _created(obj: Mapping[str, Any]) -> tuple[str, str]:
    return (meta(obj).get("creationTimestamp") or "", meta(obj).get("name") or "")


def _template_without_hash(template: Mapping[str, Any]) -> Obj:
    copy: Obj = without_nulls(deep_copy(dict(template)))
    template_meta = copy.setdefault("metadata", {})
    labels = {k: v for k, v in (template_meta.get("labels") or {}).items() if k != POD_TEMPLATE_HASH_LABEL}
    if labels:
        template_meta["labels"] = labels
    else:
        template_meta.pop("labels", None)
    if not template_meta:
        copy.pop("metadata")
    return copy


def equal_ignore_hash(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """``EqualIgnoreHash``: the same template but for the pod-template-hash label."""
    return _template_without_hash(a) == _template_without_hash(b)


def _rolling(d: Mapping[str, Any]) -> Mapping[str, Any] | None:
    strategy = (d.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {}


def resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``ResolveFenceposts``: surge rounds up, unavailable down, never both zero."""
    resolved_surge = scaled_value(surge, desired, round_up=True)
    resolved_unavailable = scaled_value(unavailable, desired, round_up=False)
    if resolved_surge == 0 and resolved_unavailable == 0:
        resolved_unavailable = 1
    return resolved_surge, resolved_unavailable


def max_surge(d: Mapping[str, Any]) -> int:
    rolling = _rolling(d)
    if rolling is None:
        return 0
    return resolve_fenceposts(
        rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%"), _replicas(d)
    )[0]


def max_unavailable(d: Mapping[str, Any]) -> int:
    rolling = _rolling(d)
    desired = _replicas(d)
    if rolling is None or desired == 0:
        return 0
    unavailable = resolve_fenceposts(
        rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%"), desired
    )[1]
    return min(unavailable, desired)


def _sum_spec(rss: list[Obj | None]) -> int:
    return sum(_replicas(rs) for rs in rss if rs is not None)


def _sum_status(rss: list[Obj | None], field: str) -> int:
    return sum(_status_count(rs, field) for rs in rss if rs is not None)


def _active(rss: list[Obj | None]) -> list[Obj]:
    return [rs for rs in rss if rs is not None and _replicas(rs) > 0]


def _annotation_int(obj: Mapping[str, Any], key: str) -> int | None:
    try:
        return int((meta(obj).get("annotations") or {})[key])
    except (KeyError, ValueError):
        return None


def _has_progress_deadline(d: Mapping[str, Any]) -> bool:
    deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return deadline is not None and deadline != _MAX_INT32


def new_rs_new_replicas(d: Mapping[str, Any], all_rss: list[Obj | None], new_rs: Obj) -> int:
    """``NewRSNewReplicas``: how far the new ReplicaSet may grow now."""
    if _rolling(d) is None:
        return _replicas(d)
    current = _sum_spec(all_rss)
    max_total = _replicas(d) + max_surge(d)
    if current >= max_total:
        return _replicas(new_rs)
    scale_up = min(max_total - current, _replicas(d) - _replicas(new_rs))
    return _replicas(new_rs) + scale_up


def _is_saturated(d: Mapping[str, Any], rs: Obj | None) -> bool:
    if rs is None:
        return False
    desired = _annotation_int(rs, DESIRED_REPLICAS)
    return (
        desired == _replicas(d)
        and _replicas(rs) == _replicas(d)
        and _status_count(rs, "availableReplicas") == _replicas(d)
    )


def _find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=_created, reverse=True)
    active = _active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


# Conditions (DeploymentCondition has lastUpdateTime as well as lastTransitionTime) ------


def _condition(type_: str, status: str, reason: str, message: str, now: datetime) -> Obj:
    stamp = format_time(now)
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def _get_condition(status: Mapping[str, Any], type_: str) -> Obj | None:
    for cond in status.get("conditions") or ():
        if cond.get("type") == type_:
            return cond
    return None


def _set_condition(status: Obj, cond: Obj) -> None:
    """``SetDeploymentCondition``: same status and reason is no change at all."""
    current = _get_condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    _remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def _remove_condition(status: Obj, type_: str) -> None:
    conditions = [c for c in status.get("conditions") or () if c.get("type") != type_]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def _complete(d: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """``DeploymentComplete``: every replica updated and available, generation observed."""
    desired = _replicas(d)
    return (
        int(status.get("updatedReplicas") or 0) == desired
        and int(status.get("replicas") or 0) == desired
        and int(status.get("availableReplicas") or 0) == desired
        and int(status.get("observedGeneration") or 0) >= int(meta(d).get("generation") or 0)
    )


def _progressing(d: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """``DeploymentProgressing``: something moved since the last status."""
    old = d.get("status") or {}

    def count(s: Mapping[str, Any], field: str) -> int:
        return int(s.get(field) or 0)

    old_old = count(old, "replicas") - count(old, "updatedReplicas")
    new_old = count(status, "replicas") - count(status, "updatedReplicas")
    return (
        count(status, "updatedReplicas") > count(old, "updatedReplicas")
        or new_old < old_old
        or count(status, "readyReplicas") > count(old, "readyReplicas")
        or count(status, "availableReplicas") > count(old, "availableReplicas")
    )


def _timed_out(d: Mapping[str, Any], status: Mapping[str, Any], now: datetime) -> bool:
    if not _has_progress_deadline(d):
        return False
    cond = _get_condition(status, "Progressing")
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    deadline = int((d.get("spec") or {})["progressDeadlineSeconds"])
    return parse_time(cond["lastUpdateTime"]) + timedelta(seconds=deadline) < now


def calculate_status(all_rss: list[Obj | None], new_rs: Obj | None, d: Mapping[str, Any], now: datetime) -> Obj:
    """``calculateStatus``: counts summed over the ReplicaSets, and Available."""
    available = _sum_status(all_rss, "availableReplicas")
    unavailable = max(_sum_spec(all_rss) - available, 0)
    old = d.get("status") or {}
    status: Obj = {}
    for field, value in (
        ("observedGeneration", int(meta(d).get("generation") or 0)),
        ("replicas", _sum_status(all_rss, "replicas")),
        ("updatedReplicas", _sum_status([new_rs], "replicas")),
        ("readyReplicas", _sum_status(all_rss, "readyReplicas")),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    ):
        if value:
            status[field] = value
    if old.get("conditions"):
        status["conditions"] = deep_copy(old["conditions"])
    if "collisionCount" in old:
        status["collisionCount"] = old["collisionCount"]
    if available >= _replicas(d) - max_unavailable(d):
        cond = _condition("Available", "True", MIN_AVAILABLE, "Deployment has minimum availability.", now)
    else:
        cond = _condition(
            "Available", "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability.", now
        )
    _set_condition(status, cond)
    return status


class _PodDeletions:
    """Pod deletions matter only to Recreate rollouts, which wait for old pods to go."""

    def __init__(self, reconciler: DeploymentReconciler) -> None:
        self._reconciler = reconciler

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        return None

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        return None

    def on_delete(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        request = self._reconciler.deployment_of_pod(obj)
        if request is not None:
            queue.add(request)


# The reconciler ------------------------------------------------------------------------------


class DeploymentReconciler:
    """Converges one Deployment (see the module docstring)."""

    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.recorder = manager.event_recorder("deployment-controller")
        self.deployments = manager.informer(*DEPLOYMENT)
        self.replicasets = manager.informer(*RS)
        self.pods = manager.informer(*POD)
        self.replicaset_events = ChildEventHandler(
            *DEPLOYMENT, orphan_owners=owners_selecting(self.deployments)
        )
        self.pod_events = _PodDeletions(self)

    def deployment_of_pod(self, pod: Mapping[str, Any]) -> Request | None:
        """The Recreate Deployment whose ReplicaSet controlled ``pod``, if any."""
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return None
        namespace = meta(pod).get("namespace") or ""
        rs = self.replicasets.get(namespace, ref["name"], copy=False)
        owner = controller_of(rs) if rs is not None else None
        if owner is None or owner.get("kind") != "Deployment":
            return None
        d = self.deployments.get(namespace, owner["name"], copy=False)
        if d is None or ((d.get("spec") or {}).get("strategy") or {}).get("type") != "Recreate":
            return None
        return Request(*DEPLOYMENT, namespace, owner["name"])

    async def reconcile(self, request: Request) -> Result | None:
        d = self.deployments.get(request.namespace, request.name)
        if d is None:
            return None
        if not (d.get("spec") or {}).get("selector"):
            await self.recorder.warning(
                d, reason="SelectingAll",
                message="This deployment is selecting all pods. A non-empty selector is required.",
            )
            return None
        rs_list = await self._replicasets_of(d)
        if is_being_deleted(d):
            return await self._sync_status_only(d, rs_list)
        await self._check_paused_conditions(d)
        if (d.get("spec") or {}).get("paused"):
            return await self._sync(d, rs_list)
        if await self._is_scaling_event(d, rs_list):
            return await self._sync(d, rs_list)
        if ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            return await self._rollout_recreate(d, rs_list)
        return await self._rollout_rolling(d, rs_list)

    async def _replicasets_of(self, d: Obj) -> list[Obj]:
        namespace = meta(d)["namespace"]
        candidates = self.replicasets.list(namespace, copy=False)
        return await claim(self.client, d, candidates, selector=selector_of(d), child=RS)

    # Revisions and the new ReplicaSet ------------------------------------------------------

    async def _all_replicasets(self, d: Obj, rs_list: list[Obj], *, create: bool) -> tuple[Obj | None, list[Obj]]:
        """``getAllReplicaSetsAndSyncRevision``: (new RS or None, old RSs)."""
        template = (d.get("spec") or {}).get("template") or {}
        new_rs = next(
            (rs for rs in sorted(rs_list, key=_created)
             if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template)),
            None,
        )
        old_rss = [rs for rs in rs_list if rs is not new_rs]
        new_rs = await self._new_replicaset(d, new_rs, old_rss, create=create)
        return new_rs, old_rss

    async def _new_replicaset(self, d: Obj, existing: Obj | None, old_rss: list[Obj], *, create: bool) -> Obj | None:
        new_revision = str(max((_revision(rs) for rs in old_rss), default=0) + 1)
        now = self.clock.now()
        if existing is not None:
            updated = deep_copy(existing)
            changed = _set_new_rs_annotations(d, updated, new_revision, exists=True)
            min_ready = (d.get("spec") or {}).get("minReadySeconds") or 0
            if changed or ((existing.get("spec") or {}).get("minReadySeconds") or 0) != min_ready:
                patch = {
                    "metadata": {"annotations": meta(updated).get("annotations") or {}},
                    "spec": {"minReadySeconds": min_ready},
                }
                return await self.client.patch(*RS, meta(existing)["name"], patch, namespace=meta(d)["namespace"])
            status = deep_copy(d.get("status") or {})
            if _has_progress_deadline(d) and _get_condition(status, "Progressing") is None:
                _set_condition(status, _condition(
                    "Progressing", "True", FOUND_NEW_RS, f'Found new replica set "{meta(existing)["name"]}"', now
                ))
            await self._set_revision(d, (meta(existing).get("annotations") or {}).get(REVISION, ""))
            await self._write_status(d, status)
            return existing
        if not create:
            return None
        return await self._create_new_replicaset(d, old_rss, new_revision, now)

    async def _create_new_replicaset(self, d: Obj, old_rss: list[Obj], new_revision: str, now: datetime) -> Obj | None:
        spec = d.get("spec") or {}
        namespace = meta(d)["namespace"]
        collision_count = (d.get("status") or {}).get("collisionCount")
        template = deep_copy(spec.get("template") or {})
        pod_hash = template_hash(template, collision_count)
        template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH_LABEL] = pod_hash
        selector = deep_copy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH_LABEL] = pod_hash
        name = f"{meta(d)['name']}-{pod_hash}"
        new_rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "ownerReferences": [_controller_ref(d)],
                "labels": dict(template["metadata"]["labels"]),
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": spec.get("minReadySeconds") or 0,
                "selector": selector,
                "template": template,
            },
        }
        new_rs["spec"]["replicas"] = new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
        _set_new_rs_annotations(d, new_rs, new_revision, exists=False)
        already_exists = False
        try:
            created = await self.client.create(new_rs)
        except AlreadyExists:
            already_exists = True
            found = await self.client.get(*RS, name, namespace=namespace)
            if owned_by_uid(found, meta(d)["uid"]) and equal_ignore_hash(
                (found.get("spec") or {}).get("template") or {}, spec.get("template") or {}
            ):
                created = found
            else:
                # A hash collision: try another name on the next sync.
                status = deep_copy(d.get("status") or {})
                status["collisionCount"] = int(collision_count or 0) + 1
                log.info(
                    "Found a hash collision for deployment - bumping collisionCount to %d",
                    status["collisionCount"],
                )
                await self._write_status(d, status)
                raise
        except ApiError as exc:
            if "because it is being terminated" in exc.message:
                raise
            message = f'Failed to create new replica set "{name}": {error_message(exc)}'
            if _has_progress_deadline(d):
                status = deep_copy(d.get("status") or {})
                _set_condition(status, _condition("Progressing", "False", FAILED_RS_CREATE, message, now))
                await self._write_status(d, status)
            await self.recorder.warning(d, reason=FAILED_RS_CREATE, message=message)
            raise
        replicas = _replicas(created)
        if not already_exists and replicas > 0:
            await self.recorder.normal(
                d, reason="ScalingReplicaSet",
                message=f"Scaled up replica set {meta(created)['name']} from 0 to {replicas}",
            )
        await self._set_revision(d, new_revision)
        if not already_exists and _has_progress_deadline(d):
            status = deep_copy(d.get("status") or {})
            _set_condition(status, _condition(
                "Progressing", "True", NEW_RS_CREATED, f'Created new replica set "{meta(created)["name"]}"', now
            ))
            await self._write_status(d, status)
        return created

    async def _set_revision(self, d: Obj, revision: str) -> None:
        """``SetDeploymentRevision``: the Deployment shows its newest revision."""
        if not revision or (meta(d).get("annotations") or {}).get(REVISION) == revision:
            return
        updated = await self.client.patch(
            *DEPLOYMENT, meta(d)["name"], {"metadata": {"annotations": {REVISION: revision}}},
            namespace=meta(d)["namespace"],
        )
        d["metadata"]["annotations"] = meta(updated).get("annotations") or {}

    async def _write_status(self, d: Obj, status: Obj) -> None:
        if (d.get("status") or {}) == status:
            return
        await write_status(self.client, d, status)
        d["status"] = status

    # Scaling -------------------------------------------------------------------------------------

    async def _scale_and_record(self, rs: Obj, new_scale: int, d: Obj) -> bool:
        if _replicas(rs) == new_scale:
            return False
        return await self._scale_replicaset(rs, new_scale, d)

    async def _scale_replicaset(self, rs: Obj, new_scale: int, d: Obj) -> bool:
        """Set an RS's size and its desired/max annotations; records ScalingReplicaSet."""
        old_scale = _replicas(rs)
        desired, maximum = _replicas(d), _replicas(d) + max_surge(d)
        annotations = meta(rs).get("annotations") or {}
        size_changed = old_scale != new_scale
        annotations_changed = (
            annotations.get(DESIRED_REPLICAS) != str(desired) or annotations.get(MAX_REPLICAS) != str(maximum)
        )
        if not (size_changed or annotations_changed):
            return False
        patch = {
            "metadata": {"annotations": {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(maximum)}},
            "spec": {"replicas": new_scale},
        }
        updated = await self.client.patch(*RS, meta(rs)["name"], patch, namespace=meta(rs)["namespace"])
        rs.clear()
        rs.update(updated)
        if size_changed:
            direction = "up" if old_scale < new_scale else "down"
            await self.recorder.normal(
                d, reason="ScalingReplicaSet",
                message=f"Scaled {direction} replica set {meta(rs)['name']} from {old_scale} to {new_scale}",
            )
        return size_changed

    async def _is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        new_rs, old_rss = await self._all_replicasets(d, rs_list, create=False)
        for rs in _active([*old_rss, new_rs]):
            desired = _annotation_int(rs, DESIRED_REPLICAS)
            if desired is not None and desired != _replicas(d):
                return True
        return False

    async def _scale(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """``scale``: a new size spread over the ReplicaSets in proportion to theirs."""
        target = _find_active_or_latest(new_rs, old_rss)
        if target is not None:
            if _replicas(target) != _replicas(d):
                await self._scale_and_record(target, _replicas(d), d)
            return
        if _is_saturated(d, new_rs):
            for rs in _active(list(old_rss)):
                await self._scale_and_record(rs, 0, d)
            return
        if _rolling(d) is None:
            return
        all_rss = _active([*old_rss, new_rs])
        allowed = _replicas(d) + max_surge(d) if _replicas(d) > 0 else 0
        to_add = allowed - _sum_spec(list(all_rss))
        if to_add > 0:
            all_rss.sort(key=lambda rs: (-_replicas(rs), _Reverse(_created(rs))))
        elif to_add < 0:
            all_rss.sort(key=lambda rs: (-_replicas(rs), _created(rs)))
        sizes: dict[str, int] = {}
        added = 0
        for rs in all_rss:
            if to_add == 0:
                sizes[meta(rs)["name"]] = _replicas(rs)
                continue
            proportion = self._proportion(rs, d, to_add, added)
            sizes[meta(rs)["name"]] = _replicas(rs) + proportion
            added += proportion
        if to_add != 0 and all_rss:
            first = meta(all_rss[0])["name"]
            sizes[first] = max(sizes[first] + to_add - added, 0)
        for rs in all_rss:
            await self._scale_replicaset(rs, sizes[meta(rs)["name"]], d)

    def _proportion(self, rs: Obj, d: Obj, to_add: int, added: int) -> int:
        """``GetProportion``: this RS's share of a scaling, bounded by what is left."""
        if _replicas(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        fraction = self._fraction(rs, d)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def _fraction(self, rs: Obj, d: Obj) -> int:
        if _replicas(d) == 0:
            return -_replicas(rs)
        deployment_replicas = _replicas(d) + max_surge(d)
        annotated = _annotation_int(rs, MAX_REPLICAS)
        if annotated is None:
            annotated = _status_count(d, "replicas")
        if annotated == 0:
            return 0
        new_size = _replicas(rs) * deployment_replicas / annotated
        return _round_half_away(new_size) - _replicas(rs)

    # Strategies -----------------------------------------------------------------------------------

    async def _sync(self, d: Obj, rs_list: list[Obj]) -> Result | None:
        """Scaling events and paused Deployments: resize, never roll."""
        new_rs, old_rss = await self._all_replicasets(d, rs_list, create=False)
        await self._scale(d, new_rs, old_rss)
        if (d.get("spec") or {}).get("paused"):
            await self._cleanup(d, old_rss)
        await self._sync_deployment_status([*old_rss, new_rs], new_rs, d)
        return None

    async def _sync_status_only(self, d: Obj, rs_list: list[Obj]) -> Result | None:
        new_rs, old_rss = await self._all_replicasets(d, rs_list, create=False)
        await self._sync_deployment_status([*old_rss, new_rs], new_rs, d)
        return None

    async def _sync_deployment_status(self, all_rss: list[Obj | None], new_rs: Obj | None, d: Obj) -> None:
        await self._write_status(d, calculate_status(all_rss, new_rs, d, self.clock.now()))

    async def _rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> Result | None:
        new_rs, old_rss = await self._all_replicasets(d, rs_list, create=True)
        assert new_rs is not None
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        if await self._reconcile_new_replicaset(all_rss, new_rs, d):
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if await self._reconcile_old_replicasets(all_rss, _active(list(old_rss)), new_rs, d):
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if _complete(d, d.get("status") or {}):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(all_rss, new_rs, d)

    async def _reconcile_new_replicaset(self, all_rss: list[Obj | None], new_rs: Obj, d: Obj) -> bool:
        if _replicas(new_rs) == _replicas(d):
            return False
        if _replicas(new_rs) > _replicas(d):
            return await self._scale_and_record(new_rs, _replicas(d), d)
        return await self._scale_and_record(new_rs, new_rs_new_replicas(d, all_rss, new_rs), d)

    async def _reconcile_old_replicasets(
        self, all_rss: list[Obj | None], old_rss: list[Obj], new_rs: Obj, d: Obj
    ) -> bool:
        """Shrink old ReplicaSets while ``replicas - maxUnavailable`` pods stay available."""
        if _sum_spec(list(old_rss)) == 0:
            return False
        min_available = _replicas(d) - max_unavailable(d)
        new_unavailable = _replicas(new_rs) - _status_count(new_rs, "availableReplicas")
        max_scaled_down = _sum_spec(all_rss) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = await self._cleanup_unhealthy_replicas(old_rss, d, max_scaled_down)
        scaled = await self._scale_down_old_for_rolling_update([*old_rss, new_rs], old_rss, d)
        return cleaned + scaled > 0

    async def _cleanup_unhealthy_replicas(self, old_rss: list[Obj], d: Obj, limit: int) -> int:
        """Old pods that are not available anyway go first, whatever availability says."""
        total = 0
        for rs in sorted(old_rss, key=_created):
            if total >= limit:
                break
            replicas, available = _replicas(rs), _status_count(rs, "availableReplicas")
            if replicas == 0 or replicas == available:
                continue
            count = min(limit - total, replicas - available)
            await self._scale_and_record(rs, replicas - count, d)
            total += count
        return total

    async def _scale_down_old_for_rolling_update(self, all_rss: list[Obj | None], old_rss: list[Obj], d: Obj) -> int:
        min_available = _replicas(d) - max_unavailable(d)
        available = _sum_status(all_rss, "availableReplicas")
        if available <= min_available:
            return 0
        budget = available - min_available
        total = 0
        for rs in sorted(old_rss, key=_created):
            if total >= budget:
                break
            if _replicas(rs) == 0:
                continue
            count = min(_replicas(rs), budget - total)
            await self._scale_and_record(rs, _replicas(rs) - count, d)
            total += count
        return total

    async def _rollout_recreate(self, d: Obj, rs_list: list[Obj]) -> Result | None:
        new_rs, old_rss = await self._all_replicasets(d, rs_list, create=False)
        all_rss: list[Obj | None] = [*old_rss, new_rs]
        scaled_down = False
        for rs in _active(list(old_rss)):
            if await self._scale_and_record(rs, 0, d):
                scaled_down = True
        if scaled_down:
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if self._old_pods_running(d, new_rs, old_rss):
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if new_rs is None:
            new_rs, old_rss = await self._all_replicasets(d, rs_list, create=True)
            all_rss = [*old_rss, new_rs]
        assert new_rs is not None
        await self._scale_and_record(new_rs, _replicas(d), d)
        if _complete(d, d.get("status") or {}):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(all_rss, new_rs, d)

    def _old_pods_running(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> bool:
        """Any pod of an old ReplicaSet that has not finished (Recreate waits for it)."""
        if _sum_status(list(old_rss), "replicas") > 0:
            return True
        old_uids = {meta(rs)["uid"] for rs in old_rss}
        selector = selector_of(d)
        for pod in self.pods.list(meta(d)["namespace"], copy=False):
            if not selector.matches(meta(pod).get("labels") or {}):
                continue
            owner = controller_of(pod)
            if owner is None or owner.get("uid") not in old_uids:
                continue
            if pod_phase(pod) not in ("Failed", "Succeeded"):
                return True
        return False

    async def _cleanup(self, d: Obj, old_rss: list[Obj]) -> None:
        """Delete old, empty ReplicaSets beyond ``revisionHistoryLimit``, oldest revisions first."""
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        if limit is None or limit == _MAX_INT32:
            return
        cleanable = [rs for rs in old_rss if not is_being_deleted(rs)]
        excess = len(cleanable) - int(limit)
        if excess <= 0:
            return
        cleanable.sort(key=lambda rs: (_revision(rs), _created(rs)))
        for rs in cleanable[:excess]:
            status = rs.get("status") or {}
            if (
                _status_count(rs, "replicas") != 0
                or _replicas(rs) != 0
                or int(meta(rs).get("generation") or 0) > int(status.get("observedGeneration") or 0)
            ):
                continue
            try:
                await self.client.delete(
                    *RS, meta(rs)["name"], namespace=meta(rs)["namespace"],
                    preconditions={"uid": meta(rs)["uid"]},
                )
            except NotFound:
                pass

    # Progress -----------------------------------------------------------------------------------

    async def _check_paused_conditions(self, d: Obj) -> None:
        if not _has_progress_deadline(d):
            return
        status = deep_copy(d.get("status") or {})
        cond = _get_condition(status, "Progressing")
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return
        paused_before = cond is not None and cond.get("reason") == PAUSED
        paused = bool((d.get("spec") or {}).get("paused"))
        now = self.clock.now()
        if paused and not paused_before:
            _set_condition(status, _condition("Progressing", "Unknown", PAUSED, "Deployment is paused", now))
        elif not paused and paused_before:
            _set_condition(status, _condition("Progressing", "Unknown", RESUMED, "Deployment is resumed", now))
        else:
            return
        await self._write_status(d, status)

    async def _sync_rollout_status(self, all_rss: list[Obj | None], new_rs: Obj | None, d: Obj) -> Result | None:
        now = self.clock.now()
        status = calculate_status(all_rss, new_rs, d, now)
        if not _has_progress_deadline(d):
            _remove_condition(status, "Progressing")
        current = _get_condition(d.get("status") or {}, "Progressing")
        complete_before = (
            int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
            and current is not None
            and current.get("reason") == NEW_RS_AVAILABLE
        )
        subject = f'ReplicaSet "{meta(new_rs)["name"]}"' if new_rs is not None else f'Deployment "{meta(d)["name"]}"'
        if _has_progress_deadline(d) and not complete_before:
            if _complete(d, status):
                _set_condition(status, _condition(
                    "Progressing", "True", NEW_RS_AVAILABLE, f"{subject} has successfully progressed.", now
                ))
            elif _progressing(d, status):
                cond = _condition("Progressing", "True", RS_UPDATED, f"{subject} is progressing.", now)
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    _remove_condition(status, "Progressing")
                _set_condition(status, cond)
            elif _timed_out(d, status, now):
                _set_condition(status, _condition(
                    "Progressing", "False", TIMED_OUT, f"{subject} has timed out progressing.", now
                ))
        failure = _replica_failure([*all_rss], new_rs)
        if failure is not None:
            _set_condition(status, failure)
        else:
            _remove_condition(status, "ReplicaFailure")
        if status == (d.get("status") or {}):
            return self._requeue_stuck(d, status, now)
        await self._write_status(d, status)
        return None

    def _requeue_stuck(self, d: Obj, status: Obj, now: datetime) -> Result | None:
        """Wake up when the progress deadline would pass (``requeueStuckDeployment``)."""
        current = _get_condition(d.get("status") or {}, "Progressing")
        if not _has_progress_deadline(d) or current is None:
            return None
        if _complete(d, status) or current.get("reason") == TIMED_OUT:
            return None
        deadline = parse_time(current["lastUpdateTime"]) + timedelta(
            seconds=int((d.get("spec") or {})["progressDeadlineSeconds"])
        )
        after = (deadline - now).total_seconds()
        if after < 1:
            return Result(requeue=True)
        return Result(requeue_after=after + 1)


def _replica_failure(all_rss: list[Obj | None], new_rs: Obj | None) -> Obj | None:
    """A ReplicaSet's ReplicaFailure as a Deployment condition (the new RS's first)."""
    for rs in ([new_rs] if new_rs is not None else []) + [rs for rs in all_rss if rs is not None]:
        for cond in (rs.get("status") or {}).get("conditions") or ():
            if cond.get("type") == "ReplicaFailure":
                return {
                    "type": "ReplicaFailure",
                    "status": cond.get("status"),
                    "lastUpdateTime": cond.get("lastTransitionTime"),
                    "lastTransitionTime": cond.get("lastTransitionTime"),
                    "reason": cond.get("reason"),
                    "message": cond.get("message"),
                }
    return None


def _set_new_rs_annotations(d: Mapping[str, Any], rs: Obj, new_revision: str, *, exists: bool) -> bool:
    """``SetNewReplicaSetAnnotations``: copied annotations, revision (and its history)."""
    annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in (meta(d).get("annotations") or {}).items():
        if key in _NOT_COPIED or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    old_revision = annotations.get(REVISION)
    try:
        old_number = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    if old_number < int(new_revision):
        annotations[REVISION] = new_revision
        changed = True
        if old_revision:
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h] + [old_revision]
            while len(",".join(history)) > _REVISION_HISTORY_LIMIT_CHARS and len(history) > 1:
                history.pop(0)
            annotations[REVISION_HISTORY] = ",".join(history)
    if not exists:
        desired = _replicas(d)
        annotations[DESIRED_REPLICAS] = str(desired)
        annotations[MAX_REPLICAS] = str(desired + max_surge(d))
        changed = True
    return changed


def _controller_ref(d: Mapping[str, Any]) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": meta(d)["name"],
        "uid": meta(d)["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _round_half_away(value: float) -> int:
    """Go's ``math.Round`` (``integer.RoundToInt32``): halves away from zero."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


class _Reverse:
    """Inverts the order of a sort key component (newer ReplicaSets first on ties)."""

    __slots__ = ("value",)

    def __init__(self, value: tuple[str, str]) -> None:
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)
