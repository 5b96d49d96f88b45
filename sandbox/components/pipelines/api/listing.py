"""List calls as KFP answers them: ``filter``, ``sort_by``, ``page_size`` and ``page_token``.

Every ``List…`` endpoint of the API takes the same query parameters:

- ``filter``: a JSON-serialised ``Filter`` message, ``{"predicates": [{"key":
  "display_name", "operation": "EQUALS", "string_value": "x"}]}``. kfp.Client
  sends ``operation`` as the enum's number (``1``) and values in camelCase
  (``stringValue``); both spellings and both forms are read. All predicates
  must hold. Values: ``int_value``, ``long_value``, ``string_value``,
  ``timestamp_value``, and for ``IN`` the lists ``int_values``,
  ``long_values``, ``string_values`` (``{"values": [...]}``).
- ``sort_by``: ``"created_at"`` or ``"created_at desc"``;
- ``page_size`` (default 20) and ``page_token``: the token is opaque to the
  client; it carries the offset and the filter and sort of the first call,
  which, as in KFP, win over the ones sent with it.

The functions here work on API messages (dicts with proto field names), so
a predicate's ``key`` is a message field — ``display_name``, ``state``,
``created_at``, or a dotted path such as
``pipeline_version_reference.pipeline_id``. A timestamp field compares as a
time, whether the predicate gives RFC 3339 text or epoch seconds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.clock import parse_time
from sandbox.components.pipelines.api.errors import InvalidArgument
from sandbox.components.pipelines.api.messages import get_field

__all__ = ["DEFAULT_PAGE_SIZE", "ListQuery", "Page", "Predicate", "list_page"]

DEFAULT_PAGE_SIZE = 20
#: The ``PredicateOperation`` enum of KFP's filter.proto (there is no 4).
OPERATIONS = {0: "OPERATION_UNSPECIFIED", 1: "EQUALS", 2: "NOT_EQUALS", 3: "GREATER_THAN",
              5: "GREATER_THAN_EQUALS", 6: "LESS_THAN", 7: "LESS_THAN_EQUALS", 8: "IN",
              9: "IS_SUBSTRING"}
_SCALARS = ("int_value", "long_value", "string_value", "timestamp_value")
_LISTS = ("int_values", "long_values", "string_values")


@dataclass(frozen=True)
class Predicate:
    """One condition of a filter: ``key`` ``operation`` ``value``."""

    key: str
    operation: str
    value: Any
    #: The value is a time (``timestamp_value``).
    is_time: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Predicate:
        if not isinstance(raw, Mapping):
            raise InvalidArgument(f"a filter predicate must be an object, not {raw!r}")
        key = str(get_field(raw, "key", ""))
        if not key:
            raise InvalidArgument("a filter predicate has no key")
        op = get_field(raw, "operation", "")
        if isinstance(op, int) and not isinstance(op, bool):
            op = OPERATIONS.get(op, "")
        op = str(op).upper()
        if op not in OPERATIONS.values() or op == "OPERATION_UNSPECIFIED":
            raise InvalidArgument(f"filter predicate on {key!r}: unknown operation {op or 'none'!r}")
        if op == "IN":
            for name in _LISTS:
                found = get_field(raw, name)
                if found is not None:
                    values = found.get("values") if isinstance(found, Mapping) else found
                    if not isinstance(values, list):
                        raise InvalidArgument(f"filter predicate on {key!r}: {name} is not a list")
                    if name == "long_values":
                        values = [_number(v, key) for v in values]
                    return cls(key, op, tuple(values))
            raise InvalidArgument(f"filter predicate on {key!r}: IN needs int_values, long_values "
                                  "or string_values")
        for name in _SCALARS:
            found = get_field(raw, name)
            if found is None:
                continue
            if name == "timestamp_value":
                try:
                    return cls(key, op, parse_time(str(found)), is_time=True)
                except ValueError:
                    raise InvalidArgument(f"filter predicate on {key!r}: bad timestamp "
                                          f"{found!r}") from None
            if name == "long_value":
                found = _number(found, key)
            return cls(key, op, found)
        raise InvalidArgument(f"filter predicate on {key!r} has no value")

    def holds(self, message: Mapping[str, Any], aliases: Mapping[str, str]) -> bool:
        actual = _lookup(message, self.key, aliases)
        if actual is None:
            return self.operation == "NOT_EQUALS"
        if self.operation == "IN":
            return any(_compare(actual, value, False) == 0 for value in self.value)
        if self.operation == "IS_SUBSTRING":
            return str(self.value) in str(actual)
        order = _compare(actual, self.value, self.is_time)
        if order is None:
            return self.operation == "NOT_EQUALS"
        return {
            "EQUALS": order == 0, "NOT_EQUALS": order != 0, "GREATER_THAN": order > 0,
            "GREATER_THAN_EQUALS": order >= 0, "LESS_THAN": order < 0, "LESS_THAN_EQUALS": order <= 0,
        }[self.operation]


def _number(value: Any, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"filter predicate on {key!r}: {value!r} is not an integer") from None


def _lookup(message: Mapping[str, Any], key: str, aliases: Mapping[str, str]) -> Any:
    if key not in message and key.split(".")[0] not in message:
        key = aliases.get(key, key)
    value: Any = message
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:
            return None
    return None


def _compare(actual: Any, wanted: Any, is_time: bool) -> int | None:
    """-1, 0, 1 as ``actual`` is below, equal to or above ``wanted``; None if incomparable."""
    left: Any = actual
    right: Any = wanted
    actual_time = _as_time(actual) if isinstance(actual, str) and "T" in actual else None
    if is_time or (actual_time is not None and isinstance(wanted, int | float) and not isinstance(wanted, bool)):
        left = actual_time or _as_time(actual)
        if left is None:
            return None
        right = wanted if isinstance(wanted, datetime) else None
        if right is None:
            left, right = left.timestamp(), float(wanted)
    elif isinstance(wanted, bool) or isinstance(actual, bool):
        left, right = str(actual).lower(), str(wanted).lower()
    elif isinstance(wanted, int | float):
        try:
            left = float(actual)
        except (TypeError, ValueError):
            left, right = str(actual), str(wanted)
    else:
        left, right = str(actual), str(wanted)
    return (left > right) - (left < right)


@dataclass(frozen=True)
class ListQuery:
    """A list call's paging, sorting and filtering."""

    page_size: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    sort_by: str = ""
    filter_text: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListQuery:
        page_size = params.get("page_size") or params.get("pageSize") or ""
        try:
            size = int(page_size) if page_size else DEFAULT_PAGE_SIZE
        except ValueError:
            raise InvalidArgument(f"page_size must be an integer, not {page_size!r}") from None
        if size < 0:
            raise InvalidArgument(f"page_size must not be negative, not {size}")
        token = params.get("page_token") or params.get("pageToken") or ""
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                return cls(page_size=size or DEFAULT_PAGE_SIZE, offset=int(state["offset"]),
                           sort_by=str(state.get("sort", "")), filter_text=str(state.get("filter", "")))
            except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise InvalidArgument(f"invalid page token {token!r}") from None
        return cls(page_size=size or DEFAULT_PAGE_SIZE,
                   sort_by=(params.get("sort_by") or params.get("sortBy") or "").strip(),
                   filter_text=params.get("filter") or "")

    def predicates(self) -> list[Predicate]:
        if not self.filter_text.strip():
            return []
        try:
            parsed = json.loads(self.filter_text)
        except ValueError as err:
            raise InvalidArgument(f"the filter is not JSON: {err}") from None
        if not isinstance(parsed, Mapping):
            raise InvalidArgument("the filter must be a JSON object with predicates")
        raw = parsed.get("predicates") or []
        if not isinstance(raw, list):
            raise InvalidArgument("the filter's predicates must be a list")
        return [Predicate.parse(p) for p in raw]

    def sort_key(self, sortable: Sequence[str], aliases: Mapping[str, str]) -> tuple[str, bool]:
        """(field, descending); InvalidArgument for a field the list cannot sort by."""
        if not self.sort_by:
            return "", False
        parts = self.sort_by.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise InvalidArgument(f"invalid sort_by {self.sort_by!r}: expected 'field' or 'field desc'")
        name = aliases.get(parts[0], parts[0]) if parts[0] not in sortable else parts[0]
        if name not in sortable:
            raise InvalidArgument(f"cannot sort by {parts[0]!r}; sortable fields: {', '.join(sortable)}")
        return name, len(parts) == 2 and parts[1].lower() == "desc"

    def token_for(self, offset: int) -> str:
        state = {"offset": offset, "sort": self.sort_by, "filter": self.filter_text}
        return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total_size: int
    next_page_token: str


def _sort_value(message: Mapping[str, Any], key: str) -> tuple[int, Any]:
    value = message.get(key)
    if value is None or value == "":
        return (0, "")
    if isinstance(value, str) and "T" in value:
        moment = _as_time(value)
        if moment is not None:
            return (1, moment.timestamp())
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    return (1, str(value))


def list_page(messages: Sequence[dict[str, Any]], query: ListQuery, *, sortable: Sequence[str],
              default_sort: str = "created_at",
              aliases: Mapping[str, str] | None = None) -> Page:
    """Filter, sort and cut ``messages`` as ``query`` asks; ties keep the order of ``messages``."""
    aliases = dict(aliases or {})
    predicates = query.predicates()
    key, descending = query.sort_key(sortable, aliases)
    kept = [m for m in messages if all(p.holds(m, aliases) for p in predicates)]
    # A stable sort: equal keys keep the order the caller listed them in (creation order).
    kept.sort(key=lambda m: _sort_value(m, key or default_sort), reverse=descending)
    end = query.offset + query.page_size
    token = query.token_for(end) if end < len(kept) else ""
    return Page(items=kept[query.offset:end], total_size=len(kept), next_page_token=token)
