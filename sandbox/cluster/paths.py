"""Where the in-process cluster keeps its files: the sandbox home.

Everything a cluster writes lives under one directory (``$SANDBOX_HOME``,
default ``~/.kf-sandbox``), so ``sandbox down`` and tests can clean it and
``hostPath`` volumes can be confined to it:

```
<home>/
  logs/<namespace>_<pod>_<uid>/<container>/<restartCount>.log   container logs (kept after deletion)
  pods/<uid>/volumes/<volume>/                                  emptyDir, configMap, secret, downwardAPI
  volumes/<pv-name>/                                            PersistentVolumes provisioned for claims
  images.yaml                                                   the user's image catalog additions
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SandboxPaths"]


@dataclass(frozen=True)
class SandboxPaths:
    home: Path

    @classmethod
    def default(cls) -> SandboxPaths:
        home = os.environ.get("SANDBOX_HOME") or str(Path.home() / ".kf-sandbox")
        return cls(Path(home).expanduser().resolve())

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def pods(self) -> Path:
        return self.home / "pods"

    @property
    def volumes(self) -> Path:
        return self.home / "volumes"

    @property
    def user_image_catalog(self) -> Path:
        return self.home / "images.yaml"

    def pod_log_dir(self, namespace: str, pod: str, uid: str) -> Path:
        return self.logs / f"{namespace}_{pod}_{uid}"

    def container_log(self, namespace: str, pod: str, uid: str, container: str, restart: int) -> Path:
        return self.pod_log_dir(namespace, pod, uid) / container / f"{restart}.log"

    def pod_volume(self, uid: str, volume: str) -> Path:
        return self.pods / uid / "volumes" / volume

    def persistent_volume(self, name: str) -> Path:
        return self.volumes / name

    def contains(self, path: str | Path) -> bool:
        """Whether ``path`` (resolved, symlinks followed) lies inside the home."""
        resolved = Path(path).expanduser().resolve()
        return resolved == self.home or self.home in resolved.parents
