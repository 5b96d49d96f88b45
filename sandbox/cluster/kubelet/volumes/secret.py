"""``secret`` volumes: one file per key, holding the decoded value.

Like :mod:`.configmap`, with the Secret's base64 ``data`` decoded to bytes
(and any ``stringData`` not yet folded into ``data``), ``secretName``
naming the source, and ``secret "x" not found`` when it is missing.
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
    write_files,
)
from sandbox.cluster.kubelet.volumes.configmap import select_items

__all__ = ["secret_files", "setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    source = dict(volume.get("secret") or {})
    source.setdefault("name", source.get("secretName", ""))
    files = await secret_files(ctx, source)
    return write_files(ctx.target(volume["name"]), files)


async def secret_files(ctx: VolumeContext, source: Mapping[str, Any]) -> dict[str, ProjectedFile]:
    """``source`` names the Secret with ``name`` (projected) or ``secretName`` (volume)."""
    name = source.get("name") or source.get("secretName") or ""
    optional = bool(source.get("optional"))
    found = await ctx.get("Secret", name, namespace=ctx.namespace)
    if found is None:
        if optional:
            return {}
        raise MountError(f'secret "{name}" not found')
    data = {key: base64.b64decode(value) for key, value in (found.get("data") or {}).items()}
    for key, value in (found.get("stringData") or {}).items():
        data[key] = str(value).encode()
    return select_items(data, source, what="secret", optional=optional)
