"""The in-cluster environment of the in-process cluster: ServiceAccount admission, wired.

The cluster layer provides the pieces (:mod:`sandbox.cluster.serviceaccount_admission`,
the root-ca-cert-publisher controller, the kubelet's ``KUBERNETES_*`` env and
projected token volumes); this module plugs the admission hook into the store,
which only the backend may touch::

    ApiServer.start ──► ApiEndpoint.publish ──► (first time) store.admission.add_mutating(
                                                    "", "Pod", ServiceAccount hook, lookup=store.get)

Why only once an API server serves the cluster: the ``kube-api-access-``
volume needs the ``kube-root-ca.crt`` ConfigMap, whose CA exists only once an
API server has one. A cluster without a REST API (most tests, scripts using
the in-memory client) has nothing for a pod to reach, so its pods are
admitted unchanged instead of waiting forever on a CA that never comes. Once
registered the hook stays, also while a restarted API server is down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.cluster.serviceaccount_admission import service_account_admission
from sandbox.store import Store

__all__ = ["ADMISSION_NAME", "wire_service_accounts"]

#: kube-apiserver's name for the plugin.
ADMISSION_NAME = "ServiceAccount"


def wire_service_accounts(store: Store, endpoint: ApiEndpoint) -> None:
    """Register the ServiceAccount admission hook when ``endpoint`` first serves."""

    def lookup(namespace: str, name: str) -> Mapping[str, Any] | None:
        try:
            return store.get("v1", "ServiceAccount", name, namespace=namespace)
        except NotFound:
            return None

    hook = service_account_admission(lookup)
    registered = False

    def on_change() -> None:
        nonlocal registered
        if endpoint.serving and not registered:
            store.admission.add_mutating("", "Pod", hook, name=ADMISSION_NAME)
            registered = True

    endpoint.add_listener(on_change)
