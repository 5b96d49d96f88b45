"""Pod volumes as host directories: one plugin per volume source, one registry.

The kubelet sets up a pod's volumes before its first container starts
(Kubernetes' volume manager, in miniature)::

    spec.volumes[] ──► VOLUME_PLUGINS[source](ctx, volume) ──► host directory
                                │ MountError("configmap \"x\" not found")
                                └──► FailedMount event, retry, pod stays ContainerCreating

Plugins are looked up by the volume's source key (``emptyDir``,
``configMap``, ``secret``, ``downwardAPI``, ``projected``,
``persistentVolumeClaim``, ``hostPath``). A source without a plugin fails
its mount with a message naming it rather than being silently skipped.
:func:`setup_volumes` takes the registry as an argument so tests and
future node kinds can swap plugins.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.volumes import (
    configmap,
    downwardapi,
    emptydir,
    hostpath,
    persistentvolumeclaim,
    projected,
    secret,
)
from sandbox.cluster.kubelet.volumes.base import MountError, VolumeContext, VolumePlugin

__all__ = ["VOLUME_PLUGINS", "MountError", "VolumeContext", "VolumeSetupError", "setup_volumes"]

VOLUME_PLUGINS: dict[str, VolumePlugin] = {
    "emptyDir": emptydir.setup,
    "configMap": configmap.setup,
    "secret": secret.setup,
    "downwardAPI": downwardapi.setup,
    "projected": projected.setup,
    "persistentVolumeClaim": persistentvolumeclaim.setup,
    "hostPath": hostpath.setup,
}


class VolumeSetupError(Exception):
    """One volume failed; ``str()`` is the ``FailedMount`` event message."""

    def __init__(self, volume: str, message: str) -> None:
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {message}')
        self.volume = volume


async def setup_volumes(
    ctx: VolumeContext, *, plugins: Mapping[str, VolumePlugin] = VOLUME_PLUGINS
) -> dict[str, Path]:
    """Every volume of ``ctx.pod``: name → host directory, or :class:`VolumeSetupError`."""
    mounted: dict[str, Path] = {}
    for volume in (ctx.pod.get("spec") or {}).get("volumes") or ():
        name = volume.get("name", "")
        sources = [key for key in volume if key != "name"] or ["emptyDir"]
        plugin = plugins.get(sources[0])
        try:
            if plugin is None:
                raise MountError(f"volume source {sources[0]} is not supported by the sandbox kubelet")
            mounted[name] = await plugin(ctx, _with_defaults(volume))
        except (MountError, OSError) as err:
            raise VolumeSetupError(name, str(err)) from None
    return mounted


def _with_defaults(volume: Mapping[str, Any]) -> dict[str, Any]:
    """A volume with no source is an emptyDir (Kubernetes' default)."""
    out = dict(volume)
    if len(out) == 1:
        out["emptyDir"] = {}
    return out
