"""Kubeflow Pipelines as a component the backends install (see :mod:`sandbox.components.registry`).

- kinds: ``Workflow`` (argoproj.io/v1alpha1), ``ScheduledWorkflow``
  (kubeflow.org/v1beta1), ``Pipeline``/``PipelineVersion``
  (pipelines.kubeflow.org/v2beta1) — manifests in ``crds/``;
- controllers: the workflow controller (runs a Workflow's tasks as pods) and
  the scheduled-workflow controller (a Workflow at each trigger of a
  recurring run);
- web routes: the KFP REST API v2beta1 under ``/pipeline``, so
  ``kfp.Client(host="http://127.0.0.1:<web port>/pipeline")`` works; its
  experiments table is ``<home>/pipelines/api.sqlite``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.routing import Mount

from sandbox.client.protocol import Client
from sandbox.components.pipelines.api import create_app
from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow import controller as workflows
from sandbox.components.pipelines.workflow import scheduled
from sandbox.components.registry import Component, ComponentContext, load_crds
from sandbox.runtime import ControllerRegistry

__all__ = ["COMPONENT"]


def artifact_store(context: ComponentContext) -> ArtifactStore:
    """The artifact store of a sandbox home: ``<home>/artifacts``."""
    return ArtifactStore(context.paths.home / "artifacts")


def metadata_path(context: ComponentContext) -> Path:
    """The ML Metadata database of a sandbox home."""
    return context.paths.home / "metadata" / "metadata.sqlite"


def api_database(context: ComponentContext) -> Path:
    """The KFP API's own table (experiments) in a sandbox home."""
    return context.paths.home / "pipelines" / "api.sqlite"


def _register(registry: ControllerRegistry, context: ComponentContext) -> None:
    """The workflow controller (``workflow``), with the home's artifact store and metadata,
    and the scheduled-workflow controller (``scheduledworkflow``)."""
    registry.register("workflow", functools.partial(
        workflows.controller, artifacts=artifact_store(context), metadata_path=metadata_path(context)))
    registry.register("scheduledworkflow", scheduled.controller)


def _web_routes(context: ComponentContext, client: Client) -> Sequence[Any]:
    """The KFP API at ``/pipeline`` (where Kubeflow serves it) over ``client``."""
    app = create_app(client, artifacts=artifact_store(context), metadata_path=metadata_path(context),
                     clock=context.clock, database=api_database(context))
    return [Mount("/pipeline", app=app, name="pipeline")]


COMPONENT = Component(
    name="pipelines",
    description="Kubeflow Pipelines: Workflow runs of KFP IR, artifacts, caching, the KFP API",
    crds=lambda: load_crds("sandbox.components.pipelines"),
    register_controllers=_register,
    web_routes=_web_routes,
    # Task pods fork from the zygote with the executor (and the DSL it aliases kfp to) already imported.
    zygote_preload=("sandbox.components.pipelines.executor",),
)
