"""``configMap`` volumes: one file per key (or per ``items`` entry).

Each key of ``data`` becomes a file of that name holding the value;
``binaryData`` keys hold the decoded bytes. With ``items``, only the listed
keys are written, each at its ``path`` with its ``mode``; a listed key the
ConfigMap lacks fails the mount (``configmap references non-existent config
key: k``) unless the volume is ``optional``. A missing ConfigMap fails with
``configmap "x" not found``, or mounts an empty directory when ``optional``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.volumes.base import (
    MountError,
    ProjectedFile,
    VolumeContext,
    file_mode,
    write_files,
)

__all__ = ["config_map_files", "setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    files = await config_map_files(ctx, volume.get("configMap") or {})
    return write_files(ctx.target(volume["name"]), files)


async def config_map_files(
    ctx: VolumeContext, source: Mapping[str, Any]
) -> dict[str, ProjectedFile]:
    name = source.get("name", "")
    optional = bool(source.get("optional"))
    found = await ctx.get("ConfigMap", name, namespace=ctx.namespace)
    if found is None:
        if optional:
            return {}
        raise MountError(f'configmap "{name}" not found')
    data: dict[str, bytes] = {k: str(v).encode() for k, v in (found.get("data") or {}).items()}
    for key, value in (found.get("binaryData") or {}).items():
        data[key] = base64.b64decode(value)
    return select_items(data, source, what="configmap", optional=optional)


def select_items(
    data: Mapping[str, bytes], source: Mapping[str, Any], *, what: str, optional: bool
) -> dict[str, ProjectedFile]:
    """The files of a configMap or secret source: every key, or its ``items``."""
    items = source.get("items")
    if not items:
        return {key: (value, file_mode({}, source)) for key, value in data.items()}
    files: dict[str, ProjectedFile] = {}
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if optional:
                continue
            raise MountError(f"{what} references non-existent config key: {key}")
        files[item.get("path") or key] = (data[key], file_mode(item, source))
    return files
