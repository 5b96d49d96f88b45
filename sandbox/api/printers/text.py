"""kubectl's plain column layout: left-aligned cells, three spaces apart, no trailing blanks.

What ``kubectl get`` prints for a Table, and what every text listing of the
sandbox (CLI verbs, pipeline task trees, scenario output) uses so they all
read alike.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["columns"]


def columns(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a table: the header, then the rows, each column as wide as its widest cell."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in cells]
