"""Reconcile log tags: controller, object key and reconcile ID on every line."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sandbox.runtime.log import (
    ContextFilter,
    ReconcileContext,
    current_context,
    get_logger,
    reconcile_context,
)


def test_context_logger_tags_messages_and_records_inside_a_reconcile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = get_logger("test.runtime.log")
    caplog.set_level(logging.INFO, logger="test.runtime.log")
    with reconcile_context(ReconcileContext("toy", "default/web", "4f2c")):
        log.info("creating child %s", "web-child")
    log.info("outside")
    inside, outside = caplog.records
    assert (
        inside.getMessage()
        == "creating child web-child controller=toy key=default/web reconcileID=4f2c"
    )
    assert (inside.controller, inside.key, inside.reconcileID) == ("toy", "default/web", "4f2c")  # type: ignore[attr-defined]
    assert outside.getMessage() == "outside"
    assert current_context() is None


async def test_each_task_sees_its_own_reconcile_context() -> None:
    seen: dict[str, str | None] = {}

    async def reconcile(key: str) -> None:
        with reconcile_context(ReconcileContext("toy", key, key + "-id")):
            await asyncio.sleep(0)
            context = current_context()
            seen[key] = context.key if context else None

    await asyncio.gather(reconcile("a"), reconcile("b"))
    assert seen == {"a": "a", "b": "b"}


def test_context_filter_adds_the_fields_to_every_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    with reconcile_context(ReconcileContext("toy", "ns/name", "id-1")):
        assert ContextFilter().filter(record)
    assert (record.controller, record.key, record.reconcileID) == ("toy", "ns/name", "id-1")  # type: ignore[attr-defined]
    bare = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    ContextFilter().filter(bare)
    assert bare.controller == ""  # type: ignore[attr-defined]
