"""Container runtimes: how a container's process is started, watched and stopped.

The kubelet decides *what* runs (image catalog, command, env, mounts) and
hands a :class:`~sandbox.cluster.runtime.base.ContainerSpec` to a runtime,
which decides *how*: ``process`` (an asyncio subprocess), ``zygote`` (a fork
of a warm Python process), ``simulated`` (no process at all). Runtimes are
registered by name in :data:`sandbox.cluster.runtime.registry.RUNTIMES`.

Modules: ``base`` (the interface), ``process``, ``zygote`` and
``zygote_server`` (the warm process itself), ``simulated``, ``proctree``
(a container's process tree: signals, memory), ``reaper`` (no container
outlives its owner), ``registry``.

This package's ``__init__`` imports nothing: the zygote imports
``zygote_server`` from it, and whatever the zygote imports, every forked
container inherits.
"""
