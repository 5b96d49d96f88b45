"""Kubeflow Pipelines benchmarks: ``make bench``.

kf-sandbox against ``kfp.local``, side by side in one run, on the same
components compiled by the real kfp SDK:

- a **chain** of 10 tasks, each adding an int to the previous one's sum;
- a **fan-in**: 8 independent tasks feeding one ``gather`` task.

Runners (rows of the table):

- ``kf-sandbox``: an :class:`InProcessCluster` (default config: zygote
  runtime); each run is a Workflow (:func:`workflow_for_run`) created through
  the client, one pod per task;
- ``kfp.local SubprocessRunner(use_venv=False)`` with components built with
  ``install_kfp_package=False``: each task is ``sh -ec <launcher>`` running
  ``python3 -m kfp.dsl.executor_main`` in this interpreter;
- the same with the default ``install_kfp_package=True``: each task first runs
  kfp's bootstrap, ``python3 -m pip install kfp==<its version> --no-deps``.
  With ``use_venv=False`` that pip is this interpreter's, where kfp is already
  installed: pip finds it there and downloads nothing, so what is measured is
  pip's start-up and resolution, once per task. (The sandbox never runs pip:
  the workflow controller replaces the bootstrap by its own executor.)

How each figure is measured (median of ``REPEATS`` runs after a warm-up run of
each pipeline, which also makes the sandbox's zygote import its preload):

- **component's own run time**: every component writes ``time.time()`` at its
  first and at its last statement into its output, a JSON ``trace`` that flows
  down the pipeline; own time = last - first (microseconds for ``add``).
- **chain wall**: sandbox — from the Workflow create call to the watch event
  that shows the Workflow ``Succeeded`` (the IR is compiled and the Workflow
  built before the clock starts); kfp.local — the call of the pipeline
  function (kfp compiled it at decoration time), its log output captured.
- **per-task overhead** = (chain wall - Σ components' own run times) / tasks:
  everything the runner adds per task (starting the task's process, handing
  it its inputs, reading its outputs, choosing the next task), with the run's
  start and end amortised over the tasks. Target for the sandbox: ≤ 15 ms.
- **handoff** (median over consecutive chain tasks): next task's first
  statement - previous task's last statement, the task-to-task latency alone.
- **fan-in wall**: as chain wall. The 8 independent tasks each hold for
  ``HOLD`` seconds (``time.sleep`` inside the component, part of its own run
  time) so that running them one at a time visibly costs ≥ 8 x ``HOLD``.
- **overlap**: the most independent tasks whose own [first, last statement]
  intervals cover one same instant (a sweep over the component-written
  timestamps; the minimum over the repeats). Target for the sandbox: > 1.
  For the sandbox the Argo view is printed too: ``status.nodes`` pod nodes'
  ``startedAt``/``finishedAt``, which have 1 s resolution (RFC 3339 seconds)
  and so only confirm or refute overlap coarsely.

After the table, one more sandbox chain run (not timed in the table) is
traced with a pod watch to split the per-task path into stages: workflow
controller (previous pod Succeeded → this pod created), scheduler (created →
bound), kubelet and process start (bound → the component's first statement:
the pod worker, the fork from the zygote, the executor's start; the status
``Running`` is written beside it, as the kubelet's status manager does, so it
marks no stage), exit (the component's last statement → pod Succeeded).

kfp.local imports the ``docker`` package at module level for its
DockerRunner, which this benchmark does not use; when ``docker`` is not
installed a placeholder module stands in while ``kfp.local`` is imported
(and is removed from ``sys.modules`` afterwards).
"""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import asyncio
import contextlib
import importlib.metadata
import io
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler, dsl

from sandbox.backends.inprocess import InProcessCluster
from sandbox.components.pipelines.workflow.build import workflow_for_run

CHAIN = 10
FAN_IN = 8
HOLD = 0.2
REPEATS = 5
TARGET_OVERHEAD = 0.015
BASE_IMAGE = "python:3.11"
EMPTY = '{"sum": 0, "trace": []}'
WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
FINAL = ("Succeeded", "Failed", "Error")


# The components ---------------------------------------------------------------------------------


def add(state: str, b: int, hold: float) -> str:
    """``state``'s sum plus ``b``; appends when it ran to the trace (after holding ``hold`` s)."""
    import json
    import time

    started = time.time()
    if hold:
        time.sleep(hold)
    data = json.loads(state)
    data["sum"] += b
    data["trace"].append({"b": b, "started": started, "finished": time.time()})
    return json.dumps(data)


def gather(s0: str, s1: str = "", s2: str = "", s3: str = "", s4: str = "", s5: str = "", s6: str = "",
           s7: str = "") -> str:
    """The sum of up to 8 states, their traces and its own."""
    import json
    import time

    started = time.time()
    total, trace = 0, []
    for state in (s0, s1, s2, s3, s4, s5, s6, s7):
        if state:
            data = json.loads(state)
            total += data["sum"]
            trace.extend(data["trace"])
    trace.append({"b": None, "started": started, "finished": time.time()})
    return json.dumps({"sum": total, "trace": trace})


@dataclass(frozen=True)
class Pipelines:
    """The chain and fan-in pipelines over components built with one ``install_kfp_package``."""

    chain: Any
    fan_in: Any


def pipelines(*, chain_tasks: int, fan_in_width: int, hold: float, install_kfp_package: bool) -> Pipelines:
    if not 1 <= fan_in_width <= 8:
        raise ValueError("the fan-in's width is 1 to 8 (gather's inputs)")
    add_op = dsl.component(add, base_image=BASE_IMAGE, install_kfp_package=install_kfp_package)
    gather_op = dsl.component(gather, base_image=BASE_IMAGE, install_kfp_package=install_kfp_package)

    @dsl.pipeline(name=f"bench-chain-{chain_tasks}")
    def chain() -> str:
        task = add_op(state=EMPTY, b=0, hold=0.0)
        task.set_caching_options(False)
        for i in range(1, chain_tasks):
            task = add_op(state=task.output, b=i, hold=0.0)
            task.set_caching_options(False)
        return task.output

    @dsl.pipeline(name=f"bench-fan-in-{fan_in_width}")
    def fan_in() -> str:
        parts = [add_op(state=EMPTY, b=i, hold=hold) for i in range(fan_in_width)]
        for part in parts:
            part.set_caching_options(False)
        joined = gather_op(**{f"s{i}": part.output for i, part in enumerate(parts)})
        joined.set_caching_options(False)
        return joined.output

    return Pipelines(chain=chain, fan_in=fan_in)


def compile_ir(pipeline: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        return yaml.safe_load(path.read_text())


# One run's figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One pipeline run: its wall time and the components' trace (sorted by first statement)."""

    wall: float
    trace: list[dict[str, Any]]
    #: Sandbox only: the Workflow's status.nodes.
    nodes: dict[str, Any] | None = None

    @property
    def own(self) -> float:
        return sum(e["finished"] - e["started"] for e in self.trace)

    def overhead(self) -> float:
        return (self.wall - self.own) / len(self.trace)

    def handoff(self) -> float:
        chain = sorted(self.trace, key=lambda e: e["started"])
        gaps = [b["started"] - a["finished"] for a, b in itertools.pairwise(chain)]
        return statistics.median(gaps) if gaps else 0.0

    def overlap(self) -> int:
        """The most independent (non-gather) tasks running at one instant."""
        return max_concurrency([(e["started"], e["finished"]) for e in self.trace if e["b"] is not None])


def max_concurrency(intervals: list[tuple[float, float]]) -> int:
    """The most intervals covering one instant (closed intervals: touching ends count)."""
    events = sorted([(start, 0) for start, _ in intervals] + [(end, 1) for _, end in intervals])
    running = most = 0
    for _, kind in events:
        running += 1 if kind == 0 else -1
        most = max(most, running)
    return most


def parse_state(text: str) -> list[dict[str, Any]]:
    return sorted(json.loads(text)["trace"], key=lambda e: e["started"])


# kf-sandbox -------------------------------------------------------------------------------------


async def sandbox_run(cluster: InProcessCluster, ir: dict[str, Any], *, timeout: float = 120) -> Run:
    """Create a Workflow for ``ir`` and wait until it ends; its wall time and trace."""
    client = cluster.client
    workflow = workflow_for_run(ir, run_id=str(uuid.uuid4()), enable_caching=False)
    started = time.time()
    created = await client.create(workflow, namespace="default")
    name = created["metadata"]["name"]
    final = await client.wait_for(*WORKFLOW, name, namespace="default", timeout=timeout,
                                  predicate=lambda wf: (wf.get("status") or {}).get("phase") in FINAL)
    wall = time.time() - started
    status = final["status"]
    if status["phase"] != "Succeeded":
        raise RuntimeError(f"workflow {name} ended {status['phase']}: {status.get('message')}")
    nodes = status["nodes"]
    root = nodes.get(name) or next(n for n in nodes.values() if n["type"] == "DAG" and not n.get("boundaryID"))
    output = next(p["value"] for p in root["outputs"]["parameters"] if p["name"] == "Output")
    return Run(wall=wall, trace=parse_state(json.loads(output)), nodes=nodes)


def argo_overlap(nodes: dict[str, Any]) -> tuple[int, int]:
    """(most independent pod nodes overlapping by status.nodes' 1 s timestamps, how many there are)."""

    def seconds(stamp: str) -> float:
        return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))

    pods = [n for n in nodes.values() if n["type"] == "Pod" and n["displayName"] != "gather"]
    return max_concurrency([(seconds(n["startedAt"]), seconds(n["finishedAt"])) for n in pods]), len(pods)


@dataclass(frozen=True)
class Stages:
    """Per-task medians (seconds) of the sandbox's path from one task to the next."""

    controller: float
    scheduler: float
    start: float
    exit: float
    finish: float


async def sandbox_stages(cluster: InProcessCluster, ir: dict[str, Any]) -> Stages:
    """One chain run with a pod watch: where each task's time goes (see the module docstring)."""
    client = cluster.client
    seen: dict[str, dict[str, float]] = {}
    listed = await client.list("v1", "Pod", namespace="default")

    async def watch() -> None:
        async for event in client.watch("v1", "Pod", namespace="default",
                                        resource_version=listed["metadata"]["resourceVersion"]):
            now = time.time()
            pod = event.object
            marks = seen.setdefault(pod["metadata"]["name"], {})
            marks.setdefault("created", now)
            if pod["spec"].get("nodeName"):
                marks.setdefault("bound", now)
            if (pod.get("status") or {}).get("phase") == "Succeeded":
                marks.setdefault("Succeeded", now)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    try:
        started = time.time()
        run = await sandbox_run(cluster, ir)
    finally:
        watcher.cancel()
    pods = sorted(seen.values(), key=lambda m: m["created"])
    if len(pods) != len(run.trace):
        raise RuntimeError(f"saw {len(pods)} pods for {len(run.trace)} tasks")
    previous = [started, *(p["Succeeded"] for p in pods[:-1])]
    return Stages(
        controller=statistics.median(p["created"] - before for p, before in zip(pods, previous, strict=True)),
        scheduler=statistics.median(p["bound"] - p["created"] for p in pods),
        start=statistics.median(e["started"] - p["bound"] for p, e in zip(pods, run.trace, strict=True)),
        exit=statistics.median(p["Succeeded"] - e["finished"] for p, e in zip(pods, run.trace, strict=True)),
        finish=started + run.wall - pods[-1]["Succeeded"],
    )


# kfp.local --------------------------------------------------------------------------------------


def import_kfp_local() -> types.ModuleType:
    """``kfp.local``, with a placeholder ``docker`` module if the real one is missing (see the docstring)."""
    placeholder = None
    try:
        import docker  # noqa: F401
    except ImportError:
        placeholder = types.ModuleType("docker")
        placeholder.DockerClient = object  # type: ignore[attr-defined]  # an annotation in docker_task_handler
        sys.modules["docker"] = placeholder
    try:
        from kfp import local
        from kfp.local import task_dispatcher  # noqa: F401  (imports docker_task_handler, which imports docker)
    finally:
        if placeholder is not None and sys.modules.get("docker") is placeholder:
            del sys.modules["docker"]  # kfp.local keeps its reference; nobody else sees it
    return local


@contextlib.contextmanager
def kfp_local(pipeline_root: str) -> Iterator[None]:
    local = import_kfp_local()
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root)
    # kfp's launcher writes each task's module into `mktemp -d` and leaves it there: keep those
    # directories in the benchmark's own folder, which is removed afterwards.
    scratch = Path(pipeline_root).parent / "kfp-local-tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous


def kfp_local_run(pipeline: Any) -> Run:
    """Run ``pipeline`` with kfp.local (already initialised); its wall time and trace."""
    with contextlib.redirect_stdout(io.StringIO()):  # kfp.local logs every task to stdout
        started = time.time()
        task = pipeline()
        wall = time.time() - started
    return Run(wall=wall, trace=parse_state(task.output))


# Measuring and the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One runner's medians over the repeats."""

    runner: str
    chain_wall: float
    overhead: float
    handoff: float
    fan_in_wall: float
    overlap: int
    width: int
    argo: str = ""


def summarise(runner: str, chains: list[Run], fans: list[Run]) -> Row:
    argo = ""
    if fans and fans[0].nodes is not None:
        most, count = min(argo_overlap(f.nodes or {}) for f in fans)
        argo = f"status.nodes (1 s resolution): up to {most} of {count} independent nodes overlap"
    return Row(
        runner=runner,
        chain_wall=statistics.median(r.wall for r in chains),
        overhead=statistics.median(r.overhead() for r in chains),
        handoff=statistics.median(r.handoff() for r in chains),
        fan_in_wall=statistics.median(r.wall for r in fans),
        overlap=min(r.overlap() for r in fans),
        width=len([e for e in fans[0].trace if e["b"] is not None]),
        argo=argo,
    )


async def measure_sandbox(shapes: Pipelines, *, repeats: int, home: str,
                          stages: bool = False) -> tuple[Row, Stages | None]:
    chain_ir, fan_ir = compile_ir(shapes.chain), compile_ir(shapes.fan_in)
    async with InProcessCluster.start("default", home=home) as cluster:
        await sandbox_run(cluster, chain_ir)  # warm-up: the zygote imports its preload
        await sandbox_run(cluster, fan_ir)
        chains = [await sandbox_run(cluster, chain_ir) for _ in range(repeats)]
        fans = [await sandbox_run(cluster, fan_ir) for _ in range(repeats)]
        traced = await sandbox_stages(cluster, chain_ir) if stages else None
    return summarise("kf-sandbox (in-process cluster)", chains, fans), traced


def measure_kfp_local(shapes: Pipelines, *, repeats: int, label: str, pipeline_root: str) -> Row:
    with kfp_local(pipeline_root):
        kfp_local_run(shapes.chain)  # warm-up
        kfp_local_run(shapes.fan_in)
        chains = [kfp_local_run(shapes.chain) for _ in range(repeats)]
        fans = [kfp_local_run(shapes.fan_in) for _ in range(repeats)]
    return summarise(label, chains, fans)


def kfp_package_note() -> str:
    """What kfp's bootstrap pip will find in this interpreter."""
    import kfp

    try:
        installed = importlib.metadata.version("kfp")
    except importlib.metadata.PackageNotFoundError:
        return "kfp is not installed as a distribution here: its bootstrap pip would download it"
    if installed == kfp.__version__:
        return f"its bootstrap pip finds kfp=={installed} already installed here: it downloads nothing"
    return f"its bootstrap pip wants kfp=={kfp.__version__} but {installed} is installed: it downloads it"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def table(rows: list[Row], *, chain_tasks: int, hold: float, target: Callable[[Row], str]) -> str:
    width = rows[0].width if rows else 0
    header = (f"  {'runner':<38} {f'chain ({chain_tasks}) wall':>16} {'per-task overhead':>18} "
              f"{'handoff p50':>12} {f'fan-in ({width}→1) wall':>18} {'overlap':>14}")
    lines = [header, "  " + "-" * (len(header) - 2)]
    for row in rows:
        overlap = f"{'yes' if row.overlap > 1 else 'no'} ({row.overlap}/{row.width})"
        lines.append(f"  {row.runner:<38} {ms(row.chain_wall):>16} {ms(row.overhead):>18} "
                     f"{ms(row.handoff):>12} {ms(row.fan_in_wall):>18} {overlap:>14}  {target(row)}")
    lines.append(f"  (one at a time, the fan-in's independent tasks alone take ≥ {width} x {hold:g} s "
                 f"= {width * hold:g} s)")
    return "\n".join(lines)


def stages_table(stages: Stages, tasks: int) -> str:
    parts = [("workflow controller: previous pod Succeeded → pod created", stages.controller),
             ("scheduler: pod created → bound", stages.scheduler),
             ("kubelet, fork, start: bound → component's first statement", stages.start),
             ("exit: component's last statement → pod Succeeded", stages.exit)]
    lines = [f"  kf-sandbox, one traced {tasks}-task chain, per-task medians:"]
    lines += [f"    {name:<60} {ms(value):>10}" for name, value in parts]
    lines.append(f"    {'sum of the stages':<60} {ms(sum(v for _, v in parts)):>10}")
    lines.append(f"    {'once per run: last pod Succeeded → Workflow Succeeded seen':<60} {ms(stages.finish):>10}")
    return "\n".join(lines)


async def bench(*, chain_tasks: int, fan_in_width: int, hold: float, repeats: int,
                kfp_install_run: bool = True, stages: bool = True) -> tuple[list[Row], Stages | None]:
    """The rows of the table (sandbox first), and the sandbox's traced stages."""
    sizes = {"chain_tasks": chain_tasks, "fan_in_width": fan_in_width, "hold": hold}
    with tempfile.TemporaryDirectory() as folder:
        sandbox, traced = await measure_sandbox(pipelines(**sizes, install_kfp_package=True), repeats=repeats,
                                                home=str(Path(folder) / "home"), stages=stages)
        rows = [sandbox, measure_kfp_local(
            pipelines(**sizes, install_kfp_package=False), repeats=repeats, pipeline_root=str(Path(folder) / "a"),
            label="kfp.local, install_kfp_package=False")]
        if kfp_install_run:
            rows.append(measure_kfp_local(
                pipelines(**sizes, install_kfp_package=True), repeats=repeats, pipeline_root=str(Path(folder) / "b"),
                label="kfp.local, install_kfp_package=True"))
    return rows, traced


def verdict(row: Row) -> str:
    if not row.runner.startswith("kf-sandbox"):
        return ""
    overhead = "ok" if row.overhead <= TARGET_OVERHEAD else "MISSED"
    overlap = "ok" if row.overlap > 1 else "MISSED"
    return f"overhead <= {TARGET_OVERHEAD * 1000:.0f} ms {overhead}, overlap {overlap}"


async def main() -> None:
    print(f"pipelines benchmark: {CHAIN}-task chain, {FAN_IN}→1 fan-in (independent tasks hold {HOLD:g} s), "
          f"median of {REPEATS} runs after a warm-up", flush=True)
    rows, traced = await bench(chain_tasks=CHAIN, fan_in_width=FAN_IN, hold=HOLD, repeats=REPEATS)
    print("  (kfp.local = kfp.local.SubprocessRunner(use_venv=False))")
    print(table(rows, chain_tasks=CHAIN, hold=HOLD, target=verdict))
    for row in rows:
        if row.argo:
            print(f"  {row.runner}: {row.argo}")
    print(f"  kfp.local with install_kfp_package=True: {kfp_package_note()}")
    if traced is not None:
        print(stages_table(traced, CHAIN))
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
