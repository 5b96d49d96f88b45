"""The process runtime: exit codes, CRI logs, whole-group signals, memory, cleanup."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import psutil
import pytest
from containers_helpers import all_gone, log_lines, make_spec, texts

from sandbox.clock import FakeClock
from sandbox.cluster.runtime.base import StartError
from sandbox.cluster.runtime.process import ProcessRuntime


@pytest.fixture
async def runtime() -> ProcessRuntime:
    rt = ProcessRuntime()
    yield rt
    await rt.close()


async def wait_for_pids(spec_path: Path, count: int) -> list[int]:
    """Pids a shell script wrote to a file, one a line, once ``count`` are there."""
    for _ in range(200):
        if spec_path.exists():
            pids = [int(p) for p in spec_path.read_text().split()]
            if len(pids) >= count:
                return pids
        await asyncio.sleep(0.01)
    raise AssertionError(f"{spec_path} never listed {count} pids")


async def test_exit_code_of_the_main_process_is_reported(runtime, tmp_path):
    handle = await runtime.start(make_spec(tmp_path, ["sh", "-c", "exit 3"]))
    assert await handle.wait() == 3
    assert handle.returncode() == 3


async def test_returncode_is_none_while_running(runtime, tmp_path):
    handle = await runtime.start(make_spec(tmp_path, ["sleep", "10"]))
    assert handle.returncode() is None
    assert handle.pid is not None
    handle.signal(signal.SIGKILL)
    await handle.wait()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, 137), (signal.SIGTERM, 143)])
async def test_a_signalled_process_exits_with_128_plus_the_signal(runtime, tmp_path, signum, code):
    handle = await runtime.start(make_spec(tmp_path, ["sleep", "10"]))
    handle.signal(signum)
    assert await handle.wait() == code


async def test_both_streams_are_logged_line_by_line_in_cri_format(tmp_path):
    clock = FakeClock()
    runtime = ProcessRuntime(clock=clock)
    spec = make_spec(tmp_path, ["sh", "-c", "echo one; echo oops >&2; printf 'two\\nno-newline'"])
    handle = await runtime.start(spec)
    assert await handle.wait() == 0
    await runtime.close()
    lines = log_lines(spec)
    assert {(line.stream, line.text) for line in lines} == {
        ("stdout", "one"),
        ("stderr", "oops"),
        ("stdout", "two"),
        ("stdout", "no-newline"),
    }
    assert [line.text for line in lines if line.stream == "stdout"] == ["one", "two", "no-newline"]
    # Timestamps come from the runtime's clock.
    assert all(line.time.startswith("2026-01-01T00:00:00.") for line in lines)
    assert spec.log_path.read_text().splitlines()[0].endswith(" stdout F one")


async def test_env_is_exactly_the_spec_env_and_cwd_is_honoured(runtime, tmp_path):
    spec = make_spec(
        tmp_path, ["/bin/sh", "-c", "env; pwd"], env={"ONLY": "this"}, cwd=str(tmp_path)
    )
    handle = await runtime.start(spec)
    assert await handle.wait() == 0
    out = texts(spec, "stdout")
    assert "ONLY=this" in out
    assert not any(line.startswith("HOME=") for line in out)
    assert out[-1] == str(tmp_path)


async def test_stdin_is_empty(runtime, tmp_path):
    spec = make_spec(tmp_path, ["sh", "-c", "cat; echo done"])
    handle = await runtime.start(spec)
    assert await asyncio.wait_for(handle.wait(), 5) == 0
    assert texts(spec) == ["done"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-program"], 'exec: "no-such-program": executable file not found in $PATH'),
        (["/no/such/file"], 'exec: "/no/such/file": stat /no/such/file: no such file or directory'),
    ],
)
async def test_an_executable_that_cannot_run_is_container_cannot_run(
    runtime, tmp_path, argv, message
):
    with pytest.raises(StartError) as caught:
        await runtime.start(make_spec(tmp_path, argv))
    assert caught.value.reason == "ContainerCannotRun"
    assert message in str(caught.value)


async def test_a_file_without_execute_permission_is_container_cannot_run(runtime, tmp_path):
    program = tmp_path / "program"
    program.write_text("#!/bin/sh\necho never\n")
    with pytest.raises(StartError) as caught:
        await runtime.start(make_spec(tmp_path, [str(program)]))
    assert caught.value.reason == "ContainerCannotRun"
    assert f'exec: "{program}": permission denied' in str(caught.value)


async def test_a_missing_working_directory_is_container_cannot_run(runtime, tmp_path):
    with pytest.raises(StartError, match=r'chdir to cwd \(".*/gone"\)') as caught:
        await runtime.start(make_spec(tmp_path, ["true"], cwd=str(tmp_path / "gone")))
    assert caught.value.reason == "ContainerCannotRun"


async def test_an_empty_command_cannot_be_created(runtime, tmp_path):
    with pytest.raises(StartError, match="no command specified") as caught:
        await runtime.start(make_spec(tmp_path, []))
    assert caught.value.reason == "CreateContainerError"


async def test_signal_reaches_the_whole_process_group(runtime, tmp_path):
    pids = tmp_path / "pids"
    script = f"sleep 100 & echo $! >> {pids}; sleep 100 & echo $! >> {pids}; wait"
    handle = await runtime.start(make_spec(tmp_path, ["sh", "-c", script]))
    children = await wait_for_pids(pids, 2)
    handle.signal(signal.SIGTERM)
    assert await handle.wait() == 143
    assert all_gone([handle.pid, *children])


async def test_signal_reaches_a_grandchild_that_left_the_group(runtime, tmp_path):
    pids = tmp_path / "pids"
    # setsid(1) puts the sleep in a session of its own: killpg cannot reach it.
    script = f"setsid sleep 100 & echo $! >> {pids}; wait"
    handle = await runtime.start(make_spec(tmp_path, ["sh", "-c", script]))
    [escaped] = await wait_for_pids(pids, 1)
    await asyncio.sleep(0.05)  # let setsid exec sleep
    handle.signal(signal.SIGKILL)
    assert await handle.wait() == 137
    assert all_gone([escaped])


async def test_when_the_main_process_exits_the_rest_of_the_tree_is_killed(runtime, tmp_path):
    pids = tmp_path / "pids"
    spec = make_spec(tmp_path, ["sh", "-c", f"sleep 100 & echo $! >> {pids}; echo bye"])
    handle = await runtime.start(spec)
    assert await asyncio.wait_for(handle.wait(), 5) == 0
    [background] = await wait_for_pids(pids, 1)
    assert all_gone([background])
    assert texts(spec) == ["bye"]


async def test_rss_covers_the_process_tree(runtime, tmp_path):
    pids = tmp_path / "pids"
    handle = await runtime.start(
        make_spec(tmp_path, ["sh", "-c", f"sleep 100 & echo $! >> {pids}; wait"])
    )
    [child] = await wait_for_pids(pids, 1)
    tree = psutil.Process(handle.pid).memory_info().rss + psutil.Process(child).memory_info().rss
    # Descendants are found through an index refreshed every 0.1 s.
    for _ in range(50):
        if handle.rss_bytes() >= tree:
            break
        await asyncio.sleep(0.01)
    assert handle.rss_bytes() >= tree > 0
    handle.signal(signal.SIGKILL)
    await handle.wait()
    assert handle.rss_bytes() == 0


async def test_wait_can_be_awaited_by_many(runtime, tmp_path):
    handle = await runtime.start(make_spec(tmp_path, ["sh", "-c", "sleep 0.05; exit 4"]))
    assert await asyncio.gather(handle.wait(), handle.wait()) == [4, 4]


async def test_close_kills_everything_still_running(tmp_path):
    runtime = ProcessRuntime()
    pids = tmp_path / "pids"
    first = await runtime.start(make_spec(tmp_path, ["sleep", "100"], name="a"))
    second = await runtime.start(
        make_spec(tmp_path, ["sh", "-c", f"sleep 100 & echo $! >> {pids}; wait"], name="b")
    )
    [grandchild] = await wait_for_pids(pids, 1)
    await runtime.close()
    assert first.returncode() == 137
    assert second.returncode() == 137
    assert all_gone([first.pid, second.pid, grandchild])
