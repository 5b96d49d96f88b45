"""The RBAC authorizer over the store's own Roles, ClusterRoles and bindings.

:class:`sandbox.api.rbac.Authorizer` re-reads its objects only when a version
it is given changes. Here that version is a counter bumped by a store
listener whenever one of the four RBAC resources changes, so an ordinary
request costs the authorizer's memoised lookup, and a new RoleBinding takes
effect on the very next request.
"""

from __future__ import annotations

from sandbox.api import rbac
from sandbox.store import Change, Store

__all__ = ["RBAC_RESOURCES", "store_authorizer"]

RBAC_RESOURCES = frozenset({
    "roles.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
})

_GROUP_VERSION = "rbac.authorization.k8s.io/v1"


class _Version:
    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value

    def changed(self, change: Change) -> None:
        if change.resource in RBAC_RESOURCES:
            self.value += 1


def store_authorizer(store: Store) -> rbac.Authorizer:
    """An RBAC authorizer reading ``store``, refreshed when RBAC objects change."""
    version = _Version()
    store.add_listener(version.changed)

    def objects() -> rbac.RBACObjects:
        def items(kind: str) -> list[dict]:
            return store.list(_GROUP_VERSION, kind)["items"]

        return rbac.RBACObjects(
            roles=items("Role"), cluster_roles=items("ClusterRole"),
            role_bindings=items("RoleBinding"), cluster_role_bindings=items("ClusterRoleBinding"),
        )

    return rbac.Authorizer(objects, version=version)
