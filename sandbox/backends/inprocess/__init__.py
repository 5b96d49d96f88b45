"""The in-process backend: a whole cluster inside this Python process."""

from sandbox.backends.inprocess.cluster import InProcessCluster, builtin_controllers

__all__ = ["InProcessCluster", "builtin_controllers"]
