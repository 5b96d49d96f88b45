"""``sandbox.pipelines``: where users import the pipelines DSL from (``from sandbox.pipelines import dsl``).

A facade over :mod:`sandbox.components.pipelines`, mirroring kfp's top level
(``kfp.dsl``, ``kfp.compiler``) so a pipeline ports by changing one import::

    from sandbox.pipelines import compiler, dsl   # was: from kfp import compiler, dsl

``sandbox.pipelines.dsl`` and ``sandbox.pipelines.compiler`` are thin
re-export modules, so ``from sandbox.pipelines.dsl import Input, Output``
works like ``from kfp.dsl import Input, Output``.
"""

from sandbox.pipelines import compiler, dsl

__all__ = ["compiler", "dsl"]
