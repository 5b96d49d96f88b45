"""The ScheduledWorkflow controller: a recurring run creates a Workflow at each trigger.

KFP's recurring runs are ``ScheduledWorkflow`` objects (kubeflow.org/v1beta1)
that its ``scheduledworkflow`` controller turns into one Workflow per
scheduled time. This module is that controller, on the manager's clock::

    spec.enabled            false: create nothing (status Disabled), keep counting time
    spec.trigger            cronSchedule {cron, startTime, endTime}
                            periodicSchedule {intervalSecond, startTime, endTime}
                            neither: one run, now (a "one-off" schedule)
    spec.maxConcurrency     at most this many of its Workflows unfinished (1..10, default 1)
    spec.noCatchup          true: after a pause, run only the latest missed time;
                            false (default): run every missed time, one after another
    spec.maxHistory         finished Workflows listed in status (0..100, default 10)
    spec.workflow.spec      the Workflow to create (what :func:`..build.workflow_for_run` makes)
    spec.workflow.parameters  [{name, value}] overriding its arguments; values may hold
                            [[ScheduledTime]], [[CurrentTime]], [[Index]], [[RunUUID]]
                            and [[ScheduledTime.<Go layout>]] / [[CurrentTime.<Go layout>]]

A reconcile lists the Workflows the schedule owns, computes the next
scheduled time (:func:`next_trigger`, KFP's rules: from the last triggered
time, or the start time, or the creation time; nothing after ``endTime``)
and, when that time has come, the schedule is enabled and fewer than
``maxConcurrency`` Workflows run, creates the Workflow
(:func:`workflow_for_trigger`) named ``<schedule>-<index>-<fnv32a hash>`` —
a deterministic name, so a time is never run twice — labelled
``scheduledworkflows.kubeflow.org/scheduledWorkflowName``, ``…/workflowEpoch``
(the scheduled time), ``…/workflowIndex`` and with a fresh
``pipeline/runid``. Then it writes ``status`` as KFP does: one condition
(``Enabled``/``Disabled``, or ``Running``/``Succeeded`` for a one-off),
``trigger.lastTriggeredTime``, ``nextTriggeredTime``, ``lastWorkflowIndex``
and ``workflowHistory`` (active and completed Workflows), plus the labels
``scheduledworkflows.kubeflow.org/enabled`` and ``…/status`` on the object.
It wakes at the next scheduled time; a Workflow that ends wakes it too (it
owns them), so a schedule held back by ``maxConcurrency`` starts the next
run as soon as there is room.

Cron expressions are read by :func:`parse_cron`, the sandbox's one cron
parser (:mod:`sandbox.api.cron`, robfig/cron's rules, as KFP uses robfig)
with the seconds field optional: six fields ``second minute hour
day-of-month month day-of-week`` as KFP documents them (``"0 0 9 ? * 2-6"``,
Sunday = 0), or the five classic fields (seconds = 0); ``*``, ``?``, lists,
ranges, steps, month and day names; ``@yearly``/``@annually``,
``@monthly``, ``@weekly``, ``@daily``/``@midnight``, ``@hourly`` and
``@every <duration>``. Surrounding whitespace is ignored. Times are UTC,
KFP's default. (robfig's legacy parser reads a five-field expression as
starting with seconds; the sandbox reads it the classic way, which is what
people mean by it.)
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.api import cron
from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.objects import controller_of, is_being_deleted, owner_reference
from sandbox.clock import format_time, parse_time
from sandbox.components.pipelines.workflow.build import RUN_ID_LABEL, RUN_NAME_ANNOTATION
from sandbox.runtime import Controller, Manager, Request, Result, get_logger

__all__ = [
    "ENABLED_LABEL",
    "EPOCH_LABEL",
    "INDEX_LABEL",
    "NAME_LABEL",
    "RECURRING_RUN_ANNOTATION",
    "SCHEDULED_WORKFLOW",
    "ScheduledWorkflowReconciler",
    "controller",
    "next_trigger",
    "parse_cron",
    "workflow_for_trigger",
]

log = get_logger(__name__)

SCHEDULED_WORKFLOW = ("kubeflow.org/v1beta1", "ScheduledWorkflow")
WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
NAME_LABEL = "scheduledworkflows.kubeflow.org/scheduledWorkflowName"
EPOCH_LABEL = "scheduledworkflows.kubeflow.org/workflowEpoch"
INDEX_LABEL = "scheduledworkflows.kubeflow.org/workflowIndex"
OWNED_LABEL = "scheduledworkflows.kubeflow.org/isOwnedByScheduledWorkflow"
ENABLED_LABEL = "scheduledworkflows.kubeflow.org/enabled"
STATUS_LABEL = "scheduledworkflows.kubeflow.org/status"
#: On each Workflow: the uid of the schedule that made it (outlives an orphaning delete).
RECURRING_RUN_ANNOTATION = "pipelines.kubeflow.org/recurring_run_id"
COMPLETED_LABEL = "workflows.argoproj.io/completed"
FINAL_PHASES = frozenset({"Succeeded", "Failed", "Error"})
DEFAULT_MAX_CONCURRENCY, MAX_MAX_CONCURRENCY = 1, 10
DEFAULT_MAX_HISTORY, MAX_MAX_HISTORY = 10, 100
#: KFP's default format for [[ScheduledTime]] and [[CurrentTime]] (Go's "20060102150405").
DEFAULT_TIME_FORMAT = "%Y%m%d%H%M%S"
#: How many missed times a no-catchup schedule skips over before it just runs the latest one found.
_MAX_SKIPPED = 100_000

Obj = dict[str, Any]


# Cron ---------------------------------------------------------------------------------------


def parse_cron(text: str) -> cron.Schedule:
    """Parse a recurring run's cron expression: seconds optional, UTC; ValueError if invalid."""
    return cron.parse(text.strip(), seconds="optional")


# The schedule ---------------------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    moment = parse_time(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clamped(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def max_concurrency(swf: Mapping[str, Any]) -> int:
    spec = swf.get("spec") or {}
    return _clamped(spec.get("maxConcurrency", DEFAULT_MAX_CONCURRENCY), DEFAULT_MAX_CONCURRENCY, 1,
                    MAX_MAX_CONCURRENCY)


def max_history(swf: Mapping[str, Any]) -> int:
    spec = swf.get("spec") or {}
    return _clamped(spec.get("maxHistory", DEFAULT_MAX_HISTORY), DEFAULT_MAX_HISTORY, 0, MAX_MAX_HISTORY)


def is_one_off(swf: Mapping[str, Any]) -> bool:
    trigger = (swf.get("spec") or {}).get("trigger") or {}
    return not trigger.get("cronSchedule") and not trigger.get("periodicSchedule")


def next_trigger(swf: Mapping[str, Any], *, now: datetime) -> datetime | None:
    """When the schedule next creates a Workflow (possibly already past); None when never again.

    KFP's rules: count from the last triggered time, else the start time, else
    the creation time (never from before the start time); nothing after the
    end time. Without catch-up, a schedule that is more than one period behind
    runs once for the latest time that has passed (periodic: now).
    Raises ValueError for an unreadable cron expression.
    """
    spec = swf.get("spec") or {}
    trigger = spec.get("trigger") or {}
    last = _time(((swf.get("status") or {}).get("trigger") or {}).get("lastTriggeredTime"))
    created = _time((swf.get("metadata") or {}).get("creationTimestamp")) or now
    catchup = not spec.get("noCatchup")
    schedule = trigger.get("periodicSchedule") or trigger.get("cronSchedule")
    if not schedule:
        return None if last is not None else created
    start, end = _time(schedule.get("startTime")), _time(schedule.get("endTime"))
    effective = last or start or created
    if start is not None and start > effective:
        effective = start
    if trigger.get("periodicSchedule"):
        interval = timedelta(seconds=max(1, int(schedule.get("intervalSecond") or 0)))
        result = effective + interval
        if end is not None and end < result:
            return None
        if not catchup and now >= result + interval:
            return now.replace(microsecond=0)
        return result
    times = parse_cron(str(schedule.get("cron") or ""))
    try:
        result = times.next(effective)
    except ValueError:
        return None
    if end is not None and end < result:
        return None
    if not catchup:
        for _ in range(_MAX_SKIPPED):
            following = times.next(result)
            if following > now or (end is not None and following > end):
                break
            result = following
    return result


_GO_LAYOUT = re.compile(r"January|Monday|2006|Jan|Mon|MST|01|02|15|04|05|06|PM|pm|1|2|3|4|5")
_GO_TO_STRFTIME = {
    "January": "%B", "Monday": "%A", "2006": "%Y", "Jan": "%b", "Mon": "%a", "MST": "UTC", "01": "%m",
    "02": "%d", "15": "%H", "04": "%M", "05": "%S", "06": "%y", "PM": "%p", "pm": "%p", "1": "%-m",
    "2": "%-d", "3": "%-I", "4": "%-M", "5": "%-S",
}


def _go_format(moment: datetime, layout: str) -> str:
    """``moment`` formatted with a Go time layout (the reference time 2006-01-02 15:04:05)."""
    return moment.strftime(_GO_LAYOUT.sub(lambda m: _GO_TO_STRFTIME[m.group(0)], layout.replace("%", "%%")))


_MACRO = re.compile(r"\[\[(ScheduledTime|CurrentTime|Index|RunUUID)(?:\.([^\]]+))?\]\]")


def format_parameter(value: str, *, scheduled: datetime, now: datetime, index: int, run_id: str) -> str:
    """A parameter value with KFP's ``[[…]]`` macros replaced."""

    def replace(match: re.Match[str]) -> str:
        macro, layout = match.group(1), match.group(2)
        if macro == "Index":
            return str(index)
        if macro == "RunUUID":
            return run_id
        moment = scheduled if macro == "ScheduledTime" else now
        return _go_format(moment, layout) if layout else moment.strftime(DEFAULT_TIME_FORMAT)

    return _MACRO.sub(replace, value)


def _fnv32a(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def workflow_name(swf_name: str, index: int) -> str:
    """KFP's deterministic name for the schedule's ``index``-th Workflow."""
    base = f"{swf_name}-{index}"
    return f"{base}-{_fnv32a(base)}"


def workflow_for_trigger(swf: Mapping[str, Any], *, index: int, scheduled: datetime, now: datetime,
                         run_id: str | None = None) -> Obj:
    """The Workflow the schedule creates for its ``index``-th run, scheduled at ``scheduled``."""
    spec = swf.get("spec") or {}
    template = ((spec.get("workflow") or {}).get("spec"))
    if not isinstance(template, Mapping) or not template.get("spec"):
        raise ValueError("spec.workflow.spec holds no Workflow to create")
    run_id = run_id or str(uuid.uuid4())
    meta = swf["metadata"]
    workflow: Obj = copy.deepcopy(dict(template))
    workflow["apiVersion"], workflow["kind"] = WORKFLOW
    name = workflow_name(meta["name"], index)
    wf_meta = workflow.setdefault("metadata", {})
    wf_meta.pop("generateName", None)
    wf_meta.update(name=name, namespace=meta.get("namespace"))
    wf_meta["labels"] = {**(wf_meta.get("labels") or {}), RUN_ID_LABEL: run_id, NAME_LABEL: meta["name"],
                         EPOCH_LABEL: str(int(scheduled.timestamp())), INDEX_LABEL: str(index),
                         OWNED_LABEL: "true", COMPLETED_LABEL: "false"}
    wf_meta["annotations"] = {**(wf_meta.get("annotations") or {}), RUN_NAME_ANNOTATION: name,
                              RECURRING_RUN_ANNOTATION: meta.get("uid", "")}
    wf_meta["ownerReferences"] = [owner_reference({"apiVersion": SCHEDULED_WORKFLOW[0],
                                                   "kind": SCHEDULED_WORKFLOW[1], "metadata": meta})]
    wf_spec = workflow.setdefault("spec", {})
    arguments = wf_spec.setdefault("arguments", {}).setdefault("parameters", [])
    for parameter in (spec.get("workflow") or {}).get("parameters") or []:
        value = format_parameter(str(parameter.get("value", "")), scheduled=scheduled, now=now,
                                 index=index, run_id=run_id)
        existing = next((a for a in arguments if a.get("name") == parameter.get("name")), None)
        if existing is None:
            arguments.append({"name": parameter.get("name"), "value": value})
        else:
            existing["value"] = value
    if spec.get("serviceAccount") and not wf_spec.get("serviceAccountName"):
        wf_spec["serviceAccountName"] = spec["serviceAccount"]
    return workflow


def _finished(workflow: Mapping[str, Any]) -> bool:
    labels = (workflow.get("metadata") or {}).get("labels") or {}
    return labels.get(COMPLETED_LABEL) == "true" or (workflow.get("status") or {}).get("phase") in FINAL_PHASES


def _epoch_time(text: str | None) -> str | None:
    try:
        return format_time(datetime.fromtimestamp(int(text or ""), UTC))
    except ValueError:
        return None


def _history_entry(workflow: Mapping[str, Any]) -> Obj:
    meta = workflow["metadata"]
    labels = meta.get("labels") or {}
    status = workflow.get("status") or {}
    entry = {
        "name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid"),
        "phase": status.get("phase"), "message": status.get("message"),
        "createdAt": meta.get("creationTimestamp"), "startedAt": status.get("startedAt"),
        "finishedAt": status.get("finishedAt"), "scheduledAt": _epoch_time(labels.get(EPOCH_LABEL)),
        "index": int(labels.get(INDEX_LABEL) or 0),
    }
    return {k: v for k, v in entry.items() if v not in (None, "")}


def _condition(swf: Mapping[str, Any], active: int, has_run: bool) -> tuple[str, str]:
    if is_one_off(swf):
        if has_run and not active:
            return "Succeeded", "The one-off schedule has succeeded."
        return "Running", "The one-off schedule is running."
    if (swf.get("spec") or {}).get("enabled"):
        return "Enabled", "The schedule is enabled."
    return "Disabled", "The schedule is disabled."


class ScheduledWorkflowReconciler:
    """Reconciles one ScheduledWorkflow (see the module docstring)."""

    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.events = manager.event_recorder("scheduledworkflow-controller")

    async def reconcile(self, request: Request) -> Result | None:
        try:
            swf = await self.client.get(*SCHEDULED_WORKFLOW, request.name, namespace=request.namespace)
        except NotFound:
            return None
        if is_being_deleted(swf):
            return None
        swf.setdefault("apiVersion", SCHEDULED_WORKFLOW[0])
        swf.setdefault("kind", SCHEDULED_WORKFLOW[1])
        meta = swf["metadata"]
        listed = await self.client.list(*WORKFLOW, namespace=request.namespace,
                                        label_selector={"matchLabels": {NAME_LABEL: meta["name"]}})
        owned = [w for w in listed["items"] if (controller_of(w) or {}).get("uid") == meta["uid"]]
        active = [w for w in owned if not _finished(w)]
        completed = [w for w in owned if _finished(w)]
        now = self.clock.now()
        status: Obj = copy.deepcopy(swf.get("status") or {})
        trigger_status: Obj = dict(status.get("trigger") or {})
        try:
            due = next_trigger(swf, now=now)
        except ValueError as err:
            message = f"invalid schedule: {err}"
            await self._write(swf, status, ("Error", message), trigger_status, active, completed)
            await self.events.warning(swf, reason="InvalidSchedule", message=message)
            return None
        enabled = bool((swf.get("spec") or {}).get("enabled"))
        upcoming = due
        if enabled and due is not None and due <= now and len(active) < max_concurrency(swf):
            index = int(trigger_status.get("lastWorkflowIndex") or 0) + 1
            created = await self._create(swf, index=index, scheduled=due, now=now)
            if created is None:
                return None
            active.append(created)
            trigger_status.update(lastTriggeredTime=format_time(due), lastWorkflowIndex=index)
            upcoming = next_trigger({**swf, "status": {**status, "trigger": trigger_status}}, now=now)
        if upcoming is None:
            trigger_status.pop("nextTriggeredTime", None)
        else:
            trigger_status["nextTriggeredTime"] = format_time(upcoming)
        has_run = bool(trigger_status.get("lastTriggeredTime"))
        await self._write(swf, status, _condition(swf, len(active), has_run), trigger_status, active, completed)
        if enabled and upcoming is not None:
            wait = (upcoming - now).total_seconds()
            if wait > 0:
                return Result(requeue_after=wait)
        return None

    async def _create(self, swf: Obj, *, index: int, scheduled: datetime, now: datetime) -> Obj | None:
        meta = swf["metadata"]
        try:
            workflow = workflow_for_trigger(swf, index=index, scheduled=scheduled, now=now)
        except ValueError as err:
            await self.events.warning(swf, reason="InvalidWorkflow", message=str(err))
            status = copy.deepcopy(swf.get("status") or {})
            await self._write(swf, status, ("Error", str(err)), dict(status.get("trigger") or {}), [], [])
            return None
        try:
            created = await self.client.create(workflow, namespace=meta.get("namespace"))
        except AlreadyExists:
            # Created by an earlier reconcile whose status write was lost: that time is taken.
            return await self.client.get(*WORKFLOW, workflow["metadata"]["name"], namespace=meta.get("namespace"))
        log.info("scheduled workflow %s/%s created %s for %s", meta.get("namespace"), meta["name"],
                 created["metadata"]["name"], format_time(scheduled))
        await self.events.normal(swf, reason="WorkflowCreated",
                                 message=f"Created workflow {created['metadata']['name']} scheduled at "
                                         f"{format_time(scheduled)}")
        return created

    async def _write(self, swf: Obj, status: Obj, condition: tuple[str, str], trigger: Obj,
                     active: list[Obj], completed: list[Obj]) -> None:
        kind, message = condition
        now = format_time(self.clock.now())
        previous = next(iter(status.get("conditions") or []), {})
        since = previous.get("lastTransitionTime") if previous.get("type") == kind else now
        status["conditions"] = [{"type": kind, "status": "True", "reason": kind, "message": message,
                                 "lastTransitionTime": since or now, "lastHeartbeatTime": since or now}]
        status["trigger"] = trigger
        newest_first = sorted(active, key=_scheduled_key, reverse=True)
        done = sorted(completed, key=_scheduled_key, reverse=True)[:max_history(swf)]
        history = {"active": [_history_entry(w) for w in newest_first],
                   "completed": [_history_entry(w) for w in done]}
        status["workflowHistory"] = {k: v for k, v in history.items() if v}
        meta = swf["metadata"]
        labels = meta.get("labels") or {}
        wanted = {ENABLED_LABEL: "true" if (swf.get("spec") or {}).get("enabled") else "false",
                  STATUS_LABEL: kind}
        if any(labels.get(k) != v for k, v in wanted.items()):
            await self.client.patch(*SCHEDULED_WORKFLOW, meta["name"], {"metadata": {"labels": wanted}},
                                    namespace=meta.get("namespace"))
        if status != (swf.get("status") or {}):
            patch = _merge_patch(swf.get("status") or {}, status)
            await self.client.patch_status(*SCHEDULED_WORKFLOW, meta["name"], {"status": patch},
                                           namespace=meta.get("namespace"))


def _merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> Obj:
    """The RFC 7386 merge patch that turns ``old`` into ``new`` (removed keys become null)."""
    patch: Obj = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = _merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif value != before:
            patch[key] = value
    return patch


def _scheduled_key(workflow: Mapping[str, Any]) -> tuple[int, str]:
    labels = (workflow.get("metadata") or {}).get("labels") or {}
    try:
        epoch = int(labels.get(EPOCH_LABEL) or 0)
    except ValueError:
        epoch = 0
    return epoch, str(workflow["metadata"]["name"])


def controller(manager: Manager) -> Controller:
    """The scheduled-workflow controller (``scheduledworkflow-controller``), for the manager's registry."""
    return Controller(
        "scheduledworkflow-controller",
        for_=SCHEDULED_WORKFLOW,
        owns=[WORKFLOW],
        reconciler=ScheduledWorkflowReconciler(manager),
        max_concurrent_reconciles=2,
    )
