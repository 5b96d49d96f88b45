"""Inside a pod: where am I, and where is this path really?

A sandbox container is a process on the host, so a volume mounted at
``/data`` is really a host directory somewhere under the sandbox home. The
kubelet maps the paths it can see (arguments, env values, ``workingDir``);
a program that builds paths itself uses this module to do the same::

    from sandbox import podenv
    open(podenv.resolve("/data/train.csv"))   # the host file behind /data

The kubelet gives every container these variables (all optional here, so
the same code runs outside the sandbox and on a real cluster, where
``resolve`` changes nothing):

- ``SANDBOX_MOUNTS`` — JSON object, mount path → host directory;
- ``SANDBOX_POD_IP``, ``SANDBOX_POD_NAME``, ``SANDBOX_NAMESPACE`` — the pod's
  address (its own loopback address), name and namespace.

Standard library only: in-pod programs import it, and on the kind backend it
runs inside a real container.
"""

from __future__ import annotations

import json
import os
import posixpath

__all__ = ["mounts", "namespace", "pod_ip", "pod_name", "resolve"]


def mounts() -> dict[str, str]:
    """The container's mounts: mount path → host directory (empty outside the sandbox)."""
    raw = os.environ.get("SANDBOX_MOUNTS")
    if not raw:
        return {}
    table = json.loads(raw)
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def resolve(path: str) -> str:
    """The host path behind a container path: its longest mount path is replaced.

    Mount paths match whole path components (``/data`` maps ``/data/x``,
    never ``/database``); a path under no mount comes back unchanged.
    """
    if not path.startswith("/"):
        return path
    normal = posixpath.normpath(path)
    table = {posixpath.normpath(k): v for k, v in mounts().items()}
    for root in sorted(table, key=len, reverse=True):
        if normal == root:
            return table[root]
        if normal.startswith(root + "/"):
            return table[root] + normal[len(root) :]
    return path


def pod_ip() -> str | None:
    """The pod's IP address (``status.podIP``)."""
    return os.environ.get("SANDBOX_POD_IP") or None


def pod_name() -> str | None:
    return os.environ.get("SANDBOX_POD_NAME") or None


def namespace() -> str | None:
    return os.environ.get("SANDBOX_NAMESPACE") or None
