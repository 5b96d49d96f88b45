"""``hostPath`` volumes, confined to the sandbox home.

A hostPath gives a pod a directory of the machine. On a real node that is
the node's own filesystem; here it is the user's, so the sandbox mounts
only paths inside its home (``$SANDBOX_HOME``, symlinks resolved): anything
else fails the mount with a message naming the rule, shown as a
``FailedMount`` Warning event, and the pod stays ``ContainerCreating``.

``type`` is honoured: ``DirectoryOrCreate`` and ``FileOrCreate`` create
what is missing; ``Directory`` and ``File`` must exist and be of that kind;
``""`` checks nothing; ``Socket``, ``CharDevice`` and ``BlockDevice`` must
exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.volumes.base import MountError, VolumeContext

__all__ = ["setup"]


async def setup(ctx: VolumeContext, volume: Mapping[str, Any]) -> Path:
    source = volume.get("hostPath") or {}
    raw = source.get("path", "")
    if not ctx.paths.contains(raw):
        raise MountError(
            f'hostPath "{raw}" is outside the sandbox home {ctx.paths.home}: '
            "the sandbox mounts hostPath volumes only from inside its home "
            "(see docs/explanation/fidelity.md)"
        )
    path = Path(raw).expanduser().resolve()
    kind = source.get("type") or ""
    if kind == "DirectoryOrCreate":
        path.mkdir(parents=True, exist_ok=True)
    elif kind == "FileOrCreate":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    elif kind == "Directory" and not path.is_dir():
        raise MountError(f"hostPath type check failed: {raw} is not a directory")
    elif kind == "File" and not path.is_file():
        raise MountError(f"hostPath type check failed: {raw} is not a file")
    elif kind in ("Socket", "CharDevice", "BlockDevice") and not path.exists():
        raise MountError(f"hostPath type check failed: {raw} is not a {kind}")
    return path
