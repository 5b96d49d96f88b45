"""The zygote runtime: Python containers forked from a warm interpreter behave like `python`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest
from containers_helpers import HOST_ENV, all_gone, make_spec, python_spec, texts

from sandbox.cluster.runtime import zygote as zygote_module
from sandbox.cluster.runtime.base import StartError
from sandbox.cluster.runtime.zygote import ZygoteRuntime, python_plan

PY = sys.executable


@pytest.fixture
async def runtime() -> ZygoteRuntime:
    rt = ZygoteRuntime(preload=("json", "decimal", "no_such_module_for_the_zygote"))
    yield rt
    await rt.close()


async def run(runtime, spec) -> int:
    handle = await runtime.start(spec)
    return await asyncio.wait_for(handle.wait(), 10)


async def test_a_python_container_is_a_fork_of_the_zygote(runtime, tmp_path):
    spec = python_spec(tmp_path, "import sys, time; print('hi'); time.sleep(5)")
    handle = await runtime.start(spec)
    assert psutil.Process(handle.pid).ppid() == runtime.zygote_pid
    assert os.getsid(handle.pid) == handle.pid  # a session (and group) of its own
    handle.signal(signal.SIGTERM)
    assert await handle.wait() == 143


async def test_a_container_asking_for_the_minimal_zygote_forks_from_it(tmp_path):
    runtime = ZygoteRuntime(preload=("json", "decimal"), minimal_preload=("json",))
    try:
        code = "import os, sys; print(os.getppid(), 'decimal' in sys.modules, 'json' in sys.modules)"
        default, minimal = python_spec(tmp_path / "a", code), python_spec(tmp_path / "b", code, zygote="minimal")
        assert await run(runtime, minimal) == 0
        assert await run(runtime, default) == 0
        assert runtime.pid_of("minimal") not in (None, runtime.zygote_pid)
        assert texts(minimal) == [f"{runtime.pid_of('minimal')} False True"]
        assert texts(default) == [f"{runtime.zygote_pid} True True"]
        zygotes = [runtime.pid_of("minimal"), runtime.zygote_pid]
    finally:
        await runtime.close()
    assert all_gone(zygotes)


async def test_preloaded_modules_are_already_imported_and_missing_ones_skipped(runtime, tmp_path):
    spec = python_spec(tmp_path, "import sys; print('decimal' in sys.modules)")
    assert await run(runtime, spec) == 0
    assert texts(spec) == ["True"]


async def test_missing_preload_modules_and_packages_are_skipped_silently(tmp_path, capfd):
    runtime = ZygoteRuntime(preload=("json", "no_such_module_here", "no_such_package_here.sub"))
    try:
        spec = python_spec(tmp_path, "import sys; print('json' in sys.modules)")
        assert await run(runtime, spec) == 0
        assert texts(spec) == ["True"]
    finally:
        await runtime.close()
    assert "cannot preload" not in capfd.readouterr().err


async def test_both_streams_reach_the_log(runtime, tmp_path):
    spec = python_spec(tmp_path, "import sys; print('out'); print('err', file=sys.stderr)")
    assert await run(runtime, spec) == 0
    assert texts(spec, "stdout") == ["out"]
    assert texts(spec, "stderr") == ["err"]


@pytest.mark.parametrize(
    ("code", "exit_code", "stderr"),
    [
        ("pass", 0, []),
        ("raise SystemExit(3)", 3, []),
        ("import sys; sys.exit(None)", 0, []),
        ("import sys; sys.exit('bye now')", 1, ["bye now"]),
        ("import sys; sys.exit(256 + 7)", 7, []),
    ],
)
async def test_exit_codes_follow_system_exit(runtime, tmp_path, code, exit_code, stderr):
    spec = python_spec(tmp_path, code)
    assert await run(runtime, spec) == exit_code
    assert texts(spec, "stderr") == stderr


async def test_an_uncaught_exception_exits_1_with_the_interpreters_traceback(runtime, tmp_path):
    spec = python_spec(tmp_path, "def f():\n    1 / 0\nf()")
    assert await run(runtime, spec) == 1
    assert texts(spec, "stderr") == [
        "Traceback (most recent call last):",
        '  File "<string>", line 3, in <module>',
        '  File "<string>", line 2, in f',
        "ZeroDivisionError: division by zero",
    ]


async def test_keyboard_interrupt_ends_like_the_interpreter_with_sigint(runtime, tmp_path):
    spec = python_spec(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGINT)")
    assert await run(runtime, spec) == 130
    assert texts(spec, "stderr")[-1] == "KeyboardInterrupt"


async def test_env_is_exactly_the_spec_env_and_cwd_is_honoured(runtime, tmp_path):
    code = "import os, json; print(json.dumps(dict(os.environ))); print(os.getcwd())"
    spec = python_spec(tmp_path, code, env={"GREETING": "hello"}, cwd=str(tmp_path))
    assert await run(runtime, spec) == 0
    environ, cwd = texts(spec)
    assert json.loads(environ) == {"GREETING": "hello"}
    assert cwd == str(tmp_path)


async def test_a_large_environment_reaches_concurrent_children_intact(runtime, tmp_path):
    # Frames bigger than the socket buffer are sent in pieces.
    big = "x" * 2**20
    code = "import os; print(len(os.environ['BIG']), os.environ['NAME'])"
    specs = [
        python_spec(tmp_path, code, env={"BIG": big, "NAME": f"c{i}"}, name=f"c{i}")
        for i in range(4)
    ]
    handles = await asyncio.gather(*(runtime.start(spec) for spec in specs))
    assert await asyncio.gather(*(h.wait() for h in handles)) == [0] * 4
    assert [texts(spec) for spec in specs] == [[f"{2**20} c{i}"] for i in range(4)]


async def test_a_start_cancelled_before_the_answer_leaves_no_process(
    runtime, tmp_path, monkeypatch
):
    send = zygote_module._Zygote._send
    killed: list[int] = []
    killpg = os.killpg

    async def send_then_cancel(self, frame, fds):
        await send(self, frame, fds)
        starting.cancel()  # the request is out: the zygote forks regardless

    def recording_killpg(pgid, signum):
        killed.append(pgid)
        killpg(pgid, signum)

    monkeypatch.setattr(zygote_module._Zygote, "_send", send_then_cancel)
    monkeypatch.setattr(zygote_module.os, "killpg", recording_killpg)
    starting = asyncio.create_task(
        runtime.start(python_spec(tmp_path, "import time; time.sleep(30)"))
    )
    with pytest.raises(asyncio.CancelledError):
        await starting
    for _ in range(200):
        if killed:
            break
        await asyncio.sleep(0.01)
    assert killed, "the abandoned child was never killed"
    assert all_gone(killed)


async def test_without_a_cwd_a_fork_starts_in_the_owners_directory(runtime, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = python_spec(tmp_path, "import os; print(os.getcwd())")
    assert await run(runtime, spec) == 0
    assert texts(spec) == [str(tmp_path)]


async def test_a_missing_working_directory_is_container_cannot_run(runtime, tmp_path):
    with pytest.raises(StartError, match="chdir to cwd") as caught:
        await runtime.start(python_spec(tmp_path, "pass", cwd=str(tmp_path / "gone")))
    assert caught.value.reason == "ContainerCannotRun"


async def test_dash_m_runs_a_module_from_pythonpath_with_its_arguments(runtime, tmp_path):
    package = tmp_path / "lib" / "tool"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("import sys\nprint(__name__, sys.argv)\n")
    spec = make_spec(
        tmp_path,
        [PY, "-m", "tool", "--flag", "x"],
        env={"PYTHONPATH": str(tmp_path / "lib")},
        python=True,
    )
    assert await run(runtime, spec) == 0
    assert texts(spec) == [f"__main__ {[str(package / '__main__.py'), '--flag', 'x']}"]


async def test_the_owners_pythonpath_does_not_leak_into_forks(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "owner-only"))
    runtime = ZygoteRuntime(preload=())
    try:
        spec = python_spec(tmp_path, "import sys; print(any('owner-only' in p for p in sys.path))")
        assert await run(runtime, spec) == 0
    finally:
        await runtime.close()
    assert texts(spec) == ["False"]


async def test_dash_m_with_a_missing_module_exits_1_with_the_interpreters_message(
    runtime, tmp_path
):
    spec = make_spec(tmp_path, [PY, "-m", "no_such_module_anywhere"], python=True)
    assert await run(runtime, spec) == 1
    assert texts(spec, "stderr") == [f"{PY}: No module named no_such_module_anywhere"]


async def test_a_script_runs_with_its_directory_first_on_sys_path(runtime, tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    script = tmp_path / "train.py"
    script.write_text("import sys, helper\nprint(helper.VALUE, sys.argv, __file__)\n")
    spec = make_spec(tmp_path, [PY, "-u", str(script), "--epochs", "2"], python=True)
    assert await run(runtime, spec) == 0
    assert texts(spec) == [f"42 {[str(script), '--epochs', '2']} {script}"]


async def test_a_missing_script_exits_2_like_the_interpreter(runtime, tmp_path):
    missing = tmp_path / "nope.py"
    spec = make_spec(tmp_path, [PY, str(missing)], python=True)
    assert await run(runtime, spec) == 2
    assert texts(spec, "stderr") == [
        f"{PY}: can't open file {str(missing)!r}: [Errno 2] No such file or directory"
    ]


@pytest.mark.parametrize(("flags", "logged"), [(["-u"], ["before"]), ([], [])])
async def test_output_buffering_is_the_interpreters(runtime, tmp_path, flags, logged):
    # Block-buffered stdout on a pipe loses what a SIGKILL cuts short; -u does not.
    code = "import os, signal; print('before'); os.kill(os.getpid(), signal.SIGKILL)"
    spec = make_spec(tmp_path, [PY, *flags, "-c", code], python=True)
    assert await run(runtime, spec) == 137
    assert texts(spec) == logged


async def test_non_daemon_threads_are_joined_and_atexit_handlers_run(runtime, tmp_path):
    code = textwrap.dedent(
        """
        import atexit, threading, time
        atexit.register(print, "atexit")
        threading.Thread(target=lambda: (time.sleep(0.05), print("thread"))).start()
        print("main")
        """
    )
    spec = python_spec(tmp_path, code)
    assert await run(runtime, spec) == 0
    assert texts(spec) == ["main", "thread", "atexit"]


async def test_children_do_not_share_random_state(runtime, tmp_path):
    specs = [
        python_spec(tmp_path, "import random; print(random.random())", name=f"r{i}")
        for i in range(2)
    ]
    for spec in specs:
        assert await run(runtime, spec) == 0
    assert texts(specs[0]) != texts(specs[1])


async def test_concurrent_spawns_each_get_their_own_output(runtime, tmp_path):
    specs = [python_spec(tmp_path, f"print('container {i}')", name=f"c{i}") for i in range(12)]
    handles = await asyncio.gather(*(runtime.start(spec) for spec in specs))
    assert await asyncio.gather(*(h.wait() for h in handles)) == [0] * 12
    assert [texts(spec) for spec in specs] == [[f"container {i}"] for i in range(12)]


async def test_memory_is_the_private_memory_of_the_tree(runtime, tmp_path):
    spec = python_spec(tmp_path, "import time; data = bytearray(30 * 2**20); time.sleep(5)")
    handle = await runtime.start(spec)
    for _ in range(200):
        if handle.rss_bytes() > 30 * 2**20:
            break
        await asyncio.sleep(0.01)
    private = handle.rss_bytes()
    assert 30 * 2**20 < private < psutil.Process(handle.pid).memory_info().rss + 1
    handle.signal(signal.SIGKILL)
    assert await handle.wait() == 137


async def test_a_killed_zygote_takes_its_children_and_is_restarted_on_next_use(runtime, tmp_path):
    handle = await runtime.start(python_spec(tmp_path, "import time; time.sleep(30)", name="a"))
    first = runtime.zygote_pid
    os.kill(first, signal.SIGKILL)
    assert await asyncio.wait_for(handle.wait(), 5) == 137
    assert all_gone([handle.pid])
    spec = python_spec(tmp_path, "print('again')", name="b")
    assert await run(runtime, spec) == 0
    assert texts(spec) == ["again"]
    assert runtime.zygote_pid not in (None, first)


async def test_non_python_containers_run_as_plain_processes(runtime, tmp_path):
    spec = make_spec(tmp_path, ["sh", "-c", "echo $PPID"])
    assert await run(runtime, spec) == 0
    assert texts(spec) == [str(os.getpid())]


async def test_python_options_a_fork_cannot_honour_start_a_real_interpreter(runtime, tmp_path):
    spec = make_spec(
        tmp_path, [PY, "-O", "-c", "import os; print(__debug__, os.getppid())"], python=True
    )
    assert await run(runtime, spec) == 0
    assert texts(spec) == [f"False {os.getpid()}"]


async def test_close_kills_every_container(tmp_path):
    runtime = ZygoteRuntime(preload=())
    forked = await runtime.start(python_spec(tmp_path, "import time; time.sleep(30)", name="a"))
    plain = await runtime.start(make_spec(tmp_path, ["sleep", "30"], name="b"))
    zygote = runtime.zygote_pid
    await runtime.close()
    assert forked.returncode() == 137
    assert plain.returncode() == 137
    assert all_gone([forked.pid, plain.pid, zygote])


OWNER = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from pathlib import Path
    from sandbox.cluster.runtime.base import ContainerSpec
    from sandbox.cluster.runtime.zygote import ZygoteRuntime

    async def main():
        runtime = ZygoteRuntime(preload=())
        tmp = Path(sys.argv[1])
        code = "import subprocess, time; p = subprocess.Popen(['sleep', '1000']); print(p.pid, flush=True); time.sleep(1000)"
        spec = ContainerSpec(
            namespace="ns", pod_name="p", pod_uid="u", container_name="c",
            argv=[sys.executable, "-c", code], env={"PATH": os.environ["PATH"]}, cwd=None,
            log_path=tmp / "c.log", python=True,
        )
        handle = await runtime.start(spec)
        while not (tmp / "c.log").exists() or not (tmp / "c.log").read_text():
            await asyncio.sleep(0.01)
        grandchild = int((tmp / "c.log").read_text().split()[-1])
        print(json.dumps([runtime.zygote_pid, handle.pid, grandchild]), flush=True)
        await asyncio.sleep(1000)

    asyncio.run(main())
    """
)


def test_the_zygote_and_its_children_die_when_the_owner_is_sigkilled(tmp_path):
    owner = subprocess.Popen([PY, "-c", OWNER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        pids = json.loads(owner.stdout.readline())
        assert all(psutil.pid_exists(pid) for pid in pids)
    finally:
        owner.kill()
        owner.wait()
    assert all_gone(pids)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([PY, "-c", "x"], ("c", "x", [], set())),
        ([PY, "-uB", "-c", "x", "a"], ("c", "x", ["a"], {"unbuffered", "no_bytecode"})),
        ([PY, "-cx", "a"], ("c", "x", ["a"], set())),
        ([PY, "-E", "-m", "pkg.mod", "-v"], ("m", "pkg.mod", ["-v"], {"ignore_env"})),
        ([PY, "-P", "-q", "script.py", "-c"], ("script", "script.py", ["-c"], {"safe_path"})),
        ([PY, "--", "-weird.py"], ("script", "-weird.py", [], set())),
    ],
)
def test_python_plan_reads_the_interpreters_command_line(argv, expected):
    plan = python_plan(argv, HOST_ENV)
    assert plan is not None
    flags = {
        f for f in ("unbuffered", "no_bytecode", "ignore_env", "safe_path") if getattr(plan, f)
    }
    assert (plan.mode, plan.target, plan.args, flags) == expected


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["/usr/bin/other-python", "-c", "x"], {}),
        ([PY], {}),
        ([PY, "-"], {}),
        ([PY, "-c"], {}),
        ([PY, "-O", "-c", "x"], {}),
        ([PY, "-W", "error", "-c", "x"], {}),
        ([PY, "--version"], {}),
        ([PY, "-c", "x"], {"PYTHONHASHSEED": "0"}),
        ([PY, "-c", "x"], {"PYTHONWARNINGS": "error"}),
    ],
)
def test_python_plan_refuses_what_a_fork_cannot_reproduce(argv, env):
    assert python_plan(argv, env) is None


def test_dash_e_makes_interpreter_variables_irrelevant():
    assert python_plan([PY, "-E", "-c", "x"], {"PYTHONHASHSEED": "0"}) is not None
    # Variables with a PYTHON prefix that the interpreter does not read are fine.
    assert python_plan([PY, "-c", "x"], {"PYTHON_VERSION": "3.11.7"}) is not None
