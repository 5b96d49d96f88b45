"""Kubeflow Pipelines v2 in the sandbox, split as DESIGN.md §6 and STYLE.md ask.

- :mod:`.dsl` — ``@component``, ``@pipeline``, artifacts, control flow: kfp v2's
  names and semantics (users import it as ``sandbox.pipelines.dsl``);
- :mod:`.compiler` — a pipeline function → KFP IR (PipelineSpec, schemaVersion 2.1.0);
- :mod:`.graph` — IR → a validated DAG (networkx), sub-DAGs for conditions,
  loops and exit handlers;
- :mod:`.storage` — the artifact store behind ``minio://mlpipeline/…``;
- :mod:`.executor` — what runs inside a task's pod: executor input → the
  component's function → executor output, as kfp's ``executor_main``;
- :mod:`.workflow` — runs as ``Workflow`` objects and the controller that runs
  their tasks as pods;
- :mod:`.api` — the KFP REST API v2beta1 under ``/pipeline``.
"""
