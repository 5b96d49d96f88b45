"""Kubeflow Pipelines: the artifact store behind ``minio://mlpipeline/…``.

- :mod:`.uris` maps artifact URIs (``minio://``, ``s3://``, ``gs://``) to
  paths under one local root and refuses any that would leave it; task pods
  use it to find ``Artifact.path`` (``$SANDBOX_ARTIFACT_ROOT``);
- :mod:`.store` lays a run's task outputs out exactly as KFP does
  (``<pipeline root>/<pipeline>/<run>/<task>/<execution>/<output>``), reads
  and writes parameter and executor-output files, and lists, sizes and
  deletes a run's outputs;
- :mod:`.parameters` is KFP's text form of parameter values (output
  parameter files, placeholders).

Standard library only: the in-pod executor imports this package.
"""

from .parameters import ParameterTextError, format_parameter_text, parse_parameter_text
from .store import (
    DEFAULT_PIPELINE_ROOT,
    EXECUTOR_OUTPUT_FILE,
    PARAMETERS_DIR,
    ArtifactStore,
    StoredArtifact,
    TaskOutputs,
)
from .uris import ROOT_ENV, UnsafeURI, artifact_root, path_to_uri, uri_to_path

__all__ = [
    "DEFAULT_PIPELINE_ROOT",
    "EXECUTOR_OUTPUT_FILE",
    "PARAMETERS_DIR",
    "ROOT_ENV",
    "ArtifactStore",
    "ParameterTextError",
    "StoredArtifact",
    "TaskOutputs",
    "UnsafeURI",
    "artifact_root",
    "format_parameter_text",
    "parse_parameter_text",
    "path_to_uri",
    "uri_to_path",
]
