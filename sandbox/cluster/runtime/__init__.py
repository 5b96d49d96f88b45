"""Container runtimes: how a container's process is started, watched and stopped.

The kubelet decides *what* runs (image catalog, command, env, mounts) and
hands a :class:`~sandbox.cluster.runtime.base.ContainerSpec` to a runtime,
which decides *how*: ``process`` (an asyncio subprocess), ``zygote`` (a fork
of a warm Python process), ``simulated`` (no process at all). Runtimes are
registered by name in :data:`RUNTIMES`.
"""
