"""Loading a component's module: ``kfp`` mapped to the sandbox DSL, the source executed as a module.

A lightweight component's source starts with kfp's prelude (``import kfp``,
``from kfp import dsl``, ``from kfp.dsl import *``, ``from typing import *``).
While it loads and runs, :func:`kfp_aliases` puts module objects in
``sys.modules`` under ``kfp``, ``kfp.dsl`` and the ``kfp.dsl`` submodules user
code imports from (``kfp.dsl.types.artifact_types`` …), all backed by
:mod:`sandbox.components.pipelines.dsl` — whether or not the real kfp is
installed, so artifacts are always the sandbox's (paths in the sandbox
store) and no kfp install is needed in a pod. The previous entries are put
back afterwards, so an in-process run leaves the interpreter as it was.

The source is compiled with a file name registered in :mod:`linecache`, so
tracebacks of a failing component show its lines.
"""

from __future__ import annotations

import contextlib
import linecache
import sys
import types
from collections.abc import Iterator
from pathlib import Path

from sandbox.components.pipelines import dsl
from sandbox.components.pipelines.dsl import annotations, artifacts
from sandbox.components.pipelines.dsl import types as dsl_types
from sandbox.components.pipelines.dsl.factory import KFP_SDK_VERSION

__all__ = ["MODULE_NAME", "kfp_aliases", "load_component_module"]

#: The name kfp gives the component module (its launcher writes ``ephemeral_component.py``).
MODULE_NAME = "ephemeral_component"


def _package(name: str, **attributes: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []  # a package: ``import kfp.dsl`` resolves the submodule from sys.modules
    module.__dict__.update(attributes)
    return module


def _alias_modules() -> dict[str, types.ModuleType]:
    type_annotations = types.ModuleType("kfp.dsl.types.type_annotations")
    type_annotations.__dict__.update({name: getattr(annotations, name) for name in annotations.__all__})
    artifact_types = types.ModuleType("kfp.dsl.types.artifact_types")
    artifact_types.__dict__.update({name: getattr(artifacts, name) for name in artifacts.__all__})
    type_utils = types.ModuleType("kfp.dsl.types.type_utils")
    type_utils.__dict__.update({name: getattr(dsl_types, name) for name in dsl_types.__all__})
    final_status = types.ModuleType("kfp.dsl.task_final_status")
    final_status.PipelineTaskFinalStatus = annotations.PipelineTaskFinalStatus  # type: ignore[attr-defined]
    dsl_types_package = _package("kfp.dsl.types", artifact_types=artifact_types, type_annotations=type_annotations,
                                 type_utils=type_utils)
    kfp = _package("kfp", dsl=dsl, __version__=KFP_SDK_VERSION)
    return {
        "kfp": kfp,
        "kfp.dsl": dsl,
        "kfp.dsl.types": dsl_types_package,
        "kfp.dsl.types.artifact_types": artifact_types,
        "kfp.dsl.types.type_annotations": type_annotations,
        "kfp.dsl.types.type_utils": type_utils,
        "kfp.dsl.task_final_status": final_status,
    }


@contextlib.contextmanager
def kfp_aliases() -> Iterator[None]:
    """``kfp`` and ``kfp.dsl`` resolve to the sandbox DSL inside the block."""
    aliases = _alias_modules()
    saved = {name: sys.modules[name] for name in aliases if name in sys.modules}
    sys.modules.update(aliases)
    try:
        yield
    finally:
        for name in aliases:
            if name in saved:
                sys.modules[name] = saved[name]
            else:
                sys.modules.pop(name, None)


def load_component_module(*, source: str | None = None, module_path: str | None = None,
                          name: str = MODULE_NAME) -> types.ModuleType:
    """Executes the component source (text, or a file) as module ``name`` and returns it."""
    if (source is None) == (module_path is None):
        raise ValueError("give exactly one of the component source and the component module path")
    if module_path is not None:
        path = Path(module_path)
        source = path.read_text()
        filename = str(path)
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
    else:
        filename = f"<{name}>"
    assert source is not None
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    # dont_inherit: this module's `from __future__ import annotations` must not leak into user code.
    exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    return module
