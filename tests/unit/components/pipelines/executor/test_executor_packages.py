"""``packages_to_install`` are checked, never installed: a missing one fails the task clearly, offline."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.components.pipelines.executor import MissingPackages, check_packages, execute, main

SOURCE = """
import kfp
from kfp import dsl
from kfp.dsl import *
from typing import *

def hello(name: str) -> str:
    import yaml
    return f"hello {name} ({kfp.__version__}, {dsl.Model.schema_title})"
"""

MISSING = "definitely-not-a-real-package-kfsandbox"
MESSAGE = (f"package {MISSING} is not installed in the sandbox; the sandbox makes no network calls — install it "
           "into kf-sandbox's environment")


def _input(root: Path) -> dict:
    return {"inputs": {"parameterValues": {"name": "world"}},
            "outputs": {"parameters": {"Output": {"outputFile": str(root / "Output")}},
                        "outputFile": str(root / "executor_output.json")}}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any process start or socket fails the test: pip would need both."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the executor tried to start a process or open a socket: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse)
    monkeypatch.setattr(os, "execv", refuse)
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_missing_package_fails_before_the_component_runs_and_without_network(tmp_path, offline, capsys):
    code = main(["--component_source", SOURCE, "--executor_input", json.dumps(_input(tmp_path)),
                 "--function_to_execute", "hello", "--packages_to_install", "pyyaml",
                 "--packages_to_install", MISSING])
    assert code == 1
    assert MESSAGE in capsys.readouterr().err
    assert not (tmp_path / "executor_output.json").exists()


@pytest.mark.slow
def test_the_command_line_exits_1_with_the_message_and_starts_no_pip(tmp_path):
    # A pip or python3 found on PATH would leave a trace; the executor must run none of them.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    trace = tmp_path / "trace"
    for tool in ("pip", "pip3", "python3", "uv"):
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\necho {tool} >> {trace}\nexit 1\n")
        script.chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.components.pipelines.executor", "--component_source", SOURCE,
         "--executor_input", json.dumps(_input(tmp_path)), "--function_to_execute", "hello",
         "--packages_to_install", MISSING],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert MESSAGE in done.stderr
    assert not trace.exists()
    assert not (tmp_path / "executor_output.json").exists()


def test_installed_packages_pass_and_the_component_runs(tmp_path, offline, monkeypatch):
    monkeypatch.setenv("SANDBOX_ARTIFACT_ROOT", str(tmp_path))
    execute(_input(tmp_path), function_to_execute="hello", component_source=SOURCE,
            packages_to_install=["pyyaml", "PyYAML>=5", "kfp==2.15.2", "pydantic[email] >= 2",
                                 'typing-extensions>=3.7.4,<5; python_version<"3.9"'])
    output = json.loads((tmp_path / "executor_output.json").read_text())
    assert output == {"parameterValues": {"Output": "hello world (2.15.2, system.Model)"}}


def test_a_version_the_sandbox_does_not_have_is_a_warning_not_a_failure():
    warnings = check_packages(["pyyaml==0.0.1"])
    assert len(warnings) == 1
    assert "the sandbox has pyyaml" in warnings[0].lower()


@pytest.mark.parametrize("requirement", [
    MISSING, f"{MISSING}==1.0", "git+https://github.com/example/repo.git", "./local/package", "https://x/y.whl",
])
def test_requirements_the_sandbox_cannot_satisfy_are_reported(requirement):
    with pytest.raises(MissingPackages) as raised:
        check_packages(["pyyaml", requirement])
    assert raised.value.packages == (requirement,)
    assert f"package {requirement} is not installed in the sandbox" in str(raised.value)


def test_a_requirement_whose_marker_does_not_apply_is_skipped():
    assert check_packages([f'{MISSING}; python_version < "3.0"']) == []
