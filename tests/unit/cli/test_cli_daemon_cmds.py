"""``sandbox up/status/down`` argument handling and messages, without starting a daemon.

A "running daemon" is simulated by holding the home's pid lock in this process,
which is exactly what a live daemon does.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.backends.inprocess.control import DaemonHome, DaemonInfo, PidLock
from sandbox.cli.main import cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def held(home: Path) -> Iterator[PidLock]:
    """The home looks like a live daemon (this process) holds it."""
    home.mkdir(parents=True, exist_ok=True)
    lock = PidLock(DaemonHome(home.resolve()))
    lock.acquire()
    yield lock
    lock.release()


def test_status_without_a_daemon_exits_1_with_one_clear_line(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["status", "--home", str(home)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: no sandbox is running in {home.resolve()} (start one with `sandbox up`)")


def test_status_json_without_a_daemon_says_not_running(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["status", "-o", "json", "--home", str(home)])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"home": str(home.resolve()), "running": False,
                                         "ready": False}


def test_sandbox_home_variable_selects_the_home(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["status", "-o", "json"], env={"SANDBOX_HOME": str(home)})
    assert json.loads(result.stdout)["home"] == str(home.resolve())


def test_status_cleans_a_stale_pid_file(runner: CliRunner, home: Path) -> None:
    home.mkdir()
    (home / "daemon.pid").write_text(f"{os.getpid()}\n")  # a live pid, but nobody holds the lock
    (home / "daemon.json").write_text("{}")
    result = runner.invoke(cli, ["status", "--home", str(home)])
    assert result.exit_code == 1
    assert not (home / "daemon.pid").exists()
    assert not (home / "daemon.json").exists()


def test_status_of_a_starting_daemon_exits_1(runner: CliRunner, home: Path, held: PidLock) -> None:
    result = runner.invoke(cli, ["status", "--home", str(home)])
    assert result.exit_code == 1
    assert result.stdout.strip() == f"Sandbox:     starting (pid {os.getpid()})"
    assert "is still starting" in result.stderr


def test_status_json_carries_the_urls_even_when_the_api_does_not_answer(
    runner: CliRunner, home: Path, held: PidLock
) -> None:
    files = DaemonHome(home.resolve())
    files.write_info(DaemonInfo(
        pid=os.getpid(), api_url="https://127.0.0.1:1", web_url="http://127.0.0.1:2",
        kubeconfig=str(files.kubeconfig), cluster="default", started="2024-01-01T00:00:00Z",
        home=str(files.path)))
    result = runner.invoke(cli, ["status", "-o", "json", "--home", str(home)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["running"] is True and report["ready"] is False
    assert report["api_url"] == "https://127.0.0.1:1"
    assert report["web_url"] == "http://127.0.0.1:2"
    assert report["kubeconfig"] == str(files.kubeconfig)
    assert "the API server is not ready" in report["error"]


def test_up_refuses_when_a_daemon_runs_in_the_home(runner: CliRunner, home: Path,
                                                   held: PidLock) -> None:
    result = runner.invoke(cli, ["up", "--home", str(home)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: a sandbox is already running in {home.resolve()} (pid {os.getpid()}); "
        "stop it with `sandbox down` or choose another --home")


def test_up_rejects_an_unknown_cluster_naming_the_known_ones(runner: CliRunner,
                                                             home: Path) -> None:
    result = runner.invoke(cli, ["up", "--home", str(home), "--cluster", "nope"])
    assert result.exit_code == 2
    assert "Invalid value for '--cluster': no cluster named 'nope'; known: default" in result.stderr


def test_up_rejects_a_missing_cluster_file(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["up", "--home", str(home), "--cluster", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert f"cluster file {tmp_path / 'x.yaml'} does not exist" in result.stderr


def test_up_refuses_another_cluster_over_an_existing_store(runner: CliRunner, home: Path) -> None:
    home.mkdir()
    (home / "store.db").touch()
    (home / "cluster.txt").write_text("gpu\n")
    result = runner.invoke(cli, ["up", "--home", str(home), "--cluster", "default"])
    assert result.exit_code == 2
    assert "holds the state of cluster 'gpu', not 'default'" in result.stderr
    assert "--cluster gpu" in result.stderr


def test_up_rejects_equal_ports(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["up", "--home", str(home), "--port", "9000", "--web-port", "9000"])
    assert result.exit_code == 2
    assert "the API and web ports must differ (both 9000)" in result.stderr


def test_up_rejects_a_port_in_use(runner: CliRunner, home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["up", "--home", str(home), "--port", str(port)])
    assert result.exit_code == 2
    assert f"127.0.0.1:{port} is in use; choose another port (0: any free port)" in result.stderr


def test_up_rejects_a_port_out_of_range(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["up", "--home", str(home), "--port", "70000"])
    assert result.exit_code == 2
    assert "--port" in result.stderr


def test_down_without_a_daemon_says_so_and_succeeds(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["down", "--home", str(home)])
    assert result.exit_code == 0
    assert result.stderr.strip() == f"No sandbox is running in {home.resolve()}."


def test_progress_lines_carry_a_timestamp_under_ci(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["down", "--home", str(home)], env={"CI": "true"})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z No sandbox is running in .+\.\n",
                        result.stderr)


@pytest.mark.parametrize("command", ["up", "down", "status", "kubectl"])
def test_every_command_has_help_with_examples(runner: CliRunner, command: str) -> None:
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"sandbox {command}" in result.stdout


def test_the_group_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["-h"])
    assert result.exit_code == 0
    for command in ("up", "down", "status", "kubectl"):
        assert re.search(rf"^  {command}\s", result.stdout, re.MULTILINE)
