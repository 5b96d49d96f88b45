"""``downwardAPI`` volumes: pod fields and container resources as files.

Each item writes one file at its ``path``: a ``fieldRef`` (``metadata.name``,
``metadata.labels`` as ``key="value"`` lines, ...) or a
``resourceFieldRef`` (which needs ``containerName`` in a volume). Values
come from :mod:`sandbox.cluster.kubelet.downward`, shared with env vars.
Written once at pod start: label changes later are not reflected.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.downward import DownwardError, field_value, resource_value
from sandbox.cluster.kubelet.volumes.base import (
    MountError,
    ProjectedFile,
    VolumeContext,
    file_mode,
    write_files,
)

__all__ = ["downward_files", "setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    files = downward_files(ctx, volume.get("downwardAPI") or {})
    return write_files(ctx.target(volume["name"]), files)


def downward_files(ctx: VolumeContext, source: Mapping[str, Any]) -> dict[str, ProjectedFile]:
    files: dict[str, ProjectedFile] = {}
    for item in source.get("items") or ():
        try:
            if item.get("fieldRef"):
                text = field_value(
                    ctx.pod, item["fieldRef"].get("fieldPath", ""),
                    pod_ip=ctx.pod_ip, host_ip=ctx.host_ip,
                )
            elif item.get("resourceFieldRef"):
                ref = item["resourceFieldRef"]
                text = resource_value(
                    ctx.pod, ref.get("containerName", ""), ref.get("resource", ""),
                    divisor=ref.get("divisor"), node_allocatable=ctx.node_allocatable,
                )
            else:
                continue
        except DownwardError as err:
            raise MountError(str(err)) from None
        files[item.get("path", "")] = (text.encode(), file_mode(item, source))
    return files
