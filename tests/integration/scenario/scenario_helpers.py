"""Running a scenario text on a fresh ephemeral in-process cluster, for the integration tests."""

from __future__ import annotations

import io
from pathlib import Path

from sandbox.scenario.format import parse_scenario
from sandbox.scenario.reporting import PlainReporter
from sandbox.scenario.results import ScenarioResult
from sandbox.scenario.runner import run_scenario
from sandbox.scenario.target import ephemeral_target


async def run_text(text: str, folder: Path, files: dict[str, str] | None = None
                   ) -> tuple[ScenarioResult, str]:
    """Write the scenario (and its files) into ``folder``, run it, return the result and plain log."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.yaml"
    path.write_text(text)
    for name, content in (files or {}).items():
        (folder / name).write_text(content)
    scenario, problems = parse_scenario(text)
    assert scenario is not None, problems
    log = io.StringIO()
    async with ephemeral_target(scenario.cluster) as target:
        result = await run_scenario(scenario, path=path, target=target, reporter=PlainReporter(log))
    return result, log.getvalue()


def outcomes(result: ScenarioResult) -> dict[str, str]:
    return {step.name: step.outcome for step in result.steps}
