"""Finding scenarios by name, folder or file; listing keeps broken ones visible."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.scenario.catalog import find_scenario, list_scenarios, scenario_dirs

VALID = "name: {name}\ntitle: T\nlevel: beginner\nsteps:\n  - explain: hi\n"


def make(root: Path, name: str, text: str | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    path = folder / "scenario.yaml"
    path.write_text(text if text is not None else VALID.format(name=name))
    return path


def test_lists_every_scenario_by_name_and_keeps_invalid_ones_with_problems(tmp_path):
    make(tmp_path, "zeta")
    make(tmp_path, "alpha")
    make(tmp_path, "broken", "name: broken\ntitle: T\nsteps: []\n")
    entries = list_scenarios([tmp_path])
    assert [e.name for e in entries] == ["alpha", "broken", "zeta"]
    broken = entries[1]
    assert broken.scenario is None and broken.problems


def test_the_first_folder_wins_for_a_name_found_twice(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    make(first, "same")
    make(second, "same")
    assert list_scenarios([first, second])[0].path.parent.parent == first


def test_find_by_name_folder_or_file_and_name_the_known_ones_otherwise(tmp_path):
    path = make(tmp_path, "demo")
    assert find_scenario("demo", [tmp_path]).path == path
    assert find_scenario(str(path.parent)).path == path
    assert find_scenario(str(path)).path == path
    with pytest.raises(LookupError, match=r"no scenario 'nope' \(known: demo\)"):
        find_scenario("nope", [tmp_path])


def test_search_folders_are_the_env_then_cwd_then_the_checkout(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    monkeypatch.setenv("SANDBOX_SCENARIOS", str(mine))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    folders = scenario_dirs()
    assert folders[:2] == [mine.resolve(), (tmp_path / "scenarios").resolve()]
