"""No orphans: container processes die with the process that owns the runtime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from containers_helpers import all_gone

from sandbox.cluster.runtime.reaper import Reaper

OWNER = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from pathlib import Path
    from sandbox.cluster.runtime.base import ContainerSpec
    from sandbox.cluster.runtime.process import ProcessRuntime

    async def main():
        runtime = ProcessRuntime()
        tmp = Path(sys.argv[1])
        pids = []
        for i, argv in enumerate([
            ["sleep", "1000"],
            ["sh", "-c", f"sleep 1000 & echo $! > {tmp}/bg; wait"],
        ]):
            spec = ContainerSpec(
                namespace="ns", pod_name="p", pod_uid="u", container_name=f"c{i}",
                argv=argv, env={"PATH": os.environ["PATH"]}, cwd=None,
                log_path=tmp / f"c{i}.log",
            )
            pids.append((await runtime.start(spec)).pid)
        while not (tmp / "bg").exists() or not (tmp / "bg").read_text().strip():
            await asyncio.sleep(0.01)
        pids.append(int((tmp / "bg").read_text()))
        print(json.dumps(pids), flush=True)
        await asyncio.sleep(1000)

    asyncio.run(main())
    """
)


def test_containers_and_their_children_die_when_the_owner_is_sigkilled(tmp_path):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        pids = json.loads(owner.stdout.readline())
        assert len(pids) == 3
        assert all(psutil.pid_exists(pid) for pid in pids)
    finally:
        owner.kill()
        owner.wait()
    assert all_gone(pids)


def test_the_watchdog_kills_registered_groups_when_its_owner_dies(tmp_path):
    # An owner with no parent-death signal on its children: only the watchdog
    # stands between them and orphanhood.
    code = textwrap.dedent(
        """
        import subprocess, sys
        from sandbox.cluster.runtime.reaper import Reaper
        reaper = Reaper()
        child = subprocess.Popen(["sh", "-c", "sleep 1000 & wait"], start_new_session=True)
        reaper.register(child.pid)
        print(child.pid, reaper.pid, flush=True)
        child.wait()
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child, watchdog = map(int, owner.stdout.readline().split())
        deadline = time.monotonic() + 5
        while len(psutil.Process(child).children()) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        [grandchild] = psutil.Process(child).children()
    finally:
        owner.kill()
        owner.wait()
    assert all_gone([child, grandchild.pid, watchdog])


def test_withdrawn_groups_are_left_alone(tmp_path):
    reaper = Reaper()
    bystander = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        reaper.register(bystander.pid)
        reaper.unregister(bystander.pid)
        reaper.close()
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_closing_the_reaper_kills_what_is_still_registered():
    reaper = Reaper()
    child = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    reaper.register(child.pid)
    reaper.close()
    assert child.wait(timeout=5) == -signal.SIGKILL


def test_a_dead_watchdog_is_replaced_and_learns_every_live_group():
    reaper = Reaper()
    first = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    second = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        reaper.register(first.pid)
        old = reaper.pid
        os.kill(old, signal.SIGKILL)
        assert all_gone([old])
        reaper.register(second.pid)
        assert reaper.pid != old
        reaper.close()
        assert first.wait(timeout=5) == -signal.SIGKILL
        assert second.wait(timeout=5) == -signal.SIGKILL
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_a_direct_child_dies_with_its_parent_through_the_parent_death_signal():
    code = textwrap.dedent(
        """
        import subprocess
        from sandbox.cluster.runtime.reaper import pdeathsig_preexec
        child = subprocess.Popen(["sleep", "1000"], preexec_fn=pdeathsig_preexec())
        print(child.pid, flush=True)
        child.wait()
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(owner.stdout.readline())
    finally:
        owner.kill()
        owner.wait()
    assert all_gone([child])
