"""Options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sandbox.backends.inprocess.control import DaemonHome

__all__ = ["home_option", "resolve_home"]

F = TypeVar("F", bound=Callable[..., Any])


def home_option(func: F) -> F:
    """``--home DIR`` (or ``$SANDBOX_HOME``; default ``~/.kf-sandbox``)."""
    return click.option(
        "--home",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The sandbox home: state, logs and kubeconfig. "
             "[default: $SANDBOX_HOME, else ~/.kf-sandbox]",
    )(func)


def resolve_home(home: Path | None) -> DaemonHome:
    return DaemonHome.resolve(home)
