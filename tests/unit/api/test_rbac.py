"""RBAC: Kubernetes' authorizer decisions, reviews, messages and default roles."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from sandbox.api.errors import BadRequest, Forbidden, Invalid
from sandbox.api.rbac import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    SYSTEM_MASTERS,
    Attributes,
    Authorizer,
    RBACObjects,
    UserInfo,
    aggregate_cluster_roles,
    attributes_from_review,
    default_rbac_objects,
    forbidden,
    forbidden_message,
    service_account_user,
)
from sandbox.store import Store

RBAC = "rbac.authorization.k8s.io/v1"
ALICE = UserInfo("alice", (ALL_AUTHENTICATED,))


# Builders --------------------------------------------------------------------------


def rule(
    verbs: Iterable[str],
    resources: Iterable[str] = (),
    *,
    groups: Iterable[str] = ("",),
    names: Iterable[str] = (),
    urls: Iterable[str] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": list(verbs)}
    if urls:
        out["nonResourceURLs"] = list(urls)
    else:
        out["apiGroups"] = list(groups)
        out["resources"] = list(resources)
    if names:
        out["resourceNames"] = list(names)
    return out


def cluster_role(
    name: str,
    *rules: dict[str, Any],
    labels: Mapping[str, str] | None = None,
    selectors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "rules": list(rules),
    }
    if selectors is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": selectors}
        del role["rules"]
    return role


def role(namespace: str, name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": list(rules),
    }


def user(name: str) -> dict[str, str]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}


def group(name: str) -> dict[str, str]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}


def service_account(name: str, namespace: str | None = None) -> dict[str, str]:
    subject = {"kind": "ServiceAccount", "name": name}
    if namespace is not None:
        subject["namespace"] = namespace
    return subject


def cluster_binding(name: str, role_name: str, *subjects: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name,
        },
        "subjects": list(subjects),
    }


def binding(
    namespace: str, name: str, role_kind: str, role_name: str, *subjects: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": list(subjects),
    }


def authorizer(*objects: dict[str, Any], defaults: bool = False) -> Authorizer:
    """An authorizer over fixed objects (plus Kubernetes' defaults if asked)."""
    everything = [*(default_rbac_objects() if defaults else []), *objects]

    def of(kind: str) -> list[dict[str, Any]]:
        return [o for o in everything if o["kind"] == kind]

    rbac = RBACObjects(
        roles=of("Role"),
        cluster_roles=of("ClusterRole"),
        role_bindings=of("RoleBinding"),
        cluster_role_bindings=of("ClusterRoleBinding"),
    )
    return Authorizer(lambda: rbac, version=lambda: 1)


def can(
    authz: Authorizer,
    who: UserInfo,
    verb: str,
    resource: str = "",
    *,
    namespace: str = "",
    group: str = "",
    subresource: str = "",
    name: str = "",
) -> bool:
    attrs = Attributes(
        verb,
        namespace=namespace,
        api_group=group,
        resource=resource,
        subresource=subresource,
        name=name,
    )
    return authz.authorize(who, attrs)[0]


def can_get_path(authz: Authorizer, who: UserInfo, path: str, verb: str = "get") -> bool:
    return authz.authorize(who, Attributes(verb, path=path, resource_request=False))[0]


def granted(*rules: dict[str, Any]) -> Authorizer:
    """Alice holds exactly ``rules`` cluster-wide."""
    return authorizer(cluster_role("r", *rules), cluster_binding("b", "r", user("alice")))


# Rules -------------------------------------------------------------------------------


def test_a_rule_allows_only_its_verbs_and_star_allows_every_verb() -> None:
    authz = granted(rule(["get", "list"], ["pods"]))
    assert can(authz, ALICE, "get", "pods", namespace="ns")
    assert can(authz, ALICE, "list", "pods")
    assert not can(authz, ALICE, "delete", "pods", namespace="ns")
    star = granted(rule(["*"], ["pods"]))
    assert can(star, ALICE, "deletecollection", "pods", namespace="ns")
    assert can(star, ALICE, "escalate", "pods", namespace="ns")


def test_a_rule_matches_its_api_groups_where_empty_means_core_and_star_means_all() -> None:
    core = granted(rule(["get"], ["deployments"]))
    assert not can(core, ALICE, "get", "deployments", group="apps", namespace="ns")
    apps = granted(rule(["get"], ["deployments"], groups=["apps"]))
    assert can(apps, ALICE, "get", "deployments", group="apps", namespace="ns")
    assert not can(apps, ALICE, "get", "deployments", group="extensions", namespace="ns")
    anywhere = granted(rule(["get"], ["deployments"], groups=["*"]))
    assert can(anywhere, ALICE, "get", "deployments", group="extensions", namespace="ns")


def test_a_resource_does_not_grant_its_subresources() -> None:
    authz = granted(rule(["get"], ["pods"]))
    assert not can(authz, ALICE, "get", "pods", subresource="log", namespace="ns")
    logs = granted(rule(["get"], ["pods/log"]))
    assert can(logs, ALICE, "get", "pods", subresource="log", namespace="ns")
    assert not can(logs, ALICE, "get", "pods", namespace="ns")


def test_star_resources_include_subresources() -> None:
    authz = granted(rule(["get"], ["*"]))
    assert can(authz, ALICE, "get", "pods", subresource="log", namespace="ns")
    assert can(authz, ALICE, "get", "secrets", namespace="ns")


def test_star_slash_subresource_matches_that_subresource_of_every_resource() -> None:
    authz = granted(rule(["update"], ["*/scale"], groups=["*"]))
    assert can(
        authz, ALICE, "update", "deployments", group="apps", subresource="scale", namespace="n"
    )
    assert can(
        authz, ALICE, "update", "tfjobs", group="kubeflow.org", subresource="scale", namespace="n"
    )
    assert not can(authz, ALICE, "update", "deployments", group="apps", namespace="n")
    assert not can(
        authz, ALICE, "update", "deployments", group="apps", subresource="status", namespace="n"
    )


def test_resource_names_restrict_a_rule_to_those_objects() -> None:
    authz = granted(rule(["get", "update", "list"], ["configmaps"], names=["settings"]))
    assert can(authz, ALICE, "get", "configmaps", name="settings", namespace="ns")
    assert not can(authz, ALICE, "get", "configmaps", name="other", namespace="ns")
    # A list names no object, so a name-restricted rule cannot allow it.
    assert not can(authz, ALICE, "list", "configmaps", namespace="ns")


def test_non_resource_urls_match_exactly_by_star_or_by_a_prefix_ending_in_star() -> None:
    authz = granted(rule(["get"], urls=["/healthz", "/apis/*", "/logs*"]))
    assert can_get_path(authz, ALICE, "/healthz")
    assert not can_get_path(authz, ALICE, "/healthz/etcd")
    assert can_get_path(authz, ALICE, "/apis/apps/v1")
    assert not can_get_path(authz, ALICE, "/apis")
    assert can_get_path(authz, ALICE, "/logs/kube-apiserver.log")
    assert not can_get_path(authz, ALICE, "/healthz", verb="post")
    everything = granted(rule(["*"], urls=["*"]))
    assert can_get_path(everything, ALICE, "/metrics", verb="post")


def test_resource_rules_never_allow_paths_and_url_rules_never_allow_resources() -> None:
    authz = granted(rule(["get"], ["*"], groups=["*"]))
    assert not can_get_path(authz, ALICE, "/metrics")
    urls = granted(rule(["get"], urls=["*"]))
    assert not can(urls, ALICE, "get", "pods", namespace="ns")


# Bindings and subjects ---------------------------------------------------------------------


def test_a_cluster_role_binding_grants_in_every_namespace_and_at_the_cluster_scope() -> None:
    authz = granted(rule(["list"], ["pods"]))
    assert can(authz, ALICE, "list", "pods", namespace="a")
    assert can(authz, ALICE, "list", "pods", namespace="b")
    assert can(authz, ALICE, "list", "pods")


def test_a_role_binding_to_a_cluster_role_grants_only_in_its_namespace() -> None:
    authz = authorizer(
        cluster_role("reader", rule(["list"], ["pods"])),
        binding("team-a", "read", "ClusterRole", "reader", user("alice")),
    )
    assert can(authz, ALICE, "list", "pods", namespace="team-a")
    assert not can(authz, ALICE, "list", "pods", namespace="team-b")
    # `kubectl get pods -A` asks at the cluster scope, which RoleBindings never grant.
    assert not can(authz, ALICE, "list", "pods")


def test_a_role_binding_uses_the_role_of_its_own_namespace() -> None:
    authz = authorizer(
        role("team-a", "reader", rule(["get"], ["pods"])),
        role("team-b", "reader", rule(["get"], ["secrets"])),
        binding("team-a", "read", "Role", "reader", user("alice")),
    )
    assert can(authz, ALICE, "get", "pods", namespace="team-a")
    assert not can(authz, ALICE, "get", "secrets", namespace="team-a")


def test_users_and_groups_match_by_name_and_membership() -> None:
    authz = authorizer(
        cluster_role("reader", rule(["get"], ["pods"])),
        cluster_binding("by-user", "reader", user("bob")),
        cluster_binding("by-group", "reader", group("data-science")),
    )
    assert can(authz, UserInfo("bob"), "get", "pods", namespace="n")
    assert can(authz, UserInfo("carol", ("data-science",)), "get", "pods", namespace="n")
    assert not can(authz, UserInfo("dave", ("ops",)), "get", "pods", namespace="n")
    # A user named like a group is not in it.
    assert not can(authz, UserInfo("data-science"), "get", "pods", namespace="n")


def test_a_service_account_subject_is_the_user_system_serviceaccount_ns_name() -> None:
    authz = authorizer(
        cluster_role("reader", rule(["get"], ["pods"])),
        cluster_binding("ci", "reader", service_account("builder", "ci")),
    )
    assert can(authz, service_account_user("ci", "builder"), "get", "pods", namespace="x")
    assert can(authz, UserInfo("system:serviceaccount:ci:builder"), "get", "pods", namespace="x")
    assert not can(authz, service_account_user("other", "builder"), "get", "pods", namespace="x")
    assert not can(authz, UserInfo("builder"), "get", "pods", namespace="x")


def test_a_service_account_subject_without_namespace_means_the_binding_namespace() -> None:
    authz = authorizer(
        cluster_role("reader", rule(["get"], ["pods"])),
        binding("ci", "local", "ClusterRole", "reader", service_account("builder")),
        cluster_binding("nowhere", "reader", service_account("runner")),
    )
    assert can(authz, service_account_user("ci", "builder"), "get", "pods", namespace="ci")
    # In a ClusterRoleBinding such a subject has no namespace and matches no one.
    assert not can(authz, service_account_user("ci", "runner"), "get", "pods", namespace="ci")


def test_service_accounts_are_in_the_serviceaccounts_groups() -> None:
    sa = service_account_user("kubeflow", "pipeline-runner", uid="u-1")
    assert sa.name == "system:serviceaccount:kubeflow:pipeline-runner"
    assert sa.groups == (
        "system:serviceaccounts",
        "system:serviceaccounts:kubeflow",
        ALL_AUTHENTICATED,
    )
    authz = authorizer(
        cluster_role("reader", rule(["list"], ["pods"])),
        cluster_binding("all-sas-in-kubeflow", "reader", group("system:serviceaccounts:kubeflow")),
        cluster_role("lister", rule(["list"], ["services"])),
        cluster_binding("every-sa", "lister", group("system:serviceaccounts")),
    )
    assert can(authz, sa, "list", "pods", namespace="any")
    assert not can(authz, service_account_user("default", "x"), "list", "pods", namespace="any")
    assert can(authz, service_account_user("default", "x"), "list", "services", namespace="any")


def test_a_binding_to_a_missing_role_denies_with_rbacs_not_found_reason() -> None:
    authz = authorizer(
        cluster_binding("ghostly", "ghost", user("alice")),
        binding("team", "gone", "Role", "vanished", user("alice")),
    )
    assert authz.authorize(ALICE, Attributes("list", resource="pods")) == (
        False,
        'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found',
    )
    assert authz.authorize(ALICE, Attributes("list", namespace="team", resource="pods")) == (
        False,
        'RBAC: [clusterrole.rbac.authorization.k8s.io "ghost" not found, '
        'role.rbac.authorization.k8s.io "vanished" not found]',
    )
    # Errors of bindings that do not apply to the user are not reported.
    assert authz.authorize(UserInfo("bob"), Attributes("list", resource="pods")) == (False, "")


def test_an_unsupported_role_reference_kind_is_reported() -> None:
    bad = cluster_binding("odd", "x", user("alice"))
    bad["roleRef"]["kind"] = "Policy"
    assert authorizer(bad).authorize(ALICE, Attributes("get", resource="pods")) == (
        False,
        'RBAC: unsupported role reference kind: "Policy"',
    )


def test_the_reason_names_the_binding_role_and_subject_that_allowed() -> None:
    authz = authorizer(
        cluster_role("view", rule(["get"], ["pods"])),
        binding("team-a", "read", "ClusterRole", "view", user("alice")),
        binding("ci", "bots", "ClusterRole", "view", service_account("builder")),
        cluster_binding("admins", "view", group("admins")),
    )
    pods = Attributes("get", namespace="team-a", resource="pods")
    assert authz.authorize(ALICE, pods) == (
        True,
        'RBAC: allowed by RoleBinding "read/team-a" of ClusterRole "view" to User "alice"',
    )
    in_ci = Attributes("get", namespace="ci", resource="pods")
    assert authz.authorize(service_account_user("ci", "builder"), in_ci) == (
        True,
        'RBAC: allowed by RoleBinding "bots/ci" of ClusterRole "view" to ServiceAccount "builder/ci"',
    )
    assert authz.authorize(UserInfo("eve", ("admins",)), pods) == (
        True,
        'RBAC: allowed by ClusterRoleBinding "admins" of ClusterRole "view" to Group "admins"',
    )


def test_system_masters_is_always_allowed_even_without_any_binding() -> None:
    root = UserInfo("kubernetes-admin", (SYSTEM_MASTERS, ALL_AUTHENTICATED))
    empty = authorizer()
    assert empty.authorize(root, Attributes("delete", resource="nodes", name="n1")) == (True, "")
    assert can_get_path(empty, root, "/metrics")


def test_the_cluster_admin_binding_explains_itself_to_other_cluster_admins() -> None:
    authz = authorizer(
        cluster_binding("alice-admin", "cluster-admin", user("alice")), defaults=True
    )
    assert authz.authorize(ALICE, Attributes("delete", resource="nodes", name="n1")) == (
        True,
        'RBAC: allowed by ClusterRoleBinding "alice-admin" of ClusterRole "cluster-admin" '
        'to User "alice"',
    )
    assert can_get_path(authz, ALICE, "/metrics")


# Default objects -----------------------------------------------------------------------


def test_default_objects_are_labelled_and_annotated_as_kubernetes_bootstraps_them() -> None:
    objects = default_rbac_objects()
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {
        ("ClusterRole", n)
        for n in (
            "cluster-admin",
            "admin",
            "edit",
            "view",
            "system:aggregate-to-admin",
            "system:aggregate-to-edit",
            "system:aggregate-to-view",
            "system:basic-user",
            "system:discovery",
            "system:public-info-viewer",
        )
    } <= names
    for obj in objects:
        assert obj["apiVersion"] == RBAC
        assert obj["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        assert obj["metadata"]["annotations"] == {
            "rbac.authorization.kubernetes.io/autoupdate": "true"
        }
    bindings = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ClusterRoleBinding"}
    assert bindings["cluster-admin"]["subjects"] == [group(SYSTEM_MASTERS)]
    assert bindings["system:basic-user"]["subjects"] == [group(ALL_AUTHENTICATED)]
    assert bindings["system:discovery"]["subjects"] == [group(ALL_AUTHENTICATED)]
    assert bindings["system:public-info-viewer"]["subjects"] == [
        group(ALL_AUTHENTICATED),
        group(ALL_UNAUTHENTICATED),
    ]


def test_default_user_facing_roles_come_with_their_aggregated_rules() -> None:
    roles = {o["metadata"]["name"]: o for o in default_rbac_objects() if o["kind"] == "ClusterRole"}
    view, edit, admin = roles["view"], roles["edit"], roles["admin"]
    assert view["aggregationRule"] == {
        "clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}
        ]
    }
    assert view["rules"] == roles["system:aggregate-to-view"]["rules"]
    # edit = aggregate-to-edit then view (sorted by name); admin = edit then aggregate-to-admin.
    assert edit["rules"] == roles["system:aggregate-to-edit"]["rules"] + view["rules"]
    assert admin["rules"] == edit["rules"] + roles["system:aggregate-to-admin"]["rules"]
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"


def test_default_objects_are_fresh_copies() -> None:
    first = default_rbac_objects()
    first[0]["metadata"]["name"] = "changed"
    first[1]["rules"].clear()
    second = default_rbac_objects()
    assert second[0]["metadata"]["name"] == "cluster-admin"
    assert second[1]["rules"]


def test_the_store_accepts_the_default_objects(store: Store) -> None:
    for obj in default_rbac_objects():
        store.create(obj["apiVersion"], obj["kind"], obj)
    admin = store.get(RBAC, "ClusterRole", "admin")
    assert admin["rules"][-1]["resources"] == ["rolebindings", "roles"]


def namespace_user(role_name: str) -> Authorizer:
    return authorizer(
        binding("team", "member", "ClusterRole", role_name, user("alice")), defaults=True
    )


def test_a_view_user_can_list_pods_and_read_logs_but_not_create_pods_or_read_secrets() -> None:
    authz = namespace_user("view")
    assert can(authz, ALICE, "list", "pods", namespace="team")
    assert can(authz, ALICE, "watch", "deployments", group="apps", namespace="team")
    assert can(authz, ALICE, "get", "pods", subresource="log", name="web", namespace="team")
    assert not can(authz, ALICE, "create", "pods", namespace="team")
    assert not can(authz, ALICE, "get", "secrets", name="db", namespace="team")
    assert not can(
        authz, ALICE, "list", "roles", group="rbac.authorization.k8s.io", namespace="team"
    )
    assert not can(authz, ALICE, "list", "pods", namespace="elsewhere")


def test_an_edit_user_can_change_workloads_and_read_secrets_but_not_grant_roles() -> None:
    authz = namespace_user("edit")
    assert can(authz, ALICE, "create", "deployments", group="apps", namespace="team")
    assert can(
        authz, ALICE, "patch", "deployments", group="apps", subresource="scale", namespace="team"
    )
    assert can(authz, ALICE, "create", "jobs", group="batch", namespace="team")
    assert can(authz, ALICE, "get", "secrets", name="db", namespace="team")
    assert can(authz, ALICE, "create", "pods", subresource="exec", name="web", namespace="team")
    assert not can(
        authz, ALICE, "create", "rolebindings", group="rbac.authorization.k8s.io", namespace="team"
    )
    assert not can(authz, ALICE, "update", "resourcequotas", namespace="team")


def test_an_admin_user_can_grant_roles_in_the_namespace_but_not_touch_the_namespace() -> None:
    authz = namespace_user("admin")
    assert can(
        authz, ALICE, "create", "rolebindings", group="rbac.authorization.k8s.io", namespace="team"
    )
    assert can(authz, ALICE, "delete", "pods", name="web", namespace="team")
    assert can(authz, ALICE, "get", "namespaces", name="team", namespace="team")
    assert not can(authz, ALICE, "delete", "namespaces", name="team", namespace="team")
    assert not can(authz, ALICE, "list", "nodes")


def test_every_authenticated_user_may_discover_and_review_itself() -> None:
    authz = authorizer(defaults=True)
    assert can_get_path(authz, ALICE, "/apis/apps/v1")
    assert can_get_path(authz, ALICE, "/openapi/v2")
    assert can(authz, ALICE, "create", "selfsubjectaccessreviews", group="authorization.k8s.io")
    assert can(authz, ALICE, "create", "selfsubjectrulesreviews", group="authorization.k8s.io")
    assert not can(authz, ALICE, "list", "pods", namespace="default")


def test_anonymous_users_see_only_public_information() -> None:
    authz = authorizer(defaults=True)
    anonymous = UserInfo(ANONYMOUS, (ALL_UNAUTHENTICATED,))
    assert can_get_path(authz, anonymous, "/version")
    assert can_get_path(authz, anonymous, "/readyz")
    assert not can_get_path(authz, anonymous, "/api")
    assert not can(
        authz, anonymous, "create", "selfsubjectaccessreviews", group="authorization.k8s.io"
    )


# Aggregation ---------------------------------------------------------------------------


def test_aggregation_collects_rules_of_matching_roles_by_name_once_each() -> None:
    label = {"aggregate-to-ops": "true"}
    shared = rule(["get"], ["pods"])
    roles = [
        cluster_role("ops", selectors=[{"matchLabels": label}]),
        cluster_role("z-net", shared, rule(["get"], ["services"]), labels=label),
        cluster_role("a-pods", dict(shared), rule(["list"], ["pods"]), labels=label),
        cluster_role("unlabelled", rule(["*"], ["*"])),
    ]
    out = aggregate_cluster_roles(roles)
    assert out[0]["rules"] == [shared, rule(["list"], ["pods"]), rule(["get"], ["services"])]
    assert out[1] is roles[1]
    assert "rules" not in roles[0]


def test_aggregation_treats_missing_and_empty_rule_lists_as_the_same_rule() -> None:
    label = {"agg": "true"}
    out = aggregate_cluster_roles(
        [
            cluster_role("agg", selectors=[{"matchLabels": label}]),
            cluster_role(
                "a", {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, labels=label
            ),
            cluster_role(
                "b",
                {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": []},
                labels=label,
            ),
        ]
    )
    assert len(out[0]["rules"]) == 1


def test_aggregation_supports_match_expressions_and_every_selector() -> None:
    out = aggregate_cluster_roles(
        [
            cluster_role(
                "agg",
                selectors=[
                    {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]},
                    {"matchLabels": {"extra": "yes"}},
                ],
            ),
            cluster_role("gold", rule(["get"], ["pods"]), labels={"tier": "gold"}),
            cluster_role("silver", rule(["get"], ["secrets"]), labels={"tier": "silver"}),
            cluster_role("more", rule(["get"], ["services"]), labels={"extra": "yes"}),
        ]
    )
    assert out[0]["rules"] == [rule(["get"], ["pods"]), rule(["get"], ["services"])]


def test_aggregation_never_includes_the_role_itself_and_survives_cycles() -> None:
    label = {"loop": "true"}
    out = aggregate_cluster_roles(
        [
            cluster_role("a", selectors=[{"matchLabels": label}])
            | {"metadata": {"name": "a", "labels": label}},
            cluster_role("b", selectors=[{"matchLabels": label}])
            | {"metadata": {"name": "b", "labels": label}},
            cluster_role("c", rule(["get"], ["pods"]), labels=label),
        ]
    )
    assert out[0]["rules"] == [rule(["get"], ["pods"])]
    assert out[1]["rules"] == [rule(["get"], ["pods"])]


def test_an_aggregated_role_matching_its_own_selector_drops_its_stale_rules() -> None:
    label = {"agg": "true"}
    stale = cluster_role("agg", selectors=[{"matchLabels": label}])
    stale["metadata"]["labels"] = label
    stale["rules"] = [rule(["*"], ["*"])]
    fresh = cluster_role("source", rule(["get"], ["pods"]), labels=label)
    assert aggregate_cluster_roles([stale, fresh])[0]["rules"] == [rule(["get"], ["pods"])]


def test_an_invalid_aggregation_selector_leaves_the_role_as_it_was() -> None:
    kept = rule(["get"], ["pods"])
    broken = cluster_role("agg", selectors=[{"matchLabels": {"bad key!": "x"}}])
    broken["rules"] = [kept]
    assert aggregate_cluster_roles([broken])[0]["rules"] == [kept]


def test_roles_labelled_to_aggregate_extend_view_edit_and_admin_like_kubeflow_roles() -> None:
    notebooks_view = cluster_role(
        "kubeflow-notebooks-view",
        rule(["get", "list", "watch"], ["notebooks"], groups=["kubeflow.org"]),
        labels={"rbac.authorization.k8s.io/aggregate-to-view": "true"},
    )
    authz = authorizer(
        notebooks_view,
        binding("team", "member", "ClusterRole", "admin", user("alice")),
        defaults=True,
    )
    assert can(authz, ALICE, "list", "notebooks", group="kubeflow.org", namespace="team")
    assert not can(authz, ALICE, "create", "notebooks", group="kubeflow.org", namespace="team")


def test_custom_aggregated_roles_are_evaluated_with_their_aggregated_rules() -> None:
    kubeflow_admin = cluster_role(
        "kubeflow-admin",
        selectors=[
            {"matchLabels": {"rbac.authorization.kubeflow.org/aggregate-to-kubeflow-admin": "true"}}
        ],
    )
    pipelines = cluster_role(
        "kubeflow-pipelines-edit",
        rule(["*"], ["pipelines", "runs"], groups=["pipelines.kubeflow.org"]),
        labels={"rbac.authorization.kubeflow.org/aggregate-to-kubeflow-admin": "true"},
    )
    authz = authorizer(
        kubeflow_admin,
        pipelines,
        binding("team", "owner", "ClusterRole", "kubeflow-admin", user("alice")),
    )
    assert can(authz, ALICE, "create", "runs", group="pipelines.kubeflow.org", namespace="team")


# Caching ---------------------------------------------------------------------------------


def test_objects_are_reread_only_when_the_version_changes() -> None:
    state: dict[str, Any] = {"version": 1, "reads": 0, "bindings": []}
    reader = cluster_role("reader", rule(["get"], ["pods"]))

    def objects() -> RBACObjects:
        state["reads"] += 1
        return RBACObjects(cluster_roles=[reader], cluster_role_bindings=list(state["bindings"]))

    authz = Authorizer(objects, version=lambda: state["version"])
    assert not can(authz, ALICE, "get", "pods", namespace="n")
    state["bindings"].append(cluster_binding("b", "reader", user("alice")))
    assert not can(authz, ALICE, "get", "pods", namespace="n")  # same version: cached answer
    assert can(authz, ALICE, "list", "pods", namespace="n") is False
    assert state["reads"] == 1
    state["version"] = 2
    assert can(authz, ALICE, "get", "pods", namespace="n")
    assert state["reads"] == 2


def test_without_a_version_every_decision_reads_the_current_objects() -> None:
    bindings: list[dict[str, Any]] = []
    reader = cluster_role("reader", rule(["get"], ["pods"]))
    authz = Authorizer(lambda: RBACObjects(cluster_roles=[reader], cluster_role_bindings=bindings))
    assert not can(authz, ALICE, "get", "pods", namespace="n")
    bindings.append(cluster_binding("b", "reader", user("alice")))
    assert can(authz, ALICE, "get", "pods", namespace="n")


def test_many_distinct_requests_keep_being_answered_correctly() -> None:
    authz = granted(rule(["get"], ["configmaps"], names=["even"]))
    for i in range(20000):
        name = "even" if i % 2 == 0 else f"odd-{i}"
        assert can(authz, ALICE, "get", "configmaps", name=name, namespace="n") is (i % 2 == 0)


def test_a_cached_allowed_decision_takes_under_20_microseconds() -> None:
    authz = namespace_user("admin")
    attrs = Attributes(
        "create", namespace="team", api_group="rbac.authorization.k8s.io", resource="rolebindings"
    )
    assert authz.authorize(ALICE, attrs)[0]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(2000):
            authz.authorize(ALICE, attrs)
        best = min(best, (time.perf_counter() - start) / 2000)
    assert best < 20e-6


# Reviews -------------------------------------------------------------------------------------


def test_an_access_review_answers_kubectl_auth_can_i() -> None:
    authz = namespace_user("view")
    spec = {"resourceAttributes": {"namespace": "team", "verb": "list", "resource": "pods"}}
    assert authz.access_review(ALICE, spec) == {
        "allowed": True,
        "reason": 'RBAC: allowed by RoleBinding "member/team" of ClusterRole "view" to User "alice"',
    }
    create = {
        "resourceAttributes": {
            "namespace": "team",
            "verb": "create",
            "group": "",
            "resource": "pods",
        }
    }
    assert authz.access_review(ALICE, create) == {"allowed": False}
    logs = {
        "resourceAttributes": {
            "namespace": "team",
            "verb": "get",
            "resource": "pods",
            "subresource": "log",
            "name": "web",
            "version": "v1",
        }
    }
    assert authz.access_review(ALICE, logs)["allowed"] is True
    path = {"nonResourceAttributes": {"path": "/version", "verb": "get"}}
    assert authz.access_review(ALICE, path)["allowed"] is True


def test_an_access_review_must_ask_about_a_resource_or_a_path_but_not_both() -> None:
    with pytest.raises(Invalid) as neither:
        attributes_from_review({})
    assert str(neither.value) == (
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
        'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes '
        "must be specified"
    )
    assert neither.value.status["details"]["causes"][0]["field"] == "spec.resourceAttributes"
    with pytest.raises(Invalid, match=r"^SubjectAccessReview\.authorization\.k8s\.io "):
        authorizer().access_review(ALICE, {}, kind="SubjectAccessReview")
    with pytest.raises(Invalid, match="cannot be specified in combination with resourceAttributes"):
        attributes_from_review(
            {"resourceAttributes": {"verb": "get"}, "nonResourceAttributes": {"path": "/x"}}
        )


def test_a_rules_review_lists_cluster_then_namespace_rules() -> None:
    authz = authorizer(
        cluster_role("reader", rule(["get"], ["configmaps"], names=["settings"])),
        binding("team", "read", "ClusterRole", "reader", user("alice")),
        defaults=True,
    )
    status = authz.rules_for(ALICE, "team")
    assert status["incomplete"] is False
    assert "evaluationError" not in status
    assert status["resourceRules"] == [
        {
            "verbs": ["create"],
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        },
        {
            "verbs": ["create"],
            "apiGroups": ["authentication.k8s.io"],
            "resources": ["selfsubjectreviews"],
        },
        {
            "verbs": ["get"],
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["settings"],
        },
    ]
    assert {
        "verbs": ["get"],
        "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
    } in status["nonResourceRules"]
    elsewhere = authz.rules_for(ALICE, "other")
    assert len(elsewhere["resourceRules"]) == 2


def test_a_rules_review_reports_missing_roles_and_gives_masters_only_bound_rules() -> None:
    authz = authorizer(cluster_binding("ghostly", "ghost", user("alice")))
    assert authz.rules_for(ALICE, "team") == {
        "resourceRules": [],
        "nonResourceRules": [],
        "incomplete": False,
        "evaluationError": 'clusterrole.rbac.authorization.k8s.io "ghost" not found',
    }
    admin = UserInfo("root", (SYSTEM_MASTERS,))
    assert authorizer(defaults=True).rules_for(admin, "default")["resourceRules"] == [
        {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
    ]


def test_a_rules_review_needs_a_namespace() -> None:
    with pytest.raises(BadRequest, match=r"^no namespace on request$"):
        authorizer().rules_for(ALICE, "")


# Forbidden messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        (
            Attributes("create", namespace="default", resource="pods"),
            'pods is forbidden: User "alice" cannot create resource "pods" in API group "" '
            'in the namespace "default"',
        ),
        (
            Attributes("get", namespace="default", resource="pods", subresource="log", name="web"),
            'pods "web" is forbidden: User "alice" cannot get resource "pods/log" in API group "" '
            'in the namespace "default"',
        ),
        (
            Attributes(
                "delete", namespace="ml", api_group="apps", resource="deployments", name="web"
            ),
            'deployments.apps "web" is forbidden: User "alice" cannot delete resource "deployments" '
            'in API group "apps" in the namespace "ml"',
        ),
        (
            Attributes("list", resource="nodes"),
            'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" '
            "at the cluster scope",
        ),
        (
            Attributes("get", path="/metrics", resource_request=False),
            'forbidden: User "alice" cannot get path "/metrics"',
        ),
    ],
)
def test_forbidden_messages_are_kube_apiservers(attrs: Attributes, message: str) -> None:
    assert forbidden_message(ALICE, attrs) == message


def test_a_forbidden_message_carries_the_authorizers_reason_and_escapes_html() -> None:
    attrs = Attributes("list", namespace="team", resource="pods")
    reason = 'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found'
    assert forbidden_message(ALICE, attrs, reason=reason) == (
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
        f'in the namespace "team": {reason}'
    )
    odd = UserInfo("<b>&co")
    assert forbidden_message(odd, Attributes("get", path="/", resource_request=False)) == (
        'forbidden: User "&lt;b&gt;&amp;co" cannot get path "/"'
    )


def test_forbidden_is_a_403_status_with_kubernetes_details() -> None:
    error = forbidden(
        ALICE,
        Attributes("delete", namespace="ml", api_group="apps", resource="deployments", name="web"),
    )
    assert isinstance(error, Forbidden)
    assert error.status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": forbidden_message(
            ALICE,
            Attributes(
                "delete", namespace="ml", api_group="apps", resource="deployments", name="web"
            ),
        ),
        "reason": "Forbidden",
        "details": {"name": "web", "group": "apps", "kind": "deployments"},
        "code": 403,
    }
