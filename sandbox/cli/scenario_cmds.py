"""``sandbox scenario list | run | validate``: tutorials and smoke tests from a shell.

- ``list`` — every scenario found (see :mod:`sandbox.scenario.catalog`):
  name, level, estimated time, tags, title; an invalid file is listed with
  its first problem.
- ``run NAME|PATH… | --all`` — runs them one after the other on the home's
  daemon if one runs, else each on an ephemeral in-process cluster that is
  torn down afterwards (``--keep``: on a daemon that stays up, started if
  needed), or on any cluster with ``--kubeconfig``. Rich narration on a
  terminal, plain timestamped lines in CI or a pipe (``--output`` forces
  one); ``--junit`` and ``--report`` write JUnit XML and a Markdown record;
  ``--pause`` waits for Enter between steps (classroom mode).
- ``validate FILE`` — checks a file without a cluster and prints each problem
  the way a compiler does (``FILE:LINE: field.path: message``).

Exit codes: 0 every scenario passed (or the file is valid); 1 a step failed,
a scenario could not run, or the file has problems; 2 bad arguments (no such
scenario or file).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from sandbox.cli.options import home_option
from sandbox.cli.output import table
from sandbox.scenario.catalog import ScenarioEntry, find_scenario, list_scenarios
from sandbox.scenario.format import parse_scenario
from sandbox.scenario.reporting import choose_reporter, write_junit, write_report
from sandbox.scenario.results import ScenarioResult, StepResult
from sandbox.scenario.session import run_entry

__all__ = ["scenario"]


@click.group()
def scenario() -> None:
    """Tutorials and smoke tests: scenarios/<name>/scenario.yaml."""


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 60:.0f}m" if seconds >= 60 else f"{seconds:.0f}s"


@scenario.command("list", epilog="""\b
Examples:
  sandbox scenario list
  SANDBOX_SCENARIOS=my/scenarios sandbox scenario list
""")
def list_() -> None:
    """List the scenarios: name, level, time, tags and title."""
    entries = list_scenarios()
    if not entries:
        click.echo("No scenarios found (searched $SANDBOX_SCENARIOS, ./scenarios and the checkout's).")
        return
    rows = []
    for entry in entries:
        s = entry.scenario
        if s is None:
            first = entry.problems[0].format(entry.path) if entry.problems else "invalid"
            rows.append([entry.name, "-", "-", "-", f"INVALID: {first}"])
        else:
            rows.append([s.name, s.level, _minutes(s.estimated_time), ",".join(s.tags), s.title])
    for line in table(["NAME", "LEVEL", "TIME", "TAGS", "TITLE"], rows):
        click.echo(line)


def _parse_set(values: tuple[str, ...]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", param_hint="--set")
        variables[name] = text
    return variables


def _entries(refs: tuple[str, ...], run_all: bool) -> list[ScenarioEntry]:
    if run_all == bool(refs):
        raise click.UsageError("give scenario names or paths, or --all (not both)")
    if run_all:
        entries = list_scenarios()
        if not entries:
            raise click.UsageError("--all found no scenarios")
    else:
        try:
            entries = [find_scenario(ref) for ref in refs]
        except LookupError as err:
            raise click.BadParameter(str(err), param_hint="NAME|PATH") from None
    invalid = [e for e in entries if e.scenario is None]
    for entry in invalid:
        for problem in entry.problems:
            click.echo(problem.format(entry.path), err=True)
    if invalid:
        raise SystemExit(1)
    return entries


async def _pause(step: StepResult) -> None:
    await asyncio.to_thread(input, "  ⏎ press Enter for the next step… ")


@scenario.command(epilog="""\b
Examples:
  sandbox scenario run k8s-basics
  sandbox scenario run --all --junit out.xml          # CI: plain output, JUnit for the CI server
  sandbox scenario run k8s-troubleshooting --report run.md --keep
  sandbox scenario run scenarios/k8s-basics --pause   # classroom mode
""")
@click.argument("refs", nargs=-1, metavar="[NAME|PATH]...")
@click.option("--all", "run_all", is_flag=True, help="Run every scenario found.")
@home_option
@click.option("--kubeconfig", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Run on the cluster of this kubeconfig instead of the sandbox.")
@click.option("--keep", is_flag=True,
              help="Leave the cluster up afterwards (runs on the home's daemon, started if needed).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a scenario variable (repeatable).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JUnit XML: a testsuite per scenario, a testcase per step.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Markdown record of the run (commands and their output).")
@click.option("--pause", is_flag=True, help="Wait for Enter between steps (on a terminal).")
@click.option("--output", "mode", type=click.Choice(["auto", "rich", "plain"]), default="auto",
              show_default=True, help="auto: plain when $CI is set or stdout is not a terminal.")
def run(refs: tuple[str, ...], run_all: bool, home: Path | None, kubeconfig: Path | None, keep: bool,
        sets: tuple[str, ...], junit: Path | None, report: Path | None, pause: bool, mode: str) -> None:
    """Run scenarios on the sandbox (the daemon if running, else an ephemeral cluster)."""
    variables = _parse_set(sets)
    entries = _entries(refs, run_all)
    if pause and not sys.stdin.isatty():
        click.echo("--pause needs a terminal on stdin; running without pauses", err=True)
        pause = False
    reporter = choose_reporter(mode)
    results: list[ScenarioResult] = []
    kept: list[str] = []

    async def main() -> None:
        for entry in entries:
            result, target = await run_entry(entry, reporter=reporter, home=home, keep=keep,
                                             kubeconfig=kubeconfig, variables=variables,
                                             pause=_pause if pause else None)
            results.append(result)
            if target is not None and target.kept and not kubeconfig:
                kept.append(f"{result.name}: objects left in namespace {result.namespace} on "
                            f"{target.description}\n  export KUBECONFIG={target.kubeconfig}")

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(130) from None
    finally:
        if junit is not None and results:
            write_junit(results, junit)
        if report is not None and results:
            write_report(results, report)
    for line in kept:
        click.echo(line)
    if len(results) > 1:
        passed = sum(1 for r in results if r.ok)
        click.echo(f"{passed}/{len(results)} scenarios passed")
    raise SystemExit(0 if all(r.ok for r in results) else 1)


@scenario.command(epilog="""\b
Examples:
  sandbox scenario validate scenarios/k8s-basics/scenario.yaml
""")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def validate(file: str) -> None:
    """Check FILE against the scenario format; print each problem with its line."""
    with open(file, encoding="utf-8") as f:
        parsed, problems = parse_scenario(f.read())
    if parsed is None:
        for problem in problems:
            click.echo(problem.format(file))
        raise SystemExit(1)
    click.echo(f"{file}: valid ({len(parsed.steps)} steps)")
