"""``projected`` volumes: configMap, secret, downwardAPI and token sources in one directory.

Each source contributes the files it would write as a volume of its own;
a later source's file wins a clash. A ``serviceAccountToken`` source writes
the pod's ServiceAccount token (:mod:`.serviceaccounttoken`): with the
``kube-root-ca.crt`` ConfigMap and the namespace from the downward API that
is the ``kube-api-access-`` volume every pod gets at admission.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.volumes.base import (
    MountError,
    ProjectedFile,
    VolumeContext,
    write_files,
)
from sandbox.cluster.kubelet.volumes.configmap import config_map_files
from sandbox.cluster.kubelet.volumes.downwardapi import downward_files
from sandbox.cluster.kubelet.volumes.secret import secret_files
from sandbox.cluster.kubelet.volumes.serviceaccounttoken import service_account_token_files

__all__ = ["setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    projected = volume.get("projected") or {}
    files: dict[str, ProjectedFile] = {}
    for source in projected.get("sources") or ():
        # A source's own items take the volume's defaultMode unless they set one.
        defaults = {"defaultMode": projected.get("defaultMode")}
        if "configMap" in source:
            files.update(await config_map_files(ctx, {**defaults, **source["configMap"]}))
        elif "secret" in source:
            files.update(await secret_files(ctx, {**defaults, **source["secret"]}))
        elif "downwardAPI" in source:
            files.update(downward_files(ctx, {**defaults, **source["downwardAPI"]}))
        elif "serviceAccountToken" in source:
            files.update(
                await service_account_token_files(ctx, {**defaults, **source["serviceAccountToken"]})
            )
        else:
            kinds = ", ".join(sorted(source)) or "(empty)"
            raise MountError(f"projected source {kinds} is not supported by the sandbox kubelet")
    return write_files(ctx.target(volume["name"]), files)
