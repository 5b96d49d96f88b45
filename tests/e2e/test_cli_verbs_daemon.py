"""`sandbox get/describe/logs/events/wait` against a real `sandbox up` daemon over HTTPS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from apiserver_e2e_helpers import running_daemon
from click.testing import CliRunner

from sandbox.cli.main import cli
from sandbox.client.kube import KubeClient

pytestmark = pytest.mark.slow


def sandbox(kubeconfig: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--kubeconfig", str(kubeconfig)])
    return result.exit_code, result.output


async def test_the_verbs_work_on_a_running_daemon(tmp_path: Path) -> None:
    async with running_daemon(tmp_path / "home") as daemon:
        config = daemon.kubeconfig_path
        async with KubeClient.from_kubeconfig(config) as client:
            await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello"},
                                 "spec": {"restartPolicy": "Never", "containers": [{
                                     "name": "main", "image": "python:3.11",
                                     "command": ["python", "-c", "print('hi from pod')"]}]}})
        code, out = await asyncio.to_thread(
            sandbox, config, "wait", "pod/hello", "--for=jsonpath={.status.phase}=Succeeded",
            "--timeout", "30s")
        assert (code, out.strip()) == (0, "pod/hello condition met")
        code, out = await asyncio.to_thread(sandbox, config, "get", "nodes")
        assert code == 0 and out.splitlines()[0].split()[:2] == ["NAME", "STATUS"]
        assert "worker-1" in out
        code, out = await asyncio.to_thread(sandbox, config, "get", "pods", "-o", "wide")
        assert "Completed" in out and "worker-" in out
        code, out = await asyncio.to_thread(sandbox, config, "logs", "hello")
        assert (code, out) == (0, "hi from pod\n")
        code, out = await asyncio.to_thread(sandbox, config, "describe", "pod", "hello")
        assert code == 0 and "Events:" in out and "Scheduled" in out
        code, out = await asyncio.to_thread(sandbox, config, "events")
        assert code == 0 and "Started container main" in out
        code, out = await asyncio.to_thread(sandbox, config, "get", "pod", "nope")
        assert (code, out.strip()) == (1, 'Error from server (NotFound): pods "nope" not found')
