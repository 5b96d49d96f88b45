"""The log source: which run kubectl would read, its options, and follow."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.api.errors import BadRequest
from sandbox.clock import FakeClock
from sandbox.cluster.kubelet.logs import KubeletLogSource, LiveRuns
from sandbox.cluster.logfmt import LogWriter
from sandbox.cluster.paths import SandboxPaths


def a_pod(*statuses, containers=("main",)):
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1"},
        "spec": {"containers": [{"name": c} for c in containers]},
        "status": {"containerStatuses": list(statuses)},
    }


def status(state, *, restarts=0, last=None, name="main"):
    return {"name": name, "state": state, "lastState": last or {}, "restartCount": restarts}


RUNNING = {"running": {"startedAt": "x"}}
CRASHED = {"terminated": {"exitCode": 1}}
LOOPING = {"waiting": {"reason": "CrashLoopBackOff"}}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def source(tmp_path, clock):
    return KubeletLogSource(SandboxPaths(tmp_path), clock=clock)


def write(source, run, *lines, clock, container="main", partial=()):
    path = source.paths.container_log("default", "web", "uid-1", container, run)
    writer = LogWriter(path, now=clock.now)
    for i, line in enumerate(lines):
        writer.write("stdout", line, partial=i in partial)
    writer.close()
    return path


async def read(source, pod, **options):
    defaults = {"container": None, "previous": False, "tail_lines": None, "since_seconds": None,
                "timestamps": False}
    return await source.read("default", pod, **{**defaults, **options})


@pytest.mark.parametrize(
    ("state", "restarts", "last", "current", "previous"),
    [
        (RUNNING, 0, None, 0, None),
        (RUNNING, 2, CRASHED, 2, 1),
        (CRASHED, 1, CRASHED, 1, 0),
        (LOOPING, 1, CRASHED, 1, 1),
    ],
)
async def test_current_and_previous_runs_follow_the_container_status(
    source, clock, state, restarts, last, current, previous
):
    for run in range(3):
        write(source, run, f"run {run}", clock=clock)
    pod = a_pod(status(state, restarts=restarts, last=last))
    assert await read(source, pod) == f"run {current}\n"
    if previous is None:
        with pytest.raises(BadRequest, match='previous terminated container "main" in pod "web" not found'):
            await read(source, pod, previous=True)
    else:
        assert await read(source, pod, previous=True) == f"run {previous}\n"


async def test_a_container_that_never_ran_is_waiting_to_start(source):
    pod = a_pod(status({"waiting": {"reason": "ImagePullBackOff"}}))
    with pytest.raises(BadRequest) as caught:
        await read(source, pod)
    assert str(caught.value) == 'container "main" in pod "web" is waiting to start: ImagePullBackOff'


async def test_a_pod_with_several_containers_needs_a_name(source):
    pod = a_pod(containers=("a", "b"))
    with pytest.raises(BadRequest) as caught:
        await read(source, pod)
    assert str(caught.value) == "a container name must be specified for pod web, choose one of: [a b]"
    with pytest.raises(BadRequest, match="container c is not valid for pod web"):
        await read(source, pod, container="c")


async def test_without_status_the_newest_file_is_read(source, clock):
    write(source, 0, "first", clock=clock)
    write(source, 1, "second", clock=clock)
    pod = a_pod()
    assert await read(source, pod) == "second\n"
    assert await read(source, pod, previous=True) == "first\n"


async def test_tail_since_and_timestamps(source, clock):
    path = source.paths.container_log("default", "web", "uid-1", "main", 0)
    writer = LogWriter(path, now=clock.now)
    writer.write("stdout", "old")
    await clock.advance(60)
    writer.write("stdout", "new 1")
    writer.write("stderr", "new 2")
    writer.close()
    pod = a_pod(status(RUNNING))
    assert await read(source, pod, tail_lines=2) == "new 1\nnew 2\n"
    assert await read(source, pod, since_seconds=30) == "new 1\nnew 2\n"
    stamped = await read(source, pod, tail_lines=1, timestamps=True)
    assert stamped == "2026-01-01T00:01:00.000000000Z new 2\n"


async def test_partial_records_are_joined(source, clock):
    write(source, 0, "a long ", "line", "next", clock=clock, partial=(0,))
    assert await read(source, a_pod(status(RUNNING))) == "a long line\nnext\n"


async def test_follow_streams_until_the_run_ends(tmp_path, clock):
    live = LiveRuns()
    source = KubeletLogSource(SandboxPaths(tmp_path), live=live, clock=clock, poll=0.01)
    path = source.paths.container_log("default", "web", "uid-1", "main", 0)
    live.started(path)
    writer = LogWriter(path, now=clock.now)
    writer.write("stdout", "before")
    pod = a_pod(status(RUNNING))
    seen: list[str] = []

    async def follow():
        async for line in source.follow("default", pod, container=None, tail_lines=None,
                                        since_seconds=None, timestamps=False):
            seen.append(line)

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    writer.write("stdout", "after")
    await asyncio.sleep(0.05)
    assert seen == ["before", "after"]
    assert not task.done()
    writer.close()
    live.ended(path)
    await asyncio.wait_for(task, 1)
