"""Kubeflow Pipelines as a component the backends install (see :mod:`sandbox.components.registry`).

- kinds: ``Workflow`` (argoproj.io/v1alpha1), ``ScheduledWorkflow``
  (kubeflow.org/v1beta1), ``Pipeline``/``PipelineVersion``
  (pipelines.kubeflow.org/v2beta1) — manifests in ``crds/``;
- controllers: the workflow controller (runs a Workflow's tasks as pods) and,
  later, the scheduled-workflow controller;
- web routes: the KFP REST API under ``/pipeline`` (later).
"""

from __future__ import annotations

from sandbox.components.registry import Component, ComponentContext, load_crds
from sandbox.runtime import ControllerRegistry

__all__ = ["COMPONENT"]


def _register(registry: ControllerRegistry, context: ComponentContext) -> None:
    """The pipelines' controllers (none yet: the workflow controller is being built)."""


COMPONENT = Component(
    name="pipelines",
    description="Kubeflow Pipelines: Workflow runs of KFP IR, artifacts, caching, the KFP API",
    crds=lambda: load_crds("sandbox.components.pipelines"),
    register_controllers=_register,
)
