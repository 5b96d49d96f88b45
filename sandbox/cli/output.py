"""How the ``sandbox`` command writes: results on stdout, progress and errors on stderr.

DESIGN.md §7's rules, in plain lines for now:

- results (URLs, tables, JSON) go to stdout, untouched, so they can be piped
  and ``eval``-ed (``export KUBECONFIG=…``);
- progress, warnings and errors go to stderr; when ``CI`` is set each such
  line starts with a UTC timestamp, so a CI log shows how long each step took;
- colour only on a terminal and never when ``NO_COLOR`` is set to a non-empty
  value (https://no-color.org).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click

from sandbox.api.printers.text import columns

__all__ = ["Printer", "table"]


class Printer:
    """Writes one command's output (see the module docstring)."""

    def __init__(self) -> None:
        #: None lets click decide (colour on a terminal only); False: never.
        self.color: bool | None = False if os.environ.get("NO_COLOR") else None
        self.timestamps = bool(os.environ.get("CI"))

    def result(self, text: str = "") -> None:
        """A line of the command's result (stdout)."""
        click.echo(text, color=self.color)

    def progress(self, text: str) -> None:
        """What the command is doing (stderr)."""
        click.echo(self._stamp(text), err=True, color=self.color)

    def warning(self, text: str) -> None:
        click.echo(self._stamp(self.style("warning: ", fg="yellow") + text), err=True,
                   color=self.color)

    def error(self, text: str) -> None:
        click.echo(self._stamp(self.style("error: ", fg="red", bold=True) + text), err=True,
                   color=self.color)

    def style(self, text: str, **styles: object) -> str:
        """``text`` styled, unless colour is off (click strips it off a terminal)."""
        if self.color is False:
            return text
        return click.style(text, **styles)  # type: ignore[arg-type]

    def _stamp(self, text: str) -> str:
        if not self.timestamps:
            return text
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return f"{now} {text}"


#: kubectl-style columns (:func:`sandbox.api.printers.text.columns`).
table = columns
