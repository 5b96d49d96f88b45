"""The components a cluster can run: their kinds, controllers and web routes, by name.

DESIGN.md §2: every component package has the same shape — its kinds and
schemas, its controllers, the programs in its pods, its SDK, its web routes.
A backend does not know any component by heart; it asks this registry::

    COMPONENTS["pipelines"] = Component(
        crds=…             CustomResourceDefinition manifests, installed before anything starts
        controllers=…      registers factories in the manager's ControllerRegistry
        web_routes=…       Starlette routes for the daemon's web port (KFP's /pipeline …)
    )

Nothing registers itself on import (STYLE.md rule 5): :func:`default_components`
builds the table explicitly, and tests build their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from sandbox.client.protocol import Client
from sandbox.clock import Clock
from sandbox.cluster.paths import SandboxPaths
from sandbox.runtime import ControllerRegistry

__all__ = ["Component", "ComponentContext", "default_components", "load_crds"]


@dataclass(frozen=True)
class ComponentContext:
    """What a component's controllers and routes are given: where files live, and the time."""

    paths: SandboxPaths
    clock: Clock


@dataclass(frozen=True)
class Component:
    """One Kubeflow component as a backend installs it."""

    name: str
    description: str
    crds: Callable[[], list[dict[str, Any]]]
    register_controllers: Callable[[ControllerRegistry, ComponentContext], None]
    #: (context, client) → routes for the web port; None when the component serves none.
    web_routes: Callable[[ComponentContext, Client], Sequence[Any]] | None = None
    #: Modules the zygote imports up front, so the component's pods fork ready to run
    #: (the pipelines executor: ~10 ms saved per task).
    zygote_preload: tuple[str, ...] = ()


def load_crds(package: str, folder: str = "crds") -> list[dict[str, Any]]:
    """Every CRD manifest in ``<package>/<folder>/*.yaml`` (packaged data), in file order."""
    crds: list[dict[str, Any]] = []
    root = resources.files(package) / folder
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            crds.extend(d for d in yaml.safe_load_all(entry.read_text(encoding="utf-8")) if d)
    return crds


@functools.cache
def default_components() -> dict[str, Component]:
    """The components kf-sandbox ships, by name."""
    from sandbox.components.pipelines.component import COMPONENT as pipelines

    return {c.name: c for c in (pipelines,)}
