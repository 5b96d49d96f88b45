"""The kubeconfig ``sandbox up`` prints: ``export KUBECONFIG=<home>/kubeconfig``.

One cluster (``kf-sandbox``: the HTTPS URL and the CA as
``certificate-authority-data``), one user (``kubernetes-admin`` with its
bearer token), one context (``kf-sandbox``, namespace ``default``) made
current — the shape ``kubeadm`` writes to ``admin.conf``, so kubectl, the
Python client's ``load_kube_config`` and Kubeflow's SDKs read it unchanged.
Written atomically with mode 0600: it holds a credential.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CLUSTER_NAME", "kubeconfig", "write_kubeconfig"]

CLUSTER_NAME = "kf-sandbox"


def kubeconfig(
    *, server: str, ca_data: bytes, token: str, user: str = "kubernetes-admin",
    cluster: str = CLUSTER_NAME, namespace: str = "default",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"server": server}
    if ca_data:
        entry["certificate-authority-data"] = base64.b64encode(ca_data).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": entry}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": cluster, "context": {
            "cluster": cluster, "user": user, "namespace": namespace,
        }}],
        "current-context": cluster,
        "preferences": {},
    }


def write_kubeconfig(path: Path, **fields: Any) -> Path:
    """Write :func:`kubeconfig` (same keyword arguments) to ``path`` with mode 0600."""
    text = yaml.safe_dump(kubeconfig(**fields), sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path
