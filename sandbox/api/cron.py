"""Cron schedules, read the way robfig/cron reads them: one parser for every schedule in the sandbox.

Kubernetes (CronJob ``spec.schedule``) and Kubeflow Pipelines (recurring
runs, ``ScheduledWorkflow``) both parse schedules with robfig/cron, in two
configurations; :func:`parse` is that parser, configured by ``seconds``:

``"never"`` (default)
    ``cron.ParseStandard``, what CronJobs use: exactly five fields,
    ``minute hour day-of-month month day-of-week``.
``"optional"``
    robfig's ``SecondOptional``: six fields with the seconds first
    (``"0 0 9 ? * 2-6"``), or the five classic ones with second 0.
``"required"``
    ``cron.WithSeconds``: exactly six fields, seconds first.

Fields hold ``*`` or ``?``, numbers, ranges ``a-b``, steps (``*/15``,
``10-40/10``, and ``N/step`` meaning ``N-max/step``), comma-separated lists
of these, and month (``jan``) and day (``sun``) names in any case; Sunday
is 0 and day of week runs 0-6. Day of month and day of week combine like
cron's: when both are restricted a day matching either runs; a field that
is ``*``/``?`` (without a step above 1) does not restrict. Any mode also
takes the descriptors ``@yearly`` (``@annually``), ``@monthly``,
``@weekly``, ``@daily`` (``@midnight``), ``@hourly`` and
``@every <Go duration>`` (unsigned; rounded down to whole seconds, at least one).

Data flow: ``text -> parse(text, seconds=…, zone=…) -> Schedule``, or
``ValueError`` with robfig's own message (``end of range (61) above maximum
(59): 61``), which the CronJob admission check shows as it is; then
``Schedule.next(after)`` gives the first matching second strictly after a
moment, searched on the wall clock of ``zone`` and returned in UTC. Pure
functions over ``datetime``: a small own parser rather than a dependency,
because this is all the sandbox needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

__all__ = ["Schedule", "SecondsField", "parse"]

#: Whether a schedule has a leading seconds field: never, optionally (5 or 6 fields), always.
SecondsField = Literal["never", "optional", "required"]

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
#: (low, high, names) of second, minute, hour, day of month, month and day of week.
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    (0, 6, {d: i for i, d in enumerate(_DAYS)}),
)
#: The descriptors, as six fields (seconds first).
_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_EVERY = "@every "
_ATOI = re.compile(r"[+-]?[0-9]+")
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
#: How far ahead :meth:`Schedule.next` looks before calling a schedule impossible (Feb 30th).
_HORIZON_YEARS = 5


def _int(text: str) -> int:
    """Go's ``strconv.Atoi`` for a field, refusing negatives as robfig does."""
    if not _ATOI.fullmatch(text):
        raise ValueError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {text}")
    return number


def _int_or_name(text: str, names: dict[str, int]) -> int:
    return names[text.lower()] if text.lower() in names else _int(text)


def _range(expr: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """The values of one range (robfig's ``getRange``) and whether it is an unrestricting star."""
    range_and_step = expr.split("/")
    bounds = range_and_step[0].split("-")
    star = bounds[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _int_or_name(bounds[0], names)
        if len(bounds) > 2:
            raise ValueError(f"too many hyphens: {expr}")
        end = _int_or_name(bounds[1], names) if len(bounds) == 2 else start
    step = 1
    if len(range_and_step) > 2:
        raise ValueError(f"too many slashes: {expr}")
    if len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(bounds) == 1:
            end = high  # "N/step" means "N-max/step"
        star = star and step <= 1
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _field(expr: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    """The values of a comma-separated field, and whether any part of it is an unrestricting star."""
    values: set[int] = set()
    star = False
    for part in expr.split(","):
        if part:  # robfig splits with FieldsFunc: empty parts vanish
            matched, part_star = _range(part, low, high, names)
            values |= matched
            star = star or part_star
    return frozenset(values), star


def _every(spec: str) -> timedelta:
    """``@every <duration>``: an unsigned Go duration, rounded down to whole seconds, at least one."""
    text = spec[len(_EVERY) :]
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position or match.group(1) in ("", "."):
            break  # a gap or a unit without a number: position stops short of the end
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f'failed to parse duration {spec}: time: invalid duration "{text}"')
    return timedelta(seconds=max(1, int(seconds)))


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the matching seconds … weekdays in ``zone``, or a fixed interval (``every``)."""

    seconds: frozenset[int] = frozenset()
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
        in_weekdays = (moment.weekday() + 1) % 7 in self.weekdays  # cron's Sunday is 0
        if self.days_star or self.weekdays_star:
            return in_days and in_weekdays
        return in_days or in_weekdays  # both restricted: either one, as cron does

    def next(self, after: datetime) -> datetime:
        """The first scheduled second strictly after ``after`` (aware), in UTC.

        ``ValueError`` when nothing matches within a few years (``0 0 31 2 *``).
        """
        if self.every is not None:
            return (after + self.every).replace(microsecond=0).astimezone(UTC)
        local = after.astimezone(self.zone).replace(microsecond=0)
        moment = local + timedelta(seconds=1)
        horizon = local.year + _HORIZON_YEARS
        while moment.year <= horizon:
            if moment.month not in self.months:
                year, month = divmod(moment.year * 12 + moment.month, 12)  # the next month
                moment = moment.replace(year=year, month=month + 1, day=1, hour=0, minute=0, second=0)
            elif not self._day_matches(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0, second=0)
            elif moment.minute not in self.minutes:
                moment = (moment + timedelta(minutes=1)).replace(second=0)
            elif moment.second not in self.seconds:
                later = [second for second in self.seconds if second > moment.second]
                if later:
                    moment = moment.replace(second=min(later))
                else:
                    moment = (moment + timedelta(minutes=1)).replace(second=0)
            else:
                return moment.astimezone(UTC)
        raise ValueError("the schedule never matches")


def _fields(text: str, seconds: SecondsField) -> list[str]:
    """The six fields of a field expression (robfig's ``normalizeFields``), seconds first."""
    fields = text.split()
    least, most = {"never": (5, 5), "optional": (5, 6), "required": (6, 6)}[seconds]
    if not least <= len(fields) <= most:
        expected = f"exactly {least}" if least == most else f"{least} to {most}"
        raise ValueError(f"expected {expected} fields, found {len(fields)}: [{' '.join(fields)}]")
    return fields if len(fields) == 6 else ["0", *fields]


def parse(text: str, *, seconds: SecondsField = "never", zone: tzinfo = UTC) -> Schedule:
    """Parse a schedule (see the module docstring); ``ValueError`` with robfig's message if invalid."""
    if not text:
        raise ValueError("empty spec string")
    if text.startswith(_EVERY):
        return Schedule(every=_every(text), zone=zone)
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {text}")
        fields = _DESCRIPTORS[text].split()
    else:
        fields = _fields(text, seconds)
    parsed = [_field(expr, *bounds) for expr, bounds in zip(fields, _FIELDS, strict=True)]
    return Schedule(
        seconds=parsed[0][0],
        minutes=parsed[1][0],
        hours=parsed[2][0],
        days=parsed[3][0],
        months=parsed[4][0],
        weekdays=parsed[5][0],
        days_star=parsed[3][1],
        weekdays_star=parsed[5][1],
        zone=zone,
    )
