"""A pipeline file → its IR: ``load_pipeline("train.py")`` or ``load_pipeline("train.yaml")``.

Three sources give the same thing, a KFP pipeline spec (IR) as a dict:

- **a compiled file** (``.yaml``/``.yml``/``.json``): the IR the kfp compiler
  (ours or the real one) wrote, read with the graph layer's
  :func:`~sandbox.components.pipelines.graph.load_ir` (the ``# PIPELINE
  DEFINITION`` header, a kfp-kubernetes second document, the KFP API's
  ``{pipeline_spec: …}`` wrapper);
- **a Python file written with** ``sandbox.pipelines.dsl``: it is imported
  (its folder first on ``sys.path``, so its own helper modules import), and
  its ``@dsl.pipeline`` objects are found among the module's names;
- **a Python file written with the real** ``kfp.dsl`` (users port from it):
  the same, compiled by kfp's own compiler. Which DSL a pipeline belongs to
  is read off the object (its class and module), never guessed from the
  file's text, and kfp is imported only for a pipeline object that kfp
  made — that is, only when the user's file imported kfp already. kf-sandbox
  itself never needs kfp.

When a file defines several pipelines, ``function=`` (the CLI's
``--function``) picks one by its Python name or its pipeline name; a
pipeline only used inside another (a nested pipeline) does not count. Every
failure is a :class:`~.errors.PipelineLoadError` that names the file — and,
when the user's code raised, the line that did.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import tempfile
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from sandbox.components.pipelines.dsl.components import GraphComponent
from sandbox.components.pipelines.graph import PipelineSpecInvalid, load_ir
from sandbox.sdk.pipelines.errors import PipelineLoadError

__all__ = ["DSL", "Pipeline", "compile_pipeline", "dsl_of", "load_pipeline"]

DSL = Literal["sandbox", "kfp", "ir"]
IR_SUFFIXES = (".yaml", ".yml", ".json")
_KFP_GRAPH = ("kfp.dsl.graph_component", "GraphComponent")


@dataclass(frozen=True)
class Pipeline:
    """A loaded pipeline: its IR, and where it came from."""

    spec: dict[str, Any]
    #: ``pipelineInfo.name``.
    name: str
    #: ``sandbox``/``kfp``: the DSL the pipeline was written with; ``ir``: a compiled file.
    dsl: DSL
    source: Path | None = None
    #: The Python name of the pipeline function (files written with a DSL).
    function: str | None = None
    platform_spec: dict[str, Any] = field(default_factory=dict)


def dsl_of(obj: Any) -> DSL | None:
    """``sandbox`` or ``kfp`` for a ``@dsl.pipeline`` object of either DSL; None for anything else."""
    if isinstance(obj, GraphComponent):
        return "sandbox"
    if any((cls.__module__, cls.__name__) == _KFP_GRAPH for cls in type(obj).__mro__):
        return "kfp"
    return None


def compile_pipeline(obj: Any) -> dict[str, Any]:
    """The IR of a ``@dsl.pipeline`` object, compiled by the DSL that made it."""
    dsl = dsl_of(obj)
    if dsl == "sandbox":
        return dict(obj.pipeline_spec)
    if dsl == "kfp":
        # The object's own compiler: kfp is already imported (it made the object).
        compiler = importlib.import_module("kfp.compiler")
        with tempfile.TemporaryDirectory(prefix="sandbox-kfp-") as folder:
            path = Path(folder) / "pipeline.yaml"
            compiler.Compiler().compile(obj, str(path))
            spec, _ = load_ir(path.read_text(encoding="utf-8"))
            return spec
    raise TypeError(f"not a @dsl.pipeline object: {obj!r}")


def load_pipeline(path: str | Path, *, function: str | None = None) -> Pipeline:
    """Load the pipeline in ``path`` (a ``.py`` file, or compiled IR); see the module docstring."""
    file = Path(path)
    if not file.is_file():
        raise PipelineLoadError(f"{file}: no such file")
    if file.suffix.lower() in IR_SUFFIXES:
        if function is not None:
            raise PipelineLoadError(f"{file}: a compiled pipeline holds one pipeline; "
                                    "function= applies to .py files only")
        return _load_ir(file)
    if file.suffix.lower() != ".py":
        raise PipelineLoadError(f"{file}: expected a pipeline written in Python (.py) or compiled "
                                f"to IR ({', '.join(IR_SUFFIXES)})")
    module = _import(file)
    name, obj = _choose(file, module, function)
    try:
        spec = compile_pipeline(obj)
    except Exception as error:
        raise PipelineLoadError(f"{file}: could not compile pipeline {name!r}: "
                                f"{type(error).__name__}: {error}") from error
    return Pipeline(spec=spec, name=str((spec.get("pipelineInfo") or {}).get("name", name)),
                    dsl=dsl_of(obj) or "sandbox", source=file, function=name)


def _load_ir(file: Path) -> Pipeline:
    try:
        spec, platform = load_ir(file.read_text(encoding="utf-8"))
    except PipelineSpecInvalid as error:
        raise PipelineLoadError(f"{file}: {error.message}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise PipelineLoadError(f"{file}: {error}") from error
    name = str((spec.get("pipelineInfo") or {}).get("name") or file.stem)
    return Pipeline(spec=spec, name=name, dsl="ir", source=file, platform_spec=platform)


def _import(file: Path) -> ModuleType:
    """Import the user's file as a module of its own (a unique name per path)."""
    resolved = file.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    name = f"_sandbox_pipeline_{re.sub(r'[^0-9A-Za-z_]', '_', file.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise PipelineLoadError(f"{file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    folder = str(resolved.parent)
    sys.modules[name] = module
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        sys.modules.pop(name, None)
        if not isinstance(error, Exception):
            raise
        raise PipelineLoadError(_import_failure(file, resolved, error)) from error
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
    return module


def _import_failure(file: Path, resolved: Path, error: Exception) -> str:
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename) == resolved:
            where = f", line {frame.lineno}"
            break
    if isinstance(error, SyntaxError) and error.lineno:
        where = f", line {error.lineno}"
    text = f"{file}{where}: {type(error).__name__}: {error}"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] == "kfp":
        text += (" — kfp is not installed; to run this pipeline without it, change "
                 "`from kfp import dsl` to `from sandbox.pipelines import dsl`")
    return text


def _sanitized(name: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^-0-9a-z]+", "-", name.lower())).strip("-")


def _candidates(module: ModuleType) -> dict[str, Any]:
    """The module's pipelines by Python name (aliases dropped; defined here first, else imported)."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    for attr, value in vars(module).items():
        if dsl_of(value) is None or id(value) in seen:
            continue
        seen.add(id(value))
        found[attr] = value
    local = {attr: value for attr, value in found.items()
             if getattr(getattr(value, "pipeline_func", None), "__module__", None) == module.__name__}
    return local or found


def _pipeline_name(obj: Any) -> str:
    return str(getattr(obj, "name", "") or "")


def _nested(candidates: Mapping[str, Any]) -> set[str]:
    """Pipelines used as a component of another candidate (their DAG is a ``comp-<name>`` there)."""
    specs = {attr: compile_pipeline(obj) for attr, obj in candidates.items()}
    nested = set()
    for attr, obj in candidates.items():
        key = f"comp-{_sanitized(_pipeline_name(obj))}"
        for other, spec in specs.items():
            component = (spec.get("components") or {}).get(key)
            if other != attr and isinstance(component, Mapping) and "dag" in component:
                nested.add(attr)
    return nested


def _choose(file: Path, module: ModuleType, function: str | None) -> tuple[str, Any]:
    candidates = _candidates(module)
    if not candidates:
        raise PipelineLoadError(f"{file}: defines no pipeline (a function decorated with @dsl.pipeline)")
    names = sorted(candidates)
    if function is not None:
        for attr, obj in candidates.items():
            python_name = getattr(getattr(obj, "pipeline_func", None), "__name__", None)
            if function in (attr, python_name, _pipeline_name(obj)):
                return attr, obj
        raise PipelineLoadError(f"{file}: no pipeline named {function!r}; its pipelines: {', '.join(names)}")
    if len(candidates) == 1:
        return next(iter(candidates.items()))
    try:
        top = [attr for attr in names if attr not in _nested(candidates)]
    except Exception:
        top = names
    if len(top) == 1:
        return top[0], candidates[top[0]]
    raise PipelineLoadError(f"{file}: defines {len(top)} pipelines ({', '.join(top)}); "
                            "choose one with --function NAME (function= in the SDK)")
