"""The pipelines compiler: ``Compiler().compile(pipeline_func, 'pipeline.yaml')``, as in kfp.

A ``@pipeline`` is compiled to IR when it is defined (see
:class:`~sandbox.components.pipelines.dsl.components.GraphComponent`); this
class applies compile-time overrides (name, display name, parameter
defaults) and writes the YAML file. A single ``@component`` compiles to its
component YAML (a one-task pipeline), which ``kfp.components.load_component_from_file``
loads. The IR is the one kfp 2.15.2 writes for the same pipeline
(:mod:`.builder`), so it runs on real Kubeflow as well as in the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.components.pipelines.compiler import builder, writer
from sandbox.components.pipelines.dsl import types
from sandbox.components.pipelines.dsl.components import BaseComponent

__all__ = ["Compiler", "compile_to_dict"]


def compile_to_dict(pipeline_func: BaseComponent, *, pipeline_name: str | None = None,
                    pipeline_display_name: str | None = None,
                    pipeline_parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The IR of a pipeline or component as a dict (what :meth:`Compiler.compile` writes)."""
    if not isinstance(pipeline_func, BaseComponent):
        raise ValueError("Unsupported pipeline_func type. Expected subclass of `base_component.BaseComponent` or "
                         "`Callable` constructed with @dsl.pipeline decorator. Got: " f"{type(pipeline_func)}")
    return builder.modify_pipeline_spec_with_override(
        pipeline_func.pipeline_spec, pipeline_name=pipeline_name, pipeline_parameters=pipeline_parameters,
        pipeline_display_name=pipeline_display_name)


class Compiler:
    """Compiles pipelines (and single components) to IR YAML."""

    def compile(self, pipeline_func: BaseComponent, package_path: str | Path, pipeline_name: str | None = None,
                pipeline_display_name: str | None = None, pipeline_parameters: dict[str, Any] | None = None,
                type_check: bool = True, kubernetes_manifest_options: Any = None,
                kubernetes_manifest_format: bool = False) -> None:
        """Writes the IR of ``pipeline_func`` to ``package_path`` (``.yaml``)."""
        if kubernetes_manifest_options is not None or kubernetes_manifest_format:
            raise NotImplementedError("Kubernetes manifest output is not supported by kf-sandbox's compiler.")
        previous = types.TYPE_CHECK
        types.TYPE_CHECK = type_check
        try:
            spec = compile_to_dict(pipeline_func, pipeline_name=pipeline_name,
                                   pipeline_display_name=pipeline_display_name,
                                   pipeline_parameters=pipeline_parameters)
            writer.write_pipeline_spec(spec, package_path, pipeline_func.description)
        finally:
            types.TYPE_CHECK = previous
