"""The built-in kinds the sandbox serves, with kubectl's names for them.

Names, short names, categories, scope and subresources are those a real
Kubernetes 1.31 API server reports in discovery, so ``kubectl get po`` or
``kubectl get all`` resolve the same way here. Schemas are attached by
:mod:`sandbox.api.schema`, not here, so this table stays readable.
"""

from __future__ import annotations

from sandbox.api.kinds import KindRegistry, ResourceType

__all__ = ["BUILTIN_TYPES", "builtin_registry"]

_ST = frozenset({"status"})


def _t(
    api_version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    sub: frozenset[str] = frozenset(),
    verbs: tuple[str, ...] | None = None,
    builtin: bool = True,
) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    extra = {} if verbs is None else {"verbs": verbs}
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=short,
        categories=categories,
        subresources=sub,
        builtin=builtin,
        **extra,
    )


_ALL = ("all",)
_CREATE_ONLY = ("create",)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    # core/v1
    _t("v1", "Namespace", "namespaces", namespaced=False, short=("ns",), sub=frozenset({"status", "finalize"}),
       verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    _t("v1", "Node", "nodes", namespaced=False, short=("no",), sub=frozenset({"status", "proxy"})),
    _t("v1", "Pod", "pods", short=("po",), categories=_ALL,
       sub=frozenset({"status", "log", "exec", "attach", "portforward", "binding", "eviction", "ephemeralcontainers", "proxy"})),
    _t("v1", "Service", "services", short=("svc",), categories=_ALL, sub=frozenset({"status", "proxy"}),
       verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
    _t("v1", "Endpoints", "endpoints", short=("ep",)),
    _t("v1", "ConfigMap", "configmaps", short=("cm",)),
    _t("v1", "Secret", "secrets"),
    _t("v1", "ServiceAccount", "serviceaccounts", short=("sa",), sub=frozenset({"token"})),
    _t("v1", "Event", "events", short=("ev",)),
    _t("v1", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",), sub=_ST),
    _t("v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), sub=_ST),
    _t("v1", "ResourceQuota", "resourcequotas", short=("quota",), sub=_ST),
    _t("v1", "LimitRange", "limitranges", short=("limits",)),
    _t("v1", "Binding", "bindings", verbs=_CREATE_ONLY),
    # apps/v1
    _t("apps/v1", "Deployment", "deployments", short=("deploy",), categories=_ALL, sub=frozenset({"status", "scale"})),
    _t("apps/v1", "ReplicaSet", "replicasets", short=("rs",), categories=_ALL, sub=frozenset({"status", "scale"})),
    _t("apps/v1", "StatefulSet", "statefulsets", short=("sts",), categories=_ALL, sub=frozenset({"status", "scale"})),
    _t("apps/v1", "DaemonSet", "daemonsets", short=("ds",), categories=_ALL, sub=_ST),
    _t("apps/v1", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    _t("batch/v1", "Job", "jobs", categories=_ALL, sub=_ST),
    _t("batch/v1", "CronJob", "cronjobs", short=("cj",), categories=_ALL, sub=_ST),
    # autoscaling
    _t("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short=("hpa",), categories=_ALL, sub=_ST),
    # policy
    _t("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",), sub=_ST),
    # networking
    _t("networking.k8s.io/v1", "Ingress", "ingresses", short=("ing",), sub=_ST),
    _t("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    # storage
    _t("storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    # rbac
    _t("rbac.authorization.k8s.io/v1", "Role", "roles"),
    _t("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    _t("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced=False),
    _t("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    # authorization (create-only reviews, used by `kubectl auth can-i`)
    _t("authorization.k8s.io/v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced=False, verbs=_CREATE_ONLY),
    _t("authorization.k8s.io/v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", namespaced=False, verbs=_CREATE_ONLY),
    _t("authorization.k8s.io/v1", "SubjectAccessReview", "subjectaccessreviews", namespaced=False, verbs=_CREATE_ONLY),
    _t("authentication.k8s.io/v1", "TokenReview", "tokenreviews", namespaced=False, verbs=_CREATE_ONLY),
    # apiextensions
    _t("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False,
       short=("crd", "crds"), categories=("api-extensions",), sub=_ST),
    # coordination
    _t("coordination.k8s.io/v1", "Lease", "leases"),
    # events.k8s.io (the newer Event API kubectl events reads)
    _t("events.k8s.io/v1", "Event", "events", short=("ev",)),
    # scheduler-plugins' PodGroup, used for gang scheduling by the training operator
    _t("scheduling.x-k8s.io/v1alpha1", "PodGroup", "podgroups", short=("pg", "pgs"), sub=_ST,
       builtin=False),
    # scheduling.k8s.io
    _t("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", namespaced=False, short=("pc",)),
)


def builtin_registry() -> KindRegistry:
    """A fresh registry holding every built-in kind."""
    return KindRegistry(BUILTIN_TYPES)
