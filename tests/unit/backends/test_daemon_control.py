"""The home's files and the pid lock: one daemon per home, stale files cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.backends.inprocess.control import (
    AlreadyRunning,
    DaemonHome,
    DaemonInfo,
    PidLock,
    StartFailed,
    cluster_ref,
    find_daemon,
    start_daemon,
    stop_daemon,
)


@pytest.fixture
def files(tmp_path: Path) -> DaemonHome:
    return DaemonHome(tmp_path)


def _info(files: DaemonHome, pid: int) -> DaemonInfo:
    return DaemonInfo(pid=pid, api_url="https://127.0.0.1:1", web_url="http://127.0.0.1:2",
                      kubeconfig=str(files.kubeconfig), cluster="default",
                      started="2024-01-01T00:00:00Z", home=str(files.path))


def test_home_comes_from_the_argument_then_sandbox_home_then_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SANDBOX_HOME", str(tmp_path / "env"))
    assert DaemonHome.resolve(tmp_path / "arg").path == tmp_path / "arg"
    assert DaemonHome.resolve().path == tmp_path / "env"
    monkeypatch.delenv("SANDBOX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert DaemonHome.resolve().path == tmp_path / ".kf-sandbox"


def test_a_held_lock_is_a_running_daemon_with_its_pid(files: DaemonHome) -> None:
    lock = PidLock(files)
    lock.acquire()
    try:
        assert find_daemon(files).pid == os.getpid()
        assert files.pid_file.read_text() == f"{os.getpid()}\n"
    finally:
        lock.release()
    assert not files.pid_file.exists()
    assert find_daemon(files) is None


def test_a_second_lock_on_the_home_is_refused(files: DaemonHome) -> None:
    first = PidLock(files)
    first.acquire()
    # flock locks belong to open file descriptions: a second open in this
    # process conflicts exactly as another process would.
    with pytest.raises(AlreadyRunning, match=rf"already running in .* \(pid {os.getpid()}\)"):
        PidLock(files).acquire(attempts=2, interval=0)
    first.release()


def test_info_is_only_believed_from_the_daemon_holding_the_lock(files: DaemonHome) -> None:
    lock = PidLock(files)
    lock.acquire()
    files.write_info(_info(files, pid=1))  # written by some earlier daemon
    assert find_daemon(files).info is None
    files.write_info(_info(files, pid=os.getpid()))
    assert find_daemon(files).info == _info(files, pid=os.getpid())
    lock.release()


def test_files_left_by_a_killed_daemon_are_removed(files: DaemonHome) -> None:
    child = subprocess.run(
        [sys.executable, "-c",
         "import sys; from sandbox.backends.inprocess.control import DaemonHome, PidLock;"
         "PidLock(DaemonHome(__import__('pathlib').Path(sys.argv[1]))).acquire();"
         "import os; os._exit(9)", str(files.path)],
        check=False)
    assert child.returncode == 9
    files.write_info(_info(files, pid=12345))
    assert files.pid_file.exists()
    assert find_daemon(files) is None
    assert not files.pid_file.exists()
    assert not files.info_file.exists()


def test_stopping_without_a_daemon_returns_none(files: DaemonHome) -> None:
    assert stop_daemon(files) is None


def test_the_log_tail_starts_at_this_start(files: DaemonHome) -> None:
    files.log_file.write_text("old run\n")
    since = files.log_file.stat().st_size
    with files.log_file.open("a") as log:
        log.write("".join(f"line {i}\n" for i in range(30)))
    assert files.log_tail(since=since, lines=3) == ["line 27", "line 28", "line 29"]
    assert "old run" not in files.log_tail(since=since, lines=100)


def test_the_recorded_cluster_counts_only_with_a_store(files: DaemonHome) -> None:
    files.record_cluster("gpu")
    assert files.recorded_cluster() is None
    files.store_db.touch()
    assert files.recorded_cluster() == "gpu"


def test_cluster_files_are_recorded_by_absolute_path(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cluster_ref("default") == "default"
    assert cluster_ref("mine.yaml") == str(tmp_path / "mine.yaml")


@pytest.mark.slow
def test_a_daemon_that_fails_to_start_is_reported_with_its_log_tail(files: DaemonHome) -> None:
    files.path.mkdir(exist_ok=True)
    files.log_file.write_text("an earlier run's line\n")
    with pytest.raises(StartFailed, match="exited with code 1 while starting") as failed:
        start_daemon(files, cluster="nope", port=0, web_port=0, timeout=30)
    assert "an earlier run's line" not in failed.value.log_tail
    assert "no cluster named 'nope'" in failed.value.log_tail[-1]
    assert find_daemon(files) is None
