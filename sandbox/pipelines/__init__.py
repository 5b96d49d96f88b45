"""``sandbox.pipelines``: where users import the pipelines DSL from (``from sandbox.pipelines import dsl``).

A facade over :mod:`sandbox.components.pipelines`, mirroring kfp's top level
(``kfp.dsl``, ``kfp.compiler``) so a pipeline ports by changing one import.
"""
