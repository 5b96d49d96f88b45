"""What every volume plugin shares: its context, its error, and how files are written.

A plugin turns one ``spec.volumes[]`` entry into a host directory (usually
``paths.pod_volume(uid, name)``, created and filled by the plugin). It
raises :class:`MountError` with the text Kubernetes would put after
``MountVolume.SetUp failed for volume "v" :``; the kubelet shows it in a
``FailedMount`` Warning event and retries, leaving the pod in
``ContainerCreating`` meanwhile, as Kubernetes does.

Projected files (configMap, secret, downwardAPI) are written by
:func:`write_files`, which replaces the directory's content so a key
removed from the source disappears, and sets each file's mode
(``defaultMode`` 0644 unless the item says otherwise). Unlike Kubernetes'
atomic writer, files are written in place once, at pod start; later
changes to the ConfigMap are not propagated (docs/explanation/fidelity.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.client.protocol import Client
from sandbox.cluster.paths import SandboxPaths

__all__ = [
    "DEFAULT_MODE",
    "MountError",
    "ProjectedFile",
    "VolumeContext",
    "VolumePlugin",
    "file_mode",
    "write_files",
]

#: ``defaultMode`` when a source does not say (420 decimal).
DEFAULT_MODE = 0o644


class MountError(Exception):
    """A volume cannot be set up (yet); the message is Kubernetes-shaped."""


@dataclass
class VolumeContext:
    pod: Mapping[str, Any]
    client: Client
    paths: SandboxPaths
    pod_ip: str
    host_ip: str
    node_allocatable: Mapping[str, Any]

    @property
    def namespace(self) -> str:
        return (self.pod.get("metadata") or {}).get("namespace") or "default"

    @property
    def uid(self) -> str:
        return (self.pod.get("metadata") or {}).get("uid") or ""

    def target(self, volume_name: str) -> Path:
        return self.paths.pod_volume(self.uid, volume_name)

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any] | None:
        """An object of the pod's namespace (or a cluster-scoped one), or ``None``."""
        try:
            return await self.client.get("v1", kind, name, namespace=namespace)
        except NotFound:
            return None


VolumePlugin = Callable[[VolumeContext, Mapping[str, Any]], Awaitable[Path]]
"""Sets up one volume (the whole ``spec.volumes[]`` entry); returns its host directory."""

#: A projected file: its bytes and mode.
ProjectedFile = tuple[bytes, int]


def write_files(target: Path, files: Mapping[str, ProjectedFile]) -> Path:
    """Make ``target`` hold exactly ``files`` (relative paths); returns ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for relative, (content, mode) in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    return target


def file_mode(item: Mapping[str, Any], source: Mapping[str, Any]) -> int:
    """An item's ``mode``, else the source's ``defaultMode``, else 0644."""
    for mode in (item.get("mode"), source.get("defaultMode")):
        if mode is not None:
            return int(mode)
    return DEFAULT_MODE
