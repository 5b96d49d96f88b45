"""The simulated runtime: a container lifecycle on the clock, with no process."""

from __future__ import annotations

import asyncio
import signal

from containers_helpers import log_lines, make_spec

from sandbox.clock import FakeClock
from sandbox.cluster.runtime.simulated import SimulatedRuntime


async def test_a_run_logs_one_line_and_ends_after_its_duration_with_its_code(clock, tmp_path):
    runtime = SimulatedRuntime(clock=clock)
    spec = make_spec(tmp_path, ["train"], simulated_duration=10.0, simulated_exit_code=3)
    handle = await runtime.start(spec)
    assert handle.pid is None
    assert handle.rss_bytes() == 0
    [line] = log_lines(spec)
    assert (line.stream, line.text) == ("stdout", "simulated container main started")
    assert line.time.startswith("2026-01-01T00:00:00.")
    await clock.advance(9.9)
    assert handle.returncode() is None
    await clock.advance(0.1)
    assert handle.returncode() == 3
    assert await handle.wait() == 3


async def test_start_takes_the_start_delay(clock, tmp_path):
    runtime = SimulatedRuntime(clock=clock, start_delay=2.0)
    spec = make_spec(tmp_path, ["serve"])
    starting = asyncio.create_task(runtime.start(spec))
    await clock.advance(1.9)
    assert not starting.done()
    assert not spec.log_path.exists()
    await clock.advance(0.1)
    handle = await starting
    assert handle.returncode() is None
    assert log_lines(spec)[0].time.startswith("2026-01-01T00:00:02.")


async def test_without_a_duration_a_run_lasts_until_signalled(clock, tmp_path):
    runtime = SimulatedRuntime(clock=clock)
    handle = await runtime.start(make_spec(tmp_path, ["serve"]))
    await clock.advance(3600)
    assert handle.returncode() is None
    handle.signal(0)  # a probe, not a kill
    assert handle.returncode() is None
    handle.signal(signal.SIGTERM)
    assert await handle.wait() == 143


async def test_a_signal_ends_a_timed_run_early_and_only_once(clock, tmp_path):
    runtime = SimulatedRuntime(clock=clock)
    handle = await runtime.start(make_spec(tmp_path, ["x"], simulated_duration=5.0))
    handle.signal(signal.SIGKILL)
    handle.signal(signal.SIGTERM)
    await clock.advance(10)
    assert await handle.wait() == 137
    assert clock.sleepers == 0


async def test_close_ends_every_run_as_killed(tmp_path):
    clock = FakeClock()
    runtime = SimulatedRuntime(clock=clock)
    forever = await runtime.start(make_spec(tmp_path, ["a"], name="a"))
    timed = await runtime.start(make_spec(tmp_path, ["b"], name="b", simulated_duration=60.0))
    await runtime.close()
    assert (forever.returncode(), timed.returncode()) == (137, 137)
    assert clock.sleepers == 0
