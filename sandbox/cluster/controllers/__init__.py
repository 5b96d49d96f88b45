"""Kubernetes' built-in controllers, one module each, level-triggered.

Each module exposes ``controller(manager) -> Controller`` (a factory the
in-process backend registers in a :class:`~sandbox.runtime.ControllerRegistry`
under the module's name). They reach the cluster only through the client
protocol, so they would run unchanged against any API server.
"""
