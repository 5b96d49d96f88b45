"""Finding, starting and stopping the sandbox daemon of a home, from outside it.

One sandbox home holds at most one daemon (see :mod:`.daemon`). Everything
that needs the running sandbox — ``sandbox up/down/status``, later the
scenario runner and the pytest plugin — asks this module, which knows only
the home's files and the daemon's process, never the cluster inside::

    <home>/
      daemon.pid    the daemon's pid, flock-ed by the daemon while it lives
      daemon.json   written once the daemon serves: pid, URLs, kubeconfig, cluster
      daemon.log    the daemon's stdout and stderr (appended to by every start)
      store.db      the API objects (SQLite): what survives a restart
      kubeconfig    written by the API server: its URL, CA and the admin token
      cluster.txt   the cluster (name or file) the store was created with

Liveness is the lock, not the pid: a daemon that died (even by SIGKILL) drops
its ``flock`` with its last file descriptor, so a pid file nobody locks is
stale whatever process now wears that pid. Cleaning a stale pid file takes
the lock first, and the daemon checks after locking that the file it locked
is still the one on disk, so a daemon starting during a clean-up never ends
up holding an unlinked file.

Readiness is the API server's ``/readyz``, asked over TLS with the CA and
token of the kubeconfig it wrote — what kubectl will use next.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

import sandbox
from sandbox.client.kubeconfig import KubeconfigError, load_kubeconfig

__all__ = [
    "DAEMON_MODULE",
    "DEFAULT_API_PORT",
    "DEFAULT_WEB_PORT",
    "AlreadyRunning",
    "DaemonError",
    "DaemonHome",
    "DaemonInfo",
    "PidLock",
    "RunningDaemon",
    "StartFailed",
    "StopResult",
    "cluster_ref",
    "find_daemon",
    "port_free",
    "readyz",
    "start_daemon",
    "stop_daemon",
]

#: What ``sandbox up`` runs in a new session.
DAEMON_MODULE = "sandbox.backends.inprocess.daemon"
#: Not 6443: Docker Desktop's and k3d's Kubernetes listen there.
DEFAULT_API_PORT = 7443
DEFAULT_WEB_PORT = 8480


def cluster_ref(cluster: str) -> str:
    """How a cluster is recorded: a shipped cluster by name, a cluster file by absolute path."""
    path = Path(cluster)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return str(path.expanduser().resolve())
    return cluster


class DaemonError(Exception):
    """A daemon could not be started or stopped; the message says why."""


class AlreadyRunning(DaemonError):
    def __init__(self, home: Path, pid: int) -> None:
        super().__init__(
            f"a sandbox is already running in {home} (pid {pid}); "
            "stop it with `sandbox down` or choose another --home"
        )
        self.home = home
        self.pid = pid


class StartFailed(DaemonError):
    def __init__(self, message: str, *, log_tail: list[str]) -> None:
        super().__init__(message)
        self.log_tail = log_tail


@dataclass(frozen=True)
class DaemonHome:
    """The files of one sandbox home."""

    path: Path

    @classmethod
    def resolve(cls, home: str | Path | None = None) -> DaemonHome:
        """``home`` if given, else ``$SANDBOX_HOME``, else ``~/.kf-sandbox`` (absolute)."""
        chosen = home or os.environ.get("SANDBOX_HOME") or Path.home() / ".kf-sandbox"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def pid_file(self) -> Path:
        return self.path / "daemon.pid"

    @property
    def info_file(self) -> Path:
        return self.path / "daemon.json"

    @property
    def log_file(self) -> Path:
        return self.path / "daemon.log"

    @property
    def store_db(self) -> Path:
        return self.path / "store.db"

    @property
    def kubeconfig(self) -> Path:
        return self.path / "kubeconfig"

    @property
    def cluster_file(self) -> Path:
        return self.path / "cluster.txt"

    def recorded_cluster(self) -> str | None:
        """The cluster the home's store was created with, if it has a store."""
        if not self.store_db.exists():
            return None
        try:
            return self.cluster_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def record_cluster(self, cluster: str) -> None:
        self.cluster_file.write_text(cluster + "\n")

    def read_info(self) -> DaemonInfo | None:
        try:
            return DaemonInfo.from_json(json.loads(self.info_file.read_text()))
        except (FileNotFoundError, ValueError, TypeError, KeyError):
            return None

    def write_info(self, info: DaemonInfo) -> None:
        """Atomically: readers see no file or a whole one."""
        tmp = self.info_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(info), indent=2) + "\n")
        tmp.replace(self.info_file)

    def log_tail(self, *, since: int = 0, lines: int = 20) -> list[str]:
        """The last ``lines`` lines of the daemon log written after byte ``since``."""
        try:
            with self.log_file.open("rb") as log:
                log.seek(since)
                text = log.read().decode(errors="replace")
        except FileNotFoundError:
            return []
        return text.splitlines()[-lines:]


@dataclass(frozen=True)
class DaemonInfo:
    """What a serving daemon tells the world (``daemon.json``)."""

    pid: int
    api_url: str
    web_url: str
    kubeconfig: str
    cluster: str
    started: str
    home: str
    version: str = sandbox.__version__

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DaemonInfo:
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


class PidLock:
    """The daemon's exclusive hold on ``daemon.pid`` (see the module docstring)."""

    def __init__(self, home: DaemonHome) -> None:
        self.home = home
        self._fd: int | None = None

    def acquire(self, *, attempts: int = 20, interval: float = 0.05) -> None:
        """Lock the pid file and write our pid; ``AlreadyRunning`` if a live daemon holds it.

        A few short retries ride over a ``sandbox status`` that holds the lock
        for an instant while it checks a stale file.
        """
        path = self.home.pid_file
        for attempt in range(attempts):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if attempt == attempts - 1:
                    raise AlreadyRunning(self.home.path, _read_pid(path) or 0) from None
                time.sleep(interval)
                continue
            if _same_file(fd, path):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return
            os.close(fd)  # unlinked by a stale-file clean-up between open and lock
        raise AlreadyRunning(self.home.path, _read_pid(path) or 0)

    def release(self) -> None:
        """Remove the pid file, then let go of the lock."""
        if self._fd is None:
            return
        if _same_file(self._fd, self.home.pid_file):
            self.home.pid_file.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class RunningDaemon:
    """A live daemon: ``info`` is None while it is still starting."""

    pid: int
    info: DaemonInfo | None


def find_daemon(home: DaemonHome) -> RunningDaemon | None:
    """The live daemon of ``home``, or None (a stale pid file and info are removed)."""
    try:
        fd = os.open(home.pid_file, os.O_RDONLY)
    except FileNotFoundError:
        home.info_file.unlink(missing_ok=True)
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_of_locked(home.pid_file)
            info = home.read_info()
            return RunningDaemon(pid, info if info is not None and info.pid == pid else None)
        # Nobody holds the lock: whatever wrote this file is gone.
        if _same_file(fd, home.pid_file):
            home.pid_file.unlink(missing_ok=True)
        home.info_file.unlink(missing_ok=True)
        return None
    finally:
        os.close(fd)


def _pid_of_locked(path: Path, *, wait: float = 1.0) -> int:
    """The pid in a locked pid file (the daemon writes it just after locking)."""
    deadline = time.monotonic() + wait
    while True:
        pid = _read_pid(path)
        if pid is not None or time.monotonic() > deadline:
            return pid or 0
        time.sleep(0.01)


# Readiness -----------------------------------------------------------------------------


def _tls_context(ca_data: bytes | None) -> ssl.SSLContext:
    tls = ssl.create_default_context()
    if ca_data:
        pem = ca_data.startswith(b"-----")
        tls.load_verify_locations(cadata=ca_data.decode() if pem else ca_data)
    return tls


def readyz(info: DaemonInfo, *, timeout: float = 2.0) -> tuple[bool, str]:
    """Ask the API server's ``/readyz``: (ready, what it said or why it could not)."""
    try:
        config = load_kubeconfig(info.kubeconfig)
        tls = _tls_context(config.ca_data)
    except (KubeconfigError, ssl.SSLError) as err:
        return False, str(err)
    headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
    try:
        response = httpx.get(f"{config.server}/readyz", headers=headers, verify=tls,
                             timeout=timeout)
    except httpx.HTTPError as err:
        return False, f"{config.server}/readyz: {err}"
    return response.status_code == 200, response.text.strip()


# Starting ------------------------------------------------------------------------------


def start_daemon(
    home: DaemonHome,
    *,
    cluster: str,
    port: int = DEFAULT_API_PORT,
    web_port: int = DEFAULT_WEB_PORT,
    timeout: float = 60.0,
) -> DaemonInfo:
    """Start a detached daemon in ``home`` and wait until its API answers ``/readyz``.

    Raises ``AlreadyRunning``, or ``StartFailed`` with the daemon log's last
    lines (a daemon that did not get ready in time is stopped first).
    """
    home.path.mkdir(parents=True, exist_ok=True)
    running = find_daemon(home)
    if running is not None:
        raise AlreadyRunning(home.path, running.pid)
    source_root = str(Path(sandbox.__file__).resolve().parent.parent)
    env = {**os.environ, "SANDBOX_HOME": str(home.path), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(
               p for p in (source_root, os.environ.get("PYTHONPATH")) if p)}
    command = [sys.executable, "-m", DAEMON_MODULE, "--home", str(home.path),
               "--cluster", cluster, "--port", str(port), "--web-port", str(web_port)]
    with home.log_file.open("ab") as log:
        since = log.tell()
        log.write(f"--- sandbox up: {' '.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=home.path, env=env,
                                   start_new_session=True)
    deadline = time.monotonic() + timeout
    said = ""
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise StartFailed(f"the sandbox daemon exited with code {code} while starting",
                              log_tail=home.log_tail(since=since))
        info = home.read_info()
        if info is not None and info.pid == process.pid:
            ready, said = readyz(info)
            if ready:
                _forget(process)
                return info
        time.sleep(0.1)
    _terminate(process)
    waited = f" (/readyz said: {said})" if said else ""
    raise StartFailed(f"the sandbox daemon was not ready after {timeout:g} s{waited}; stopped it",
                      log_tail=home.log_tail(since=since))


def _forget(process: subprocess.Popen[bytes]) -> None:
    """The daemon lives on after this command: do not warn about it at exit."""
    process.returncode = 0


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# Stopping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopResult:
    pid: int
    #: SIGTERM did not end it in time: its process group was killed.
    forced: bool = False
    #: Processes it had started that outlived it and were killed here.
    killed: list[int] = field(default_factory=list)
    #: Processes of it still alive at the end (should be none).
    remaining: list[int] = field(default_factory=list)


def stop_daemon(home: DaemonHome, *, timeout: float = 30.0) -> StopResult | None:
    """Stop the daemon of ``home`` (None if none runs) and everything it started.

    SIGTERM lets it stop the cluster in order (every pod process dies with
    it); after ``timeout`` its process group gets SIGKILL, and the watchdog
    of the container runtimes kills the pods. Whatever it had started and is
    still alive a few seconds later is killed here and reported.
    """
    running = find_daemon(home)
    if running is None:
        return None
    try:
        daemon = psutil.Process(running.pid)
        descendants = daemon.children(recursive=True)
        daemon.send_signal(signal.SIGTERM)
    except psutil.NoSuchProcess:
        _clean(home)
        return StopResult(running.pid)
    forced = False
    if _wait_gone([daemon], timeout):
        forced = True
        _kill_group(running.pid)
        _wait_gone([daemon], 5)
    alive = _wait_gone(descendants, 5)
    killed: list[int] = []
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
            killed.append(process.pid)
    _wait_gone(alive, 5)
    _clean(home)
    remaining = [p.pid for p in (daemon, *descendants) if _alive(p)]
    return StopResult(running.pid, forced=forced, killed=killed, remaining=remaining)


def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until none is alive (zombies count as gone: their reaper may be slow,
    and psutil's own wait would sit out the whole timeout); those still alive."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in processes if _alive(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (a zombie is dead, waiting for its parent to reap it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:  # a --foreground daemon shares its shell's group: only it goes
            os.kill(pid, signal.SIGKILL)


def _clean(home: DaemonHome) -> None:
    """Remove what a killed daemon could not (find_daemon removes only stale files)."""
    find_daemon(home)


def port_free(port: int, *, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be listened on now (0 always can)."""
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True
