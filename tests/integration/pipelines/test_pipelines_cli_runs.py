"""``sandbox pipelines …`` and the blocking SDK against the session's real cluster (sandbox.testing).

The cluster lives on its own loop in a thread (the plugin's ``sandbox_cluster``);
the CLI, which runs its own event loop per command, and the blocking SDK,
which runs on the SDK portal's loop, both reach it through the plugin's
ThreadsafeClient — as they would reach ``sandbox up``'s daemon over HTTP.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox.cli.main import cli
from sandbox.cli.verbs import Connection
from sandbox.sdk import pipelines
from sandbox.testing.plugin import SandboxCluster

PIPELINE = """\
from sandbox.pipelines import dsl

@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    print(f"squaring {x}")
    return x * x

@dsl.component(base_image="python:3.11")
def total(values: list, fail: bool) -> int:
    if fail:
        raise RuntimeError("asked to fail")
    print("total", sum(values))
    return sum(values)

@dsl.pipeline(name="squares")
def squares(numbers: list = [1, 2, 3], fail: bool = False):
    with dsl.ParallelFor(numbers) as n:
        squared = square(x=n)
    total(values=dsl.Collected(squared.output), fail=fail)
"""


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    path = tmp_path / "squares.py"
    path.write_text(textwrap.dedent(PIPELINE))
    return path


def invoke(cluster: SandboxCluster, *args: str) -> Result:
    conn = Connection(client=lambda: cluster.client)
    return CliRunner().invoke(cli, ["pipelines", *args], obj=conn, catch_exceptions=False)


def test_run_wait_get_and_logs_on_a_real_cluster(sandbox_cluster: SandboxCluster, namespace: str,
                                                 pipeline_file: Path) -> None:
    result = invoke(sandbox_cluster, "run", str(pipeline_file), "-n", namespace, "-p", "numbers=[2, 3]",
                    "--no-cache", "--wait", "--timeout", "60s")
    assert result.exit_code == 0, result.output
    # Under CI the plain face stamps each line with the time; the run's name follows "run ".
    name = re.search(r"run (\S+) of pipeline squares submitted", result.stderr).group(1)
    assert f"run {name} Succeeded" in result.stderr
    assert "square(1)" in result.stderr and "Succeeded" in result.stderr
    tree = result.stdout
    assert "└─ total" in tree and "square(0)" in tree and "square(1)" in tree
    got = invoke(sandbox_cluster, "get", name, "-n", namespace)
    assert got.exit_code == 0 and "Status:    Succeeded" in got.stdout and "numbers=[2, 3]" in got.stdout
    assert invoke(sandbox_cluster, "logs", name, "square(1)", "-n", namespace).stdout.count("squaring 3") == 1
    assert "total 13" in invoke(sandbox_cluster, "logs", name, "total", "-n", namespace).stdout
    listed = invoke(sandbox_cluster, "list", "-n", namespace).stdout.splitlines()
    assert listed[1].split()[:3] == [name, "Succeeded", "3/3"]


def test_run_wait_exits_1_when_a_task_fails(sandbox_cluster: SandboxCluster, namespace: str,
                                            pipeline_file: Path) -> None:
    result = invoke(sandbox_cluster, "run", str(pipeline_file), "-n", namespace, "-p", "fail=true",
                    "--wait", "--timeout", "60s")
    assert result.exit_code == 1
    assert "total" in result.stdout and "Failed" in result.stdout and "exit code 1" in result.stdout
    assert "error: run squares-" in result.stderr


def test_the_blocking_sdk_runs_a_pipeline(sandbox_cluster: SandboxCluster, namespace: str,
                                          pipeline_file: Path) -> None:
    run = pipelines.submit(sandbox_cluster.client, pipeline_file, arguments={"numbers": [4]},
                           namespace=namespace, enable_caching=False)
    status = run.wait(60)
    assert status.succeeded and status.namespace == namespace
    assert "squaring 4" in run.logs("square")
    assert [t.label for t in run.tasks().tasks()] == ["square(0)", "total"]
    assert pipelines.get_run(sandbox_cluster.client, run.name, namespace=namespace).phase == "Succeeded"
