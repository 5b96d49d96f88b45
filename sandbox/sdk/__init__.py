"""``sandbox.sdk``: Pythonic entry points per component, over the client protocol.

Each area is a subpackage with a blocking API (for scripts and notebooks)
derived from one asynchronous implementation in its ``aio`` module, through
:mod:`sandbox.sdk.portal`:

- :mod:`sandbox.sdk.pipelines` — load a pipeline (``sandbox.pipelines.dsl``,
  ``kfp.dsl`` or compiled IR), submit a run, wait for it, read its task tree
  and each task's log, list and terminate runs (``sandbox pipelines …`` is
  its command line).

Other components (tuning, training jobs, serving, lineage) add theirs as
their issues land.
"""
