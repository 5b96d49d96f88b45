"""A real in-process cluster behind a real HTTPS ApiServer, and a way to run kubectl at it.

The cluster and the server run in the test's event loop, so clients must not
block it: kubectl runs as an asyncio subprocess (:func:`kubectl`), and the
synchronous ``kubernetes`` client runs in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.backends.inprocess.cluster import InProcessCluster

KUBECTL_DIR = Path("/usr/lib/google-cloud-sdk/bin")
VERSIONS = ("1.27", "1.31", "1.33")


def kubectl_path(version: str) -> Path:
    return KUBECTL_DIR / f"kubectl.{version}"


def have_kubectl() -> bool:
    return all(kubectl_path(v).exists() for v in VERSIONS)


@dataclass
class Sandbox:
    cluster: InProcessCluster
    server: ApiServer
    home: Path


@asynccontextmanager
async def running_sandbox(home: Path) -> AsyncIterator[Sandbox]:
    async with InProcessCluster.start("default", home=home) as cluster:
        server = ApiServer(cluster, home=home)
        await server.start()
        try:
            yield Sandbox(cluster, server, home)
        finally:
            await server.stop()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


async def kubectl(sandbox: Sandbox, *args: str, version: str = "1.31", stdin: str | None = None,
                  timeout: float = 60, check: bool = True) -> Result:
    """Run ``kubectl.<version> args`` with the sandbox's kubeconfig and its own cache dir."""
    env = {**os.environ, "KUBECONFIG": str(sandbox.server.kubeconfig_path),
           "HOME": str(sandbox.home)}
    process = await asyncio.create_subprocess_exec(
        str(kubectl_path(version)), *args, env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(
            process.communicate(stdin.encode() if stdin is not None else None), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    result = Result(process.returncode or 0, out.decode(), err.decode())
    if check and result.code != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result}")
    return result


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path

