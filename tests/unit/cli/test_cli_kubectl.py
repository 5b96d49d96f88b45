"""``sandbox kubectl``: arguments, environment and exit code pass through to kubectl."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli.main import cli

FAKE_KUBECTL = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_KUBECTL_OUT"], "w") as out:
    json.dump({"args": sys.argv[1:], "kubeconfig": os.environ.get("KUBECONFIG")}, out)
sys.exit(int(os.environ.get("FAKE_KUBECTL_EXIT", "0")))
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    return home


@pytest.fixture
def fake_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "kubectl"
    script.write_text(FAKE_KUBECTL)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SANDBOX_KUBECTL", str(script))
    monkeypatch.setenv("FAKE_KUBECTL_OUT", str(tmp_path / "call.json"))
    monkeypatch.delenv("SANDBOX_HOME", raising=False)
    return tmp_path / "call.json"


def test_arguments_and_exit_code_pass_through_unchanged(home: Path, fake_kubectl: Path) -> None:
    args = ["-n", "kube-system", "get", "pods", "-o", "jsonpath={.items[*].metadata.name}",
            "--help", "--home", "x"]
    result = CliRunner().invoke(cli, ["kubectl", "--home", str(home), *args],
                                env={"FAKE_KUBECTL_EXIT": "3"})
    assert result.exit_code == 3
    call = json.loads(fake_kubectl.read_text())
    assert call == {"args": args, "kubeconfig": str(home.resolve() / "kubeconfig")}


def test_warns_when_no_sandbox_runs_but_still_runs_kubectl(home: Path, fake_kubectl: Path) -> None:
    result = CliRunner().invoke(cli, ["kubectl", "--home", str(home), "version", "--client"])
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        f"warning: no sandbox is running in {home.resolve()}; kubectl will not reach it")
    assert json.loads(fake_kubectl.read_text())["args"] == ["version", "--client"]


def test_our_help_comes_before_any_argument(home: Path, fake_kubectl: Path) -> None:
    result = CliRunner().invoke(cli, ["kubectl", "--help"])
    assert result.exit_code == 0
    assert "Run kubectl against the sandbox" in result.stdout
    assert not fake_kubectl.exists()


def test_a_missing_kubectl_is_a_clear_error(home: Path, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.delenv("SANDBOX_KUBECTL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(cli, ["kubectl", "--home", str(home), "get", "pods"])
    assert result.exit_code == 127
    assert result.stderr.startswith("error: kubectl is not installed (not found on PATH)")


def test_a_wrong_sandbox_kubectl_names_it(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-kubectl"
    result = CliRunner().invoke(cli, ["kubectl", "--home", str(home), "get", "pods"],
                                env={"SANDBOX_KUBECTL": str(missing)})
    assert result.exit_code == 127
    assert result.stderr.strip() == f"error: SANDBOX_KUBECTL={missing} is not an executable file"


def test_without_a_kubeconfig_it_says_to_start_the_sandbox(tmp_path: Path,
                                                           fake_kubectl: Path) -> None:
    result = CliRunner().invoke(cli, ["kubectl", "--home", str(tmp_path / "none"), "get", "pods"])
    assert result.exit_code == 1
    assert "start the sandbox with `sandbox up`" in result.stderr
    assert not fake_kubectl.exists()


def test_a_kubectl_killed_by_a_signal_exits_128_plus_the_signal(home: Path,
                                                                tmp_path: Path) -> None:
    script = tmp_path / "dies"
    script.write_text("#!/bin/sh\nkill -TERM $$\n")
    script.chmod(0o755)
    result = CliRunner().invoke(cli, ["kubectl", "--home", str(home), "get", "pods"],
                                env={"SANDBOX_KUBECTL": str(script)})
    assert result.exit_code == 128 + 15
