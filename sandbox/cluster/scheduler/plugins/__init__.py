"""The scheduler's plugins, one module each, named after kube-scheduler's.

Each module defines the plugin class, its ``NAME`` and a ``new(args,
handle)`` factory. Nothing registers itself on import: the map from name to
factory is ``sandbox.cluster.scheduler.registry.IN_TREE``.

===================  ==========================================================
node_name            NodeName: ``spec.nodeName`` must name the node
node_unschedulable   NodeUnschedulable: cordoned nodes take no new pods
taint_toleration     TaintToleration: taints vs tolerations (filter + score)
node_affinity        NodeAffinity: nodeSelector, required/preferred affinity
node_resources_fit   NodeResourcesFit: requests vs what is left (filter + score)
least_allocated      NodeResourcesFit's LeastAllocated scoring strategy
pod_topology_spread  PodTopologySpread: spread constraints and system defaults
default_preemption   DefaultPreemption's diagnosis (the sandbox never preempts)
coscheduling         Coscheduling: gang scheduling by PodGroup minMember
default_binder       DefaultBinder: bind through a v1 Binding
===================  ==========================================================
"""
