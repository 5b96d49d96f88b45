"""The one cron parser: robfig/cron's fields, descriptors and messages, seconds never/optional/required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sandbox.api.cron import SecondsField, parse

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Next times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("*/15 * * * *", "2026-01-01T00:00:00", "2026-01-01T00:15:00"),
        ("*/15 * * * *", "2026-01-01T00:14:59", "2026-01-01T00:15:00"),
        ("*/15 * * * *", "2026-01-01T00:15:00.500000", "2026-01-01T00:30:00"),
        ("0 9 * * 1-5", "2026-01-02T10:00:00", "2026-01-05T09:00:00"),  # Fri → Mon
        ("0 0 1 jan *", "2026-03-01T00:00:00", "2027-01-01T00:00:00"),
        ("30 2 13 * fri", "2026-02-01T00:00:00", "2026-02-06T02:30:00"),  # day OR weekday
        ("0 0 */2 * 1", "2026-01-02T00:00:00", "2026-01-03T00:00:00"),  # a stepped * restricts
        ("0 0 * * 1", "2026-01-02T00:00:00", "2026-01-05T00:00:00"),  # a bare * does not
        ("0 0 *,*/2 * 1", "2026-01-02T00:00:00", "2026-01-05T00:00:00"),  # a bare * in a list neither
        ("5 4 * * sun", "2026-01-01T00:00:00", "2026-01-04T04:05:00"),
        ("0 0 * DEC *", "2026-01-01T00:00:00", "2026-12-01T00:00:00"),
        ("@hourly", "2026-01-01T00:30:00", "2026-01-01T01:00:00"),
        ("@daily", "2026-01-01T00:30:00", "2026-01-02T00:00:00"),
        ("@midnight", "2026-01-01T00:30:00", "2026-01-02T00:00:00"),
        ("@weekly", "2026-01-01T00:00:00", "2026-01-04T00:00:00"),
        ("@monthly", "2026-01-01T00:00:00", "2026-02-01T00:00:00"),
        ("@yearly", "2026-01-01T00:00:00", "2027-01-01T00:00:00"),
        ("@annually", "2026-01-01T00:00:00", "2027-01-01T00:00:00"),
        ("@every 90s", "2026-01-01T00:00:00", "2026-01-01T00:01:30"),
        ("@every 1h30m", "2026-01-01T00:00:00.250000", "2026-01-01T01:30:00"),
        ("@every 1500ms", "2026-01-01T00:00:00", "2026-01-01T00:00:01"),  # whole seconds
        ("@every 10ns", "2026-01-01T00:00:00", "2026-01-01T00:00:01"),  # at least one
        ("10-20/5 * * * *", "2026-01-01T00:16:00", "2026-01-01T00:20:00"),
        ("50/5 * * * *", "2026-01-01T00:56:00", "2026-01-01T01:50:00"),  # N/step is N-max/step
    ],
)
def test_five_field_schedules_give_the_next_minute_cron_would(
    schedule: str, after: str, expected: str
) -> None:
    assert parse(schedule).next(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # kfp.Client's docstring example; Sunday is 0, so 2-6 is Tuesday to Saturday.
        ("0 0 9 ? * 2-6", "2026-01-02T10:00:00", "2026-01-03T09:00:00"),
        ("0 0 9 ? * 2-6", "2026-01-04T10:00:00", "2026-01-06T09:00:00"),
        ("*/10 * * * * *", "2026-01-01T00:00:00", "2026-01-01T00:00:10"),
        ("30 * * * * *", "2026-01-01T00:00:30", "2026-01-01T00:01:30"),
        ("*/5 * * * *", "2026-01-01T00:01:00", "2026-01-01T00:05:00"),  # five fields: minute first
        ("0 0 0 1 jan *", "2026-03-01T00:00:00", "2027-01-01T00:00:00"),
        ("0 30 2 13 * fri", "2026-02-01T00:00:00", "2026-02-06T02:30:00"),  # day OR weekday
        ("0 0 0 * * SUN", "2026-01-01T00:00:00", "2026-01-04T00:00:00"),
        ("15-45/15 0 0 * * *", "2026-01-01T00:00:16", "2026-01-01T00:00:30"),
        ("15-45/15 0 0 * * *", "2026-01-01T00:00:45", "2026-01-02T00:00:15"),
        ("@hourly", "2026-01-01T00:30:00", "2026-01-01T01:00:00"),
        ("@daily", "2026-01-01T00:30:00", "2026-01-02T00:00:00"),
        ("@every 1h30m", "2026-01-01T00:00:00", "2026-01-01T01:30:00"),
    ],
)
def test_with_optional_seconds_six_fields_start_with_the_second(
    schedule: str, after: str, expected: str
) -> None:
    assert parse(schedule, seconds="optional").next(at(after)) == at(expected)


def test_required_seconds_read_six_fields_seconds_first() -> None:
    assert parse("30 * * * * *", seconds="required").next(T0) == at("2026-01-01T00:00:30")


def test_a_schedule_runs_on_the_wall_clock_of_its_zone_and_answers_in_utc() -> None:
    berlin = parse("0 9 * * *", zone=ZoneInfo("Europe/Berlin"))
    assert berlin.next(at("2026-01-01T00:00:00")) == at("2026-01-01T08:00:00")
    assert berlin.next(at("2026-07-01T00:00:00")) == at("2026-07-01T07:00:00")  # summer time
    assert berlin.next(T0).tzinfo is UTC


def test_a_schedule_that_never_matches_says_so() -> None:
    with pytest.raises(ValueError, match="never matches"):
        parse("0 0 0 31 2 *", seconds="required").next(T0)
    with pytest.raises(ValueError, match="never matches"):
        parse("0 0 30 feb *").next(T0)


def test_next_is_strictly_later_and_matches_every_field() -> None:
    schedule = parse("7,37 */3 * * *")
    moment = T0
    for _ in range(50):
        following = schedule.next(moment)
        assert following > moment
        assert following.minute in (7, 37) and following.hour % 3 == 0 and following.second == 0
        assert following - moment <= timedelta(hours=3)
        moment = following


# Field counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "schedule", "problem"),
    [
        ("never", "* * *", "expected exactly 5 fields, found 3: [* * *]"),
        ("never", "0 * * * * *", "expected exactly 5 fields, found 6: [0 * * * * *]"),
        ("optional", "* * * *", "expected 5 to 6 fields, found 4: [* * * *]"),
        ("optional", "* * * * * * *", "expected 5 to 6 fields, found 7: [* * * * * * *]"),
        ("required", "* * * * *", "expected exactly 6 fields, found 5: [* * * * *]"),
    ],
)
def test_the_seconds_option_sets_how_many_fields_a_schedule_has(
    seconds: SecondsField, schedule: str, problem: str
) -> None:
    with pytest.raises(ValueError) as caught:
        parse(schedule, seconds=seconds)
    assert str(caught.value) == problem


@pytest.mark.parametrize("seconds", ["never", "optional", "required"])
def test_descriptors_parse_whatever_the_seconds_option(seconds: SecondsField) -> None:
    assert parse("@hourly", seconds=seconds).next(T0) == at("2026-01-01T01:00:00")


# robfig's messages (CronJob admission shows them as they are) ------------------------------------


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("", "empty spec string"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every", "unrecognized descriptor: @every"),
        ("@every5m", "unrecognized descriptor: @every5m"),
        ("@hourly ", "unrecognized descriptor: @hourly "),
        ("@every x", 'failed to parse duration @every x: time: invalid duration "x"'),
        ("@every soon", 'failed to parse duration @every soon: time: invalid duration "soon"'),
        ("@every 5", 'failed to parse duration @every 5: time: invalid duration "5"'),
        ("@every 1h x", 'failed to parse duration @every 1h x: time: invalid duration "1h x"'),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("0 0 ? foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'),
        ("*/-5 * * * *", "negative number (-5) not allowed: -5"),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("* 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * * 13 *", "end of range (13) above maximum (12): 13"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("1/2/3 * * * *", "too many slashes: 1/2/3"),
    ],
)
def test_bad_schedules_fail_with_robfigs_words(schedule: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(schedule)
    assert str(caught.value) == problem


@pytest.mark.parametrize("schedule", ["@hourly", "@every 1h30m", "@every 1.5h", "0 0 * * 0",
                                      "*/5 1-3 * JAN mon-fri", "0 0 ? * ?", "1,,2 * * * *"])
def test_good_schedules_parse(schedule: str) -> None:
    parse(schedule)
