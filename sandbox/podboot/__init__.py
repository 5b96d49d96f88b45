"""Startup hooks for Python programs in sandbox pods: in-cluster clients find their files.

The official ``kubernetes`` client's ``load_incluster_config()`` reads
``/var/run/secrets/kubernetes.io/serviceaccount/token`` and ``ca.crt`` from
constants of ``kubernetes.config.incluster_config``. In the sandbox that
directory is a host directory somewhere under the sandbox home (the pod's
``kube-api-access-`` volume), and the program cannot be asked to call
:func:`sandbox.podenv.resolve` itself: it is the user's, unchanged. So the
kubelet makes the interpreter do it::

    kubelet ──► PYTHONPATH=<this package>/startup:...   (Python containers that mount
                                                         the service account directory)
    interpreter startup ──► startup/sitecustomize.py ──► install(): a finder on sys.meta_path
    import kubernetes.config.incluster_config ──► the module runs as usual, then its
        SERVICE_TOKEN_FILENAME / SERVICE_CERT_FILENAME go through podenv.resolve

The finder only answers for the modules in :data:`MAPPED_MODULES` (the
official client and ``kubernetes_asyncio``, which share the constants) and
costs one dictionary lookup per import otherwise; a program that never
imports them is unaffected. Containers forked from the zygote get the same:
a fork imports a ``sitecustomize`` that its ``PYTHONPATH`` provides, as a
fresh interpreter would. A module already imported when :func:`install`
runs (preloaded by the zygote) is mapped at once.

Limits (docs/explanation/fidelity.md): only these Python clients are mapped.
A program that opens the path itself, or a client in another language (Go's
client-go, a ``curl`` with ``--cacert /var/run/...``), needs the real host
path: ``sandbox.podenv.resolve()`` or the ``SANDBOX_MOUNTS`` variable gives it.
``python -E`` or ``-I`` ignore ``PYTHONPATH`` and so skip the mapping.

Standard library only (plus :mod:`sandbox.podenv`): it runs inside every
Python container that mounts the service account directory.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from sandbox import podenv

__all__ = ["MAPPED_MODULES", "STARTUP_DIR", "chain_sitecustomize", "install", "map_module"]

#: The directory the kubelet puts first on ``PYTHONPATH``: it holds ``sitecustomize.py``.
STARTUP_DIR = Path(__file__).resolve().parent / "startup"

_IN_CLUSTER_PATHS = ("SERVICE_TOKEN_FILENAME", "SERVICE_CERT_FILENAME")
#: Module → its attributes holding container paths to map.
MAPPED_MODULES: dict[str, tuple[str, ...]] = {
    "kubernetes.config.incluster_config": _IN_CLUSTER_PATHS,
    "kubernetes_asyncio.config.incluster_config": _IN_CLUSTER_PATHS,
}


def install() -> None:
    """Map the modules already imported; map the others when they are imported."""
    for name in MAPPED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            map_module(module)
    if not any(isinstance(finder, _MappingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MappingFinder())


def map_module(module: ModuleType) -> None:
    """Replace the module's container paths by the host paths behind them."""
    for attribute in MAPPED_MODULES.get(module.__name__, ()):
        value = getattr(module, attribute, None)
        if isinstance(value, str):
            setattr(module, attribute, podenv.resolve(value))


class _MappingFinder(importlib.abc.MetaPathFinder):
    """Finds a mapped module through the other finders and wraps its loader."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MAPPED_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _MappingLoader(spec.loader)
                return spec
        return None


class _MappingLoader(importlib.abc.Loader):
    """The module's own loader, with :func:`map_module` after it ran."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        map_module(module)

    def __getattr__(self, name: str) -> object:
        # get_source, get_filename, is_package ... as the wrapped loader answers them.
        return getattr(self._inner, name)


def chain_sitecustomize(own_file: str) -> None:
    """Run the ``sitecustomize`` that ours shadows (one later on ``sys.path``), as
    ``site`` would have run it had the kubelet not put ours first."""
    own_dir = os.path.dirname(os.path.abspath(own_file))
    entries = [os.path.abspath(entry) for entry in sys.path]
    if own_dir not in entries:
        return
    later = sys.path[entries.index(own_dir) + 1 :]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", later)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)
