"""`make demo` is real: run the cluster tour and check what it narrates happened."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOUR = Path(__file__).resolve().parents[2] / "examples" / "cluster_tour.py"


@pytest.mark.slow
async def test_the_cluster_tour_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("cluster_tour", TOUR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module.main()
    out = capsys.readouterr().out
    assert "worker-1       Ready   <none>" in out
    served = {line.split()[-1] for line in out.splitlines() if line.strip().startswith("hello from")}
    assert len(served) == 3  # the Service reached all three pods
    assert "restartCount=1, last state terminated exitCode=137" in out
    assert "condition Failed (BackoffLimitExceeded)" in out
    assert "greedy is Pending: Unschedulable: 0/3 nodes are available" in out
    assert "FailedScheduling" in out
