"""Kubeflow Pipelines as a component the backends install (see :mod:`sandbox.components.registry`).

- kinds: ``Workflow`` (argoproj.io/v1alpha1), ``ScheduledWorkflow``
  (kubeflow.org/v1beta1), ``Pipeline``/``PipelineVersion``
  (pipelines.kubeflow.org/v2beta1) — manifests in ``crds/``;
- controllers: the workflow controller (runs a Workflow's tasks as pods) and,
  later, the scheduled-workflow controller;
- web routes: the KFP REST API under ``/pipeline`` (later).
"""

from __future__ import annotations

import functools
from pathlib import Path

from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow import controller as workflows
from sandbox.components.registry import Component, ComponentContext, load_crds
from sandbox.runtime import ControllerRegistry

__all__ = ["COMPONENT"]


def artifact_store(context: ComponentContext) -> ArtifactStore:
    """The artifact store of a sandbox home: ``<home>/artifacts``."""
    return ArtifactStore(context.paths.home / "artifacts")


def metadata_path(context: ComponentContext) -> Path:
    """The ML Metadata database of a sandbox home."""
    return context.paths.home / "metadata" / "metadata.sqlite"


def _register(registry: ControllerRegistry, context: ComponentContext) -> None:
    """The workflow controller (``workflow``), with the home's artifact store and metadata."""
    registry.register("workflow", functools.partial(
        workflows.controller, artifacts=artifact_store(context), metadata_path=metadata_path(context)))


COMPONENT = Component(
    name="pipelines",
    description="Kubeflow Pipelines: Workflow runs of KFP IR, artifacts, caching, the KFP API",
    crds=lambda: load_crds("sandbox.components.pipelines"),
    register_controllers=_register,
)
