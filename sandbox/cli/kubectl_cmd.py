"""``sandbox kubectl …``: the real kubectl, pointed at the sandbox.

Learners should use the same tool on the sandbox as on a real cluster, so
this is no imitation: it runs ``kubectl`` (``$SANDBOX_KUBECTL``, else the one
on ``PATH``) with ``KUBECONFIG=<home>/kubeconfig``, passes every argument
through unchanged and exits with kubectl's exit code. Arguments are not
parsed here once the first one that is not ``--home`` is seen, so
``sandbox kubectl get pods --help`` shows kubectl's help, not ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click

from sandbox.backends.inprocess.control import find_daemon
from sandbox.cli.options import home_option, resolve_home
from sandbox.cli.output import Printer

__all__ = ["kubectl"]

#: The exit code of a shell that cannot find a command.
COMMAND_NOT_FOUND = 127


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="""\b
Examples:
  sandbox kubectl get nodes
  sandbox kubectl apply -f deployment.yaml
  sandbox kubectl -n kubeflow get pods -o wide
  sandbox kubectl --home /tmp/sb get pods -A
  sandbox kubectl get pods --help      # kubectl's own help
""",
)
@home_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def kubectl(home: Path | None, args: tuple[str, ...]) -> None:
    """Run kubectl against the sandbox (KUBECONFIG=<home>/kubeconfig).

    Every argument goes to kubectl unchanged; the exit code is kubectl's.
    Set SANDBOX_KUBECTL to use a particular kubectl binary.
    """
    printer = Printer()
    files = resolve_home(home)
    explicit = os.environ.get("SANDBOX_KUBECTL")
    binary = shutil.which(explicit or "kubectl")
    if binary is None:
        if explicit:
            printer.error(f"SANDBOX_KUBECTL={explicit} is not an executable file")
        else:
            printer.error("kubectl is not installed (not found on PATH); install it "
                          "(https://kubernetes.io/docs/tasks/tools/) or set SANDBOX_KUBECTL "
                          "to its path")
        raise SystemExit(COMMAND_NOT_FOUND)
    if not files.kubeconfig.is_file():
        printer.error(f"no kubeconfig at {files.kubeconfig}: start the sandbox with `sandbox up`")
        raise SystemExit(1)
    if find_daemon(files) is None:
        printer.warning(f"no sandbox is running in {files.path}; kubectl will not reach it")
    env = {**os.environ, "KUBECONFIG": str(files.kubeconfig)}
    raise SystemExit(_run([binary, *args], env=env))


def _run(command: list[str], *, env: dict[str, str]) -> int:
    """Run to completion; Ctrl-C reaches kubectl too (same process group), so wait for it."""
    process = subprocess.Popen(command, env=env)
    while True:
        try:
            code = process.wait()
        except KeyboardInterrupt:
            continue
        return code if code >= 0 else 128 - code
