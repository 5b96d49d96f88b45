"""The scheduler: kube-scheduler's plugin framework, binding pods to nodes by resources and rules.

Modules, from the vocabulary up to the loop:

- ``framework`` — Status, CycleState, PodInfo/NodeInfo/Snapshot, the
  extension-point protocols, FitError's message;
- ``framework_runtime`` — Profile, and running a profile's plugins at each
  extension point (Permit waits included);
- ``plugins/`` — one module per plugin; ``registry`` — the name → factory map
  and the default profile;
- ``cache`` — NodeInfos and assumed pods; ``queue`` — active, backoff and
  unschedulable pods;
- ``scheduler`` — :class:`Scheduler`: informers, the loop, binding, and
  reporting failures the way Kubernetes does.

It reaches the cluster only through the client protocol, so it schedules
the in-process cluster and would schedule a real one the same way.
"""

from sandbox.cluster.scheduler.framework import (
    Code,
    CycleState,
    NodeInfo,
    PodInfo,
    Snapshot,
    Status,
)
from sandbox.cluster.scheduler.framework_runtime import PluginSpec, Profile
from sandbox.cluster.scheduler.registry import DEFAULT_PROFILE, DEFAULT_SCHEDULER_NAME, IN_TREE
from sandbox.cluster.scheduler.scheduler import Scheduler

__all__ = [
    "DEFAULT_PROFILE",
    "DEFAULT_SCHEDULER_NAME",
    "IN_TREE",
    "Code",
    "CycleState",
    "NodeInfo",
    "PluginSpec",
    "PodInfo",
    "Profile",
    "Scheduler",
    "Snapshot",
    "Status",
]
