"""A step context over the in-memory client, for executor and runner tests without a cluster."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from scenario_recorder import Recorder  # type: ignore[import-not-found]

from sandbox.client.kinds import Kinds
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.scenario.context import StepContext
from sandbox.scenario.results import StepResult
from sandbox.scenario.target import Target
from sandbox.store import Store


def write_kubeconfig(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "sandbox",
        "clusters": [{"name": "sandbox", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "admin", "user": {"token": "t"}}],
        "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": "admin"}}],
    }))
    return path


@pytest.fixture
def memory_target(client: MemoryClient, store: Store, tmp_path: Path) -> Target:
    """The store with a namespace ``demo``, as a target."""
    store.create("v1", "Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    return Target(client=client, kubeconfig=write_kubeconfig(tmp_path / "kubeconfig"),  # type: ignore[arg-type]
                  description="the in-memory store", kept=False, cluster="memory")


@pytest.fixture
def make_ctx(memory_target: Target, clock: FakeClock, tmp_path: Path
             ) -> Callable[..., tuple[StepContext, Recorder]]:
    def make(namespace: str = "demo", variables: dict[str, str] | None = None) -> tuple[StepContext, Recorder]:
        recorder = Recorder()
        step = StepResult(index=0, type="test", title="a step", name="01-test")
        ctx = StepContext(target=memory_target, kinds=Kinds(memory_target.client), namespace=namespace,
                          scenario_dir=tmp_path, kubeconfig=memory_target.kubeconfig,
                          variables=variables or {"namespace": namespace}, step=step,
                          reporter=recorder, clock=clock)
        return ctx, recorder
    return make
