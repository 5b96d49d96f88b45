"""The kubelet: runs the pods bound to a node as local processes.

One :class:`Kubelet` per node watches the pods bound to it and gives each a
:class:`~sandbox.cluster.kubelet.worker.PodWorker` that sets up the pod's
address and volumes, pulls images from the catalog, runs init containers
then containers through a container runtime, probes them, enforces memory
limits, restarts them per ``restartPolicy``, writes ``status`` and Events,
and finishes the deletion. :class:`KubeletLogSource` serves the containers'
log files to the client's ``logs``.

Modules, one concern each:

- ``kubelet`` — the node's informer and its pod workers;
- ``worker`` — one pod's life (the state machine);
- ``status`` / ``qos`` — pod status, phase, conditions and QoS class;
- ``envvars`` / ``downward`` / ``expansion`` — env, downward API, ``$(VAR)``;
- ``mounts`` — mount paths mapped onto host directories;
- ``incluster`` — ``KUBERNETES_SERVICE_*`` env and the Python startup path
  that let in-cluster clients reach the API server;
- ``volumes/`` — one plugin per volume source, in a registry;
- ``probes/`` — one handler per probe kind, in a registry, and the prober;
- ``images`` — image "pulls" through the catalog, with back-off;
- ``backoff`` — crash-loop and pull back-off;
- ``logs`` — the log source (kubectl's container/previous/tail/since/follow).
"""

from sandbox.cluster.kubelet.kubelet import Kubelet
from sandbox.cluster.kubelet.logs import KubeletLogSource, LiveRuns

__all__ = ["Kubelet", "KubeletLogSource", "LiveRuns"]
