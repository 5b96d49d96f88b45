"""Finding scenarios: ``scenarios/<name>/scenario.yaml`` in the known folders.

The folders searched, first match wins:

1. ``$SANDBOX_SCENARIOS`` (folders separated by ``:``), when set;
2. ``./scenarios`` under the current directory;
3. the ``scenarios`` folder of the kf-sandbox checkout this package runs from.

``find_scenario("k8s-basics")`` is the folder's scenario; a path to a
``scenario.yaml`` or to its folder works too. Listing reads every file and
keeps the invalid ones with their problems, so ``sandbox scenario list``
shows a broken scenario instead of hiding it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import sandbox
from sandbox.scenario.format import Scenario, ValidationProblem, parse_scenario

__all__ = ["FILE_NAME", "ScenarioEntry", "find_scenario", "list_scenarios", "scenario_dirs"]

FILE_NAME = "scenario.yaml"


@dataclass
class ScenarioEntry:
    """One scenario file: the scenario when valid, else its problems."""

    path: Path
    scenario: Scenario | None
    problems: list[ValidationProblem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.scenario.name if self.scenario else self.path.parent.name


def scenario_dirs() -> list[Path]:
    """The folders searched for scenarios, existing ones only, without repeats."""
    candidates: list[Path] = []
    if os.environ.get("SANDBOX_SCENARIOS"):
        candidates += [Path(p) for p in os.environ["SANDBOX_SCENARIOS"].split(os.pathsep) if p]
    candidates.append(Path.cwd() / "scenarios")
    candidates.append(Path(sandbox.__file__).resolve().parent.parent / "scenarios")
    seen: list[Path] = []
    for folder in candidates:
        resolved = folder.resolve()
        if resolved.is_dir() and resolved not in seen:
            seen.append(resolved)
    return seen


def _entry(path: Path) -> ScenarioEntry:
    scenario, problems = parse_scenario(path.read_text(encoding="utf-8"))
    return ScenarioEntry(path=path, scenario=scenario, problems=problems)


def list_scenarios(folders: list[Path] | None = None) -> list[ScenarioEntry]:
    """Every ``*/scenario.yaml`` in the folders, by name; a name found twice is kept once (first folder)."""
    found: dict[str, ScenarioEntry] = {}
    for folder in scenario_dirs() if folders is None else folders:
        for path in sorted(folder.glob(f"*/{FILE_NAME}")):
            entry = _entry(path)
            found.setdefault(entry.name, entry)
    return sorted(found.values(), key=lambda e: e.name)


def find_scenario(ref: str, folders: list[Path] | None = None) -> ScenarioEntry:
    """A scenario by name, by folder or by file; ``LookupError`` lists what exists."""
    given = Path(ref)
    for candidate in (given, given / FILE_NAME):
        if candidate.is_file() and (candidate.suffix in (".yaml", ".yml")):
            return _entry(candidate)
    for folder in scenario_dirs() if folders is None else folders:
        path = folder / ref / FILE_NAME
        if path.is_file():
            return _entry(path)
    known = ", ".join(e.name for e in list_scenarios(folders)) or "none found"
    raise LookupError(f"no scenario {ref!r} (known: {known}); give a name, a folder or a scenario.yaml")
