"""Container log files in the CRI format, shared by runtimes and the kubelet.

Each line a container writes is stored as the container runtime interface
writes it on a real node::

    2026-01-01T12:00:00.123456789Z stdout F the line's text
    2026-01-01T12:00:00.223456789Z stderr P a partial line (no newline yet) ...

The timestamp is taken when the line is read from the process, which is what
``kubectl logs --timestamps`` and ``--since`` rely on. Runtimes write with
:class:`LogWriter` (one per container run, both streams); the kubelet's log
source reads with :func:`read_lines` and :func:`follow_lines`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

__all__ = ["LogLine", "LogWriter", "follow_lines", "format_timestamp", "parse_line", "read_lines"]

_MAX_LINE = 16 * 1024  # CRI splits longer lines into partial records


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 with nanoseconds, as the CRI and ``kubectl logs --timestamps`` print."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


@dataclass(frozen=True)
class LogLine:
    time: str
    stream: str  # stdout | stderr
    partial: bool
    text: str

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.time[:26] + "+00:00")


def parse_line(raw: str) -> LogLine | None:
    parts = raw.rstrip("\n").split(" ", 3)
    if len(parts) < 3:
        return None
    text = parts[3] if len(parts) == 4 else ""
    return LogLine(parts[0], parts[1], parts[2] == "P", text)


class LogWriter:
    """Appends CRI records for one container run; safe to share between two pumps."""

    def __init__(self, path: Path, *, now: callable = lambda: datetime.now(UTC)) -> None:  # type: ignore[valid-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: BinaryIO = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._now = now

    def write(self, stream: str, text: str, *, partial: bool = False) -> None:
        self._append(format_timestamp(self._now()), stream, text, partial=partial)
        self._file.flush()

    def _append(self, stamp: str, stream: str, text: str, *, partial: bool = False) -> None:
        tag = "P" if partial else "F"
        self._file.write(f"{stamp} {stream} {tag} {text}\n".encode(errors="replace"))

    async def pump(self, reader: asyncio.StreamReader, stream: str) -> None:
        """Copy a process stream into the log, a record per line, until EOF.

        The lines of one read share its time and one flush: a process that
        prints many lines at once costs one write, not one per line.
        """
        pending = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            stamp = format_timestamp(self._now())
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._append_bytes(stamp, stream, line)
            while len(pending) > _MAX_LINE:
                self._append(stamp, stream, pending[:_MAX_LINE].decode(errors="replace"), partial=True)
                pending = pending[_MAX_LINE:]
            self._file.flush()
        if pending:
            self._append_bytes(format_timestamp(self._now()), stream, pending)
            self._file.flush()

    def _append_bytes(self, stamp: str, stream: str, line: bytes) -> None:
        text = line.decode(errors="replace").rstrip("\r")
        while len(text) > _MAX_LINE:
            self._append(stamp, stream, text[:_MAX_LINE], partial=True)
            text = text[_MAX_LINE:]
        self._append(stamp, stream, text)

    def close(self) -> None:
        self._file.close()


def read_lines(path: Path) -> Iterator[LogLine]:
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            line = parse_line(raw)
            if line is not None:
                yield line


async def follow_lines(
    path: Path, *, done: asyncio.Event, poll: float = 0.05
) -> AsyncIterator[LogLine]:
    """Lines as they are appended, until ``done`` is set and the file is drained."""
    while not path.exists():
        if done.is_set():
            return
        await asyncio.sleep(poll)
    with open(path, encoding="utf-8", errors="replace") as handle:
        buffer = ""
        while True:
            chunk = handle.readline()
            if chunk:
                buffer += chunk
                if buffer.endswith("\n"):
                    line = parse_line(buffer)
                    buffer = ""
                    if line is not None:
                        yield line
                continue
            if done.is_set():
                return
            await asyncio.sleep(poll)
