"""Which plugins exist, and which run by default: the registry and the default profile.

:data:`IN_TREE` is the one map from plugin name to factory (kube-scheduler's
``plugins/registry.go``). A test or a user passes its own map to
``Scheduler(registry=...)`` to add a plugin or swap one out; nothing is
registered by importing a module.

:data:`DEFAULT_PROFILE` is kube-scheduler 1.31's default profile, reduced
to the plugins the sandbox implements, with the same order (it decides the
order of Filter rejections and so of the reasons a user sees) and the same
Score weights (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
NodeResourcesFit 1), PodTopologySpread with its system default constraints,
plus Coscheduling — the sandbox's default scheduler is scheduler-plugins'
build, so training jobs get gang scheduling without a second scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.cluster.scheduler.framework import PluginFactory
from sandbox.cluster.scheduler.framework_runtime import PluginSpec, Profile
from sandbox.cluster.scheduler.plugins import (
    coscheduling,
    default_binder,
    default_preemption,
    node_affinity,
    node_name,
    node_resources_fit,
    node_unschedulable,
    pod_topology_spread,
    taint_toleration,
)

__all__ = ["DEFAULT_PROFILE", "DEFAULT_SCHEDULER_NAME", "IN_TREE"]

DEFAULT_SCHEDULER_NAME = "default-scheduler"

IN_TREE: Mapping[str, PluginFactory] = {
    node_unschedulable.NAME: node_unschedulable.new,
    node_name.NAME: node_name.new,
    taint_toleration.NAME: taint_toleration.new,
    node_affinity.NAME: node_affinity.new,
    node_resources_fit.NAME: node_resources_fit.new,
    pod_topology_spread.NAME: pod_topology_spread.new,
    default_preemption.NAME: default_preemption.new,
    coscheduling.NAME: coscheduling.new,
    default_binder.NAME: default_binder.new,
}

DEFAULT_PROFILE = Profile(
    scheduler_name=DEFAULT_SCHEDULER_NAME,
    plugins=(
        PluginSpec(node_unschedulable.NAME),
        PluginSpec(node_name.NAME),
        PluginSpec(taint_toleration.NAME, weight=3),
        PluginSpec(node_affinity.NAME, weight=2),
        PluginSpec(node_resources_fit.NAME, weight=1),
        PluginSpec(pod_topology_spread.NAME, weight=2),
        PluginSpec(default_preemption.NAME),
        PluginSpec(coscheduling.NAME),
        PluginSpec(default_binder.NAME),
    ),
)
