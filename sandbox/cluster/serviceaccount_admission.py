"""The ServiceAccount admission plugin: every new pod gets API credentials mounted.

kube-apiserver's ``ServiceAccount`` admission plugin mutates each Pod on
CREATE, and this module does the same as a mutating admission hook::

    Pod CREATE ──► spec.serviceAccountName ("default" if unset)
                   ServiceAccount looked up ──► missing and not "default": 403 Forbidden
                   automount? (pod's automountServiceAccountToken, else the account's, else true)
                     └─► volume kube-api-access-xxxxx (projected: token, ca.crt, namespace)
                         mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount
                         in every init container and container without a mount there
                   imagePullSecrets copied from the account when the pod has none

The projected volume is Kubernetes' own (``TokenVolumeSource``): a
``serviceAccountToken`` source (``path: token``, ``expirationSeconds:
3607``), the ``ca.crt`` key of the ``kube-root-ca.crt`` ConfigMap (kept in
every namespace by the root-ca-cert-publisher controller) and the pod's
namespace from the downward API. The kubelet turns it into files
(:mod:`sandbox.cluster.kubelet.volumes.projected`), which is what
``kubernetes.config.load_incluster_config()`` reads.

The hook is written against the duck-typed admission request (``operation``,
``object``, ``subresource``) so the cluster layer never imports the store.
Admission hooks are synchronous, so the ServiceAccount is read through a
``lookup(namespace, name)`` callable the backend provides (a synchronous read
of its store). One difference: kube-apiserver retries a missing ``default``
account for about a second, since the serviceaccount controller creates it
moments after the namespace; a synchronous hook cannot wait, so a pod of a
namespace whose ``default`` account does not exist yet is admitted, and its
kubelet waits (``FailedMount``) until the account's token exists.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sandbox.api.errors import Forbidden

__all__ = [
    "DEFAULT_API_TOKEN_MOUNT_PATH",
    "ROOT_CA_CONFIG_MAP",
    "VOLUME_PREFIX",
    "ServiceAccountLookup",
    "service_account_admission",
    "token_volume_source",
]

#: Where the plugin mounts the credentials (client libraries hard-code it).
DEFAULT_API_TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
#: The generated volume's name prefix; a volume with it is reused, not duplicated.
VOLUME_PREFIX = "kube-api-access-"
#: The ConfigMap of the cluster's root CA in every namespace.
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
#: Kubernetes' ``WarnOnlyBoundTokenExpirationSeconds`` (1 h + 7 s).
TOKEN_EXPIRATION_SECONDS = 3607
#: ``ProjectedVolumeSourceDefaultMode`` (0644), set explicitly as Kubernetes does.
PROJECTED_DEFAULT_MODE = 0o644

#: Kubernetes' random-suffix alphabet (no vowels, no look-alike digits).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

ServiceAccountLookup = Callable[[str, str], Mapping[str, Any] | None]
"""``lookup(namespace, name)``: the ServiceAccount, or ``None`` when it does not exist."""


class AdmissionRequestLike(Protocol):
    """What the hook reads from the store's ``AdmissionRequest`` (duck-typed)."""

    operation: str
    object: dict[str, Any]
    subresource: str | None


def token_volume_source() -> dict[str, Any]:
    """The projected source of a ``kube-api-access-`` volume, field for field."""
    return {
        "defaultMode": PROJECTED_DEFAULT_MODE,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
            {"configMap": {"name": ROOT_CA_CONFIG_MAP, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [
                {"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
            ]}},
        ],
    }


def service_account_admission(
    lookup: ServiceAccountLookup,
) -> Callable[[AdmissionRequestLike], None]:
    """The mutating hook for Pods (register it for group ``""``, kind ``Pod``)."""

    def admit_service_account(request: AdmissionRequestLike) -> None:
        if request.operation != "CREATE" or request.subresource:
            return
        pod = request.object
        metadata = pod.get("metadata") or {}
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return
        namespace = metadata.get("namespace") or "default"
        name = spec.get("serviceAccountName") or "default"
        spec["serviceAccountName"] = name
        account = lookup(namespace, name)
        if account is None and name != "default":
            raise Forbidden(
                f'pods "{metadata.get("name", "")}" is forbidden: error looking up service '
                f'account {namespace}/{name}: serviceaccount "{name}" not found',
                details={"name": metadata.get("name", ""), "kind": "pods"},
            )
        if _automount(spec, account or {}):
            _mount_token(spec)
        if account is not None and not spec.get("imagePullSecrets"):
            pulls = [{"name": ref.get("name", "")} for ref in account.get("imagePullSecrets") or ()]
            if pulls:
                spec["imagePullSecrets"] = pulls

    return admit_service_account


def _automount(spec: Mapping[str, Any], account: Mapping[str, Any]) -> bool:
    """The pod's preference, else the account's, else true."""
    for choice in (spec.get("automountServiceAccountToken"), account.get("automountServiceAccountToken")):
        if choice is not None:
            return bool(choice)
    return True


def _mount_token(spec: dict[str, Any]) -> None:
    volumes = spec.get("volumes") or []
    existing = next(
        (v.get("name") for v in volumes if str(v.get("name", "")).startswith(VOLUME_PREFIX)), None
    )
    volume_name = existing or VOLUME_PREFIX + "".join(
        secrets.choice(_SUFFIX_ALPHABET) for _ in range(5)
    )
    needed = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or ():
            mounts = container.setdefault("volumeMounts", [])
            # A container that already mounts something there keeps it.
            if any(m.get("mountPath") == DEFAULT_API_TOKEN_MOUNT_PATH for m in mounts):
                continue
            mounts.append(
                {"name": volume_name, "readOnly": True, "mountPath": DEFAULT_API_TOKEN_MOUNT_PATH}
            )
            needed = True
    if needed and existing is None:
        spec["volumes"] = [*volumes, {"name": volume_name, "projected": token_volume_source()}]
