"""The CronJob controller (``batch/v1``): a Job at every scheduled time.

Kubernetes' ``cronjob_controllerv2`` on the injected clock. A reconcile reads
the CronJob and the Jobs it controls, then::

    status.active ◄── drop finished (SawCompletedJob) and vanished (MissingJob) Jobs
    lastSuccessfulTime ◄── the newest completionTime of a Complete Job
    most recent unmet schedule time t (after lastScheduleTime, or creation)
      ├─ later than startingDeadlineSeconds allows → MissSchedule, skip
      ├─ concurrencyPolicy Forbid and a Job active → JobAlreadyActive, wait
      ├─ concurrencyPolicy Replace → delete the active Jobs (SuccessfulDelete)
      └─ create Job <cronjob>-<t in minutes since the epoch> (SuccessfulCreate
         "Created job x"), add it to status.active, lastScheduleTime = t
    history: delete the oldest finished Jobs beyond successfulJobsHistoryLimit
             and failedJobsHistoryLimit (SuccessfulDelete "Deleted job x")
    requeue_after = the next scheduled time

The name derived from the scheduled time is the lock that keeps one time
from starting two Jobs, even across restarts. A Forbid CronJob whose Job ends
after a missed time starts it then (when the deadline allows), as
Kubernetes does. Schedules are parsed by :mod:`sandbox.api.cron`, the
parser admission checks them with, as robfig's ``ParseStandard`` (5 fields
and the ``@`` descriptors), in ``spec.timeZone``; more than 100 missed
times raise a ``TooManyMissedTimes`` warning and only the most recent one runs.
A suspended CronJob only keeps its status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.api import cron
from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.objects import controller_of, deep_copy, is_being_deleted, meta, owner_reference
from sandbox.clock import format_time, parse_time
from sandbox.cluster.controllers._batch_conditions import finished_condition
from sandbox.runtime import Controller, Manager, Request, Result, get_logger
from sandbox.runtime.events import EventType

__all__ = ["CRONJOB", "SCHEDULED_TIMESTAMP", "controller", "job_name"]

log = get_logger(__name__)

CRONJOB = ("batch/v1", "CronJob")
JOB = ("batch/v1", "Job")
#: Annotation on each Job: the time it was scheduled for (Kubernetes ≥ 1.28).
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: Past this many missed times the controller warns and runs only the latest.
MAX_MISSED = 100
#: Requeue this long after the next scheduled time (Kubernetes' ``nextScheduleDelta``).
NEXT_SCHEDULE_DELTA = 0.1

Obj = dict[str, Any]


def job_name(cronjob_name: str, scheduled: datetime) -> str:
    """``<cronjob>-<scheduled time in minutes since the epoch>``, as Kubernetes names it."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def _ref(job: Mapping[str, Any]) -> Obj:
    m = meta(job)
    return {
        "apiVersion": JOB[0],
        "kind": JOB[1],
        "name": m["name"],
        "namespace": m["namespace"],
        "uid": m["uid"],
        "resourceVersion": m.get("resourceVersion", ""),
    }


def _start_time(job: Mapping[str, Any]) -> tuple[bool, str, str]:
    """Sort key: by status.startTime (Jobs without one last), then name."""
    start = (job.get("status") or {}).get("startTime")
    return (start is None, start or "", meta(job).get("name", ""))


class CronJobReconciler:
    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.recorder = manager.event_recorder("cronjob-controller")

    async def reconcile(self, request: Request) -> Result | None:
        try:
            cronjob = await self.client.get(*CRONJOB, request.name, namespace=request.namespace)
        except NotFound:
            return None
        cronjob.setdefault("apiVersion", CRONJOB[0])
        cronjob.setdefault("kind", CRONJOB[1])
        uid = meta(cronjob)["uid"]
        listed = await self.client.list(*JOB, namespace=request.namespace)
        jobs = [j for j in listed.get("items") or () if (controller_of(j) or {}).get("uid") == uid]
        status = deep_copy(cronjob.get("status") or {})
        now = self.clock.now()

        for event_type, reason, message in self._observe_jobs(status, jobs):
            await self.recorder.event(cronjob, type=event_type, reason=reason, message=message)
        await self._forget_missing(cronjob, status, jobs)
        requeue: float | None = None
        if not is_being_deleted(cronjob) and not (cronjob.get("spec") or {}).get("suspend"):
            requeue = await self._schedule(cronjob, status, now)
        await self._cleanup(cronjob, status, jobs)
        if status != (cronjob.get("status") or {}):
            await self.client.replace_status({**cronjob, "status": status})
        return Result(requeue_after=requeue) if requeue is not None else None

    # Status from the Jobs -----------------------------------------------------------------

    def _observe_jobs(self, status: Obj, jobs: list[Obj]) -> list[tuple[EventType, str, str]]:
        """Drop finished Jobs from ``status.active``; returns the Events to record."""
        events: list[tuple[EventType, str, str]] = []
        active = status.get("active") or []
        active_uids = {ref.get("uid") for ref in active}
        for job in jobs:
            m = meta(job)
            finished = finished_condition(job)
            if finished is None:
                if m["uid"] not in active_uids:
                    events.append((
                        "Warning",
                        "UnexpectedJob",
                        f"Saw a job that the controller did not create or forgot: {m['name']}",
                    ))
                continue
            if m["uid"] in active_uids:
                active = [ref for ref in active if ref.get("uid") != m["uid"]]
                events.append((
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {m['name']}, condition: {finished['type']}",
                ))
            completion = (job.get("status") or {}).get("completionTime")
            if finished["type"] == "Complete" and completion:
                last = status.get("lastSuccessfulTime")
                if not last or parse_time(completion) > parse_time(last):
                    status["lastSuccessfulTime"] = completion
        _set_active(status, active)
        return events

    async def _forget_missing(self, cronjob: Obj, status: Obj, jobs: list[Obj]) -> None:
        present = {meta(j)["uid"] for j in jobs}
        kept = []
        for ref in status.get("active") or []:
            if ref.get("uid") in present:
                kept.append(ref)
                continue
            try:
                await self.client.get(*JOB, ref["name"], namespace=ref.get("namespace"))
                kept.append(ref)  # listed too early: the Job exists
            except NotFound:
                await self.recorder.normal(
                    cronjob, reason="MissingJob", message=f"Active job went missing: {ref['name']}"
                )
        _set_active(status, kept)

    # Scheduling ---------------------------------------------------------------------------

    def _zone(self, cronjob: Obj) -> tzinfo | str:
        """The CronJob's time zone, or the reason it has none."""
        name = (cronjob.get("spec") or {}).get("timeZone")
        if not name:
            return UTC
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            return f'invalid timeZone: "{name}": {exc}'

    async def _schedule(self, cronjob: Obj, status: Obj, now: datetime) -> float | None:
        spec = cronjob.get("spec") or {}
        zone = self._zone(cronjob)
        if isinstance(zone, str):
            await self.recorder.warning(cronjob, reason="UnknownTimeZone", message=zone)
            return None
        try:
            schedule = cron.parse(spec.get("schedule") or "", zone=zone)
        except ValueError as exc:
            await self.recorder.warning(
                cronjob,
                reason="UnparseableSchedule",
                message=f'unparseable schedule: "{spec.get("schedule")}" : {exc}',
            )
            return None
        # Unlike Kubernetes, the search does not start at the deadline's window:
        # a time missed beyond startingDeadlineSeconds is then reported
        # (MissSchedule) instead of passing unnoticed.
        earliest = parse_time(status.get("lastScheduleTime") or meta(cronjob)["creationTimestamp"])
        scheduled = await self._most_recent_unmet(cronjob, schedule, earliest, now)
        # The next time follows the last one (an @every grid stays put); like
        # Kubernetes, wake a little after it, never just before.
        next_time = schedule.next(scheduled or earliest)
        until_next = (next_time - now).total_seconds() + NEXT_SCHEDULE_DELTA
        if scheduled is None:
            return until_next
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and (now - scheduled).total_seconds() > float(deadline):
            await self.recorder.warning(
                cronjob,
                reason="MissSchedule",
                message="Missed scheduled time to start a job: "
                + scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            )
            return until_next
        name = job_name(meta(cronjob)["name"], scheduled)
        active = status.get("active") or []
        last = status.get("lastScheduleTime")
        if any(ref.get("name") == name for ref in active) or (
            last and parse_time(last) == scheduled
        ):
            return until_next
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            await self.recorder.normal(
                cronjob,
                reason="JobAlreadyActive",
                message="Not starting job because prior execution is running and concurrency "
                "policy is Forbid",
            )
            return until_next
        if policy == "Replace":
            for ref in list(active):
                await self._delete_job(cronjob, status, ref["name"], ref.get("uid"))
        job = await self._create_job(cronjob, name, scheduled, zone)
        if job is None:
            return until_next
        if not any(ref.get("uid") == meta(job)["uid"] for ref in status.get("active") or []):
            _set_active(status, [*(status.get("active") or []), _ref(job)])
        status["lastScheduleTime"] = format_time(scheduled)
        return until_next

    async def _most_recent_unmet(
        self, cronjob: Obj, schedule: cron.Schedule, earliest: datetime, now: datetime
    ) -> datetime | None:
        """The latest scheduled time after ``earliest`` that is not in the future."""
        found: datetime | None = None
        missed = 0
        if schedule.every is not None:
            missed = int((now - earliest).total_seconds() // schedule.every.total_seconds())
            if missed:
                found = (earliest + missed * schedule.every).replace(microsecond=0)
        else:
            moment = schedule.next(earliest)
            while moment <= now:
                found, missed = moment, missed + 1
                moment = schedule.next(moment)
        if missed > MAX_MISSED:
            await self.recorder.warning(
                cronjob,
                reason="TooManyMissedTimes",
                message=f"too many missed start times: {missed}. Set or decrease "
                ".spec.startingDeadlineSeconds or check clock skew",
            )
        return found

    async def _create_job(
        self, cronjob: Obj, name: str, scheduled: datetime, zone: tzinfo
    ) -> Obj | None:
        m = meta(cronjob)
        template = deep_copy((cronjob.get("spec") or {}).get("jobTemplate") or {})
        template_meta = template.get("metadata") or {}
        annotations = dict(template_meta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP] = scheduled.astimezone(zone).isoformat()
        job: Obj = {
            "apiVersion": JOB[0],
            "kind": JOB[1],
            "metadata": {
                "name": name,
                "namespace": m["namespace"],
                "labels": dict(template_meta.get("labels") or {}),
                "annotations": annotations,
                "ownerReferences": [owner_reference(cronjob)],
            },
            "spec": template.get("spec") or {},
        }
        if not job["metadata"]["labels"]:
            del job["metadata"]["labels"]
        try:
            created = await self.client.create(job)
        except AlreadyExists:
            existing = await self.client.get(*JOB, name, namespace=m["namespace"])
            if (controller_of(existing) or {}).get("uid") != m["uid"]:
                return None  # someone else's Job: assume they keep the status
            return existing
        except Exception as exc:
            await self.recorder.warning(
                cronjob, reason="FailedCreate", message=f"Error creating job: {exc}"
            )
            raise
        await self.recorder.normal(cronjob, reason="SuccessfulCreate", message=f"Created job {name}")
        return created

    async def _delete_job(self, cronjob: Obj, status: Obj, name: str, uid: str | None) -> None:
        try:
            await self.client.delete(
                *JOB, name, namespace=meta(cronjob)["namespace"], propagation_policy="Background"
            )
        except NotFound:
            pass
        _set_active(status, [ref for ref in status.get("active") or [] if ref.get("uid") != uid])
        await self.recorder.normal(cronjob, reason="SuccessfulDelete", message=f"Deleted job {name}")

    # History --------------------------------------------------------------------------------

    async def _cleanup(self, cronjob: Obj, status: Obj, jobs: list[Obj]) -> None:
        spec = cronjob.get("spec") or {}
        for kind, limit_field in (("Complete", "successfulJobsHistoryLimit"),
                                  ("Failed", "failedJobsHistoryLimit")):
            limit = spec.get(limit_field)
            if limit is None:
                continue
            finished = sorted(
                (j for j in jobs if (finished_condition(j) or {}).get("type") == kind),
                key=_start_time,
            )
            for job in finished[: max(0, len(finished) - int(limit))]:
                await self._delete_job(cronjob, status, meta(job)["name"], meta(job)["uid"])


def _set_active(status: Obj, active: list[Obj]) -> None:
    if active:
        status["active"] = active
    else:
        status.pop("active", None)


def controller(manager: Manager) -> Controller:
    """The CronJob controller (``cronjob-controller`` in kube-controller-manager)."""
    return Controller(
        "cronjob-controller",
        for_=CRONJOB,
        owns=[JOB],
        reconciler=CronJobReconciler(manager),
    )
