"""Log lines that name the reconcile they belong to.

Many workers of many controllers interleave their logs; a line is only
useful if it says which controller, which object and which reconcile wrote
it (STYLE.md rule 8). The controller sets a :class:`ReconcileContext` in a
context variable for the duration of each reconcile. asyncio copies context
variables into each task, so everything the reconciler awaits, including
code that knows nothing about controllers, runs inside that context.

Two ways to see it:

- :func:`get_logger` returns a :class:`logging.LoggerAdapter` that appends
  ``controller=toy key=default/web reconcileID=4f2c…`` to the message and
  puts the same values on the record as ``controller``, ``key`` and
  ``reconcileID`` attributes. The runtime logs through it, and reconcilers
  should too; it works with any formatter.
- :class:`ContextFilter`, installed on a handler, sets those attributes on
  *every* record (empty outside a reconcile), for formatters that place them
  explicitly, e.g. ``%(controller)s %(key)s %(reconcileID)s %(message)s``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ContextFilter",
    "ContextLogger",
    "ReconcileContext",
    "current_context",
    "get_logger",
    "reconcile_context",
]


@dataclass(frozen=True)
class ReconcileContext:
    controller: str
    key: str
    reconcile_id: str

    def tags(self) -> str:
        return f"controller={self.controller} key={self.key} reconcileID={self.reconcile_id}"

    def fields(self) -> dict[str, str]:
        return {"controller": self.controller, "key": self.key, "reconcileID": self.reconcile_id}


_current: ContextVar[ReconcileContext | None] = ContextVar("reconcile_context", default=None)


def current_context() -> ReconcileContext | None:
    """The reconcile this code runs in, if any."""
    return _current.get()


@contextmanager
def reconcile_context(context: ReconcileContext) -> Iterator[ReconcileContext]:
    """Make ``context`` current until the block ends."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


class ContextLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Tags each message with the current reconcile (see the module docstring)."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        context = _current.get()
        if context is None:
            return msg, kwargs
        kwargs["extra"] = {**context.fields(), **(kwargs.get("extra") or {})}
        return f"{msg} {context.tags()}", kwargs


def get_logger(name: str) -> ContextLogger:
    """A logger whose lines name the controller, object key and reconcile ID."""
    return ContextLogger(logging.getLogger(name), {})


class ContextFilter(logging.Filter):
    """Adds ``controller``, ``key`` and ``reconcileID`` attributes to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        fields = context.fields() if context else {"controller": "", "key": "", "reconcileID": ""}
        for name, value in fields.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True
