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

from sandbox.backends.inprocess.apiserver.auth import TokenFile
from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.backends.inprocess.control import DaemonHome, start_daemon, stop_daemon

KUBECTL_DIR = Path("/usr/lib/google-cloud-sdk/bin")
VERSIONS = ("1.27", "1.31", "1.33")


def kubectl_path(version: str) -> Path:
    return KUBECTL_DIR / f"kubectl.{version}"


def have_kubectl() -> bool:
    return all(kubectl_path(v).exists() for v in VERSIONS)


@dataclass
class Sandbox:
    """A cluster and its API server in this process (tests that look inside)."""

    cluster: InProcessCluster
    server: ApiServer
    home: Path

    @property
    def kubeconfig_path(self) -> Path:
        return self.server.kubeconfig_path

    def add_user(self, name: str, *, groups: tuple[str, ...] = ()) -> str:
        return self.server.add_user(name, groups=groups)


@dataclass
class Daemon:
    """What ``sandbox up`` started: a detached daemon, reached only over HTTPS."""

    home: Path
    kubeconfig_path: Path

    def add_user(self, name: str, *, groups: tuple[str, ...] = ()) -> str:
        # The daemon re-reads its token file when it sees an unknown token.
        return TokenFile(self.home / "tokens.csv").add_user(name, groups=groups)


@asynccontextmanager
async def running_sandbox(home: Path) -> AsyncIterator[Sandbox]:
    async with InProcessCluster.start("default", home=home) as cluster:
        server = ApiServer(cluster, home=home)
        await server.start()
        try:
            yield Sandbox(cluster, server, home)
        finally:
            await server.stop()


@asynccontextmanager
async def running_daemon(home: Path) -> AsyncIterator[Daemon]:
    """``sandbox up`` on free ports in ``home``; ``sandbox down`` afterwards."""
    daemon_home = DaemonHome.resolve(home)
    info = await asyncio.to_thread(start_daemon, daemon_home, cluster="default", port=0,
                                   web_port=0)
    try:
        yield Daemon(home, Path(info.kubeconfig))
    finally:
        await asyncio.to_thread(stop_daemon, daemon_home)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


async def kubectl(sandbox: Sandbox | Daemon, *args: str, version: str = "1.31", stdin: str | None = None,
                  timeout: float = 60, check: bool = True) -> Result:
    """Run ``kubectl.<version> args`` with the sandbox's kubeconfig and its own cache dir."""
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path),
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

