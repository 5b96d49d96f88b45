"""The pipelines benchmark (benchmarks/pipelines_bench.py) at a tiny size, so that ``make bench`` cannot rot.

Runs the benchmark's whole code path — a 2-task chain and a 2-into-1 fan-in
on an in-process cluster and on kfp.local (``install_kfp_package=False``;
the pip-per-task variant is the same code with another component flag, so
only its compiled command is checked) — and its pure helpers.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load_bench():
    spec = importlib.util.spec_from_file_location("pipelines_bench", ROOT / "benchmarks" / "pipelines_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def test_max_concurrency_counts_intervals_covering_one_instant():
    assert bench.max_concurrency([]) == 0
    assert bench.max_concurrency([(0.0, 1.0), (2.0, 3.0)]) == 1
    assert bench.max_concurrency([(0.0, 2.0), (1.0, 3.0), (1.5, 1.6)]) == 3
    assert bench.max_concurrency([(0.0, 1.0), (1.0, 2.0)]) == 2  # touching ends count


def test_run_figures_come_from_the_component_trace():
    trace = [{"b": 0, "started": 10.0, "finished": 10.5}, {"b": 1, "started": 10.7, "finished": 10.9},
             {"b": None, "started": 11.0, "finished": 11.1}]
    run = bench.Run(wall=1.6, trace=trace)
    assert run.own == pytest.approx(0.8)
    assert run.overhead() == pytest.approx((1.6 - 0.8) / 3)
    assert run.handoff() == pytest.approx(0.15)  # median of 0.2 and 0.1
    assert run.overlap() == 1  # the gather (b None) is not an independent task


def test_argo_overlap_reads_status_nodes_at_second_resolution():
    nodes = {
        "a": {"type": "Pod", "displayName": "add", "startedAt": "2026-01-01T00:00:01Z",
              "finishedAt": "2026-01-01T00:00:02Z"},
        "b": {"type": "Pod", "displayName": "add-2", "startedAt": "2026-01-01T00:00:03Z",
              "finishedAt": "2026-01-01T00:00:03Z"},
        "g": {"type": "Pod", "displayName": "gather", "startedAt": "2026-01-01T00:00:02Z",
              "finishedAt": "2026-01-01T00:00:03Z"},
        "root": {"type": "DAG", "displayName": "root", "startedAt": "2026-01-01T00:00:00Z",
                 "finishedAt": "2026-01-01T00:00:04Z"},
    }
    assert bench.argo_overlap(nodes) == (1, 2)


def test_install_kfp_package_decides_whether_each_task_runs_pip():
    with_pip = bench.compile_ir(bench.pipelines(chain_tasks=1, fan_in_width=1, hold=0.0,
                                                install_kfp_package=True).chain)
    without = bench.compile_ir(bench.pipelines(chain_tasks=1, fan_in_width=1, hold=0.0,
                                               install_kfp_package=False).chain)

    def command(ir):
        return " ".join(ir["deploymentSpec"]["executors"]["exec-add"]["container"]["command"])

    assert "pip install" in command(with_pip) and "kfp==" in command(with_pip)
    assert "kfp==" not in command(without)


def test_fan_in_width_is_bounded_by_gathers_inputs():
    with pytest.raises(ValueError):
        bench.pipelines(chain_tasks=1, fan_in_width=9, hold=0.0, install_kfp_package=False)


@pytest.mark.slow
async def test_bench_runs_both_runners_at_a_tiny_size():
    rows, stages = await bench.bench(chain_tasks=2, fan_in_width=2, hold=0.1, repeats=1, kfp_install_run=False)

    assert [r.runner.split(" ")[0] for r in rows] == ["kf-sandbox", "kfp.local,"]
    for row in rows:
        assert row.width == 2
        assert row.chain_wall > 0 and row.fan_in_wall > 0
        assert 0 < row.overhead < row.chain_wall
    sandbox, local = rows
    assert sandbox.overlap == 2  # pods run side by side
    assert local.overlap == 1  # kfp.local runs one task at a time
    assert "independent nodes overlap" in sandbox.argo
    assert stages is not None and stages.start > 0 and stages.controller > 0 and stages.exit > 0

    text = bench.table(rows, chain_tasks=2, hold=0.1, target=bench.verdict)
    assert "kf-sandbox" in text and "yes (2/2)" in text and "no (1/2)" in text
    assert "overlap ok" in text
    assert "workflow controller" in bench.stages_table(stages, 2)
