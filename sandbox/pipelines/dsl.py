"""``sandbox.pipelines.dsl``: kfp's ``kfp.dsl`` surface (re-exported from :mod:`sandbox.components.pipelines.dsl`).

Everything a pipeline file imports from ``kfp.dsl`` — decorators, artifact
types, ``Input``/``Output``, control flow, placeholders and the
``PIPELINE_*_PLACEHOLDER`` constants — under the same names.
"""

from sandbox.components.pipelines.dsl import *  # noqa: F403
from sandbox.components.pipelines.dsl import __all__  # noqa: F401
