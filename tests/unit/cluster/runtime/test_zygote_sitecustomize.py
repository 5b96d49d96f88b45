"""A forked container runs the sitecustomize its PYTHONPATH provides, as `python` would."""

from __future__ import annotations

import asyncio

import pytest
from containers_helpers import HOST_ENV, python_spec, texts

from sandbox.cluster.runtime.zygote import ZygoteRuntime


@pytest.fixture
async def runtime():
    rt = ZygoteRuntime(preload=())
    yield rt
    await rt.close()


async def run(runtime: ZygoteRuntime, spec) -> int:
    handle = await runtime.start(spec)
    assert handle.pid is not None
    return await asyncio.wait_for(handle.wait(), 10)


async def test_a_sitecustomize_on_pythonpath_runs_before_the_program(runtime, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import builtins; builtins.CUSTOMIZED = 'yes'\n")
    spec = python_spec(tmp_path, "import os; print(CUSTOMIZED, os.getppid())",
                       env={**HOST_ENV, "PYTHONPATH": str(site)})
    assert await run(runtime, spec) == 0
    assert texts(spec) == [f"yes {runtime.zygote_pid}"]  # a fork, not a new interpreter


async def test_a_failing_sitecustomize_is_reported_and_the_program_still_runs(runtime, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("raise ValueError('bad setup')\n")
    spec = python_spec(tmp_path, "print('ran')", env={**HOST_ENV, "PYTHONPATH": str(site)})
    assert await run(runtime, spec) == 0
    assert texts(spec, "stderr") == [
        "Error in sitecustomize; set PYTHONVERBOSE for traceback:", "ValueError: bad setup"
    ]
    assert texts(spec, "stdout") == ["ran"]


async def test_python_dash_e_ignores_it(runtime, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("print('customized')\n")
    spec = python_spec(tmp_path, "print('ran')", env={**HOST_ENV, "PYTHONPATH": str(site)})
    spec.argv[1:1] = ["-E"]
    assert await run(runtime, spec) == 0
    assert texts(spec) == ["ran"]


async def test_each_container_runs_the_sitecustomize_as_it_is_now(runtime, tmp_path):
    """The zygote finds and compiles it once per PYTHONPATH, and again when the file changes."""
    import os

    site = tmp_path / "site"
    site.mkdir()
    custom = site / "sitecustomize.py"
    custom.write_text("import builtins; builtins.VERSION = 1\n")
    env = {**HOST_ENV, "PYTHONPATH": str(site)}
    first, second, third = (python_spec(tmp_path / name, "print(VERSION)", env=env) for name in "abc")
    assert await run(runtime, first) == 0 and await run(runtime, second) == 0
    custom.write_text("import builtins; builtins.VERSION = 2\n")
    stamp = custom.stat().st_mtime + 5
    os.utime(custom, (stamp, stamp))  # a different mtime whatever the filesystem's resolution
    assert await run(runtime, third) == 0
    assert texts(first) == texts(second) == ["1"] and texts(third) == ["2"]
