"""Kubeflow's components, one package each.

- :mod:`.pipelines` — Kubeflow Pipelines v2: DSL, compiler, graph, workflow
  controller, in-pod executor, artifact storage, KFP REST API;
- :mod:`.metadata` — the ML Metadata store the pipelines record lineage in.

Later issues add Katib, the training operator, KServe, notebooks.
"""
