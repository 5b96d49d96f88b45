"""Reading and writing KFP API messages as JSON, the way grpc-gateway does.

KFP's gateway marshals protobuf messages with their original (snake_case)
field names, leaves out fields that hold their default value (an empty
string, list or map — so a client sees ``None``), writes ``int64`` fields as
strings and timestamps as RFC 3339. It reads both spellings of a field
(``pipeline_version_reference`` and ``pipelineVersionReference``) and takes
``int64``s as numbers or strings. These helpers do exactly that, so each
resource module only says which fields a message has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.clock import format_time, parse_time
from sandbox.components.pipelines.api.errors import InvalidArgument

__all__ = [
    "camel",
    "compact",
    "get_field",
    "k8s_name",
    "optional_int",
    "optional_time",
    "timestamp",
]

_NOT_NAME = re.compile(r"[^a-z0-9-]+")


def camel(snake: str) -> str:
    """``pipeline_version_id`` → ``pipelineVersionId`` (protobuf's JSON name)."""
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def get_field(message: Mapping[str, Any] | None, name: str, default: Any = None) -> Any:
    """A field of a request message under its proto name or its JSON (camelCase) name."""
    if not message:
        return default
    if name in message and message[name] is not None:
        return message[name]
    value = message.get(camel(name))
    return default if value is None else value


def compact(message: Mapping[str, Any]) -> dict[str, Any]:
    """The message without fields at their default (None, "", [], {}), as proto3 JSON omits them."""
    return {k: v for k, v in message.items() if v is not None and v != "" and v != [] and v != {}}


def timestamp(value: datetime | str | None) -> str | None:
    """A time as the API writes it (RFC 3339, UTC, ``Z``); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = parse_time(value)
    return format_time(value)


def optional_time(value: Any, what: str) -> datetime | None:
    """A request's timestamp field (RFC 3339 text), or None; InvalidArgument when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = parse_time(str(value))
    except ValueError:
        raise InvalidArgument(f"{what} is not an RFC 3339 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def optional_int(value: Any, what: str) -> int | None:
    """A request's integer field (a number, or an int64 as text), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidArgument(f"{what} must be an integer, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{what} must be an integer, not {value!r}") from None


def k8s_name(text: str, *, limit: int = 63) -> str:
    """A DNS-1123 label made from a display name (``"My Pipeline"`` → ``my-pipeline``)."""
    name = _NOT_NAME.sub("-", text.lower()).strip("-")[:limit].strip("-")
    return name or "pipeline"
