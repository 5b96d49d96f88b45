"""The pipelines component as the backends install it."""

from __future__ import annotations

import importlib

from sandbox.components.pipelines.component import COMPONENT


def test_task_pods_fork_with_the_executor_already_imported():
    assert "sandbox.components.pipelines.executor" in COMPONENT.zygote_preload
    for module in COMPONENT.zygote_preload:
        importlib.import_module(module)  # a preload that does not import would be skipped silently


def test_the_component_ships_its_crds_controllers_and_api():
    names = {crd["metadata"]["name"] for crd in COMPONENT.crds()}
    assert names == {"workflows.argoproj.io", "scheduledworkflows.kubeflow.org",
                     "pipelines.pipelines.kubeflow.org", "pipelineversions.pipelines.kubeflow.org"}
    assert COMPONENT.web_routes is not None
