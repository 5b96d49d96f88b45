"""Entry point of the ``sandbox`` command.

Commands arrive with later issues (``up``, ``down``, ``scenario``, ``get`` ...);
today the command reports its version and what it can do.
"""

from __future__ import annotations

import click

from sandbox import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sandbox")
def cli() -> None:
    """kf-sandbox: a local, all-in-one simulation of a Kubeflow platform."""


def main() -> None:
    cli()
