"""``sandbox scenario …``: scenarios from a shell.

For now one command, ``validate FILE``: it checks a ``scenario.yaml``
against the format of :mod:`sandbox.scenario.format` without touching a
cluster, and prints every problem the way a compiler does
(``FILE:LINE: field.path: message``), so editors and CI logs link to the
line. ``list`` and ``run`` come with the scenario runner.

Exit codes: 0 valid; 1 problems found; 2 bad arguments (no such file).
"""

from __future__ import annotations

import click

from sandbox.scenario.format import parse_scenario

__all__ = ["scenario"]


@click.group()
def scenario() -> None:
    """Tutorials and smoke tests: scenarios/<name>/scenario.yaml."""


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
