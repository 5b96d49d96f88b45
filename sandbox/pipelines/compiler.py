"""``sandbox.pipelines.compiler``: kfp's ``kfp.compiler`` surface (``Compiler().compile(pipeline, 'p.yaml')``)."""

from sandbox.components.pipelines.compiler import Compiler, compile_to_dict

__all__ = ["Compiler", "compile_to_dict"]
