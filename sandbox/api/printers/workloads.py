"""How workloads print: apps/v1, batch/v1, HorizontalPodAutoscalers and PDBs.

Deployments and StatefulSets show READY as ``ready/desired``; ReplicaSets
and DaemonSets counts; Jobs a STATUS (``Complete``, ``Failed``,
``Suspended``, ``Running`` …), COMPLETIONS (``1/3``, ``0/1 of 4``) and a
DURATION; CronJobs their schedule and last run. Wide tables add the
template's containers, images and the selector.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.printers.ages import age, human_duration, parse_timestamp
from sandbox.api.printers.columns import (
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    NAME_COLUMN,
    Column,
    Printer,
    PrintOptions,
    age_of,
    as_int,
    condition_true,
    containers_and_images,
    format_label_selector,
    format_labels,
    get,
    kind_key,
    name_of,
    quantity_text,
    selector_string,
)

__all__ = [
    "CONTROLLER_REVISION",
    "CRON_JOB",
    "DAEMON_SET",
    "DEPLOYMENT",
    "HORIZONTAL_POD_AUTOSCALER",
    "JOB",
    "POD_DISRUPTION_BUDGET",
    "PRINTERS",
    "REPLICA_SET",
    "STATEFUL_SET",
]


def _deployment_cells(d: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = d.get("spec") or {}
    status = d.get("status") or {}
    containers, images = containers_and_images(get(spec, "template", "spec"))
    selector = selector_string(spec.get("selector"))
    return [
        name_of(d),
        f"{as_int(status.get('readyReplicas'))}/{as_int(spec.get('replicas'), 1)}",
        as_int(status.get("updatedReplicas")),
        as_int(status.get("availableReplicas")),
        age_of(d, opts),
        containers,
        images,
        "<invalid>" if selector is None else selector,
    ]


DEPLOYMENT = Printer(
    columns=(
        NAME_COLUMN,
        Column("Ready", description="Number of the pod with ready state"),
        Column("Up-to-date", description=("apps.v1.DeploymentStatus", "updatedReplicas")),
        Column("Available", description=("apps.v1.DeploymentStatus", "availableReplicas")),
        AGE_COLUMN,
        CONTAINERS_COLUMN,
        IMAGES_COLUMN,
        Column("Selector", priority=1, description=("apps.v1.DeploymentSpec", "selector")),
    ),
    cells=_deployment_cells,
)


def _replica_set_cells(rs: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = rs.get("spec") or {}
    status = rs.get("status") or {}
    containers, images = containers_and_images(get(spec, "template", "spec"))
    return [
        name_of(rs),
        as_int(spec.get("replicas"), 1),
        as_int(status.get("replicas")),
        as_int(status.get("readyReplicas")),
        age_of(rs, opts),
        containers,
        images,
        format_label_selector(spec.get("selector")),
    ]


REPLICA_SET = Printer(
    columns=(
        NAME_COLUMN,
        Column("Desired", type="integer", description=("apps.v1.ReplicaSetSpec", "replicas")),
        Column("Current", type="integer", description=("apps.v1.ReplicaSetStatus", "replicas")),
        Column("Ready", type="integer", description=("apps.v1.ReplicaSetStatus", "readyReplicas")),
        AGE_COLUMN,
        CONTAINERS_COLUMN,
        IMAGES_COLUMN,
        Column("Selector", priority=1, description=("apps.v1.ReplicaSetSpec", "selector")),
    ),
    cells=_replica_set_cells,
)


def _stateful_set_cells(sts: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = sts.get("spec") or {}
    containers, images = containers_and_images(get(spec, "template", "spec"))
    ready = as_int(get(sts, "status", "readyReplicas"))
    return [
        name_of(sts),
        f"{ready}/{as_int(spec.get('replicas'), 1)}",
        age_of(sts, opts),
        containers,
        images,
    ]


STATEFUL_SET = Printer(
    columns=(
        NAME_COLUMN,
        Column("Ready", description="Number of the pod with ready state"),
        AGE_COLUMN,
        CONTAINERS_COLUMN,
        IMAGES_COLUMN,
    ),
    cells=_stateful_set_cells,
)


def _daemon_set_cells(ds: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = ds.get("spec") or {}
    status = ds.get("status") or {}
    pod_spec = get(spec, "template", "spec", default={})
    containers, images = containers_and_images(pod_spec)
    return [
        name_of(ds),
        as_int(status.get("desiredNumberScheduled")),
        as_int(status.get("currentNumberScheduled")),
        as_int(status.get("numberReady")),
        as_int(status.get("updatedNumberScheduled")),
        as_int(status.get("numberAvailable")),
        format_labels(pod_spec.get("nodeSelector")),
        age_of(ds, opts),
        containers,
        images,
        format_label_selector(spec.get("selector")),
    ]


DAEMON_SET = Printer(
    columns=(
        NAME_COLUMN,
        Column(
            "Desired",
            type="integer",
            description=("apps.v1.DaemonSetStatus", "desiredNumberScheduled"),
        ),
        Column(
            "Current",
            type="integer",
            description=("apps.v1.DaemonSetStatus", "currentNumberScheduled"),
        ),
        Column("Ready", type="integer", description=("apps.v1.DaemonSetStatus", "numberReady")),
        Column(
            "Up-to-date",
            type="integer",
            description=("apps.v1.DaemonSetStatus", "updatedNumberScheduled"),
        ),
        Column(
            "Available", type="integer", description=("apps.v1.DaemonSetStatus", "numberAvailable")
        ),
        Column("Node Selector", description=("core.v1.PodSpec", "nodeSelector")),
        AGE_COLUMN,
        CONTAINERS_COLUMN,
        IMAGES_COLUMN,
        Column("Selector", priority=1, description=("apps.v1.DaemonSetSpec", "selector")),
    ),
    cells=_daemon_set_cells,
)


def _controller_revision_cells(rev: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    controller = "<none>"
    for ref in get(rev, "metadata", "ownerReferences", default=[]):
        if ref.get("controller"):
            group = str(ref.get("apiVersion") or "").rpartition("/")[0]
            controller = f"{kind_key(group, str(ref.get('kind') or '')).lower()}/{ref.get('name')}"
            break
    return [name_of(rev), controller, as_int(rev.get("revision")), age_of(rev, opts)]


CONTROLLER_REVISION = Printer(
    columns=(
        NAME_COLUMN,
        Column("Controller", description="Controller of the object"),
        Column("Revision", description=("apps.v1.ControllerRevision", "revision")),
        AGE_COLUMN,
    ),
    cells=_controller_revision_cells,
)


# batch/v1 --------------------------------------------------------------------------------


def _job_status(job: Mapping[str, Any]) -> str:
    conditions = get(job, "status", "conditions", default=[])
    if condition_true(conditions, "Complete"):
        return "Complete"
    if condition_true(conditions, "Failed"):
        return "Failed"
    if get(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    if condition_true(conditions, "Suspended"):
        return "Suspended"
    if condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job_cells(job: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    succeeded = as_int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{as_int(spec['completions'])}"
    elif as_int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {as_int(spec['parallelism'])}"
    else:
        completions = f"{succeeded}/1"
    started = parse_timestamp(status.get("startTime"))
    finished = parse_timestamp(status.get("completionTime"))
    duration = ""
    if started is not None:
        duration = human_duration((finished or opts.now) - started)
    containers, images = containers_and_images(get(spec, "template", "spec"))
    return [
        name_of(job),
        _job_status(job),
        completions,
        duration,
        age_of(job, opts),
        containers,
        images,
        format_label_selector(spec.get("selector")),
    ]


JOB = Printer(
    columns=(
        NAME_COLUMN,
        Column("Status", description="Status of the job."),
        Column("Completions", description=("batch.v1.JobStatus", "succeeded")),
        Column("Duration", description="Time required to complete the job."),
        AGE_COLUMN,
        CONTAINERS_COLUMN,
        IMAGES_COLUMN,
        Column("Selector", priority=1, description=("batch.v1.JobSpec", "selector")),
    ),
    cells=_job_cells,
)


def _cron_job_cells(cj: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = cj.get("spec") or {}
    status = cj.get("status") or {}
    last = status.get("lastScheduleTime")
    suspend = spec.get("suspend")
    job_spec = get(spec, "jobTemplate", "spec", default={})
    containers, images = containers_and_images(get(job_spec, "template", "spec"))
    return [
        name_of(cj),
        spec.get("schedule") or "",
        spec.get("timeZone") or "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(status.get("active") or []),
        age(last, now=opts.now) if last else "<none>",
        age_of(cj, opts),
        containers,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


CRON_JOB = Printer(
    columns=(
        NAME_COLUMN,
        Column("Schedule", description=("batch.v1.CronJobSpec", "schedule")),
        Column("Timezone", description=("batch.v1.CronJobSpec", "timeZone")),
        Column("Suspend", type="boolean", description=("batch.v1.CronJobSpec", "suspend")),
        Column("Active", type="integer", description=("batch.v1.CronJobStatus", "active")),
        Column("Last Schedule", description=("batch.v1.CronJobStatus", "lastScheduleTime")),
        AGE_COLUMN,
        CONTAINERS_COLUMN,
        IMAGES_COLUMN,
        Column("Selector", priority=1, description=("batch.v1.JobSpec", "selector")),
    ),
    cells=_cron_job_cells,
)


def _metric_target(spec: Mapping[str, Any], status: Mapping[str, Any], source: str) -> str:
    """One ``Targets`` entry of an External/Object/Pods metric (``current/target``)."""
    target = get(spec, source, "target", default={})
    current = get(status, source, "current", default={})
    have = status.get(source) is not None
    if source == "pods":
        return (
            f"{quantity_text(current.get('averageValue')) if have else '<unknown>'}/"
            + quantity_text(target.get("averageValue"))
        )
    if target.get("averageValue") is not None:
        now = (
            quantity_text(current["averageValue"])
            if have and current.get("averageValue") is not None
            else "<unknown>"
        )
        return f"{now}/{quantity_text(target['averageValue'])} (avg)"
    now = quantity_text(current.get("value")) if have else "<unknown>"
    return f"{now}/{quantity_text(target.get('value'))}"


def _resource_target(spec: Mapping[str, Any], status: Mapping[str, Any], source: str) -> str:
    resource = spec.get(source) or {}
    target = resource.get("target") or {}
    current = get(status, source, "current", default={})
    have = status.get(source) is not None
    name = resource.get("name") or ""
    if target.get("averageValue") is not None:
        now = quantity_text(current.get("averageValue")) if have else "<unknown>"
        return f"{name}: {now}/{quantity_text(target['averageValue'])}"
    utilization = current.get("averageUtilization")
    now = f"{utilization}%" if have and utilization is not None else "<unknown>"
    goal = target.get("averageUtilization")
    return f"{name}: {now}/{'<auto>' if goal is None else f'{goal}%'}"


def _hpa_targets(specs: list[Any], statuses: list[Any]) -> str:
    """``formatHPAMetrics``: at most two targets, then ``+ N more...``."""
    if not specs:
        return "<none>"
    shown: list[str] = []
    for i, spec in enumerate(specs):
        status = statuses[i] if i < len(statuses) else {}
        metric_type = spec.get("type")
        if metric_type in ("External", "Object", "Pods"):
            shown.append(_metric_target(spec, status, str(metric_type).lower()))
        elif metric_type == "Resource":
            shown.append(_resource_target(spec, status, "resource"))
        elif metric_type == "ContainerResource":
            shown.append(_resource_target(spec, status, "containerResource"))
        else:
            shown.append("<unknown type>")
    if len(shown) > 2:
        return ", ".join(shown[:2]) + f" + {len(shown) - 2} more..."
    return ", ".join(shown)


def _hpa_cells(hpa: Mapping[str, Any], opts: PrintOptions) -> list[Any]:
    spec = hpa.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [
        name_of(hpa),
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        _hpa_targets(spec.get("metrics") or [], get(hpa, "status", "currentMetrics", default=[])),
        "<unset>" if minimum is None else str(minimum),
        as_int(spec.get("maxReplicas")),
        as_int(get(hpa, "status", "currentReplicas")),
        age_of(hpa, opts),
    ]


_HPA_SPEC = "autoscaling.v2.HorizontalPodAutoscalerSpec"
HORIZONTAL_POD_AUTOSCALER = Printer(
    columns=(
        NAME_COLUMN,
        Column("Reference", description=(_HPA_SPEC, "scaleTargetRef")),
        Column("Targets", description=(_HPA_SPEC, "metrics")),
        Column("MinPods", description=(_HPA_SPEC, "minReplicas")),
        Column("MaxPods", description=(_HPA_SPEC, "maxReplicas")),
        Column(
            "Replicas",
            description=("autoscaling.v2.HorizontalPodAutoscalerStatus", "currentReplicas"),
        ),
        AGE_COLUMN,
    ),
    cells=_hpa_cells,
)


def _int_or_string(value: Any) -> str:
    return "N/A" if value is None else str(value)


POD_DISRUPTION_BUDGET = Printer(
    columns=(
        NAME_COLUMN,
        Column("Min Available", description="The minimum number of pods that must be available."),
        Column(
            "Max Unavailable", description="The maximum number of pods that may be unavailable."
        ),
        Column(
            "Allowed Disruptions",
            type="integer",
            description="Calculated number of pods that may be disrupted at this time.",
        ),
        AGE_COLUMN,
    ),
    cells=lambda pdb, opts: [
        name_of(pdb),
        _int_or_string(get(pdb, "spec", "minAvailable")),
        _int_or_string(get(pdb, "spec", "maxUnavailable")),
        as_int(get(pdb, "status", "disruptionsAllowed")),
        age_of(pdb, opts),
    ],
)


PRINTERS: dict[str, Printer] = {
    "Deployment.apps": DEPLOYMENT,
    "ReplicaSet.apps": REPLICA_SET,
    "StatefulSet.apps": STATEFUL_SET,
    "DaemonSet.apps": DAEMON_SET,
    "ControllerRevision.apps": CONTROLLER_REVISION,
    "Job.batch": JOB,
    "CronJob.batch": CRON_JOB,
    "HorizontalPodAutoscaler.autoscaling": HORIZONTAL_POD_AUTOSCALER,
    "PodDisruptionBudget.policy": POD_DISRUPTION_BUDGET,
}
