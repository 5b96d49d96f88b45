"""Server-side printing: Tables with kube-apiserver 1.31's columns, cells and ages."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.errors import BadRequest
from sandbox.api.kinds import ResourceType, resource_types_from_crd
from sandbox.api.printers import (
    PRINTERS,
    Column,
    Printer,
    age,
    human_duration,
    jsonpath,
    kind_key,
    table,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
REGISTRY = builtin_registry()


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, *, created: float = 300, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "x",
        "uid": "u-" + name,
        "creationTimestamp": ago(created),
        **extra,
    }


def rt_of(api_version: str, kind: str) -> ResourceType:
    return REGISTRY.get(api_version, kind)


def cells(api_version: str, kind: str, obj: dict[str, Any], *, wide: bool = True) -> list[Any]:
    result = table(rt_of(api_version, kind), [obj], now=NOW, wide=wide)
    return result["rows"][0]["cells"]


def header(api_version: str, kind: str, *, wide: bool = True) -> list[str]:
    result = table(rt_of(api_version, kind), [], now=NOW, wide=wide)
    return [c["name"] for c in result["columnDefinitions"]]


# Ages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-1, "0s"),  # a second of clock skew reads as now
        (-2, "<invalid>"),
        (5.9, "5s"),
        (119, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (599, "9m59s"),
        (600, "10m"),
        (179 * 60 + 59, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 20 * 60, "3h20m"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (8 * 365 * 86400, "8y"),
    ],
)
def test_human_duration_follows_kubectls_rounding(seconds: float, text: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == text


def test_age_of_missing_or_malformed_timestamps() -> None:
    assert age(ago(65), now=NOW) == "65s"
    assert age(None, now=NOW) == "<unknown>"
    assert age("yesterday", now=NOW) == "<invalid>"
    # Go's RFC 3339 parser wants a zone: a naive Python isoformat() is not a time.
    assert age("2026-01-01T11:00:00.123456", now=NOW) == "<invalid>"
    assert age("2026-01-01T11:59:00.5+00:00", now=NOW) == "59s"


# Table shape -------------------------------------------------------------------------


def test_table_shape_with_partial_object_metadata_rows() -> None:
    pod = {
        "metadata": meta("web", labels={"app": "web"}),
        "spec": {"containers": [{"name": "main", "image": "nginx"}]},
        "status": {"phase": "Pending"},
    }
    result = table(rt_of("v1", "Pod"), [pod], now=NOW, wide=True)
    assert list(result) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    assert (result["kind"], result["apiVersion"], result["metadata"]) == (
        "Table",
        "meta.k8s.io/v1",
        {},
    )
    name = result["columnDefinitions"][0]
    assert list(name) == ["name", "type", "format", "description", "priority"]
    assert (name["name"], name["type"], name["format"], name["priority"]) == (
        "Name",
        "string",
        "name",
        0,
    )
    assert name["description"].startswith("Name must be unique within a namespace.")
    row = result["rows"][0]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    assert "conditions" not in row


def test_include_object_modes() -> None:
    ns = {"metadata": meta("team"), "status": {"phase": "Active"}}
    rt = rt_of("v1", "Namespace")
    assert table(rt, [ns], now=NOW, include_object="Object")["rows"][0]["object"] is ns
    assert table(rt, [ns], now=NOW, include_object="None")["rows"][0]["object"] is None
    assert table(rt, [ns], now=NOW, include_object="")["rows"][0]["object"]["kind"] == (
        "PartialObjectMetadata"
    )
    with pytest.raises(BadRequest, match="unrecognized includeObject value"):
        table(rt, [ns], now=NOW, include_object="Everything")


def test_wide_columns_have_priority_one_and_are_dropped_when_not_wide() -> None:
    wide = table(rt_of("v1", "Pod"), [], now=NOW, wide=True)["columnDefinitions"]
    assert [(c["name"], c["priority"]) for c in wide] == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    pod = {"metadata": meta("web"), "spec": {"containers": [{"name": "c"}]}, "status": {}}
    assert header("v1", "Pod", wide=False) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert cells("v1", "Pod", pod, wide=False) == ["web", "0/1", "", "0", "5m"]


def test_every_documented_column_finds_its_openapi_description() -> None:
    for key, printer in PRINTERS.items():
        for column in printer.columns:
            assert column.definition()["description"], (key, column.name)


@pytest.mark.parametrize(
    ("api_version", "kind", "narrow", "wide_only"),
    [
        ("v1", "Node", ["Name", "Status", "Roles", "Age", "Version"],
         ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"]),
        ("v1", "Namespace", ["Name", "Status", "Age"], []),
        ("apps/v1", "Deployment", ["Name", "Ready", "Up-to-date", "Available", "Age"],
         ["Containers", "Images", "Selector"]),
        ("apps/v1", "ReplicaSet", ["Name", "Desired", "Current", "Ready", "Age"],
         ["Containers", "Images", "Selector"]),
        ("apps/v1", "StatefulSet", ["Name", "Ready", "Age"], ["Containers", "Images"]),
        ("apps/v1", "DaemonSet",
         ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"],
         ["Containers", "Images", "Selector"]),
        ("batch/v1", "Job", ["Name", "Status", "Completions", "Duration", "Age"],
         ["Containers", "Images", "Selector"]),
        ("batch/v1", "CronJob",
         ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"],
         ["Containers", "Images", "Selector"]),
        ("v1", "Service", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"],
         ["Selector"]),
        ("v1", "Endpoints", ["Name", "Endpoints", "Age"], []),
        ("v1", "Event", ["Last Seen", "Type", "Reason", "Object", "Message"],
         ["Subobject", "Source", "First Seen", "Count", "Name"]),
        ("v1", "ConfigMap", ["Name", "Data", "Age"], []),
        ("v1", "Secret", ["Name", "Type", "Data", "Age"], []),
        ("v1", "ServiceAccount", ["Name", "Secrets", "Age"], []),
        ("v1", "PersistentVolumeClaim",
         ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
          "VolumeAttributesClass", "Age"], ["VolumeMode"]),
        ("v1", "PersistentVolume",
         ["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
          "VolumeAttributesClass", "Reason", "Age"], ["VolumeMode"]),
        ("v1", "ResourceQuota", ["Name", "Age", "Request", "Limit"], []),
        ("storage.k8s.io/v1", "StorageClass",
         ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"],
         []),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", ["Name", "Created At"], []),
        ("rbac.authorization.k8s.io/v1", "Role", ["Name", "Created At"], []),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", ["Name", "Created At"], []),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", ["Name", "Role", "Age"],
         ["Users", "Groups", "ServiceAccounts"]),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", ["Name", "Role", "Age"],
         ["Users", "Groups", "ServiceAccounts"]),
        ("coordination.k8s.io/v1", "Lease", ["Name", "Holder", "Age"], []),
        ("networking.k8s.io/v1", "Ingress", ["Name", "Class", "Hosts", "Address", "Ports", "Age"], []),
        ("scheduling.x-k8s.io/v1alpha1", "PodGroup",
         ["Name", "Phase", "MinMember", "Running", "Succeeded", "Failed", "Age"], []),
        ("events.k8s.io/v1", "Event", ["Last Seen", "Type", "Reason", "Object", "Message"],
         ["Subobject", "Source", "First Seen", "Count", "Name"]),
    ],
)  # fmt: skip
def test_columns_of_each_kind_match_kube_apiserver_1_31(
    api_version: str, kind: str, narrow: list[str], wide_only: list[str]
) -> None:
    assert header(api_version, kind, wide=False) == narrow
    all_columns = header(api_version, kind, wide=True)
    assert [c for c in all_columns if c not in narrow] == wide_only


# Pods ----------------------------------------------------------------------------------


def make_pod(
    *,
    phase: str = "Running",
    statuses: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    containers: int = 1,
    **metadata: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": "busybox"} for i in range(containers)],
        "nodeName": "node-1",
    }
    if init is not None:
        spec["initContainers"] = init
    status: dict[str, Any] = {"phase": phase, "podIP": "10.244.1.7", "conditions": conditions or []}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    return {"metadata": meta("web", **metadata), "spec": spec, "status": status}


def running(
    name: str = "c0", *, ready: bool = True, restarts: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(60)}},
        **extra,
    }


def waiting(reason: str, name: str = "c0", *, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(
    name: str = "c0", *, code: int = 0, reason: str = "", signal: int = 0, **extra: Any
) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": code, "finishedAt": ago(30)}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {
        "name": name,
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": state},
        **extra,
    }


READY = [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}]


def pod_status(pod: dict[str, Any]) -> tuple[str, str, str]:
    row = cells("v1", "Pod", pod)
    return row[1], row[2], row[3]


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (make_pod(phase="Pending", statuses=None), ("0/1", "Pending", "0")),
        (make_pod(phase="Pending", statuses=[waiting("ContainerCreating")]),
         ("0/1", "ContainerCreating", "0")),
        (make_pod(statuses=[running()], conditions=READY), ("1/1", "Running", "0")),
        (make_pod(statuses=[running(ready=False)]), ("0/1", "Running", "0")),
        (make_pod(phase="Pending", statuses=[waiting("ImagePullBackOff")]),
         ("0/1", "ImagePullBackOff", "0")),
        (make_pod(phase="Pending", statuses=[waiting("ErrImagePull")]), ("0/1", "ErrImagePull", "0")),
        (make_pod(phase="Succeeded", statuses=[terminated(reason="Completed")]),
         ("0/1", "Completed", "0")),
        (make_pod(phase="Failed", statuses=[terminated(code=1, reason="Error")]), ("0/1", "Error", "0")),
        (make_pod(phase="Failed", statuses=[terminated(code=137, reason="OOMKilled")]),
         ("0/1", "OOMKilled", "0")),
        (make_pod(phase="Failed", statuses=[terminated(code=2)]), ("0/1", "ExitCode:2", "0")),
        (make_pod(phase="Failed", statuses=[terminated(code=0, signal=9)]), ("0/1", "Signal:9", "0")),
        # The first container's state wins over the others'.
        (make_pod(containers=2, statuses=[waiting("CrashLoopBackOff", "c0"), running("c1")]),
         ("1/2", "CrashLoopBackOff", "0")),
        # A finished container beside a running one: Running once the pod is Ready.
        (make_pod(containers=2, statuses=[terminated("c0", reason="Completed"), running("c1")],
                  conditions=READY), ("1/2", "Running", "0")),
        (make_pod(containers=2, statuses=[terminated("c0", reason="Completed"), running("c1")]),
         ("1/2", "NotReady", "0")),
        (make_pod(phase="Pending", statuses=[waiting("Pending")],
                  conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
         ("0/1", "Pending", "0")),
        (make_pod(phase="Pending", statuses=None,
                  conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
         ("0/1", "SchedulingGated", "0")),
    ],
)  # fmt: skip
def test_pod_ready_status_and_restarts(pod: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert pod_status(pod) == expected


def test_pod_crash_loop_shows_restarts_and_when_the_last_one_was() -> None:
    crashed = waiting(
        "CrashLoopBackOff",
        restarts=5,
        lastState={"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(5)}},
    )
    assert pod_status(make_pod(statuses=[crashed])) == ("0/1", "CrashLoopBackOff", "5 (5s ago)")
    # Without a finish time there is no "ago".
    crashed["lastState"] = {}
    assert pod_status(make_pod(statuses=[crashed]))[2] == "5"


def test_pod_restarts_sum_containers_and_take_the_latest_restart() -> None:
    first = running("c0", restarts=1, lastState={"terminated": {"finishedAt": ago(600)}})
    second = running("c1", restarts=2, lastState={"terminated": {"finishedAt": ago(90)}})
    pod = make_pod(containers=2, statuses=[first, second], conditions=READY)
    assert pod_status(pod) == ("2/2", "Running", "3 (90s ago)")


@pytest.mark.parametrize(
    ("init_statuses", "status"),
    [
        ([waiting("PodInitializing", "init")], "Init:0/1"),
        ([running("init", ready=False)], "Init:0/1"),
        ([waiting("CrashLoopBackOff", "init")], "Init:CrashLoopBackOff"),
        ([waiting("ImagePullBackOff", "init")], "Init:ImagePullBackOff"),
        ([terminated("init", code=1, reason="Error")], "Init:Error"),
        ([terminated("init", code=3)], "Init:ExitCode:3"),
    ],
)
def test_pod_init_containers_show_their_progress(
    init_statuses: list[dict[str, Any]], status: str
) -> None:
    pod = make_pod(
        phase="Pending",
        init=[{"name": "init", "image": "busybox"}],
        init_statuses=init_statuses,
        statuses=[waiting("PodInitializing")],
    )
    assert pod_status(pod) == ("0/1", status, "0")


def test_pod_initializing_after_init_containers_succeed() -> None:
    pod = make_pod(
        phase="Pending",
        init=[{"name": "a"}, {"name": "b"}],
        init_statuses=[terminated("a"), terminated("b")],
        statuses=[waiting("PodInitializing")],
    )
    assert pod_status(pod) == ("0/1", "PodInitializing", "0")
    pod["status"]["initContainerStatuses"][1] = running("b", ready=False)
    assert pod_status(pod)[1] == "Init:1/2"


def test_pod_sidecar_counts_towards_ready_once_started() -> None:
    pod = make_pod(
        init=[{"name": "proxy", "restartPolicy": "Always"}],
        init_statuses=[running("proxy", started=True, restarts=1)],
        statuses=[running()],
        conditions=READY,
    )
    assert pod_status(pod) == ("2/2", "Running", "1")


def test_pod_being_deleted_is_terminating_unless_finished_or_lost() -> None:
    live = make_pod(statuses=[running()], conditions=READY, deletionTimestamp=ago(1))
    assert pod_status(live)[1] == "Terminating"
    done = make_pod(
        phase="Succeeded", statuses=[terminated(reason="Completed")], deletionTimestamp=ago(1)
    )
    assert pod_status(done)[1] == "Completed"
    lost = make_pod(statuses=[running()], deletionTimestamp=ago(1))
    lost["status"]["reason"] = "NodeLost"
    assert pod_status(lost)[1] == "Unknown"


def test_pod_wide_cells_and_completed_row_condition() -> None:
    pod = make_pod(
        phase="Succeeded",
        statuses=[terminated(reason="Completed")],
        conditions=[{"type": "www.example.com/gate", "status": "True"}],
    )
    pod["spec"]["readinessGates"] = [
        {"conditionType": "www.example.com/gate"},
        {"conditionType": "www.example.com/other"},
    ]
    pod["status"]["nominatedNodeName"] = "node-2"
    row = table(rt_of("v1", "Pod"), [pod], now=NOW, wide=True)["rows"][0]
    assert row["cells"][4:] == ["5m", "10.244.1.7", "node-1", "node-2", "1/2"]
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    unscheduled = {
        "metadata": meta("p"),
        "spec": {"containers": []},
        "status": {"phase": "Pending"},
    }
    assert cells("v1", "Pod", unscheduled)[5:] == ["<none>", "<none>", "<none>", "<none>"]
    dual = {"metadata": meta("p"), "spec": {}, "status": {"podIPs": [{"ip": "fd00::1"}]}}
    assert cells("v1", "Pod", dual)[5] == "fd00::1"


# Nodes and namespaces ---------------------------------------------------------------------


def make_node(ready: str | None = "True", **spec: Any) -> dict[str, Any]:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    labels = {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "gpu", "x": "y"}
    return {
        "metadata": meta("node-1", created=3 * 86400, labels=labels),
        "spec": spec,
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "10.0.0.1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.31.0",
                "osImage": "Ubuntu 24.04",
                "containerRuntimeVersion": "",
            },
        },
    }


def test_node_status_roles_and_wide_cells() -> None:
    assert cells("v1", "Node", make_node()) == [
        "node-1",
        "Ready",
        "control-plane,gpu",
        "3d",
        "v1.31.0",
        "10.0.0.1",
        "<none>",
        "Ubuntu 24.04",
        "<unknown>",
        "<unknown>",
    ]
    assert cells("v1", "Node", make_node("False"))[1] == "NotReady"
    assert cells("v1", "Node", make_node(None))[1] == "Unknown"
    assert (
        cells("v1", "Node", make_node("True", unschedulable=True))[1] == "Ready,SchedulingDisabled"
    )


def test_namespace_prints_its_phase() -> None:
    ns = {"metadata": meta("team", created=7200), "status": {"phase": "Terminating"}}
    assert cells("v1", "Namespace", ns) == ["team", "Terminating", "120m"]


# Workloads ------------------------------------------------------------------------------

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "fluent"}]
    },
}


def test_deployment_cells() -> None:
    deploy = {
        "metadata": meta("web", created=90),
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "template": TEMPLATE,
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells("apps/v1", "Deployment", deploy) == [
        "web",
        "2/3",
        3,
        2,
        "90s",
        "web,log",
        "nginx:1,fluent",
        "app=web,tier in (a,b)",
    ]
    deploy["status"] = {}
    assert cells("apps/v1", "Deployment", deploy, wide=False) == ["web", "0/3", 0, 0, "90s"]


def test_replica_set_stateful_set_and_daemon_set_cells() -> None:
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}
    rs = {"metadata": meta("web-7d9"), "spec": spec, "status": {"replicas": 2, "readyReplicas": 1}}
    assert cells("apps/v1", "ReplicaSet", rs) == [
        "web-7d9", 2, 2, 1, "5m", "web,log", "nginx:1,fluent", "app=web",
    ]  # fmt: skip
    sts = {"metadata": meta("db"), "spec": spec, "status": {"readyReplicas": 2}}
    assert cells("apps/v1", "StatefulSet", sts) == ["db", "2/2", "5m", "web,log", "nginx:1,fluent"]
    ds_template = {**TEMPLATE, "spec": {**TEMPLATE["spec"], "nodeSelector": {"gpu": "true"}}}
    ds = {
        "metadata": meta("agent"),
        "spec": {"selector": {}, "template": ds_template},
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert cells("apps/v1", "DaemonSet", ds) == [
        "agent", 3, 3, 2, 3, 2, "gpu=true", "5m", "web,log", "nginx:1,fluent", "<none>",
    ]  # fmt: skip


def make_job(conditions: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": meta("train", created=900),
        "spec": {"template": TEMPLATE, **spec},
        "status": {"succeeded": 1, "startTime": ago(800), "conditions": conditions or []},
    }


def test_job_status_completions_and_duration() -> None:
    running_job = make_job(completions=3)
    assert cells("batch/v1", "Job", running_job, wide=False) == [
        "train",
        "Running",
        "1/3",
        "13m",
        "15m",
    ]
    complete = make_job([{"type": "Complete", "status": "True"}], completions=1)
    complete["status"]["completionTime"] = ago(680)
    assert cells("batch/v1", "Job", complete, wide=False)[1:4] == ["Complete", "1/1", "2m"]
    failed = make_job([{"type": "Failed", "status": "True"}], parallelism=4)
    assert cells("batch/v1", "Job", failed, wide=False)[1:3] == ["Failed", "1/1 of 4"]
    suspended = make_job([{"type": "Suspended", "status": "True"}])
    del suspended["status"]["startTime"]
    assert cells("batch/v1", "Job", suspended, wide=False)[1:4] == ["Suspended", "1/1", ""]
    deleting = make_job()
    deleting["metadata"]["deletionTimestamp"] = ago(1)
    assert cells("batch/v1", "Job", deleting)[1] == "Terminating"
    assert cells("batch/v1", "Job", make_job(selector={"matchLabels": {"x": "1"}}))[5:] == [
        "web,log",
        "nginx:1,fluent",
        "x=1",
    ]


def test_cron_job_cells() -> None:
    cj = {
        "metadata": meta("nightly", created=3 * 86400),
        "spec": {
            "schedule": "0 3 * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": ago(3600)},
    }
    assert cells("batch/v1", "CronJob", cj) == [
        "nightly", "0 3 * * *", "<none>", "False", 1, "60m", "3d", "web,log", "nginx:1,fluent", "<none>",
    ]  # fmt: skip
    cj["spec"]["timeZone"] = "Etc/UTC"
    del cj["status"]["lastScheduleTime"]
    assert cells("batch/v1", "CronJob", cj)[2:6] == ["Etc/UTC", "False", 1, "<none>"]


def test_hpa_pdb_and_controller_revision_cells() -> None:
    hpa = {
        "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                {"type": "Pods", "pods": {"target": {"averageValue": "1k"}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"averageValue": "1Gi"}}},
            ],
        },
        "status": {
            "currentReplicas": 2,
            "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}],
        },
    }  # fmt: skip
    assert cells("autoscaling/v2", "HorizontalPodAutoscaler", hpa) == [
        "web", "Deployment/web", "cpu: 12%/50%, <unknown>/1k + 1 more...", "1", 5, 2, "5m",
    ]  # fmt: skip
    pdb = {
        "metadata": meta("web"),
        "spec": {"minAvailable": "50%"},
        "status": {"disruptionsAllowed": 1},
    }
    assert cells("policy/v1", "PodDisruptionBudget", pdb) == ["web", "50%", "N/A", 1, "5m"]
    rev = {
        "metadata": meta(
            "db-5f6",
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": True}
            ],
        ),
        "revision": 2,
    }
    assert cells("apps/v1", "ControllerRevision", rev) == ["db-5f6", "statefulset.apps/db", 2, "5m"]


# Services, endpoints, ingresses ----------------------------------------------------------------


def make_service(svc_type: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": meta("web"),
        "spec": {
            "type": svc_type,
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "web", "tier": "front"},
            **spec,
        },
        "status": {},
    }


def test_service_cells_by_type() -> None:
    assert cells("v1", "Service", make_service("ClusterIP")) == [
        "web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "5m", "app=web,tier=front",
    ]  # fmt: skip
    node_port = make_service("NodePort", ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}])
    assert cells("v1", "Service", node_port)[3:5] == ["<none>", "80:30080/TCP"]
    assert cells("v1", "Service", make_service("LoadBalancer"))[3] == "<pending>"
    lb = make_service("LoadBalancer", externalIPs=["1.2.3.4"])
    lb["status"] = {"loadBalancer": {"ingress": [{"hostname": "a-very-long-hostname.example.com"}]}}
    assert cells("v1", "Service", lb, wide=False)[3] == "a-very-long-h...,1.2.3.4"
    assert cells("v1", "Service", lb, wide=True)[3] == "a-very-long-hostname.example.com,1.2.3.4"
    external = make_service(
        "ExternalName", externalName="db.example.com", clusterIPs=[], clusterIP=""
    )
    assert cells("v1", "Service", external)[1:4] == ["ExternalName", "<none>", "db.example.com"]
    headless = make_service("ClusterIP", clusterIPs=["None"], ports=[], selector={})
    assert cells("v1", "Service", headless)[2:] == ["None", "<none>", "<none>", "5m", "<none>"]


def test_endpoints_show_three_addresses_then_how_many_more() -> None:
    addresses = [{"ip": f"10.244.0.{i}"} for i in range(1, 5)]
    ep = {"metadata": meta("web"), "subsets": [{"addresses": addresses, "ports": [{"port": 8080}]}]}
    assert cells("v1", "Endpoints", ep) == [
        "web",
        "10.244.0.1:8080,10.244.0.2:8080,10.244.0.3:8080 + 1 more...",
        "5m",
    ]
    assert cells("v1", "Endpoints", {"metadata": meta("none")})[1] == "<none>"
    v6 = {
        "metadata": meta("v6"),
        "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}],
    }
    assert cells("v1", "Endpoints", v6)[1] == "[fd00::1]:80"
    headless = {"metadata": meta("h"), "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]}
    assert cells("v1", "Endpoints", headless)[1] == "10.0.0.1"


def test_ingress_and_network_policy_cells() -> None:
    ing = {
        "metadata": meta("web"),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": f"h{i}.example.com"} for i in range(4)],
            "tls": [{"hosts": ["h0.example.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.10"}]}},
    }
    assert cells("networking.k8s.io/v1", "Ingress", ing) == [
        "web",
        "nginx",
        "h0.example.com,h1.example.com,h2.example.com + 1 more...",
        "192.168.1.10",
        "80, 443",
        "5m",
    ]
    bare = {"metadata": meta("any"), "spec": {"rules": [{"http": {}}]}}
    assert cells("networking.k8s.io/v1", "Ingress", bare)[1:5] == ["<none>", "*", "", "80"]
    policy = {"metadata": meta("deny"), "spec": {"podSelector": {}}}
    assert cells("networking.k8s.io/v1", "NetworkPolicy", policy) == ["deny", "<none>", "5m"]


# Events --------------------------------------------------------------------------------


def test_core_events_print_like_the_server() -> None:
    event = {
        "metadata": meta("web.17a"),
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{web}"},
        "reason": "Pulled",
        "message": 'Successfully pulled image "nginx"\n',
        "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(600),
        "lastTimestamp": ago(30),
        "count": 4,
    }
    assert cells("v1", "Event", event) == [
        "30s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, node-1",
        'Successfully pulled image "nginx"', "10m", 4, "web.17a",
    ]  # fmt: skip
    assert cells("v1", "Event", event, wide=False) == [
        "30s", "Normal", "Pulled", "pod/web", 'Successfully pulled image "nginx"',
    ]  # fmt: skip
    new_style = {
        "metadata": meta("e2"),
        "involvedObject": {"kind": "Node"},
        "eventTime": ago(45),
        "reportingComponent": "scheduler",
        "type": "Warning",
        "reason": "FailedScheduling",
        "message": "0/3 nodes are available",
    }
    assert cells("v1", "Event", new_style) == [
        "45s", "Warning", "FailedScheduling", "node", "", "scheduler", "0/3 nodes are available",
        "45s", 1, "e2",
    ]  # fmt: skip
    new_style["series"] = {"count": 7, "lastObservedTime": ago(3)}
    row = cells("v1", "Event", new_style)
    assert (row[0], row[8]) == ("3s", 7)


def test_events_k8s_io_events_print_as_core_events() -> None:
    event = {
        "metadata": meta("web.17b"),
        "regarding": {"kind": "Pod", "name": "web"},
        "note": "Back-off restarting failed container",
        "reason": "BackOff",
        "type": "Warning",
        "reportingController": "kubelet",
        "reportingInstance": "node-1",
        "deprecatedFirstTimestamp": ago(300),
        "deprecatedLastTimestamp": ago(10),
        "deprecatedCount": 6,
    }
    assert cells("events.k8s.io/v1", "Event", event) == [
        "10s", "Warning", "BackOff", "pod/web", "", "kubelet, node-1",
        "Back-off restarting failed container", "5m", 6, "web.17b",
    ]  # fmt: skip


# Configuration, storage, access ----------------------------------------------------------------


def test_config_maps_secrets_and_service_accounts_count_their_entries() -> None:
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells("v1", "ConfigMap", cm) == ["cfg", 3, "5m"]
    assert cells("v1", "ConfigMap", {"metadata": meta("empty")}) == ["empty", 0, "5m"]
    secret = {
        "metadata": meta("tls"),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    assert cells("v1", "Secret", secret) == ["tls", "kubernetes.io/tls", 2, "5m"]
    assert cells("v1", "ServiceAccount", {"metadata": meta("default")}) == ["default", 0, "5m"]


def test_claims_volumes_and_storage_classes() -> None:
    pending = {
        "metadata": meta("data"),
        "spec": {"storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Pending"},
    }
    assert cells("v1", "PersistentVolumeClaim", pending) == [
        "data", "Pending", "", "", "", "standard", "<unset>", "5m", "<unset>",
    ]  # fmt: skip
    bound = {
        "metadata": meta("data"),
        "spec": {"storageClassName": "standard", "volumeName": "pv-1", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "capacity": {"storage": "10240Mi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"]},
    }  # fmt: skip
    assert cells("v1", "PersistentVolumeClaim", bound, wide=False) == [
        "data", "Bound", "pv-1", "10Gi", "RWO,RWX", "standard", "<unset>", "5m",
    ]  # fmt: skip
    pv = {
        "metadata": meta("pv-1", annotations={"volume.beta.kubernetes.io/storage-class": "slow"}),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "claimRef": {"namespace": "x", "name": "data"},
            "storageClassName": "standard",
        },
        "status": {"phase": "Bound"},
    }
    assert cells("v1", "PersistentVolume", pv) == [
        "pv-1", "10Gi", "RWO", "Delete", "Bound", "x/data", "slow", "<unset>", "", "5m", "<unset>",
    ]  # fmt: skip
    pv["metadata"]["deletionTimestamp"] = ago(1)
    assert cells("v1", "PersistentVolume", pv)[4] == "Terminating"
    sc = {
        "metadata": meta(
            "standard", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    assert cells("storage.k8s.io/v1", "StorageClass", sc) == [
        "standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", False, "5m",
    ]  # fmt: skip


def test_resource_quota_splits_requests_and_limits() -> None:
    quota = {
        "metadata": meta("compute"),
        "status": {
            "hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "4Gi", "limits.cpu": "4"},
            "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"},
        },
    }
    assert cells("v1", "ResourceQuota", quota) == [
        "compute",
        "5m",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.cpu: 1/4, limits.memory: 0/4Gi",
    ]


def test_bindings_leases_priority_classes_and_default_printed_kinds() -> None:
    binding = {
        "metadata": meta("edit"),
        "roleRef": {"kind": "ClusterRole", "name": "edit", "apiGroup": "rbac.authorization.k8s.io"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "User", "name": "bob"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "x"},
        ],
    }
    assert cells("rbac.authorization.k8s.io/v1", "RoleBinding", binding) == [
        "edit", "ClusterRole/edit", "5m", "alice, bob", "devs", "x/ci",
    ]  # fmt: skip
    lease = {"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "sched-1"}}
    assert cells("coordination.k8s.io/v1", "Lease", lease) == ["kube-scheduler", "sched-1", "5m"]
    pc = {"metadata": meta("high"), "value": 1000, "globalDefault": False}
    assert cells("scheduling.k8s.io/v1", "PriorityClass", pc) == ["high", 1000, False, "5m", ""]
    crd = {
        "metadata": {"name": "tfjobs.kubeflow.org", "creationTimestamp": "2026-01-01T10:00:00.5Z"}
    }
    assert cells("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd) == [
        "tfjobs.kubeflow.org",
        "2026-01-01T10:00:00Z",
    ]
    result = table(rt_of("rbac.authorization.k8s.io/v1", "ClusterRole"), [crd], now=NOW)
    assert result["columnDefinitions"][1]["type"] == "date"


def test_pod_groups_print_their_crds_columns() -> None:
    pg = {
        "metadata": meta("gang"),
        "spec": {"minMember": 4},
        "status": {"phase": "Running", "running": 4, "succeeded": 0},
    }
    assert cells("scheduling.x-k8s.io/v1alpha1", "PodGroup", pg) == [
        "gang", "Running", 4, "4", "0", None, "5m",
    ]  # fmt: skip


# Custom resources ------------------------------------------------------------------------------


def crd_type(columns: list[dict[str, Any]] | None) -> ResourceType:
    version: dict[str, Any] = {"name": "v1", "served": True, "storage": True}
    if columns is not None:
        version["additionalPrinterColumns"] = columns
    crd = {
        "spec": {
            "group": "kubeflow.org",
            "scope": "Namespaced",
            "names": {"kind": "TFJob", "plural": "tfjobs"},
            "versions": [version],
        }
    }
    return resource_types_from_crd(crd)[0]


TFJOB_COLUMNS = [
    {"name": "State", "type": "string", "jsonPath": ".status.conditions[-1:].type"},
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio"},
    {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspend"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {
        "name": "Owner",
        "type": "string",
        "jsonPath": ".spec.owner",
        "priority": 1,
        "description": "Who",
    },
]


def make_tfjob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "TFJob",
        "metadata": meta("mnist", created=4000),
        "spec": spec,
        "status": {
            "conditions": [
                {"type": "Created", "status": "True"},
                {"type": "Ready", "status": "False"},
                {"type": "Running", "status": "True"},
            ]
        },
    }


def test_custom_resources_print_their_printer_columns() -> None:
    rt = crd_type(TFJOB_COLUMNS)
    job = make_tfjob(replicas=4, ratio=1, suspend=False, owner="alice")
    result = table(rt, [job], now=NOW, wide=True)
    assert [(c["name"], c["type"], c["priority"]) for c in result["columnDefinitions"]] == [
        ("Name", "string", 0),
        ("State", "string", 0),
        ("Ready", "string", 0),
        ("Replicas", "integer", 0),
        ("Ratio", "number", 0),
        ("Suspended", "boolean", 0),
        ("Age", "date", 0),
        ("Owner", "string", 1),
    ]
    assert result["columnDefinitions"][1]["description"] == (
        "Custom resource definition column (in JSONPath format): .status.conditions[-1:].type"
    )
    assert result["columnDefinitions"][7]["description"] == "Who"
    assert result["rows"][0]["cells"] == [
        "mnist",
        "Running",
        "False",
        4,
        1.0,
        False,
        "66m",
        "alice",
    ]
    assert table(rt, [job], now=NOW)["rows"][0]["cells"] == [
        "mnist", "Running", "False", 4, 1.0, False, "66m",
    ]  # fmt: skip


def test_custom_columns_show_none_for_missing_or_mistyped_values() -> None:
    rt = crd_type(TFJOB_COLUMNS)
    job = make_tfjob(replicas="four", ratio=True, suspend="yes")
    job["status"] = {"conditions": []}
    job["metadata"]["creationTimestamp"] = "not a time"
    assert table(rt, [job], now=NOW, wide=True)["rows"][0]["cells"] == [
        "mnist", None, None, None, None, None, "<invalid>", None,
    ]  # fmt: skip


def test_string_columns_print_values_the_way_jsonpath_does() -> None:
    columns = [{"name": n, "type": "string", "jsonPath": f".spec.{n}"} for n in "abcdefg"]
    obj = {
        "metadata": meta("o"),
        "spec": {
            "a": 3,
            "b": 0.5,
            "c": True,
            "d": {"y": 1, "x": "<"},
            "e": [1, "two"],
            "f": None,
            "g": 1e6,
        },
    }
    assert table(crd_type(columns), [obj], now=NOW)["rows"][0]["cells"] == [
        "o", "3", "0.5", "true", '{"x":"\\u003c","y":1}', '[1,"two"]', "<no value>", "1e+06",
    ]  # fmt: skip


def test_custom_resources_without_columns_print_name_and_age() -> None:
    result = table(crd_type(None), [make_tfjob()], now=NOW)
    assert [(c["name"], c["type"]) for c in result["columnDefinitions"]] == [
        ("Name", "string"),
        ("Age", "date"),
    ]
    assert result["columnDefinitions"][1]["description"].startswith(
        "CreationTimestamp is a timestamp"
    )
    assert result["rows"][0]["cells"] == ["mnist", "66m"]


def test_registered_printers_win_and_can_be_replaced() -> None:
    assert kind_key("kubeflow.org", "TFJob") == "TFJob.kubeflow.org"
    assert kind_key("", "Pod") == "Pod"
    state = Printer(
        columns=(Column("Name", format="name"), Column("Owner", priority=1)),
        cells=lambda obj, opts: [obj["metadata"]["name"], obj["spec"].get("owner", "")],
    )
    rt = crd_type(TFJOB_COLUMNS)
    job = make_tfjob(owner="alice")
    mine = {**PRINTERS, "TFJob.kubeflow.org": state}
    assert table(rt, [job], now=NOW, wide=True, printers=mine)["rows"][0]["cells"] == [
        "mnist",
        "alice",
    ]
    assert table(rt, [job], now=NOW, printers=mine)["rows"][0]["cells"] == ["mnist"]
    assert "TFJob.kubeflow.org" not in PRINTERS


# JSONPath --------------------------------------------------------------------------------------

DOC = {
    "metadata": {"labels": {"app.kubernetes.io/name": "web", "tier": "front"}},
    "spec": {
        "replicas": 3,
        "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}],
    },
    "status": {
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}]
    },
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (".spec.replicas", [3]),
        ("{.spec.replicas}", [3]),
        ("$.spec.replicas", [3]),
        (".spec.missing", []),
        (".metadata.labels.app\\.kubernetes\\.io/name", ["web"]),
        (".metadata.labels['app.kubernetes.io/name']", ["web"]),
        (".spec.ports[0].port", [80]),
        (".spec.ports[-1].name", ["https"]),
        (".spec.ports[*].port", [80, 443]),
        (".spec.ports[0:1].name", ["http"]),
        (".status.conditions[-1:].type", ["Synced"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
        (".status.conditions[?(@.type!='Ready')].type", ["Synced"]),
        (".spec.ports[?(@.port>100)].name", ["https"]),
        (".spec.ports[?(@.name)].port", [80, 443]),
        ("..port", [80, 443]),
        (".metadata.labels.*", ["web", "front"]),
    ],
)
def test_jsonpath_subset(path: str, found: list[Any]) -> None:
    assert jsonpath(path, DOC) == found


@pytest.mark.parametrize(
    "path",
    [
        ".spec.ports[5].port",  # client-go: array index out of bounds
        ".status.conditions[?(@.type==1)].status",  # incompatible types for comparison
        ".spec.ports[",
    ],
)
def test_jsonpath_errors_raise_value_error(path: str) -> None:
    with pytest.raises(ValueError):
        jsonpath(path, DOC)


def test_printing_a_thousand_pods_is_fast() -> None:
    pods = [
        make_pod(
            statuses=[running(restarts=1, lastState={"terminated": {"finishedAt": ago(9)}})],
            conditions=READY,
        )
        for _ in range(1000)
    ]
    start = time.perf_counter()
    result = table(rt_of("v1", "Pod"), pods, now=NOW, wide=True)
    elapsed = time.perf_counter() - start
    assert len(result["rows"]) == 1000
    assert elapsed < 0.5, elapsed
