"""Fake-only Kubernetes behaviour: what a real cluster's nodes and control plane do.

- ``config``: cluster files (nodes, lifecycle knobs), validated;
- ``scheduler``: binds pods to nodes with kube-scheduler's plugin framework;
- ``kubelet``: runs bound pods' containers through a container ``runtime``;
- ``runtime``: process, zygote and simulated container runtimes;
- ``images``: the image catalog (what an image reference runs locally);
- ``controllers``: namespace, garbage collector, workloads, services ...;
- ``nodes``: Node objects and their Lease heartbeats.

Everything here reaches the cluster through :mod:`sandbox.client` only.
"""
