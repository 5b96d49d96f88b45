"""Entry point of the ``sandbox`` command.

One click group; each area of commands lives in its own module and is added
here, so ``main.py`` is the table of contents:

- :mod:`.daemon_cmds` — ``up``, ``status``, ``down``: the background sandbox;
- :mod:`.kubectl_cmd` — ``kubectl …``: the real kubectl with the sandbox's kubeconfig;
- :mod:`.verbs` — ``get``, ``describe``, ``logs``, ``events``, ``wait``: kubectl's reading verbs;
- :mod:`.scenario_cmds` — ``scenario list|run|validate``: tutorials and smoke tests;
- :mod:`.pipelines_cmds` — ``pipelines run|list|get|logs|terminate``: Kubeflow pipeline runs.

Later issues add ``doctor``.
"""

from __future__ import annotations

import click

from sandbox import __version__
from sandbox.cli.daemon_cmds import down, status, up
from sandbox.cli.kubectl_cmd import kubectl
from sandbox.cli.pipelines_cmds import pipelines
from sandbox.cli.scenario_cmds import scenario
from sandbox.cli.verbs import describe, events, get, logs, wait


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog="""\b
Examples:
  sandbox up                       # start the sandbox in the background
  sandbox status                   # is it healthy? nodes, pods, URLs
  sandbox kubectl get pods -A      # real kubectl, pointed at the sandbox
  sandbox down                     # stop it; its objects come back with the next `up`
""")
@click.version_option(__version__, prog_name="sandbox")
def cli() -> None:
    """kf-sandbox: a local, all-in-one simulation of a Kubeflow platform.

    The sandbox home (state, logs, kubeconfig) is $SANDBOX_HOME, else
    ~/.kf-sandbox; every command takes --home to choose another.
    """


cli.add_command(up)
cli.add_command(status)
cli.add_command(down)
cli.add_command(kubectl)
cli.add_command(scenario)
cli.add_command(pipelines)
for _verb in (get, describe, logs, events, wait):
    cli.add_command(_verb)


def main() -> None:
    cli()
