"""``sandbox scenario validate``: compiler-style problems and exit codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sandbox.cli.main import cli


def test_validate_prints_valid_and_the_step_count(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: a\ntitle: A\nlevel: beginner\nsteps:\n  - explain: hi\n  - kubectl: {args: [version]}\n")
    result = CliRunner().invoke(cli, ["scenario", "validate", str(path)])
    assert result.exit_code == 0
    assert result.output == f"{path}: valid (2 steps)\n"


def test_validate_prints_every_problem_with_its_line_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: a\ntitle: A\nlevel: beginner\nsteps:\n  - aply: {files: [x.yaml]}\n"
                    "  - wait: {name: web, phase: Running}\n")
    result = CliRunner().invoke(cli, ["scenario", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{path}:5: steps[0].aply: unknown step type 'aply' (known: explain, apply")
    assert lines[1] == f"{path}:6: steps[1].wait.kind: required field missing"


def test_validate_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scenario", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
