"""``run`` and ``kubectl``: other programs, pointed at the scenario's cluster.

Both start a child process with an argument list (never a shell), the
environment of the runner plus ``KUBECONFIG`` — the run's kubeconfig, whose
context namespace is the scenario's — and ``SANDBOX_NAMESPACE``; stdout and
stderr are read together, as a learner sees them in a terminal. The step
shows the command line and its output, then checks the exit code and, when
given, a regex searched in the output. A process still running at the
step's timeout is killed and the step fails.

- ``run``: ``python SCRIPT ARGS`` (relative to the scenario folder) or
  ``python -m MODULE ARGS``, with this interpreter — so a script can use the
  Kubernetes or Kubeflow SDKs installed beside kf-sandbox; it runs in the
  scenario's folder.
- ``kubectl``: the real kubectl (``$SANDBOX_KUBECTL``, else the first
  ``kubectl`` on ``PATH``). A machine without kubectl gets an error that says
  so, not a failure of the scenario's logic.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from sandbox.scenario.context import StepContext
from sandbox.scenario.results import StepError, StepFailed
from sandbox.scenario.steps import Kubectl, Run

__all__ = ["find_kubectl", "kubectl", "run"]


def find_kubectl() -> str | None:
    """The kubectl to run: ``$SANDBOX_KUBECTL`` or the one on ``PATH``."""
    return os.environ.get("SANDBOX_KUBECTL") or shutil.which("kubectl")


async def run(spec: Run, ctx: StepContext) -> None:
    if spec.script is not None:
        script = ctx.path(spec.script)
        if not script.is_file():
            raise StepError(f"script {spec.script} not found in {ctx.scenario_dir}")
        argv = [sys.executable, str(script), *spec.args]
        shown = ["python", spec.script, *spec.args]
    else:
        argv = [sys.executable, "-m", str(spec.module), *spec.args]
        shown = ["python", "-m", str(spec.module), *spec.args]
    await _execute(argv, shown, ctx, cwd=ctx.scenario_dir, timeout=spec.timeout,
                   exit_code=spec.expect_exit_code, pattern=spec.expect_output)


async def kubectl(spec: Kubectl, ctx: StepContext) -> None:
    binary = find_kubectl()
    if binary is None:
        raise StepError("kubectl is not installed (not on PATH, $SANDBOX_KUBECTL unset); "
                        "see https://kubernetes.io/docs/tasks/tools/")
    await _execute([binary, *spec.args], ["kubectl", *spec.args], ctx, cwd=ctx.scenario_dir,
                   timeout=spec.timeout, exit_code=spec.expect_exit_code, pattern=spec.expect_output)


async def _execute(argv: list[str], shown: list[str], ctx: StepContext, *, cwd: Path, timeout: float,
                   exit_code: int, pattern: str | None) -> None:
    line = shlex.join(shown)
    ctx.progress(f"running {line}")
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=ctx.child_env(), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        ctx.command(line, out.decode(errors="replace"))
        raise StepFailed(f"{line} was still running after {timeout:g}s; killed it") from None
    output = out.decode(errors="replace")
    ctx.command(line, output)
    if process.returncode != exit_code:
        raise StepFailed(f"{line} exited with {process.returncode}, expected {exit_code}",
                         details=_tail(output))
    if pattern is not None and not re.search(pattern, output, re.MULTILINE):
        raise StepFailed(f"the output of {line} does not match /{pattern}/", details=_tail(output))


def _tail(output: str, lines: int = 30) -> str:
    kept = output.rstrip("\n").splitlines()[-lines:]
    return "\n".join(f"  {line}" for line in kept) or "  <no output>"
