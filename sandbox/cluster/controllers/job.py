"""The Job controller (``batch/v1``): run pods until enough of them succeed.

Kubernetes' ``pkg/controller/job`` as of 1.31, level-triggered. Every
reconcile reads the Job and its pods (through the client, not a cache, so a
pod created by the previous pass is always seen) and converges::

    Job ──► pods  <job>-xxxxx  (template labels, controller ownerReference,
    ▲        │     finalizer batch.kubernetes.io/job-tracking)
    │        ▼ phase / Ready / restarts (written by the kubelet)
    └── status: active ready terminating succeeded failed startTime
                completionTime completedIndexes uncountedTerminatedPods conditions

What it does, in Kubernetes' order:

1. **Counting** uses the tracking finalizer, like Kubernetes: a finished pod
   (Succeeded, Failed, or deleted before it succeeded) is first written to
   ``status.uncountedTerminatedPods``, then loses its finalizer, then moves
   into ``succeeded``/``failed``; a pod that disappears therefore never
   vanishes from the counts. Indexed Jobs count ``completedIndexes`` instead.
2. **Failure**: more failed pods than ``backoffLimit`` (restartPolicy Never),
   or as many container restarts of running pods (OnFailure), gives
   ``BackoffLimitExceeded`` — "Job has reached the specified backoff limit";
   running longer than ``activeDeadlineSeconds`` gives ``DeadlineExceeded`` —
   "Job was active longer than specified deadline". As in 1.31 the interim
   ``FailureTarget`` condition is written first, the active pods are
   deleted, and ``Failed`` is set once no pod is terminating any more.
3. **Managing pods**: as many active pods as ``parallelism`` allows and the
   remaining completions need (Indexed: the lowest pending indexes, with the
   ``batch.kubernetes.io/job-completion-index`` annotation and label,
   ``hostname <job>-<index>`` and the ``JOB_COMPLETION_INDEX`` env var);
   replacements of failed pods wait for the pod failure backoff
   (:mod:`._batch_backoff`); a suspended Job deletes its active pods and
   says so with the ``Suspended`` condition (``Resumed`` when it resumes).
4. **Success**: ``succeeded >= completions`` (or, without completions, one
   success and nothing active) writes ``SuccessCriteriaMet`` then
   ``Complete`` with ``completionTime``.
5. **TTL**: a finished Job with ``ttlSecondsAfterFinished`` is deleted
   (background propagation) when it expires on the clock (:mod:`._batch_ttl`).

Events carry Kubernetes' reasons and messages: ``SuccessfulCreate`` ("Created
pod: x"), ``SuccessfulDelete`` ("Deleted pod: x"), ``FailedCreate``,
``Completed`` ("Job completed"), ``BackoffLimitExceeded``, ``DeadlineExceeded``,
``Suspended``, ``Resumed``.

Simplified against Kubernetes (see docs/explanation/fidelity.md): no
podFailurePolicy, successPolicy, backoffLimitPerIndex or orphan adoption;
``podReplacementPolicy: Failed`` is treated like the default; the pod
failure backoff's base and cap are parameters (10 s and 6 min in
Kubernetes, 1 s and 60 s here by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sandbox.api.errors import ApiError, Conflict, NotFound
from sandbox.api.objects import (
    condition_is,
    controller_of,
    deep_copy,
    is_being_deleted,
    meta,
    owner_reference,
)
from sandbox.clock import format_time, parse_time
from sandbox.cluster.controllers._batch_backoff import TRACKING_FINALIZER, remaining_backoff
from sandbox.cluster.controllers._batch_conditions import (
    ensure_condition,
    finished_condition,
    has_condition,
    new_condition,
)
from sandbox.cluster.controllers._batch_indexes import (
    COMPLETION_INDEX,
    completion_index,
    format_indexes,
    parse_indexes,
)
from sandbox.cluster.controllers._batch_ttl import ttl_remaining
from sandbox.runtime import Controller, Manager, Request, Result, get_logger

__all__ = ["DEFAULT_BACKOFF_BASE", "DEFAULT_BACKOFF_MAX", "JOB", "JobReconciler", "controller"]

log = get_logger(__name__)

JOB = ("batch/v1", "Job")
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_MAX = 60.0

BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"

Obj = dict[str, Any]


def _phase(pod: Mapping[str, Any]) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def _tracked(pod: Mapping[str, Any]) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or ())


def _is_active(pod: Mapping[str, Any]) -> bool:
    return _phase(pod) not in ("Succeeded", "Failed") and not is_being_deleted(pod)


def _is_terminating(pod: Mapping[str, Any]) -> bool:
    return is_being_deleted(pod) and _phase(pod) not in ("Succeeded", "Failed")


def _is_failed(pod: Mapping[str, Any]) -> bool:
    """Failed, or deleted before it succeeded (an orphan that never reaches Failed)."""
    return _phase(pod) == "Failed" or (is_being_deleted(pod) and _phase(pod) != "Succeeded")


def _restarts(pods: Sequence[Mapping[str, Any]]) -> int:
    total = 0
    for pod in pods:
        if _phase(pod) not in ("Running", "Pending"):
            continue
        status = pod.get("status") or {}
        for key in ("initContainerStatuses", "containerStatuses"):
            total += sum(int(c.get("restartCount") or 0) for c in status.get(key) or ())
    return total


def _removal_order(pod: Mapping[str, Any]) -> tuple[bool, bool, bool, str]:
    """Not-ready before ready, unscheduled before scheduled, pending before running."""
    return (
        condition_is(pod, "Ready"),
        bool((pod.get("spec") or {}).get("nodeName")),
        _phase(pod) == "Running",
        meta(pod).get("name", ""),
    )


class _Sync:
    """One reconcile's view of a Job and its pods (Kubernetes' ``syncJobCtx``)."""

    def __init__(self, job: Obj, pods: list[Obj], now: datetime) -> None:
        self.job = job
        self.spec: Obj = job.get("spec") or {}
        self.status: Obj = deep_copy(job.get("status") or {})
        self.pods = pods
        self.now = now
        self.indexed = self.spec.get("completionMode") == "Indexed"
        self.completions: int | None = self.spec.get("completions")
        uncounted = self.status.get("uncountedTerminatedPods") or {}
        self.uncounted_succeeded: list[str] = list(uncounted.get("succeeded") or ())
        self.uncounted_failed: list[str] = list(uncounted.get("failed") or ())
        self.active = [p for p in pods if _is_active(p)]
        self.terminating = sum(1 for p in pods if _is_terminating(p))
        self.finished: Obj | None = None
        self.succeeded_indexes: set[int] = set()

    def valid(self, pod: Mapping[str, Any]) -> bool:
        return not self.indexed or completion_index(pod, self.completions or 0) is not None

    def fresh(self, pod: Mapping[str, Any]) -> bool:
        """A pod not yet accounted for: it holds the finalizer and is in no uncounted list."""
        uid = meta(pod).get("uid", "")
        return (
            _tracked(pod)
            and uid not in self.uncounted_succeeded
            and uid not in self.uncounted_failed
            and self.valid(pod)
        )

    @property
    def suspended(self) -> bool:
        return bool(self.spec.get("suspend"))


class JobReconciler:
    def __init__(self, manager: Manager, *, backoff_base: float, backoff_max: float) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.recorder = manager.event_recorder("job-controller")
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max

    # Reading ------------------------------------------------------------------------------

    async def _pods(self, job: Mapping[str, Any]) -> list[Obj]:
        m = meta(job)
        selector = (job.get("spec") or {}).get("selector") or {}
        listed = await self.client.list(
            "v1", "Pod", namespace=m["namespace"], label_selector=selector or None
        )
        return [
            p
            for p in listed.get("items") or ()
            if (controller_of(p) or {}).get("uid") == m["uid"]
        ]

    async def reconcile(self, request: Request) -> Result | None:
        try:
            job = await self.client.get(*JOB, request.name, namespace=request.namespace)
        except NotFound:
            await self._release_orphans(request)
            return None
        job.setdefault("apiVersion", JOB[0])
        job.setdefault("kind", JOB[1])
        finished = finished_condition(job)
        if finished is not None:
            return await self._after_finished(job, finished)
        pods = await self._pods(job)
        if is_being_deleted(job):
            for pod in pods:
                await self._remove_finalizer(pod)
            return None
        return await self._sync(job, pods)

    async def _release_orphans(self, request: Request) -> None:
        """The Job is gone: let its pods go too (drop the tracking finalizers)."""
        listed = await self.client.list(
            "v1",
            "Pod",
            namespace=request.namespace,
            label_selector={"matchLabels": {"batch.kubernetes.io/job-name": request.name}},
        )
        for pod in listed.get("items") or ():
            ref = controller_of(pod) or {}
            if ref.get("kind") == "Job" and ref.get("name") == request.name and _tracked(pod):
                await self._remove_finalizer(pod)

    async def _after_finished(self, job: Obj, finished: Mapping[str, Any]) -> Result | None:
        remaining = ttl_remaining(job, finished, now=self.clock.now())
        if remaining is None:
            return None
        if remaining > 0:
            return Result(requeue_after=remaining)
        m = meta(job)
        try:
            await self.client.delete(
                *JOB,
                m["name"],
                namespace=m["namespace"],
                propagation_policy="Background",
                preconditions={"uid": m["uid"]},
            )
            log.info("deleted finished job: its TTL of %ss expired",
                     job["spec"]["ttlSecondsAfterFinished"])
        except (NotFound, Conflict):
            pass
        return None

    # The sync ----------------------------------------------------------------------------

    async def _sync(self, job: Obj, pods: list[Obj]) -> Result | None:
        ctx = _Sync(job, pods, self.clock.now())
        spec, status = ctx.spec, ctx.status
        requeue: list[float] = []
        new_succeeded = [p for p in pods if ctx.fresh(p) and _phase(p) == "Succeeded"]
        new_failed = [p for p in pods if ctx.fresh(p) and _is_failed(p)]
        failed = int(status.get("failed") or 0) + len(new_failed) + len(ctx.uncounted_failed)
        succeeded = (
            int(status.get("succeeded") or 0) + len(new_succeeded) + len(ctx.uncounted_succeeded)
        )
        if ctx.indexed:
            ctx.succeeded_indexes = parse_indexes(status.get("completedIndexes"), ctx.completions or 0)
            ctx.succeeded_indexes |= {
                completion_index(p, ctx.completions or 0)  # type: ignore[misc]
                for p in pods
                if _phase(p) == "Succeeded" and ctx.valid(p)
            }
            succeeded = len(ctx.succeeded_indexes)
        if not status.get("startTime") and not ctx.suspended:
            status["startTime"] = format_time(ctx.now)

        backoff_limit = int(spec.get("backoffLimit", 6))
        ctx.finished = deep_copy(has_condition(job, "SuccessCriteriaMet"))
        if ctx.finished is None:
            target = has_condition(job, "FailureTarget")
            if target is not None:
                ctx.finished = deep_copy(target)
            elif failed > backoff_limit or self._past_restart_limit(job, pods, backoff_limit):
                ctx.finished = new_condition(
                    "FailureTarget", "True", "BackoffLimitExceeded", BACKOFF_MESSAGE, ctx.now
                )
            elif self._past_deadline(ctx):
                ctx.finished = new_condition(
                    "FailureTarget", "True", "DeadlineExceeded", DEADLINE_MESSAGE, ctx.now
                )
            elif spec.get("activeDeadlineSeconds") is not None and not ctx.suspended:
                start = parse_time(status["startTime"])
                left = float(spec["activeDeadlineSeconds"]) - (ctx.now - start).total_seconds()
                requeue.append(max(left, 0.001))

        suspend_changed = False
        if ctx.finished is not None:
            deleted = await self._delete_pods(job, ctx.active, keep_finalizer=True)
            ctx.terminating += deleted
            ctx.active = []
        else:
            wait = await self._manage(job, ctx, succeeded)
            if wait:
                requeue.append(wait)
            if self._complete(ctx, succeeded):
                ctx.finished = new_condition("SuccessCriteriaMet", "True", "", "", ctx.now)
            else:
                suspend_changed = await self._suspension(job, ctx)

        status["active"] = len(ctx.active)
        status["ready"] = sum(1 for p in ctx.active if condition_is(p, "Ready"))
        status["terminating"] = ctx.terminating
        await self._track(job, ctx, force=suspend_changed)
        return Result(requeue_after=min(requeue)) if requeue else None

    def _past_restart_limit(self, job: Obj, pods: list[Obj], limit: int) -> bool:
        template = (job.get("spec") or {}).get("template") or {}
        if (template.get("spec") or {}).get("restartPolicy") != "OnFailure":
            return False
        restarts = _restarts(pods)
        return restarts > 0 if limit == 0 else restarts >= limit

    def _past_deadline(self, ctx: _Sync) -> bool:
        deadline = ctx.spec.get("activeDeadlineSeconds")
        start = ctx.status.get("startTime")
        if deadline is None or not start or ctx.suspended:
            return False
        return (ctx.now - parse_time(start)).total_seconds() >= float(deadline)

    def _complete(self, ctx: _Sync, succeeded: int) -> bool:
        if ctx.active:
            return False
        if ctx.completions is None:
            return succeeded > 0
        return succeeded >= ctx.completions

    # Managing pods ---------------------------------------------------------------------

    async def _manage(self, job: Obj, ctx: _Sync, succeeded: int) -> float:
        """Create or delete pods towards the wanted active count; returns a backoff wait."""
        spec = ctx.spec
        if ctx.suspended:
            deleted = await self._delete_pods(job, ctx.active, keep_finalizer=False)
            ctx.terminating += deleted
            ctx.active = []
            return 0.0
        parallelism = int(spec.get("parallelism", 1))
        if ctx.completions is None:
            want = len(ctx.active) if succeeded > 0 else parallelism
        else:
            want = max(0, min(ctx.completions - succeeded, parallelism))
        extra = self._duplicates(ctx) if ctx.indexed else []
        surplus = len(ctx.active) - want - len(extra)
        if surplus > 0:
            rest = sorted((p for p in ctx.active if p not in extra), key=_removal_order)
            extra += rest[:surplus]
        if extra:
            deleted = await self._delete_pods(job, extra, keep_finalizer=False)
            ctx.terminating += deleted
            ctx.active = [p for p in ctx.active if p not in extra]
            return 0.0
        missing = want - len(ctx.active)
        if missing <= 0:
            return 0.0
        wait = remaining_backoff(
            ctx.pods, now=ctx.now, base=self.backoff_base, cap=self.backoff_max
        )
        if wait > 0:
            return wait
        indexes: list[int | None] = [None] * missing
        if ctx.indexed:
            held = {completion_index(p, ctx.completions or 0) for p in ctx.active}
            pending = [
                i
                for i in range(ctx.completions or 0)
                if i not in ctx.succeeded_indexes and i not in held
            ]
            indexes = list(pending[:missing])
        for index in indexes:
            ctx.active.append(await self._create_pod(job, index))
        return 0.0

    def _duplicates(self, ctx: _Sync) -> list[Obj]:
        """Active pods of an Indexed Job whose index is invalid, taken or already done."""
        seen: set[int] = set()
        extra: list[Obj] = []
        for pod in sorted(ctx.active, key=_removal_order, reverse=True):
            index = completion_index(pod, ctx.completions or 0)
            if index is None or index in seen or index in ctx.succeeded_indexes:
                extra.append(pod)
            else:
                seen.add(index)
        return extra

    async def _create_pod(self, job: Obj, index: int | None) -> Obj:
        m = meta(job)
        template = deep_copy((job.get("spec") or {}).get("template") or {})
        pod_meta = template.get("metadata") or {}
        pod_spec = template.get("spec") or {}
        pod_meta = {
            "labels": dict(pod_meta.get("labels") or {}),
            "annotations": dict(pod_meta.get("annotations") or {}),
            "finalizers": [*(pod_meta.get("finalizers") or ()), TRACKING_FINALIZER],
            "generateName": f"{m['name']}-",
            "namespace": m["namespace"],
            "ownerReferences": [owner_reference(job)],
        }
        if index is not None:
            pod_meta["annotations"][COMPLETION_INDEX] = str(index)
            pod_meta["labels"][COMPLETION_INDEX] = str(index)
            pod_meta["generateName"] = f"{m['name']}-{index}-"
            pod_spec["hostname"] = f"{m['name']}-{index}"
            _add_index_env(pod_spec)
        if not pod_meta["annotations"]:
            del pod_meta["annotations"]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}
        try:
            created = await self.client.create(pod)
        except ApiError as exc:
            await self.recorder.warning(job, reason="FailedCreate", message=f"Error creating: {exc}")
            raise
        await self.recorder.normal(
            job, reason="SuccessfulCreate", message=f"Created pod: {meta(created)['name']}"
        )
        return created

    async def _delete_pods(self, job: Obj, pods: Sequence[Obj], *, keep_finalizer: bool) -> int:
        """Delete pods; a pod removed for a finished Job keeps its finalizer until counted."""
        deleted = 0
        for pod in pods:
            if not keep_finalizer:
                await self._remove_finalizer(pod)
            try:
                await self.client.delete(
                    "v1", "Pod", meta(pod)["name"], namespace=meta(pod)["namespace"]
                )
            except NotFound:
                continue
            deleted += 1
            await self.recorder.normal(
                job, reason="SuccessfulDelete", message=f"Deleted pod: {meta(pod)['name']}"
            )
        return deleted

    async def _remove_finalizer(self, pod: Mapping[str, Any]) -> bool:
        """Drop the tracking finalizer; True when it is gone (or the pod is)."""
        finalizers = list(meta(pod).get("finalizers") or ())
        if TRACKING_FINALIZER not in finalizers:
            return True
        kept = [f for f in finalizers if f != TRACKING_FINALIZER]
        try:
            await self.client.patch(
                "v1",
                "Pod",
                meta(pod)["name"],
                {"metadata": {"finalizers": kept or None,
                              "resourceVersion": meta(pod)["resourceVersion"]}},
                namespace=meta(pod)["namespace"],
            )
        except NotFound:
            return True
        except Conflict:
            return False  # changed meanwhile: the next pass sees it again
        return True

    async def _suspension(self, job: Obj, ctx: _Sync) -> bool:
        conditions = ctx.status.setdefault("conditions", [])
        if ctx.suspended:
            if ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended",
                                ctx.now):
                await self.recorder.normal(job, reason="Suspended", message="Job suspended")
                return True
            return False
        if ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", ctx.now):
            await self.recorder.normal(job, reason="Resumed", message="Job resumed")
            # activeDeadlineSeconds counts continuous activity: the clock restarts.
            ctx.status["startTime"] = format_time(ctx.now)
            return True
        return False

    # Status tracking (trackJobStatusAndRemoveFinalizers) ---------------------------------

    async def _track(self, job: Obj, ctx: _Sync, *, force: bool) -> None:
        status = ctx.status
        to_release: list[Obj] = []
        for pod in ctx.pods:
            if not _tracked(pod):
                continue
            uid = meta(pod)["uid"]
            failed = _is_failed(pod)
            if not (ctx.finished is not None or _phase(pod) == "Succeeded" or failed):
                continue
            to_release.append(pod)
            if uid in ctx.uncounted_succeeded or uid in ctx.uncounted_failed or not ctx.valid(pod):
                continue
            if _phase(pod) == "Succeeded":
                if not ctx.indexed:
                    ctx.uncounted_succeeded.append(uid)
            elif failed or (ctx.finished is not None and ctx.finished["type"] != "SuccessCriteriaMet"):
                ctx.uncounted_failed.append(uid)
        if ctx.indexed:
            completed = format_indexes(ctx.succeeded_indexes)
            if completed:
                status["completedIndexes"] = completed
            status["succeeded"] = len(ctx.succeeded_indexes)
        status["uncountedTerminatedPods"] = _uncounted(ctx)
        conditions = status.setdefault("conditions", [])
        final: Obj | None = None
        if ctx.finished is not None:
            interim = ctx.finished
            if not any(c.get("type") == interim["type"] for c in conditions):
                conditions.append(interim)
            final_type = "Complete" if interim["type"] == "SuccessCriteriaMet" else "Failed"
            final = new_condition(final_type, "True", interim.get("reason", ""),
                                  interim.get("message", ""), ctx.now)
        job = await self._write_status(job, status, force=force)

        gone = {meta(p)["uid"] for p in to_release if await self._remove_finalizer(p)}
        for name, listed in (("succeeded", ctx.uncounted_succeeded), ("failed", ctx.uncounted_failed)):
            moved = [uid for uid in listed if uid in gone or not self._still_tracked(uid, ctx)]
            if moved:
                status[name] = int(status.get(name) or 0) + len(moved)
                listed[:] = [uid for uid in listed if uid not in moved]
        status["uncountedTerminatedPods"] = _uncounted(ctx)
        finished_now = (
            final is not None
            and not ctx.uncounted_succeeded
            and not ctx.uncounted_failed
            and ctx.terminating == 0
        )
        if finished_now:
            assert final is not None
            ensure_condition(conditions, final["type"], "True", final.get("reason", ""),
                             final.get("message", ""), ctx.now)
            if final["type"] == "Complete":
                status["completionTime"] = format_time(ctx.now)
        job = await self._write_status(job, status, force=False)
        if finished_now:
            assert final is not None
            if final["type"] == "Complete":
                await self.recorder.normal(job, reason="Completed", message="Job completed")
            else:
                await self.recorder.warning(job, reason=final["reason"], message=final["message"])

    @staticmethod
    def _still_tracked(uid: str, ctx: _Sync) -> bool:
        return any(meta(p)["uid"] == uid and _tracked(p) for p in ctx.pods)

    async def _write_status(self, job: Obj, status: Obj, *, force: bool) -> Obj:
        if not force and status == (job.get("status") or {}):
            return job
        body = {**job, "status": deep_copy(status)}
        written = await self.client.replace_status(body)
        written.setdefault("apiVersion", JOB[0])
        written.setdefault("kind", JOB[1])
        return written


def _uncounted(ctx: _Sync) -> Obj:
    out: Obj = {}
    if ctx.uncounted_succeeded:
        out["succeeded"] = list(ctx.uncounted_succeeded)
    if ctx.uncounted_failed:
        out["failed"] = list(ctx.uncounted_failed)
    return out


def _add_index_env(pod_spec: Obj) -> None:
    """``JOB_COMPLETION_INDEX`` from the index annotation, in every container that lacks it."""
    source = {"fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}
    for key in ("initContainers", "containers"):
        for container in pod_spec.get(key) or ():
            env = container.setdefault("env", [])
            if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": source})


def controller(
    manager: Manager,
    *,
    backoff_base: float = DEFAULT_BACKOFF_BASE,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
) -> Controller:
    """The Job controller; ``backoff_base``/``backoff_max`` set the pod failure backoff."""
    return Controller(
        "job-controller",
        for_=JOB,
        owns=[("v1", "Pod")],
        reconciler=JobReconciler(manager, backoff_base=backoff_base, backoff_max=backoff_max),
    )

