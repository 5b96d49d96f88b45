"""Backends: ways to assemble and run a cluster.

- ``inprocess``: the fake Kubernetes in this process (store, controllers,
  scheduler, kubelets running pods as local processes);
- ``kind``: a real cluster (a later issue).
"""
