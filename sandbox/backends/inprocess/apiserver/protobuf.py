"""Kubernetes' protobuf request bodies, decoded into the JSON form of the object.

kubectl 1.32 and later send ``application/vnd.kubernetes.protobuf`` bodies for
everything its typed clients create: ``kubectl create namespace|configmap|
secret|serviceaccount|deployment|job|cronjob|service|role|rolebinding|
clusterrole|clusterrolebinding|quota|priorityclass|pdb|ingress|token``,
``kubectl auth can-i`` and the evictions of ``kubectl drain`` (the
reference's G3). kube-apiserver accepts them, so the
sandbox does too, for those kinds.

Wire form: the magic ``k8s\\x00``, then a ``runtime.Unknown`` message
(``typeMeta`` = apiVersion + kind, ``raw`` = the object's own message). The
object is decoded with :data:`MESSAGES` — field number → (JSON name, type) per
message of ``k8s.io/api``'s ``generated.proto`` — into the dict the same
object would be as JSON. Go's encoder writes every non-pointer field, empty
or not, so empty strings, zeros, ``false`` and empty messages are dropped as
JSON's ``omitempty`` drops them; pointer fields (``replicas: 0``,
``automountServiceAccountToken: false``) keep their zero values (``?`` in
the tables). A field the tables do not know is skipped when empty and
refused (415, naming it) when set: the object would otherwise be stored
without it, silently.

Answers stay JSON: kubectl accepts them (it lists JSON after protobuf).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sandbox.api.errors import UnsupportedMediaType

__all__ = ["MAGIC", "MESSAGES", "decode"]

MAGIC = b"k8s\x00"

# Field types: a scalar ("string", "bytes", "int", "bool"), "time", "quantity",
# "intorstring", "raw" (RawExtension: JSON bytes), a message name, "[]X" for a
# repeated field, "map:X" for map<string, X>, "inline:X" for a message whose
# fields JSON puts in the parent. A "?" suffix marks a pointer field whose zero
# value is kept.
_META = {
    1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
    4: ("selfLink", "string"), 5: ("uid", "string"), 6: ("resourceVersion", "string"),
    7: ("generation", "int"), 8: ("creationTimestamp", "time"),
    9: ("deletionTimestamp", "time"), 10: ("deletionGracePeriodSeconds", "int?"),
    11: ("labels", "map:string"), 12: ("annotations", "map:string"),
    13: ("ownerReferences", "[]OwnerReference"), 14: ("finalizers", "[]string"),
}

MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    # meta/v1
    "ObjectMeta": _META,
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                       5: ("apiVersion", "string"), 6: ("controller", "bool?"),
                       7: ("blockOwnerDeletion", "bool?")},
    "LabelSelector": {1: ("matchLabels", "map:string"),
                      2: ("matchExpressions", "[]LabelSelectorRequirement")},
    "LabelSelectorRequirement": {1: ("key", "string"), 2: ("operator", "string"),
                                 3: ("values", "[]string")},
    # core/v1
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"),
                  3: ("status", "Ignored")},
    "NamespaceSpec": {1: ("finalizers", "[]string")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:string"),
                  3: ("binaryData", "map:bytes"), 4: ("immutable", "bool?")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", "string"),
               4: ("stringData", "map:string"), 5: ("immutable", "bool?")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", "[]ObjectReference"),
                       3: ("imagePullSecrets", "[]LocalObjectReference"),
                       4: ("automountServiceAccountToken", "bool?")},
    "ObjectReference": {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                        4: ("uid", "string"), 5: ("apiVersion", "string"),
                        6: ("resourceVersion", "string"), 7: ("fieldPath", "string")},
    "LocalObjectReference": {1: ("name", "string")},
    "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec"),
                3: ("status", "Ignored")},
    "ServiceSpec": {1: ("ports", "[]ServicePort"), 2: ("selector", "map:string"),
                    3: ("clusterIP", "string"), 4: ("type", "string"),
                    5: ("externalIPs", "[]string"), 7: ("sessionAffinity", "string"),
                    8: ("loadBalancerIP", "string"), 9: ("loadBalancerSourceRanges", "[]string"),
                    10: ("externalName", "string"), 11: ("externalTrafficPolicy", "string"),
                    12: ("healthCheckNodePort", "int"), 13: ("publishNotReadyAddresses", "bool"),
                    17: ("ipFamilyPolicy", "string?"), 18: ("clusterIPs", "[]string"),
                    19: ("ipFamilies", "[]string"),
                    20: ("allocateLoadBalancerNodePorts", "bool?"),
                    21: ("loadBalancerClass", "string?"), 22: ("internalTrafficPolicy", "string?")},
    "ServicePort": {1: ("name", "string"), 2: ("protocol", "string"), 3: ("port", "int"),
                    4: ("targetPort", "intorstring"), 5: ("nodePort", "int"),
                    6: ("appProtocol", "string?")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {2: ("containers", "[]Container"), 3: ("restartPolicy", "string"),
                4: ("terminationGracePeriodSeconds", "int?"),
                5: ("activeDeadlineSeconds", "int?"), 6: ("dnsPolicy", "string"),
                7: ("nodeSelector", "map:string"), 8: ("serviceAccountName", "string"),
                9: ("serviceAccount", "string"), 10: ("nodeName", "string"),
                11: ("hostNetwork", "bool"), 15: ("imagePullSecrets", "[]LocalObjectReference"),
                16: ("hostname", "string"), 17: ("subdomain", "string"),
                19: ("schedulerName", "string"), 20: ("initContainers", "[]Container"),
                21: ("automountServiceAccountToken", "bool?"),
                24: ("priorityClassName", "string"), 25: ("priority", "int?")},
    "Container": {1: ("name", "string"), 2: ("image", "string"), 3: ("command", "[]string"),
                  4: ("args", "[]string"), 5: ("workingDir", "string"),
                  6: ("ports", "[]ContainerPort"), 7: ("env", "[]EnvVar"),
                  8: ("resources", "ResourceRequirements"), 9: ("volumeMounts", "[]VolumeMount"),
                  13: ("terminationMessagePath", "string"), 14: ("imagePullPolicy", "string"),
                  16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
                  20: ("terminationMessagePolicy", "string")},
    "ContainerPort": {1: ("name", "string"), 2: ("hostPort", "int"), 3: ("containerPort", "int"),
                      4: ("protocol", "string"), 5: ("hostIP", "string")},
    "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
    "ResourceRequirements": {1: ("limits", "map:quantity"), 2: ("requests", "map:quantity")},
    "VolumeMount": {1: ("name", "string"), 2: ("readOnly", "bool"), 3: ("mountPath", "string"),
                    4: ("subPath", "string"), 5: ("mountPropagation", "string?"),
                    6: ("subPathExpr", "string")},
    "ResourceQuota": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ResourceQuotaSpec"),
                      3: ("status", "Ignored")},
    "ResourceQuotaSpec": {1: ("hard", "map:quantity"), 2: ("scopes", "[]string"),
                          3: ("scopeSelector", "ScopeSelector")},
    "ScopeSelector": {1: ("matchExpressions", "[]ScopedResourceSelectorRequirement")},
    "ScopedResourceSelectorRequirement": {1: ("scopeName", "string"), 2: ("operator", "string"),
                                          3: ("values", "[]string")},
    # apps/v1
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec"),
                   3: ("status", "Ignored")},
    "DeploymentSpec": {1: ("replicas", "int?"), 2: ("selector", "LabelSelector"),
                       3: ("template", "PodTemplateSpec"), 4: ("strategy", "DeploymentStrategy"),
                       5: ("minReadySeconds", "int"), 6: ("revisionHistoryLimit", "int?"),
                       7: ("paused", "bool"), 9: ("progressDeadlineSeconds", "int?")},
    "DeploymentStrategy": {1: ("type", "string")},
    # batch/v1
    "Job": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec"), 3: ("status", "Ignored")},
    "JobSpec": {1: ("parallelism", "int?"), 2: ("completions", "int?"),
                3: ("activeDeadlineSeconds", "int?"), 4: ("selector", "LabelSelector"),
                5: ("manualSelector", "bool?"), 6: ("template", "PodTemplateSpec"),
                7: ("backoffLimit", "int?"), 8: ("ttlSecondsAfterFinished", "int?"),
                9: ("completionMode", "string?"), 10: ("suspend", "bool?")},
    "CronJob": {1: ("metadata", "ObjectMeta"), 2: ("spec", "CronJobSpec"),
                3: ("status", "Ignored")},
    "CronJobSpec": {1: ("schedule", "string"), 2: ("startingDeadlineSeconds", "int?"),
                    3: ("concurrencyPolicy", "string"), 4: ("suspend", "bool?"),
                    5: ("jobTemplate", "JobTemplateSpec"),
                    6: ("successfulJobsHistoryLimit", "int?"),
                    7: ("failedJobsHistoryLimit", "int?"), 8: ("timeZone", "string?")},
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
    # rbac/v1
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule")},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule"),
                    3: ("aggregationRule", "AggregationRule")},
    "AggregationRule": {1: ("clusterRoleSelectors", "[]LabelSelector")},
    "PolicyRule": {1: ("verbs", "[]string"), 2: ("apiGroups", "[]string"),
                   3: ("resources", "[]string"), 4: ("resourceNames", "[]string"),
                   5: ("nonResourceURLs", "[]string")},
    "RoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "[]Subject"),
                    3: ("roleRef", "RoleRef")},
    "Subject": {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
                4: ("namespace", "string")},
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
    # scheduling/v1, policy/v1
    "PriorityClass": {1: ("metadata", "ObjectMeta"), 2: ("value", "int"),
                      3: ("globalDefault", "bool"), 4: ("description", "string"),
                      5: ("preemptionPolicy", "string?")},
    "PodDisruptionBudget": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodDisruptionBudgetSpec"),
                            3: ("status", "Ignored")},
    "Eviction": {1: ("metadata", "ObjectMeta"), 2: ("deleteOptions", "DeleteOptions")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int?"), 2: ("preconditions", "Preconditions"),
                      3: ("orphanDependents", "bool?"), 4: ("propagationPolicy", "string?"),
                      5: ("dryRun", "[]string")},
    "Preconditions": {1: ("uid", "string?"), 2: ("resourceVersion", "string?")},
    "PodDisruptionBudgetSpec": {1: ("minAvailable", "intorstring"), 2: ("selector", "LabelSelector"),
                                3: ("maxUnavailable", "intorstring"),
                                4: ("unhealthyPodEvictionPolicy", "string?")},
    # networking/v1
    "Ingress": {1: ("metadata", "ObjectMeta"), 2: ("spec", "IngressSpec"), 3: ("status", "Ignored")},
    "IngressSpec": {1: ("defaultBackend", "IngressBackend"), 2: ("tls", "[]IngressTLS"),
                    3: ("rules", "[]IngressRule"), 4: ("ingressClassName", "string?")},
    "IngressRule": {1: ("host", "string"), 2: ("", "inline:IngressRuleValue")},
    "IngressRuleValue": {1: ("http", "HTTPIngressRuleValue")},
    "HTTPIngressRuleValue": {1: ("paths", "[]HTTPIngressPath")},
    "HTTPIngressPath": {1: ("path", "string"), 2: ("backend", "IngressBackend"),
                        3: ("pathType", "string?")},
    "IngressBackend": {3: ("resource", "TypedLocalObjectReference"),
                       4: ("service", "IngressServiceBackend")},
    "TypedLocalObjectReference": {1: ("apiGroup", "string?"), 2: ("kind", "string"),
                                  3: ("name", "string")},
    "IngressServiceBackend": {1: ("name", "string"), 2: ("port", "ServiceBackendPort")},
    "ServiceBackendPort": {1: ("name", "string"), 2: ("number", "int")},
    "IngressTLS": {1: ("hosts", "[]string"), 2: ("secretName", "string")},
    # authorization/v1
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta"),
                                2: ("spec", "SelfSubjectAccessReviewSpec"),
                                3: ("status", "Ignored")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                    2: ("nonResourceAttributes", "NonResourceAttributes")},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "SubjectAccessReviewSpec"),
                            3: ("status", "Ignored")},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                2: ("nonResourceAttributes", "NonResourceAttributes"),
                                3: ("user", "string"), 4: ("groups", "[]string"),
                                6: ("uid", "string")},
    "ResourceAttributes": {1: ("namespace", "string"), 2: ("verb", "string"),
                           3: ("group", "string"), 4: ("version", "string"),
                           5: ("resource", "string"), 6: ("subresource", "string"),
                           7: ("name", "string")},
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta"),
                               2: ("spec", "SelfSubjectRulesReviewSpec"), 3: ("status", "Ignored")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "string")},
    # authentication/v1
    "TokenRequest": {1: ("metadata", "ObjectMeta"), 2: ("spec", "TokenRequestSpec"),
                     3: ("status", "Ignored")},
    "TokenRequestSpec": {1: ("audiences", "[]string"), 3: ("boundObjectRef", "BoundObjectReference"),
                         4: ("expirationSeconds", "int?")},
    "BoundObjectReference": {1: ("kind", "string"), 2: ("apiVersion", "string"),
                             3: ("name", "string"), 4: ("uid", "string")},
    "TokenReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "TokenReviewSpec"),
                    3: ("status", "Ignored")},
    "TokenReviewSpec": {1: ("token", "string"), 2: ("audiences", "[]string")},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta"), 2: ("status", "Ignored")},
    # A status the client sent: never read (the server writes status).
    "Ignored": {},
}

#: (group, kind) -> top-level message; the kinds kubectl's typed clients create.
KINDS: dict[tuple[str, str], str] = {
    ("", "Namespace"): "Namespace", ("", "ConfigMap"): "ConfigMap", ("", "Secret"): "Secret",
    ("", "ServiceAccount"): "ServiceAccount", ("", "Service"): "Service",
    ("", "ResourceQuota"): "ResourceQuota",
    ("apps", "Deployment"): "Deployment", ("batch", "Job"): "Job", ("batch", "CronJob"): "CronJob",
    ("rbac.authorization.k8s.io", "Role"): "Role",
    ("rbac.authorization.k8s.io", "ClusterRole"): "ClusterRole",
    ("rbac.authorization.k8s.io", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): "RoleBinding",
    ("scheduling.k8s.io", "PriorityClass"): "PriorityClass",
    ("policy", "PodDisruptionBudget"): "PodDisruptionBudget",
    ("policy", "Eviction"): "Eviction",
    ("networking.k8s.io", "Ingress"): "Ingress",
    ("authorization.k8s.io", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    ("authorization.k8s.io", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authorization.k8s.io", "SubjectAccessReview"): "SubjectAccessReview",
    ("authentication.k8s.io", "TokenRequest"): "TokenRequest",
    ("authentication.k8s.io", "TokenReview"): "TokenReview",
    ("authentication.k8s.io", "SelfSubjectReview"): "SelfSubjectReview",
}


class _Undecodable(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _Undecodable("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(field number, wire type, value)``: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise _Undecodable(f"unsupported wire type {wire}")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _empty(value: Any) -> bool:
    return value in ("", 0, False, None) or value == {} or value == [] or value == b""


def _scalar(kind: str, wire: int, value: Any) -> Any:
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "int":
        return _signed(value)
    if kind == "bool":
        return bool(value)
    if kind == "time":
        seconds = nanos = 0
        for number, _, item in _fields(value):
            if number == 1:
                seconds = _signed(item)
            elif number == 2:
                nanos = item
        if not seconds and not nanos:
            return None
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "quantity":
        return next((item.decode() for number, _, item in _fields(value) if number == 1), "")
    if kind == "intorstring":
        fields = {number: item for number, _, item in _fields(value)}
        return fields.get(3, b"").decode() if fields.get(1) == 1 else _signed(fields.get(2, 0))
    if kind == "raw":
        return json.loads(value) if value else None
    return _message(kind, value)


def _message(name: str, data: bytes) -> dict[str, Any]:
    table = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, wire, value in _fields(data):
        entry = table.get(number)
        if entry is None:
            if name == "Ignored" or _empty(value):
                continue
            raise _Undecodable(f"field {number} of {name} is not known to the sandbox")
        key, kind = entry
        pointer = kind.endswith("?")
        kind = kind.rstrip("?")
        if kind.startswith("map:"):
            entry_key, entry_value = "", None
            for inner, inner_wire, item in _fields(value):
                if inner == 1:
                    entry_key = item.decode()
                elif inner == 2:
                    entry_value = _scalar(kind[4:], inner_wire, item)
            if entry_value is None:
                entry_value = _scalar(kind[4:], 2, b"")
            out.setdefault(key, {})[entry_key] = entry_value
        elif kind.startswith("inline:"):  # a Go struct embedded with `json:",inline"`
            out.update(_message(kind[7:], value))
        elif kind.startswith("[]"):
            out.setdefault(key, []).append(_scalar(kind[2:], wire, value))
        else:
            decoded = _scalar(kind, wire, value)
            if pointer or not _empty(decoded):
                out[key] = decoded
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The object a protobuf request body carries, as JSON-shaped data (415 if it cannot)."""
    if not body.startswith(MAGIC):
        raise UnsupportedMediaType("the body of the request was in an unknown format: "
                                   "a protobuf body starts with k8s\\x00")
    try:
        envelope = {number: value for number, _, value in _fields(body[len(MAGIC):])}
        type_meta = {n: v.decode() for n, _, v in _fields(envelope.get(1, b""))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        group = api_version.rpartition("/")[0]
        message = KINDS.get((group, kind))
        if message is None:
            raise _Undecodable(f"{kind} ({api_version}) is not among the kinds it decodes")
        obj = _message(message, envelope.get(2, b""))
    except _Undecodable as err:
        raise UnsupportedMediaType(
            f"the protobuf body could not be decoded by kf-sandbox: {err}; send JSON instead "
            "(kubectl 1.31 and older, `kubectl apply`, or `-o json | kubectl create -f -`)"
        ) from None
    except (UnicodeDecodeError, ValueError) as err:
        raise UnsupportedMediaType(f"the protobuf body is malformed: {err}") from None
    obj.pop("status", None)
    return {"kind": kind, "apiVersion": api_version, **obj}
