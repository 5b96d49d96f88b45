"""``sandbox up / status / kubectl / down`` end to end, in a temporary home.

Real processes throughout: the CLI runs as ``python -m sandbox``, the daemon
detaches into its own session, kubectl and the official ``kubernetes`` client
talk HTTPS to it with the kubeconfig it wrote. The main test walks the life
of a sandbox: up → Ready nodes → a Deployment → down (no process left) → up
again (the Deployment and its pods are back and Running) → down.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

pytestmark = pytest.mark.slow

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "sleeper", "namespace": "default"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "sleeper"}},
        "template": {
            "metadata": {"labels": {"app": "sleeper"}},
            "spec": {"containers": [{
                "name": "main", "image": "python:3.11",
                "command": ["python", "-c", "import time; time.sleep(3600)"],
            }]},
        },
    },
}


def sandbox(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX_HOME", "CI", "KUBECONFIG")}
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def processes_of(home: Path) -> list[str]:
    """Every process (but this one) whose command line or cwd mentions ``home``."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd", "status"]):
        info = proc.info
        if info["pid"] == os.getpid() or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        text = " ".join(info["cmdline"] or ()) + " " + (info["cwd"] or "")
        if str(home) in text:
            found.append(f"{info['pid']}: {text.strip()}")
    return found


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie its new parent has not reaped yet."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = (tmp_path / "home").resolve()
    yield home
    sandbox("down", "--home", str(home))
    assert processes_of(home) == []


def up(home: Path) -> subprocess.CompletedProcess[str]:
    result = sandbox("up", "--home", str(home), "--port", "0", "--web-port", "0")
    assert result.returncode == 0, result.stderr
    return result


def status(home: Path) -> dict[str, Any]:
    result = sandbox("status", "-o", "json", "--home", str(home))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def api(home: Path) -> Any:
    """An official-client ApiClient from the kubeconfig (re-read: the port changes per up)."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(home / "kubeconfig"))


def wait_running_pods(home: Path, *, restarts: int, timeout: float = 30) -> list[Any]:
    from kubernetes import client

    core = client.CoreV1Api(api(home))
    deadline = time.monotonic() + timeout
    while True:
        pods = core.list_namespaced_pod("default", label_selector="app=sleeper").items
        statuses = [s for p in pods for s in p.status.container_statuses or ()]
        if (len(pods) == 2 and len(statuses) == 2
                and all(s.state.running and s.restart_count == restarts for s in statuses)):
            return pods
        if time.monotonic() > deadline:
            raise AssertionError(f"not 2 running pods with {restarts} restarts: {pods}")
        time.sleep(0.2)


def test_up_status_down_and_up_again_brings_everything_back(home: Path) -> None:
    from kubernetes import client

    result = up(home)
    assert f"export KUBECONFIG={home / 'kubeconfig'}" in result.stdout
    assert "API:         https://127.0.0.1:" in result.stdout
    assert "Web:         http://127.0.0.1:" in result.stdout

    first = status(home)
    assert first["running"] and first["ready"]
    assert first["kubeconfig"] == str(home / "kubeconfig")
    assert first["api_url"].startswith("https://127.0.0.1:")
    assert [n["name"] for n in first["nodes"]] == ["control-plane", "worker-1", "worker-2"]
    assert all(n["ready"] for n in first["nodes"])
    daemon_pid = first["pid"]

    again = sandbox("up", "--home", str(home), "--port", "0", "--web-port", "0")
    assert again.returncode == 1
    assert f"a sandbox is already running in {home} (pid {daemon_pid})" in again.stderr

    created = client.AppsV1Api(api(home)).create_namespaced_deployment("default", DEPLOYMENT)
    pods = wait_running_pods(home, restarts=0)
    listed = sandbox("kubectl", "--home", str(home), "get", "deployments", "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "deployment.apps/sleeper"
    assert status(home)["pods"]["by_phase"] == {"Running": 2}

    down = sandbox("down", "--home", str(home))
    assert down.returncode == 0, down.stderr
    assert f"Sandbox stopped (pid {daemon_pid}); no process of it remains." in down.stdout
    assert gone(daemon_pid)
    assert processes_of(home) == []
    assert not (home / "daemon.pid").exists() and not (home / "daemon.json").exists()
    assert sandbox("status", "--home", str(home)).returncode == 1

    up(home)
    back = client.AppsV1Api(api(home)).read_namespaced_deployment("sleeper", "default")
    assert back.metadata.uid == created.metadata.uid
    restarted = wait_running_pods(home, restarts=1)
    assert {p.metadata.uid for p in restarted} == {p.metadata.uid for p in pods}
    assert status(home)["pods"]["by_phase"] == {"Running": 2}

    down = sandbox("down", "--home", str(home))
    assert down.returncode == 0, down.stderr
    assert processes_of(home) == []


def test_the_web_port_answers_with_the_index(home: Path) -> None:
    import httpx

    up(home)
    report = status(home)
    index = httpx.get(report["web_url"] + "/").json()
    assert index["cluster"] == "default"
    assert index["api_url"] == report["api_url"]
    assert httpx.get(report["web_url"] + "/healthz").text == "ok"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_sandbox_kubectl_reaches_the_sandbox_with_kubectls_exit_code(home: Path) -> None:
    up(home)
    nodes = sandbox("kubectl", "--home", str(home), "get", "nodes", "-o", "name")
    assert nodes.returncode == 0, nodes.stderr
    assert nodes.stdout.split() == ["node/control-plane", "node/worker-1", "node/worker-2"]
    missing = sandbox("kubectl", "--home", str(home), "get", "pod", "nope")
    assert missing.returncode == 1
    assert 'pods "nope" not found' in missing.stderr


def test_status_without_a_daemon_exits_1(tmp_path: Path) -> None:
    result = sandbox("status", "--home", str(tmp_path))
    assert result.returncode == 1
    assert "no sandbox is running in" in result.stderr
