"""sandbox.sdk.pipelines on a real in-process cluster: files of either DSL or IR, arguments, logs, terminate."""

from __future__ import annotations

import asyncio
import importlib.util
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.pipelines import compiler
from sandbox.sdk.pipelines import (
    AmbiguousTask,
    ArgumentsInvalid,
    NoTaskLog,
    aio,
    load_pipeline,
)

WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")

TRAIN = """\
from {module} import dsl

@dsl.component(base_image="python:3.11")
def train(lr: float, epochs: int) -> float:
    print(f"training with lr={{lr}} for {{epochs}} epochs")
    return round(1.0 - lr, 4)

@dsl.component(base_image="python:3.11")
def best(scores: list) -> float:
    print("scores", sorted(scores))
    return max(scores)

@dsl.pipeline(name="tuning")
def tuning(epochs: int = 2, base: float = 0.0):
    with dsl.ParallelFor([0.1, 0.2, 0.3]) as lr:
        trained = train(lr=lr, epochs=epochs)
    best(scores=dsl.Collected(trained.output))
    train(lr=base, epochs=epochs).set_display_name("baseline")
"""

FLAKY = """\
from sandbox.pipelines import dsl

@dsl.component(base_image="python:3.11")
def flaky(marker: str) -> str:
    import os
    if not os.path.exists(marker):
        open(marker, "w").close()
        print("first attempt: failing on purpose")
        raise SystemExit(1)
    print("second attempt: fine")
    return "ok"

@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    print("adding", a, b)
    return a + b

@dsl.pipeline(name="flaky")
def flaky_pipeline(marker: str):
    flaky(marker=marker).set_retry(num_retries=2, backoff_duration="0s")
    add(a=1, b=2)
"""

SLEEPY = """\
from sandbox.pipelines import dsl

@dsl.component(base_image="python:3.11")
def sleepy(seconds: int):
    import time
    print("going to sleep", flush=True)
    time.sleep(seconds)

@dsl.pipeline(name="sleepy")
def sleepy_pipeline(seconds: int = 60):
    sleepy(seconds=seconds)
"""


@pytest.fixture
async def cluster(tmp_path: Path):
    async with InProcessCluster.start("default", home=tmp_path / "home") as running:
        yield running


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


async def test_a_sandbox_dsl_file_runs_and_its_loop_iterations_have_logs(cluster: InProcessCluster,
                                                                         tmp_path: Path) -> None:
    path = write(tmp_path, "tuning.py", TRAIN.format(module="sandbox.pipelines"))
    run = await aio.submit(cluster.client, path, arguments={"epochs": 3, "base": 0})
    status = await run.wait(60)
    assert status.succeeded, status.message
    root = await run.tasks()
    assert sorted(t.label for t in root.tasks()) == ["baseline", "best", "train(0)", "train(1)", "train(2)"]
    assert [c.type for c in root.children if c.display_name.startswith("for-loop")] == ["TaskGroup"]
    assert next(t for t in root.tasks() if t.label == "best").outputs.parameters == {"Output": 0.9}
    assert "training with lr=0.2 for 3 epochs" in await run.logs("train(1)")
    assert "training with lr=0.0 for 3 epochs" in await run.logs("baseline")
    assert "scores [0.7, 0.8, 0.9]" in await run.logs("best")
    with pytest.raises(AmbiguousTask, match=r"train\(0\), train\(1\), train\(2\)"):
        await run.logs("train")


async def test_a_kfp_dsl_file_runs_unchanged(cluster: InProcessCluster, tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, "tuning_kfp.py", TRAIN.format(module="kfp")))
    assert pipeline.dsl == "kfp"
    run = await aio.submit(cluster.client, pipeline)
    status = await run.wait(60)
    assert status.succeeded, status.message
    assert "training with lr=0.3 for 2 epochs" in await run.logs("train(2)")


def import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"compiled_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_compiled_yaml_of_either_compiler_runs(cluster: InProcessCluster, tmp_path: Path) -> None:
    from kfp import compiler as kfp_compiler

    ours = import_file(write(tmp_path, "ours.py", TRAIN.format(module="sandbox.pipelines")))
    theirs = import_file(write(tmp_path, "theirs.py", TRAIN.format(module="kfp")))
    compiler.Compiler().compile(ours.tuning, str(tmp_path / "ours.yaml"))
    kfp_compiler.Compiler().compile(theirs.tuning, str(tmp_path / "theirs.yaml"))
    for yaml_file in ("ours.yaml", "theirs.yaml"):
        assert load_pipeline(tmp_path / yaml_file).dsl == "ir"
        run = await aio.submit(cluster.client, tmp_path / yaml_file, arguments={"epochs": 1},
                               enable_caching=False)
        assert (await run.wait(60)).succeeded
        assert "training with lr=0.1 for 1 epochs" in await run.logs("train(0)")


async def test_arguments_are_coerced_to_declared_types_or_refused(cluster: InProcessCluster,
                                                                  tmp_path: Path) -> None:
    path = write(tmp_path, "tuning.py", TRAIN.format(module="sandbox.pipelines"))
    run = await aio.submit(cluster.client, path, arguments={"epochs": 2.0, "base": 1})
    assert (await run.wait(60)).succeeded
    assert "training with lr=1.0 for 2 epochs" in await run.logs("baseline")  # 1 → 1.0, 2.0 → 2
    with pytest.raises(ArgumentsInvalid) as refused:
        await aio.submit(cluster.client, path, arguments={"epochs": 2.5, "rate": 1})
    assert sorted(refused.value.reasons()) == ["TypeMismatch", "UnknownInput"]
    listed = await cluster.client.list(*WORKFLOW, namespace="default")
    assert len(listed["items"]) == 1


async def test_a_retried_tasks_attempts_each_keep_their_log_and_a_cached_task_has_none(
        cluster: InProcessCluster, tmp_path: Path) -> None:
    path = write(tmp_path, "flaky.py", FLAKY)
    first = await aio.submit(cluster.client, path, arguments={"marker": str(tmp_path / "marker")})
    assert (await first.wait(60)).succeeded
    assert "second attempt: fine" in await first.logs("flaky")
    assert "first attempt: failing on purpose" in await first.logs("flaky", attempt=0)
    second = await aio.submit(cluster.client, path, arguments={"marker": str(tmp_path / "marker")})
    assert (await second.wait(60)).succeeded
    add = next(t for t in (await second.tasks()).tasks() if t.label == "add")
    assert add.cached and add.pod_name is None
    with pytest.raises(NoTaskLog, match="it was cached"):
        await second.logs("add")
    assert {r.name for r in await aio.list_runs(cluster.client)} == {first.name, second.name}


async def test_terminate_stops_the_run_and_the_tasks_log_stays_readable(cluster: InProcessCluster,
                                                                        tmp_path: Path) -> None:
    run = await aio.submit(cluster.client, write(tmp_path, "sleepy.py", SLEEPY))
    for _ in range(200):
        try:
            if "going to sleep" in await run.logs("sleepy"):
                break
        except Exception:
            pass  # not started yet
        await asyncio.sleep(0.05)
    status = await aio.terminate(cluster.client, run.name)
    assert not status.done
    final = await run.wait(30)
    assert final.state == "CANCELED" and final.phase == "Failed"
    task = next(t for t in (await run.tasks()).tasks() if t.label == "sleepy")
    assert task.state == "CANCELED"
    assert "going to sleep" in await run.logs("sleepy")
