"""``persistentVolumeClaim`` volumes: the directory of the claim's bound PersistentVolume.

The storage controllers provision a PersistentVolume for a claim (a
``hostPath`` directory under the sandbox home's ``volumes/``) and bind the
two (``spec.volumeName``, ``status.phase: Bound``). The kubelet only mounts:
while the claim is missing or not yet bound the mount fails with a message
saying so (a ``FailedMount`` event) and is retried, so the pod waits in
``ContainerCreating`` as it would in Kubernetes. A PersistentVolume whose
path lies outside the sandbox home is refused like any hostPath.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.volumes.base import MountError, VolumeContext

__all__ = ["setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName", "")
    claim = await ctx.get("PersistentVolumeClaim", claim_name, namespace=ctx.namespace)
    if claim is None:
        raise MountError(f'persistentvolumeclaim "{claim_name}" not found')
    volume_name = (claim.get("spec") or {}).get("volumeName")
    phase = (claim.get("status") or {}).get("phase") or "Pending"
    if not volume_name or phase != "Bound":
        raise MountError(
            f'persistentvolumeclaim "{claim_name}" is not bound (phase {phase}); '
            "waiting for a PersistentVolume to be bound to it"
        )
    pv = await ctx.get("PersistentVolume", volume_name)
    if pv is None:
        raise MountError(f'persistentvolume "{volume_name}" not found')
    raw = ((pv.get("spec") or {}).get("hostPath") or {}).get("path")
    if not raw:
        raise MountError(
            f'persistentvolume "{volume_name}" has no spec.hostPath: '
            "the sandbox mounts only hostPath PersistentVolumes"
        )
    if not ctx.paths.contains(raw):
        raise MountError(
            f'persistentvolume "{volume_name}" path "{raw}" is outside the sandbox home '
            f"{ctx.paths.home}"
        )
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
