"""`sandbox scenario run` on the daemon: it uses a running one, and --keep starts one that stays."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from apiserver_e2e_helpers import running_daemon  # type: ignore[import-not-found]

from sandbox.backends.inprocess.control import DaemonHome, find_daemon, stop_daemon

SCENARIO = """
name: on-daemon
title: A ConfigMap on the daemon
level: beginner
steps:
  - apply:
      manifest: {apiVersion: v1, kind: ConfigMap, metadata: {name: left}, data: {k: v}}
  - kubectl: {args: [get, configmap, left, -o, "jsonpath={.data.k}"], expectOutput: "^v$"}
"""


def write(tmp_path: Path) -> Path:
    folder = tmp_path / "on-daemon"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(SCENARIO)
    return folder


def sandbox(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandbox", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=180, env={"CI": "1", "PATH": "/usr/bin:/bin"})


async def test_a_running_daemon_is_used_and_keeps_the_namespace(tmp_path):
    folder = write(tmp_path)
    async with running_daemon(tmp_path / "home") as daemon:
        done = await asyncio.to_thread(sandbox, "scenario", "run", str(folder), home=tmp_path / "home")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "running on the sandbox daemon of" in done.stdout
        assert "objects left in namespace on-daemon" in done.stdout
        left = await asyncio.to_thread(
            subprocess.run, ["kubectl", "--kubeconfig", str(daemon.kubeconfig_path), "-n", "on-daemon", "get",
                             "configmap", "left", "-o", "name"], capture_output=True, text=True, timeout=60)
        assert left.stdout.strip() == "configmap/left"
        again = await asyncio.to_thread(sandbox, "scenario", "run", str(folder), home=tmp_path / "home")
        assert again.returncode == 0, again.stdout  # the previous run's namespace is replaced


def test_keep_starts_a_daemon_that_stays_up(tmp_path):
    folder = write(tmp_path)
    home = tmp_path / "kept"
    try:
        done = sandbox("scenario", "run", str(folder), "--keep", home=home)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "a new sandbox daemon in" in done.stdout
        assert f"export KUBECONFIG={home / 'kubeconfig'}" in done.stdout
        assert find_daemon(DaemonHome.resolve(home)) is not None
    finally:
        stop_daemon(DaemonHome.resolve(home))
