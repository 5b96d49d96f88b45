"""Default RBAC objects and ClusterRole aggregation."""

from __future__ import annotations

import asyncio

from sandbox.backends.inprocess.apiserver.bootstrap import (
    ClusterRoleAggregator,
    aggregate_once,
    ensure_default_rbac,
)
from sandbox.store import Store

RBAC = "rbac.authorization.k8s.io/v1"


def test_default_roles_are_created_once_and_topped_up(store: Store) -> None:
    assert ensure_default_rbac(store) > 0
    assert store.get(RBAC, "ClusterRole", "cluster-admin")["rules"]
    assert ensure_default_rbac(store) == 0
    store.patch(RBAC, "ClusterRoleBinding", "cluster-admin", {"subjects": []})
    assert ensure_default_rbac(store) == 1
    assert store.get(RBAC, "ClusterRoleBinding", "cluster-admin")["subjects"]


def _widget_editor() -> dict:
    return {"metadata": {"name": "widget-edit",
                         "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
            "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["*"]}]}


def test_aggregation_fills_aggregated_roles(store: Store) -> None:
    ensure_default_rbac(store)
    store.create(RBAC, "ClusterRole", _widget_editor())
    assert aggregate_once(store) >= 1
    for role in ("edit", "admin"):
        rules = store.get(RBAC, "ClusterRole", role)["rules"]
        assert {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["*"]} in rules
    assert aggregate_once(store) == 0


async def test_the_aggregator_follows_cluster_role_changes(store: Store) -> None:
    ensure_default_rbac(store)
    aggregator = ClusterRoleAggregator(store)
    await aggregator.start()
    try:
        store.create(RBAC, "ClusterRole", _widget_editor())
        for _ in range(50):
            await asyncio.sleep(0)
        rules = store.get(RBAC, "ClusterRole", "edit")["rules"]
        assert any("widgets" in r.get("resources", []) for r in rules)
    finally:
        await aggregator.stop()
    assert store.watcher_count() == 0
