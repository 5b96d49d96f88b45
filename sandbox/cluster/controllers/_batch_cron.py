"""Cron schedules as CronJobs read them (robfig/cron's standard parser).

Kubernetes parses ``spec.schedule`` with ``cron.ParseStandard``: five fields
(minute, hour, day of month, month, day of week) with ``*``/``?``, lists,
ranges, steps and month/day names, or a descriptor: ``@yearly``
(``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``),
``@hourly`` and ``@every <Go duration>``. Day of month and day of week
combine like cron's: when both are restricted a day matching either runs;
a field written ``*`` or ``?`` (without a step) does not restrict.

Validation with robfig's messages happens at admission
(:func:`sandbox.api.validation.cron_schedule_error`); here a schedule that
fails to parse raises ``ValueError``. :meth:`Schedule.next` gives the first
matching minute strictly after a moment, in the CronJob's ``timeZone`` (UTC
by default). A small own parser, rather than a dependency, because this
is all CronJobs need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["Schedule", "parse_schedule"]

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
#: (low, high, names) of each field.
_FIELDS = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    (0, 6, {d: i for i, d in enumerate(_DAYS)}),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
#: How far ahead to look for a match before declaring the schedule impossible (Feb 30th).
_HORIZON_YEARS = 5


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"failed to parse int from {text}")
    return int(text)


def _field(expr: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    """The values of one field, and whether it is a bare ``*``/``?`` (unrestricted)."""
    values: set[int] = set()
    star = False
    for part in expr.split(","):
        range_part, _, step_part = part.partition("/")
        bounds = range_part.split("-")
        if range_part in ("*", "?"):
            start, end = low, high
            star = not step_part or _number(step_part, {}) <= 1
        else:
            start = _number(bounds[0], names)
            end = _number(bounds[1], names) if len(bounds) == 2 else start
            if step_part and len(bounds) == 1:
                end = high  # "N/step" means "N-max/step"
        step = _number(step_part, {}) if step_part else 1
        if step == 0 or len(bounds) > 2 or start < low or end > high or start > end:
            raise ValueError(f"invalid cron field: {part}")
        values.update(range(start, end + 1, step))
    return frozenset(values), star


def _go_duration(text: str) -> timedelta:
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position or not match.group(1) or match.group(1) == ".":
            raise ValueError(f"invalid duration {text!r}")
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"invalid duration {text!r}")
    # robfig rounds @every down to whole seconds, at least one.
    return timedelta(seconds=max(1, int(seconds)))


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the matching minutes, or a constant interval (``@every``)."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    days_star: bool = True
    weekdays_star: bool = True
    every: timedelta | None = None
    zone: tzinfo = UTC

    def _day_matches(self, moment: datetime) -> bool:
        in_days = moment.day in self.days
        in_weekdays = (moment.weekday() + 1) % 7 in self.weekdays  # Sunday is 0
        if self.days_star or self.weekdays_star:
            return in_days and in_weekdays
        return in_days or in_weekdays

    def next(self, after: datetime) -> datetime:
        """The first scheduled moment strictly after ``after`` (timezone-aware, UTC)."""
        if self.every is not None:
            return (after + self.every).replace(microsecond=0).astimezone(UTC)
        local = after.astimezone(self.zone).replace(second=0, microsecond=0)
        moment = local + timedelta(minutes=1)
        horizon = local.year + _HORIZON_YEARS
        while moment.year <= horizon:
            if moment.month not in self.months:
                year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
                moment = moment.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            elif moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0)
            elif moment.minute not in self.minutes:
                moment += timedelta(minutes=1)
            else:
                return moment.astimezone(UTC)
        raise ValueError("the schedule never matches")


def parse_schedule(text: str, *, zone: tzinfo = UTC) -> Schedule:
    """Parse a CronJob schedule; ``ValueError`` when it is not one."""
    text = text.strip()
    if text.startswith("@every "):
        return Schedule(every=_go_duration(text[len("@every ") :].strip()), zone=zone)
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {text}")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    parsed = [_field(f, low, high, names) for f, (low, high, names) in zip(fields, _FIELDS, strict=True)]
    return Schedule(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days=parsed[2][0],
        months=parsed[3][0],
        weekdays=parsed[4][0],
        days_star=parsed[2][1],
        weekdays_star=parsed[4][1],
        zone=zone,
    )
