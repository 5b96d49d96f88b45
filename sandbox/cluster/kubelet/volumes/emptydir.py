"""``emptyDir`` volumes: a fresh directory under the pod's volume directory.

It lives as long as the pod's directory (removed with the pod's volumes,
kept across container restarts, as in Kubernetes). ``medium: Memory`` and
``sizeLimit`` are accepted but not enforced: the directory is on disk
(docs/explanation/fidelity.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.volumes.base import VolumeContext

__all__ = ["setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    target = ctx.target(volume["name"])
    target.mkdir(parents=True, exist_ok=True)
    return target
