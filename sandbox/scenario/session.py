"""One call from a scenario file to its result: pick the target, run, tear down.

What ``sandbox scenario run`` and the pytest plugin share::

    ScenarioEntry ─▶ target:  --kubeconfig given ─▶ that cluster
                              else the home's daemon / --keep daemon / an ephemeral cluster
                                   built from the scenario's ``cluster`` (a shipped name, or
                                   a file relative to the scenario's folder)
                 ─▶ run_scenario ─▶ ScenarioResult

A target that cannot be opened (a bad cluster file, a daemon that would not
start) becomes the result's ``setup_error`` — reported like any failure, in
the terminal and in JUnit — rather than an exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from sandbox.backends.inprocess.control import DaemonError
from sandbox.cluster.config import ClusterFileError
from sandbox.scenario.catalog import ScenarioEntry
from sandbox.scenario.context import Reporter
from sandbox.scenario.results import ScenarioResult
from sandbox.scenario.runner import Pause, run_scenario
from sandbox.scenario.target import Target, ephemeral_target, kubeconfig_target, open_target

__all__ = ["cluster_for", "run_entry"]


def cluster_for(entry: ScenarioEntry) -> str:
    """The scenario's cluster: a shipped cluster's name, or its file resolved beside the scenario."""
    assert entry.scenario is not None
    cluster = entry.scenario.cluster
    if "/" in cluster or cluster.endswith((".yaml", ".yml")):
        return str((entry.path.parent / cluster).resolve())
    return cluster


@contextlib.asynccontextmanager
async def _target(entry: ScenarioEntry, *, home: str | Path | None, keep: bool,
                  kubeconfig: Path | None, ephemeral: bool) -> AsyncIterator[Target]:
    if ephemeral:
        async with ephemeral_target(cluster_for(entry)) as target:
            yield target
    elif kubeconfig is not None:
        async with kubeconfig_target(kubeconfig, description=f"the cluster of {kubeconfig}") as target:
            yield target
    else:
        async with open_target(home=home, cluster=cluster_for(entry), keep=keep) as target:
            yield target


async def run_entry(entry: ScenarioEntry, *, reporter: Reporter, home: str | Path | None = None,
                    keep: bool = False, kubeconfig: Path | None = None,
                    variables: Mapping[str, str] | None = None,
                    pause: Pause | None = None,
                    ephemeral: bool = False) -> tuple[ScenarioResult, Target | None]:
    """Run one valid scenario; returns its result and the target it ran on (None if none opened).

    ``ephemeral`` always starts a new in-process cluster (the pytest plugin's
    default: tests do not touch a daemon the user may be working with).
    """
    assert entry.scenario is not None, "validate the scenario first"
    scenario = entry.scenario
    opened: Target | None = None
    try:
        async with _target(entry, home=home, keep=keep, kubeconfig=kubeconfig,
                               ephemeral=ephemeral) as target:
            opened = target
            result = await run_scenario(scenario, path=entry.path, target=target, reporter=reporter,
                                        variables=variables, pause=pause)
    except (ClusterFileError, DaemonError, OSError) as err:
        if opened is not None:
            raise
        result = ScenarioResult(name=scenario.name, title=scenario.title, path=entry.path,
                                cluster=scenario.cluster, namespace=scenario.namespace or scenario.name,
                                started=datetime.now(UTC),
                                setup_error=f"could not start a cluster for the scenario: {err}")
        reporter.scenario_started(result, description=scenario.description, target="no cluster")
        reporter.scenario_finished(result)
    return result, opened
