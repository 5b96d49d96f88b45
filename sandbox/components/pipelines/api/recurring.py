"""Recurring runs: KFP's schedules, kept as ScheduledWorkflow objects.

A recurring run is a ``ScheduledWorkflow`` (kubeflow.org/v1beta1) in the
``kubeflow`` namespace, which the scheduled-workflow controller
(:mod:`..workflow.scheduled`) turns into a run at every trigger — exactly
how KFP stores and runs them. ``recurring_run_id`` is the object's uid. The
API message maps onto the object like this::

    display_name, description         annotations pipelines.kubeflow.org/display_name, …/description
    trigger.cron_schedule              spec.trigger.cronSchedule {cron, startTime, endTime}
    trigger.periodic_schedule          spec.trigger.periodicSchedule {intervalSecond, startTime, endTime}
    max_concurrency, no_catchup        spec.maxConcurrency (1..10), spec.noCatchup
    mode ENABLE/DISABLE, status        spec.enabled
    runtime_config.parameters          spec.workflow.parameters [{name, value: JSON text}]
    pipeline_spec / version reference  spec.workflow.spec: the Workflow each run starts from
                                       (with the pipeline spec); spec.pipelineId, pipelineVersionId
    experiment_id, service_account     spec.experimentId, spec.serviceAccount

Creating one checks everything a run would (pipeline spec, parameters,
pipeline root, experiment) plus the trigger: a cron expression the
controller can read, a positive interval, a start before the end, a
concurrency of 1 to 10 — so a bad schedule is a 400 now rather than a
schedule that never fires. Deleting one keeps the runs it made unless the
request asks for ``propagation_policy`` ``FOREGROUND``/``BACKGROUND`` (the
runs are Workflows the schedule owns; those policies delete them with it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.client.protocol import Client
from sandbox.clock import Clock, format_time
from sandbox.components.pipelines.api.errors import InvalidArgument, NotFoundError
from sandbox.components.pipelines.api.kube import (
    NAMESPACE,
    annotations_of,
    by_creation,
    ensure_namespace,
)
from sandbox.components.pipelines.api.listing import ListQuery, list_page
from sandbox.components.pipelines.api.messages import (
    compact,
    get_field,
    k8s_name,
    optional_int,
    optional_time,
    timestamp,
)
from sandbox.components.pipelines.api.runs import EXPERIMENT_ANNOTATION, RunService
from sandbox.components.pipelines.workflow.build import (
    PIPELINE_ROOT_ANNOTATION,
    RUN_ID_LABEL,
    pipeline_spec,
    workflow_for_run,
)
from sandbox.components.pipelines.workflow.scheduled import (
    ENABLED_LABEL,
    MAX_MAX_CONCURRENCY,
    SCHEDULED_WORKFLOW,
    parse_cron,
)

__all__ = ["RecurringRunService", "recurring_run_message"]

DISPLAY_NAME_ANNOTATION = "pipelines.kubeflow.org/display_name"
DESCRIPTION_ANNOTATION = "pipelines.kubeflow.org/description"
UPDATED_ANNOTATION = "pipelines.kubeflow.org/updated_at"
RECURRING_SORTABLE = ("recurring_run_id", "display_name", "created_at", "updated_at", "status", "mode",
                      "experiment_id", "description")
_PROPAGATION = {"FOREGROUND": "Foreground", "BACKGROUND": "Background", "ORPHAN": "Orphan"}


def _decode(value: Any) -> Any:
    try:
        return json.loads(str(value))
    except ValueError:
        return value


def _trigger_message(trigger: Mapping[str, Any]) -> dict[str, Any]:
    cron = trigger.get("cronSchedule")
    periodic = trigger.get("periodicSchedule")
    if cron:
        return {"cron_schedule": compact({"cron": cron.get("cron"), "start_time": timestamp(cron.get("startTime")),
                                          "end_time": timestamp(cron.get("endTime"))})}
    if periodic:
        return {"periodic_schedule": compact({
            "interval_second": str(periodic.get("intervalSecond") or 0),
            "start_time": timestamp(periodic.get("startTime")), "end_time": timestamp(periodic.get("endTime"))})}
    return {}


def recurring_run_message(swf: Mapping[str, Any], *, default_experiment: str) -> dict[str, Any]:
    """The API's ``RecurringRun`` for a ScheduledWorkflow."""
    meta = swf["metadata"]
    spec = swf.get("spec") or {}
    annotations = annotations_of(swf)
    workflow = spec.get("workflow") or {}
    template = workflow.get("spec") or {}
    enabled = bool(spec.get("enabled"))
    errors = [c for c in (swf.get("status") or {}).get("conditions") or [] if c.get("type") == "Error"]
    message: dict[str, Any] = {
        "recurring_run_id": meta["uid"],
        "display_name": annotations.get(DISPLAY_NAME_ANNOTATION) or meta["name"],
        "description": annotations.get(DESCRIPTION_ANNOTATION),
        "runtime_config": compact({
            "parameters": {p.get("name"): _decode(p.get("value")) for p in workflow.get("parameters") or []},
            "pipeline_root": annotations_of(template).get(PIPELINE_ROOT_ANNOTATION)}),
        "service_account": spec.get("serviceAccount"),
        "max_concurrency": str(spec.get("maxConcurrency") or 1),
        "trigger": _trigger_message(spec.get("trigger") or {}),
        "mode": "ENABLE" if enabled else "DISABLE",
        "status": "ENABLED" if enabled else "DISABLED",
        "created_at": timestamp(meta.get("creationTimestamp")),
        "updated_at": timestamp(annotations.get(UPDATED_ANNOTATION) or meta.get("creationTimestamp")),
        "no_catchup": bool(spec.get("noCatchup")),
        "namespace": "",
        "experiment_id": spec.get("experimentId") or default_experiment,
        "error": {"code": 9, "message": errors[0].get("message", "")} if errors else None,
    }
    if spec.get("pipelineVersionId"):
        message["pipeline_version_reference"] = compact({"pipeline_id": spec.get("pipelineId"),
                                                         "pipeline_version_id": spec["pipelineVersionId"]})
        message["pipeline_version_id"] = spec["pipelineVersionId"]
    else:
        try:
            message["pipeline_spec"] = pipeline_spec(template)
        except ValueError:
            pass
    return compact(message)


class RecurringRunService:
    """The recurring-run endpoints over the cluster client (see the module docstring)."""

    def __init__(self, client: Client, *, runs: RunService, clock: Clock) -> None:
        self.client = client
        self.runs = runs
        self.clock = clock

    def message(self, swf: Mapping[str, Any]) -> dict[str, Any]:
        return recurring_run_message(swf, default_experiment=self.runs.experiments.default_id())

    async def objects(self) -> list[dict[str, Any]]:
        return by_creation((await self.client.list(*SCHEDULED_WORKFLOW))["items"])

    async def object(self, recurring_run_id: str) -> dict[str, Any]:
        for swf in await self.objects():
            if swf["metadata"]["uid"] == recurring_run_id:
                return swf
        raise NotFoundError(f"Recurring run {recurring_run_id} not found")

    # Creating ------------------------------------------------------------------------------

    def _trigger(self, body: Mapping[str, Any]) -> dict[str, Any]:
        trigger = get_field(body, "trigger") or {}
        cron = get_field(trigger, "cron_schedule")
        periodic = get_field(trigger, "periodic_schedule")
        if cron and periodic:
            raise InvalidArgument("a trigger is either a cron_schedule or a periodic_schedule, not both")
        schedule = cron or periodic
        if not schedule:
            raise InvalidArgument("a recurring run needs a trigger: cron_schedule or periodic_schedule")
        start = optional_time(get_field(schedule, "start_time"), "trigger start_time")
        end = optional_time(get_field(schedule, "end_time"), "trigger end_time")
        if start and end and start >= end:
            raise InvalidArgument("the trigger's start_time must be before its end_time")
        times = {"startTime": format_time(start) if start else None, "endTime": format_time(end) if end else None}
        if cron:
            expression = str(get_field(cron, "cron", "") or "")
            try:
                parse_cron(expression)
            except ValueError as err:
                raise InvalidArgument(f"invalid cron expression {expression!r}: {err}") from None
            return {"cronSchedule": compact({"cron": expression, **times})}
        interval = optional_int(get_field(periodic, "interval_second"), "interval_second")
        if interval is None or interval <= 0:
            raise InvalidArgument("the periodic schedule's interval_second must be a positive number")
        return {"periodicSchedule": compact({"intervalSecond": interval, **times})}

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        display_name = str(get_field(body, "display_name", "") or "").strip()
        if not display_name:
            raise InvalidArgument("Recurring run display name is empty. Please specify a valid name")
        experiment_id = self.runs.experiment_for(body)
        resolved, origin = await self.runs.source(body)
        parameters, root = self.runs.runtime_config(body, resolved)
        trigger = self._trigger(body)
        concurrency = optional_int(get_field(body, "max_concurrency"), "max_concurrency")
        concurrency = 1 if concurrency is None else concurrency
        if not 1 <= concurrency <= MAX_MAX_CONCURRENCY:
            raise InvalidArgument(f"max_concurrency must be between 1 and {MAX_MAX_CONCURRENCY}, not {concurrency}")
        mode = str(get_field(body, "mode", "ENABLE") or "ENABLE").upper()
        if mode not in ("ENABLE", "DISABLE", "MODE_UNSPECIFIED"):
            raise InvalidArgument(f"unknown mode {mode!r}: ENABLE or DISABLE")
        service_account = str(get_field(body, "service_account", "") or "")
        template = workflow_for_run(resolved.pipeline, run_id="", run_name=display_name, pipeline_root=root,
                                    service_account=service_account or None)
        template["metadata"]["labels"].pop(RUN_ID_LABEL, None)
        template["metadata"]["annotations"].update({**origin, EXPERIMENT_ANNOTATION: experiment_id})
        annotations = {DISPLAY_NAME_ANNOTATION: display_name}
        description = str(get_field(body, "description", "") or "")
        if description:
            annotations[DESCRIPTION_ANNOTATION] = description
        enabled = mode != "DISABLE"
        swf = {
            "apiVersion": SCHEDULED_WORKFLOW[0], "kind": SCHEDULED_WORKFLOW[1],
            "metadata": {"generateName": k8s_name(display_name, limit=40) + "-", "namespace": NAMESPACE,
                         "annotations": annotations, "labels": {ENABLED_LABEL: str(enabled).lower()}},
            "spec": compact({
                "enabled": enabled, "maxConcurrency": concurrency,
                "noCatchup": bool(get_field(body, "no_catchup", False)), "trigger": trigger,
                "workflow": {"parameters": [{"name": k, "value": json.dumps(v)} for k, v in parameters.items()],
                             "spec": template},
                "experimentId": experiment_id, "pipelineId": origin.get("pipelines.kubeflow.org/pipeline_id"),
                "pipelineVersionId": origin.get("pipelines.kubeflow.org/pipeline_version_id"),
                "serviceAccount": service_account,
            }),
        }
        await ensure_namespace(self.client)
        created = await self.client.create(swf, namespace=NAMESPACE)
        return self.message(created)

    # Reading and changing -------------------------------------------------------------------

    async def get(self, recurring_run_id: str) -> dict[str, Any]:
        return self.message(await self.object(recurring_run_id))

    async def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        query = ListQuery.from_params(params)
        experiment_id = params.get("experiment_id") or params.get("experimentId") or ""
        messages = [self.message(swf) for swf in await self.objects()]
        if experiment_id:
            messages = [m for m in messages if m.get("experiment_id") == experiment_id]
        page = list_page(messages, query, sortable=RECURRING_SORTABLE,
                         aliases={"name": "display_name", "id": "recurring_run_id"})
        # KFP's proto names this field recurringRuns (not recurring_runs), so that is its JSON name.
        return compact({"recurringRuns": page.items, "total_size": page.total_size,
                        "next_page_token": page.next_page_token})

    async def set_enabled(self, recurring_run_id: str, enabled: bool) -> None:
        await self._enable(await self.object(recurring_run_id), enabled)

    async def _enable(self, swf: Mapping[str, Any], enabled: bool) -> None:
        meta = swf["metadata"]
        await self.client.patch(*SCHEDULED_WORKFLOW, meta["name"], {
            "metadata": {"annotations": {UPDATED_ANNOTATION: format_time(self.clock.now())}},
            "spec": {"enabled": enabled}}, namespace=meta.get("namespace"))

    async def disable_experiment(self, experiment_id: str) -> None:
        """Disable every recurring run of an experiment (what archiving the experiment does)."""
        default = self.runs.experiments.default_id()
        for swf in await self.objects():
            if ((swf.get("spec") or {}).get("experimentId") or default) == experiment_id \
                    and (swf.get("spec") or {}).get("enabled"):
                await self._enable(swf, False)

    async def delete(self, recurring_run_id: str, *, propagation_policy: str = "") -> None:
        swf = await self.object(recurring_run_id)
        policy = _PROPAGATION.get(propagation_policy.upper(), "Orphan")
        meta = swf["metadata"]
        try:
            await self.client.delete(*SCHEDULED_WORKFLOW, meta["name"], namespace=meta.get("namespace"),
                                     propagation_policy=policy)  # type: ignore[arg-type]
        except NotFound:
            pass

