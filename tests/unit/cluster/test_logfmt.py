"""CRI log records from a process stream: one record per line, partial records for long lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sandbox.cluster.logfmt import LogWriter, read_lines


async def pumped(tmp_path, *chunks: bytes, now=None) -> list:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    writer = LogWriter(tmp_path / "c" / "0.log", now=now or (lambda: datetime(2026, 1, 1, tzinfo=UTC)))
    await writer.pump(reader, "stdout")
    writer.close()
    return list(read_lines(tmp_path / "c" / "0.log"))


async def test_the_lines_of_one_read_become_records_in_order_sharing_the_reads_time(tmp_path):
    times = iter([datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s) for s in range(10)])
    lines = await pumped(tmp_path, b"one\ntwo\r\nthree", now=lambda: next(times))
    assert [(line.text, line.partial) for line in lines] == [("one", False), ("two", False), ("three", False)]
    assert lines[0].time == lines[1].time != lines[2].time  # the unterminated last line is written at EOF


async def test_a_line_longer_than_the_limit_is_split_into_partial_records(tmp_path):
    from sandbox.cluster import logfmt

    long = b"x" * (logfmt._MAX_LINE * 2 + 5)
    lines = await pumped(tmp_path, long + b"\nend\n")
    assert [line.partial for line in lines] == [True, True, False, False]
    assert "".join(line.text for line in lines[:3]) == long.decode() and lines[3].text == "end"
