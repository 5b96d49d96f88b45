"""Go-coded validation and defaults of built-in kinds, with Kubernetes' paths and words."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from sandbox.api.builtin_kinds import BUILTIN_TYPES
from sandbox.api.errors import FieldError, Invalid
from sandbox.api.schema import builtin_schema, validate
from sandbox.api.validation import (
    DEFAULTERS,
    VALIDATORS,
    dedupe,
    default_builtin,
    default_metadata,
    name_rule_for,
    validate_builtin,
    validate_metadata,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def messages(errors: list[FieldError]) -> list[str]:
    return [e.message for e in errors]


def meta(name: str = "web", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", **extra}


def pod_spec(**extra: Any) -> dict[str, Any]:
    return {"containers": [{"name": "web", "image": "nginx:1.25"}], **extra}


def pod(**spec: Any) -> dict[str, Any]:
    body = {"restartPolicy": "Always", **pod_spec(), **spec}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta(), "spec": body}


def workload(kind: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec()},
    }
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta(), "spec": body}


def job(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"template": {"spec": pod_spec(restartPolicy="Never")}}
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("pi"), "spec": body}


# Names and metadata ----------------------------------------------------------------


def test_names_must_be_dns_subdomains_by_default() -> None:
    obj = {"metadata": {"name": "Bad_Name", "namespace": "default"}}
    assert messages(validate_metadata(obj, namespaced=True)) == [
        f'metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_MSG}'
    ]
    long_name = "a" * 254
    assert messages(
        validate_metadata({"metadata": {"name": long_name, "namespace": "d"}}, namespaced=True)
    ) == [f'metadata.name: Invalid value: "{long_name}": must be no more than 253 characters']


def test_name_rules_per_kind() -> None:
    assert name_rule_for("", "Pod") == "subdomain"
    assert name_rule_for("", "Namespace") == "label"
    assert name_rule_for("", "Service") == "dns1035"
    assert name_rule_for("rbac.authorization.k8s.io", "ClusterRole") == "path"
    assert name_rule_for("authorization.k8s.io", "SelfSubjectAccessReview") == "none"


def test_namespace_names_are_dns_labels() -> None:
    obj = {"metadata": {"name": "team.a"}}
    assert messages(validate_metadata(obj, namespaced=False, name_rule="label")) == [
        f'metadata.name: Invalid value: "team.a": {LABEL_MSG}'
    ]


def test_service_names_are_dns1035_labels() -> None:
    obj = {"metadata": {"name": "1web", "namespace": "default"}}
    assert messages(validate_metadata(obj, namespaced=True, name_rule="dns1035")) == [
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case '
        "alphanumeric characters or '-', start with an alphabetic character, and end with an "
        "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
        "'[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_rbac_names_are_path_segments() -> None:
    ok = {"metadata": {"name": "system:controller:Thing"}}
    assert validate_metadata(ok, namespaced=False, name_rule="path") == []
    bad = {"metadata": {"name": "a/b%"}}
    assert messages(validate_metadata(bad, namespaced=False, name_rule="path")) == [
        "metadata.name: Invalid value: \"a/b%\": may not contain '/'",
        "metadata.name: Invalid value: \"a/b%\": may not contain '%'",
    ]


def test_name_or_generate_name_is_required() -> None:
    assert messages(validate_metadata({"metadata": {"namespace": "d"}}, namespaced=True)) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    assert (
        validate_metadata({"metadata": {"generateName": "web-", "namespace": "d"}}, namespaced=True)
        == []
    )


def test_namespace_is_required_for_namespaced_kinds_and_cleared_for_cluster_kinds() -> None:
    assert messages(validate_metadata({"metadata": {"name": "a"}}, namespaced=True)) == [
        "metadata.namespace: Required value"
    ]
    node = {"metadata": {"name": "n1", "namespace": "default"}}
    assert messages(validate_metadata(node, namespaced=False)) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]
    default_metadata(node, namespaced=False)
    assert node == {"metadata": {"name": "n1"}}
    assert validate_metadata(node, namespaced=False) == []


def test_label_keys_and_values() -> None:
    obj = {"metadata": meta(labels={"bad key": "ok", "app": "-bad"})}
    assert messages(validate_metadata(obj, namespaced=True)) == [
        'metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
        "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        'metadata.labels: Invalid value: "-bad": a valid label must be an empty string or consist '
        "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]


def test_annotations_are_limited_to_256_kib_in_total() -> None:
    obj = {"metadata": meta(annotations={"Example.com/Note": "x" * 262_000})}
    assert validate_metadata(obj, namespaced=True) == []
    obj["metadata"]["annotations"]["more"] = "y" * 200
    assert messages(validate_metadata(obj, namespaced=True)) == [
        "metadata.annotations: Too long: must have at most 262144 bytes"
    ]


# Pods ------------------------------------------------------------------------------------


def test_a_valid_pod_passes() -> None:
    assert validate_builtin(pod()) == []


def test_pods_need_containers() -> None:
    obj = pod(containers=[])
    assert messages(validate_builtin(obj)) == ["spec.containers: Required value"]


def test_container_names_are_unique_dns_labels_and_images_required() -> None:
    obj = pod(
        containers=[
            {"name": "web", "image": "a"},
            {"name": "web", "image": "b"},
            {"name": "Side_Car"},
        ],
        initContainers=[{"name": "web", "image": "c"}],
    )
    assert messages(validate_builtin(obj)) == [
        'spec.containers[1].name: Duplicate value: "web"',
        f'spec.containers[2].name: Invalid value: "Side_Car": {LABEL_MSG}',
        "spec.containers[2].image: Required value",
        'spec.initContainers[0].name: Duplicate value: "web"',
    ]


def test_container_ports() -> None:
    obj = pod(
        containers=[
            {
                "name": "web",
                "image": "x",
                "ports": [
                    {"name": "http", "containerPort": 80, "protocol": "TCP"},
                    {"name": "http", "containerPort": 70000, "protocol": "TCP"},
                    {"containerPort": 0, "protocol": "HTTP"},
                ],
            }
        ]
    )
    assert messages(validate_builtin(obj)) == [
        'spec.containers[0].ports[1].name: Duplicate value: "http"',
        "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.containers[0].ports[2].containerPort: Required value",
        'spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]


def test_requests_may_not_exceed_limits() -> None:
    pytest.importorskip("sandbox.api.quantity")
    resources = {
        "requests": {"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "1000m", "memory": "2Gi", "nvidia.com/gpu": "2"},
    }
    obj = pod(containers=[{"name": "web", "image": "x", "resources": resources}])
    assert messages(validate_builtin(obj)) == [
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
        'spec.containers[0].resources.requests: Invalid value: "1": must be equal to nvidia.com/gpu limit of 2',
    ]


def test_volumes_are_unique_and_mounts_must_name_one() -> None:
    obj = pod(
        volumes=[{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
        containers=[
            {
                "name": "web",
                "image": "x",
                "volumeMounts": [
                    {"name": "data", "mountPath": "/d"},
                    {"name": "cache", "mountPath": "/d"},
                ],
            }
        ],
    )
    assert messages(validate_builtin(obj)) == [
        'spec.volumes[1].name: Duplicate value: "data"',
        'spec.containers[0].volumeMounts[1].name: Not found: "cache"',
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique',
    ]


def test_restart_policy_values() -> None:
    assert messages(validate_builtin(pod(restartPolicy="Sometimes"))) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
    ]


def test_tolerations() -> None:
    obj = pod(
        tolerations=[
            {"operator": "Equal", "value": "x"},
            {"key": "gpu", "operator": "Exists", "effect": "NoRun"},
        ]
    )
    assert messages(validate_builtin(obj)) == [
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
        'which means "match all values and all keys"',
        'spec.tolerations[1].effect: Unsupported value: "NoRun": supported values: "NoSchedule", '
        '"PreferNoSchedule", "NoExecute"',
    ]


# Workloads ---------------------------------------------------------------------------------


def test_negative_replicas_exact_message_and_summary() -> None:
    obj = workload("Deployment", replicas=-1)
    errors = validate_builtin(obj)
    assert messages(errors) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    ]
    assert Invalid.of("Deployment", "web", errors).message == (
        'Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )


def test_selector_is_required_and_not_empty() -> None:
    missing = workload("Deployment")
    del missing["spec"]["selector"]
    assert messages(validate_builtin(missing)) == ["spec.selector: Required value"]
    empty = workload("Deployment", selector={})
    assert messages(validate_builtin(empty)) == [
        "spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
    ]


def test_template_labels_must_match_the_selector() -> None:
    obj = workload("Deployment", selector={"matchLabels": {"app": "api"}})
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "x"}
    assert messages(validate_builtin(obj)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: '
        "`selector` does not match template `labels`"
    ]
    expressions = workload(
        "Deployment",
        selector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
    )
    assert validate_builtin(expressions) == []


def test_pod_template_errors_are_prefixed() -> None:
    obj = workload("Deployment")
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert messages(validate_builtin(obj)) == [
        "spec.template.spec.containers[0].image: Required value",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]


def test_rolling_update_may_not_stop_both_surge_and_unavailability() -> None:
    obj = workload(
        "Deployment",
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"},
        },
    )
    assert messages(validate_builtin(obj)) == [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'
    ]
    bad_percent = workload(
        "Deployment", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "1.5%"}}
    )
    assert messages(validate_builtin(bad_percent)) == [
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "1.5%": a valid percent string must be a '
        "numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is "
        "'[0-9]+%')"
    ]


def test_replicasets_statefulsets_and_daemonsets() -> None:
    rs = workload("ReplicaSet", replicas=-2)
    assert messages(validate_builtin(rs)) == [
        "spec.replicas: Invalid value: -2: must be greater than or equal to 0"
    ]
    sts = workload("StatefulSet", podManagementPolicy="Eager", selector={})
    assert messages(validate_builtin(sts)) == [
        "spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset",
        'spec.podManagementPolicy: Unsupported value: "Eager": supported values: "OrderedReady", "Parallel"',
    ]
    ds = workload("DaemonSet", selector={"matchLabels": {"app": "agent"}})
    assert messages(validate_builtin(ds)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"
    ]


# Jobs and CronJobs ---------------------------------------------------------------------------


def test_job_counts_are_non_negative() -> None:
    obj = job(parallelism=-1, completions=-2, backoffLimit=-3)
    assert messages(validate_builtin(obj)) == [
        "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
        "spec.completions: Invalid value: -2: must be greater than or equal to 0",
        "spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0",
    ]


@pytest.mark.parametrize("policy", [None, "Always"])
def test_job_pods_must_restart_on_failure_or_never(policy: str | None) -> None:
    obj = job()
    if policy is None:
        del obj["spec"]["template"]["spec"]["restartPolicy"]
    else:
        obj["spec"]["template"]["spec"]["restartPolicy"] = policy
    default_builtin(obj)
    assert messages(validate_builtin(obj)) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]


def test_cronjob_schedules() -> None:
    base = {"jobTemplate": {"spec": {"template": {"spec": pod_spec(restartPolicy="OnFailure")}}}}
    ok = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta("nightly"),
        "spec": {"schedule": "*/5 1-3 * JAN mon-fri", "concurrencyPolicy": "Allow", **base},
    }
    assert validate_builtin(ok) == []
    bad = copy.deepcopy(ok)
    bad["spec"]["schedule"] = "61 * * * *"
    bad["spec"]["concurrencyPolicy"] = "Sometimes"
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    bad["metadata"]["name"] = "n" * 53
    assert messages(validate_builtin(bad)) == [
        f'metadata.name: Invalid value: "{"n" * 53}": must be no more than 52 characters',
        'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
        'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]
    missing = copy.deepcopy(ok)
    missing["spec"]["schedule"] = ""
    assert messages(validate_builtin(missing)) == ["spec.schedule: Required value"]


# Services, config and the rest -------------------------------------------------------------------


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(), "spec": spec}


def test_service_ports() -> None:
    obj = service(
        type="ClusterIP",
        ports=[
            {"name": "http", "port": 0, "protocol": "TCP"},
            {"name": "http", "port": 443, "protocol": "TCP", "nodePort": 30080},
            {"port": 8080, "protocol": "TCP", "targetPort": "web--port"},
        ],
    )
    assert messages(validate_builtin(obj)) == [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[1].name: Duplicate value: "http"',
        "spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        "spec.ports[2].name: Required value",
        'spec.ports[2].targetPort: Invalid value: "web--port": must not contain consecutive hyphens',
    ]


def test_service_type_and_ports_required() -> None:
    assert messages(validate_builtin(service(type="Public"))) == [
        'spec.type: Unsupported value: "Public": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        "spec.ports: Required value",
    ]
    assert validate_builtin(service(type="ClusterIP", clusterIP="None")) == []


def test_configmap_and_secret_keys() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(),
        "data": {"bad key": "v", "good.key": "v"},
    }
    assert messages(validate_builtin(cm)) == [
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric '
        "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
        "for validation is '[-._a-zA-Z0-9]+')"
    ]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(),
        "type": "kubernetes.io/tls",
        "data": {"..x": "YQ=="},
    }
    assert messages(validate_builtin(secret)) == [
        "data[..x]: Invalid value: \"..x\": must not start with '..'",
        "data[tls.crt]: Required value",
        "data[tls.key]: Required value",
    ]


def test_rbac_rules_and_bindings() -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": meta(),
        "rules": [{"apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"]}],
    }
    assert messages(validate_builtin(role)) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
        "rules[1].resources: Required value: resource rules must supply at least one resource",
    ]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}],
    }
    assert messages(validate_builtin(binding)) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
    ]


def crd(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "listKind": "WidgetList",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }
        ],
    }
    body.update(spec)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": body,
    }


def test_a_valid_crd_passes() -> None:
    assert validate_builtin(crd()) == []


def test_crd_names_group_scope_and_versions() -> None:
    obj = crd(group="widgets", scope="Global")
    obj["spec"]["versions"][0]["storage"] = False
    assert messages(validate_builtin(obj)) == [
        'metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group',
        'spec.group: Invalid value: "widgets": should be a domain with at least one dot',
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
        'spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{{Name:"v1", ...}}: '
        "must have exactly one version marked as storage version",
    ]


def test_crd_schemas_must_be_structural() -> None:
    obj = crd()
    obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {
        "type": "object",
        "properties": {"spec": {"properties": {}}},
    }
    assert messages(validate_builtin(obj)) == [
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be "
        "empty for specified object fields"
    ]
    del obj["spec"]["versions"][0]["schema"]
    assert messages(validate_builtin(obj)) == [
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"
    ]


def test_leases_nodes_and_podgroups() -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta(),
        "spec": {"leaseDurationSeconds": 0},
    }
    assert messages(validate_builtin(lease)) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    ]
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n"},
        "spec": {"taints": [{"key": "gpu", "effect": "Never"}]},
    }
    assert messages(validate_builtin(node)) == [
        'spec.taints[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'
    ]
    group = {
        "apiVersion": "scheduling.x-k8s.io/v1alpha1",
        "kind": "PodGroup",
        "metadata": meta(),
        "spec": {"minMember": -1},
    }
    assert messages(validate_builtin(group)) == [
        "spec.minMember: Invalid value: -1: must be greater than or equal to 0"
    ]


def test_kinds_without_go_rules_pass_and_odd_types_do_not_crash() -> None:
    assert validate_builtin({"apiVersion": "v1", "kind": "Event"}) == []
    for group, kind in VALIDATORS:
        api_version = f"{group}/v1" if group else "v1"
        validate_builtin(
            {"apiVersion": api_version, "kind": kind, "spec": "nonsense", "metadata": []}
        )
        validate_builtin(
            {
                "apiVersion": api_version,
                "kind": kind,
                "spec": {"template": 1, "containers": [1], "ports": {}},
            }
        )


def test_dedupe_keeps_the_first_of_identical_messages() -> None:
    a = FieldError("Required", "spec.selector")
    b = FieldError("Required", "spec.selector")
    c = FieldError("Required", "spec.template")
    assert dedupe([a, b, c]) == [a, c]


# Defaults -------------------------------------------------------------------------------------


def test_pod_defaults_users_see() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(),
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "1"}},
                },
                {
                    "name": "side",
                    "image": "busybox:1.36",
                    "readinessProbe": {"httpGet": {"port": 8080}},
                },
            ],
            "volumes": [{"name": "cfg", "configMap": {"name": "c"}}, {"name": "scratch"}],
        },
    }
    default_builtin(obj)
    spec = obj["spec"]
    assert {k: v for k, v in spec.items() if k not in ("containers", "volumes")} == {
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
        "enableServiceLinks": True,
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    web, side = spec["containers"]
    assert web == {
        "name": "web",
        "image": "nginx",
        "imagePullPolicy": "Always",
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    assert side["imagePullPolicy"] == "IfNotPresent"
    assert side["resources"] == {}
    assert side["readinessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert spec["volumes"] == [
        {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
        {"name": "scratch", "emptyDir": {}},
    ]


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("registry:5000/team/app", "Always"),
        ("registry:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    obj = pod(containers=[{"name": "c", "image": image}])
    default_builtin(obj)
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_user_values_win_over_defaults() -> None:
    obj = pod(
        dnsPolicy="Default",
        serviceAccountName="builder",
        containers=[{"name": "c", "image": "x", "imagePullPolicy": "Never"}],
    )
    default_builtin(obj)
    assert obj["spec"]["dnsPolicy"] == "Default"
    assert obj["spec"]["serviceAccount"] == "builder"
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_deployment_defaults() -> None:
    obj = workload("Deployment")
    default_builtin(obj)
    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    template_spec = spec["template"]["spec"]
    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["containers"][0]["terminationMessagePolicy"] == "File"
    # Admission-only Pod fields do not appear in templates.
    assert "serviceAccountName" not in template_spec
    assert "enableServiceLinks" not in template_spec


def test_statefulset_and_daemonset_defaults() -> None:
    sts = workload(
        "StatefulSet",
        volumeClaimTemplates=[
            {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
        ],
    )
    default_builtin(sts)
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert sts["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    ds = workload("DaemonSet")
    default_builtin(ds)
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }


def test_job_defaults_leave_restart_policy_and_generate_the_selector() -> None:
    obj = job()
    del obj["spec"]["template"]["spec"]["restartPolicy"]
    obj["metadata"]["uid"] = "1234"
    default_builtin(obj)
    spec = obj["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False
    assert "restartPolicy" not in spec["template"]["spec"]
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "1234"}}
    assert spec["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": "1234",
        "controller-uid": "1234",
        "batch.kubernetes.io/job-name": "pi",
        "job-name": "pi",
    }
    assert obj["metadata"]["labels"] == spec["template"]["metadata"]["labels"]


def test_parallelism_alone_leaves_completions_unset() -> None:
    obj = job(parallelism=3)
    default_builtin(obj)
    assert "completions" not in obj["spec"] and obj["spec"]["parallelism"] == 3


def test_cronjob_defaults() -> None:
    obj = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta(),
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": pod_spec()}}}},
    }
    default_builtin(obj)
    spec = obj["spec"]
    assert (
        spec["concurrencyPolicy"],
        spec["suspend"],
        spec["successfulJobsHistoryLimit"],
        spec["failedJobsHistoryLimit"],
    ) == ("Allow", False, 3, 1)
    template_spec = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert "restartPolicy" not in template_spec and template_spec["dnsPolicy"] == "ClusterFirst"


def test_service_defaults() -> None:
    obj = service(
        selector={"app": "web"},
        ports=[{"port": 80}, {"name": "metrics", "port": 9090, "targetPort": "metrics"}],
    )
    default_builtin(obj)
    assert obj["spec"] == {
        "selector": {"app": "web"},
        "ports": [
            {"port": 80, "protocol": "TCP", "targetPort": 80},
            {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"},
        ],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }
    node_port = service(type="NodePort", ports=[{"port": 80}])
    default_builtin(node_port, create=False)
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"
    assert "ipFamilyPolicy" not in node_port["spec"]


def test_secret_defaults_merge_string_data() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(),
        "data": {"a": "b2xk"},
        "stringData": {"a": "new", "b": "two"},
    }
    default_builtin(obj)
    assert obj["type"] == "Opaque"
    assert "stringData" not in obj
    assert {k: base64.b64decode(v).decode() for k, v in obj["data"].items()} == {
        "a": "new",
        "b": "two",
    }


def test_namespace_defaults() -> None:
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    default_builtin(obj)
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert obj["spec"] == {"finalizers": ["kubernetes"]}
    update = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a"},
        "spec": {"finalizers": []},
    }
    default_builtin(update, create=False)
    assert update["spec"]["finalizers"] == []


def test_other_defaults() -> None:
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta(),
        "spec": {"accessModes": ["ReadWriteOnce"]},
    }
    default_builtin(pvc)
    assert pvc["spec"]["volumeMode"] == "Filesystem" and pvc["status"] == {"phase": "Pending"}
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n"},
        "status": {"capacity": {"cpu": "4"}},
    }
    default_builtin(node)
    assert node["status"]["allocatable"] == {"cpu": "4"}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}],
    }
    default_builtin(binding)
    assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert [s["apiGroup"] for s in binding["subjects"]] == ["rbac.authorization.k8s.io", ""]
    definition = crd()
    del definition["spec"]["names"]["singular"]
    del definition["spec"]["names"]["listKind"]
    default_builtin(definition)
    assert definition["spec"]["names"]["singular"] == "widget"
    assert definition["spec"]["names"]["listKind"] == "WidgetList"
    assert definition["spec"]["conversion"] == {"strategy": "None"}


def test_defaulted_objects_validate_against_their_schemas() -> None:
    samples = [
        pod(),
        workload("Deployment"),
        workload("StatefulSet"),
        workload("DaemonSet"),
        job(),
        service(ports=[{"port": 80}]),
        crd(),
    ]
    for obj in samples:
        obj = copy.deepcopy(obj)
        default_builtin(obj)
        group, _, version = obj["apiVersion"].rpartition("/")
        schema = builtin_schema(group, version, obj["kind"])
        assert schema is not None
        assert validate(obj, schema, list_types=False) == [], obj["kind"]
        assert validate_builtin(obj) == [], obj["kind"]


def test_every_registered_kind_is_a_builtin_kind() -> None:
    served = {(rt.group, rt.kind) for rt in BUILTIN_TYPES}
    assert set(VALIDATORS) <= served
    assert set(DEFAULTERS) <= served


def test_numeric_yaml_keys_do_not_crash() -> None:
    obj = {"metadata": meta(labels={1: "a"}, annotations={2: "b"})}
    assert len(validate_metadata(obj, namespaced=True)) == 0
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(), "data": {3: "x"}}
    assert validate_builtin(cm) == []


def test_a_recreate_deployment_is_valid() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 1, "strategy": {"type": "Recreate"},
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    assert validate_builtin(obj) == []
