"""Mount paths for processes: mapping a container's ``mountPath``s onto host directories.

A container in Kubernetes sees its volumes at their ``mountPath``
(``/data``, ``/etc/config``). A process on the host cannot: it shares the
host's filesystem. So the kubelet makes a container see its mounts there
*as far as a process can* (DESIGN.md §5):

- an argument, env value or ``workingDir`` that starts with a mount path
  (the whole value, or the part after ``=`` of a ``--flag=/path``
  argument) is rewritten to the host directory, longest mount path first,
  matching whole path components only (``/data`` maps ``/data/x``, never
  ``/database``);
- the argument after a ``-c`` (``sh -c "cat /etc/config/x"``,
  ``python -c "open('/data/x')"``) is a script: every mount path in it
  that stands as a whole path (after a space, quote, ``=``, ``>`` ...) is
  rewritten, since manifests put paths inside such scripts all the time;
- the whole table is given to the program as ``SANDBOX_MOUNTS`` (JSON,
  mount path → host directory) so in-pod code can map paths it builds
  itself (``sandbox.podenv.resolve``).

What this cannot do: a path computed at run time from something else
(a config file listing ``/data/x``, a path joined in code without the
helper, a script file that mentions ``/data``) is not mapped, and ``readOnly`` is not enforced (the host directory
is shared by every container mounting it). See docs/explanation/fidelity.md.

``subPath`` mounts a directory (or file) inside the volume, created when
missing; ``subPathExpr`` is ``$(VAR)``-expanded with the container's env
first. A subPath that is absolute or climbs out with ``..`` is refused, as
Kubernetes refuses it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.cluster.kubelet.envvars import ContainerConfigError
from sandbox.cluster.kubelet.expansion import expand

__all__ = ["Mount", "MountTable", "container_mounts"]


@dataclass(frozen=True)
class Mount:
    mount_path: str
    host_path: Path
    read_only: bool = False


class MountTable:
    """A container's mounts, ready to map paths from its view to the host's."""

    def __init__(self, mounts: list[Mount]) -> None:
        # Longest mount path first so /data/models wins over /data.
        self.mounts = sorted(mounts, key=lambda m: len(m.mount_path), reverse=True)

    def map_path(self, path: str) -> str | None:
        """The host path for a container path under a mount, else ``None``."""
        for mount in self.mounts:
            root = mount.mount_path
            if path == root:
                return str(mount.host_path)
            if path.startswith(root + "/"):
                return str(mount.host_path) + path[len(root) :]
        return None

    def map_value(self, value: str) -> str:
        """``value`` with a leading mount path mapped (also in ``--flag=/path``)."""
        mapped = self.map_path(value)
        if mapped is not None:
            return mapped
        if value.startswith("-") and "=" in value:
            flag, _, rest = value.partition("=")
            mapped = self.map_path(rest)
            if mapped is not None:
                return f"{flag}={mapped}"
        return value

    def map_script(self, text: str) -> str:
        """Every whole-path occurrence of a mount path in ``text`` mapped."""
        if not self.mounts:
            return text
        roots = "|".join(re.escape(m.mount_path) for m in self.mounts)
        pattern = re.compile(rf"(?<![\w./-])({roots})(?![\w.-])")
        return pattern.sub(lambda match: self.map_path(match.group(1)) or match.group(1), text)

    def map_args(self, argv: list[str]) -> list[str]:
        """Arguments mapped: each by :meth:`map_value`, a ``-c`` script by :meth:`map_script`."""
        return [
            self.map_script(arg) if i and argv[i - 1] == "-c" else self.map_value(arg)
            for i, arg in enumerate(argv)
        ]

    def as_env(self) -> str:
        """The ``SANDBOX_MOUNTS`` value: mount path → host directory, JSON."""
        return json.dumps({m.mount_path: str(m.host_path) for m in self.mounts}, sort_keys=True)


def container_mounts(
    container: Mapping[str, Any], volumes: Mapping[str, Path], env: Mapping[str, str]
) -> MountTable:
    """The mount table of ``container`` given each volume's host directory.

    Volumes missing from ``volumes`` (not set up on this node kind) are left
    out; a bad ``subPath`` raises :class:`ContainerConfigError`.
    """
    mounts: list[Mount] = []
    for volume_mount in container.get("volumeMounts") or ():
        host = volumes.get(volume_mount.get("name", ""))
        mount_path = posixpath.normpath(volume_mount.get("mountPath") or "/")
        if host is None or mount_path == "/":
            continue
        sub_path = volume_mount.get("subPath") or ""
        if volume_mount.get("subPathExpr"):
            sub_path = expand(volume_mount["subPathExpr"], env)
        if sub_path:
            host = _sub_path(host, sub_path)
        mounts.append(Mount(mount_path, host, bool(volume_mount.get("readOnly"))))
    return MountTable(mounts)


def _sub_path(root: Path, sub_path: str) -> Path:
    if posixpath.isabs(sub_path) or ".." in sub_path.split("/"):
        raise ContainerConfigError(
            f"subPath {sub_path!r} must be a relative path without '..' components"
        )
    target = root / sub_path
    if not target.exists():
        target.mkdir(parents=True, exist_ok=True)
    return target
