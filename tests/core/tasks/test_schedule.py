"""The schedule rules: one-off and recurring times read in the person's zone, the DST rule
(a nonexistent time runs at the first valid minute after it, a repeated one once, at its first
occurrence), and the schedules refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vopix.core.tasks import schedule as sch

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def local(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(sch.zone(zone)):%Y-%m-%d %H:%M %Z}"


def test_a_one_off_in_minutes_and_at_a_local_time() -> None:
    soon = sch.build({"in_minutes": 20}, "Europe/Berlin", NOW)
    assert sch.next_after(soon, NOW) == datetime(2026, 3, 1, 12, 20, tzinfo=UTC)
    at_nine = sch.build({"when": "2026-03-02 09:00"}, "Europe/Berlin", NOW)
    assert local(sch.next_after(at_nine, NOW), "Europe/Berlin") == "2026-03-02 09:00 CET"
    assert sch.next_after(at_nine, datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) is None  # ran: none left
    assert sch.describe(at_nine) == "Once, on Mon 2 Mar 2026 at 09:00"


def test_recurring_kinds_in_words_and_their_next_runs() -> None:
    weekdays = sch.build({"repeat": "weekdays", "time": "18:00"}, "America/New_York", NOW)
    assert sch.describe(weekdays) == "Every weekday at 18:00"
    runs = [local(t, "America/New_York") for t in sch.upcoming(weekdays, NOW, 3)]
    assert runs == ["2026-03-02 18:00 EST", "2026-03-03 18:00 EST", "2026-03-04 18:00 EST"]  # Sun -> Mon..
    weekly = sch.build({"repeat": "weekly", "days": ["thursday", "MO"], "time": "08:00"}, "UTC", NOW)
    assert sch.describe(weekly) == "Every Monday and Thursday at 08:00"
    assert [t.day for t in sch.upcoming(weekly, NOW, 3)] == [2, 5, 9]
    monthly = sch.build({"repeat": "monthly", "day_of_month": 31, "time": "07:30"}, "UTC", NOW)
    assert sch.describe(monthly) == "Every month on day 31 at 07:30"
    assert [t.month for t in sch.upcoming(monthly, NOW, 3)] == [3, 5, 7]  # months without a 31st skipped
    custom = sch.build({"repeat": "rrule", "rrule": "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "time": "09:15"},
                       "UTC", NOW)
    assert [t.day for t in sch.upcoming(custom, NOW, 2)] == [9, 23]  # every other week from the start's week


@pytest.mark.parametrize(("zone", "day", "expected"), [
    # Spring forward: 02:30 does not exist; the run is at the first valid minute after it.
    ("Europe/Berlin", "2026-03-29", "2026-03-29 03:00 CEST"),
    ("America/New_York", "2026-03-08", "2026-03-08 03:00 EDT"),
])
def test_a_time_that_does_not_exist_runs_at_the_first_valid_minute_after_it(zone, day, expected) -> None:
    daily = sch.build({"repeat": "daily", "time": "02:30"}, zone, NOW)
    day_before = datetime.fromisoformat(f"{day}T00:00+00:00") - timedelta(days=1)
    runs = [local(t, zone) for t in sch.upcoming(daily, day_before, 3)]
    assert runs[1] == expected
    assert runs[2].endswith("02:30 " + expected.split()[-1])  # the next day at 02:30 again


@pytest.mark.parametrize(("zone", "day", "first_pass"), [
    ("Europe/Berlin", 25, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # 02:30 CEST, not 02:30 CET
    ("America/New_York", 1, datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # 01:30 EDT, not 01:30 EST
])
def test_a_time_that_occurs_twice_runs_once_at_its_first_occurrence(zone, day, first_pass) -> None:
    hour = "02:30" if zone == "Europe/Berlin" else "01:30"
    daily = sch.build({"repeat": "daily", "time": hour}, zone, NOW)
    runs = sch.upcoming(daily, first_pass - timedelta(days=1, hours=2), 3)
    on_the_day = [t for t in runs if t.astimezone(sch.zone(zone)).day == day]
    assert on_the_day == [first_pass]  # once, the first time the clock shows it


def test_pacific_chatham_a_quarter_hour_zone_and_its_own_gap() -> None:
    # Chatham is UTC+12:45 in winter, +13:45 in summer; its clocks go 02:45 -> 03:45 on the
    # last Sunday of September.
    daily = sch.build({"repeat": "daily", "time": "03:00"}, "Pacific/Chatham", NOW)
    runs = sch.upcoming(daily, datetime(2026, 9, 25, 12, 0, tzinfo=UTC), 3)
    assert [local(t, "Pacific/Chatham") for t in runs] == [
        "2026-09-26 03:00 +1245", "2026-09-27 03:45 +1345", "2026-09-28 03:00 +1345",
    ]
    assert runs[0] == datetime(2026, 9, 25, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(("spec", "zone", "says"), [
    ({"when": "2026-03-01 09:00"}, "Europe/Berlin", "in the past"),
    ({"in_minutes": 0}, "UTC", "at least 1"),
    ({"when": "2026-05-01 09:00"}, "Mars/Olympus_Mons", "not a time zone"),
    ({"repeat": "rrule", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "UTC", "never runs"),
    ({"repeat": "rrule", "rrule": "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30"}, "UTC", "never runs"),
    ({"repeat": "rrule", "rrule": "FREQ=DAILY;UNTIL=20250101T000000"}, "UTC", "never runs"),
    ({"repeat": "rrule", "rrule": "FREQ=MINUTELY;INTERVAL=2"}, "UTC", "at most every 5 minutes"),
    ({"repeat": "rrule", "rrule": "FREQ=HOURLY;BYMINUTE=0,3"}, "UTC", "at most every 5 minutes"),
    ({"repeat": "rrule", "rrule": "FREQ=SECONDLY"}, "UTC", "at most every 5 minutes"),
    ({"repeat": "rrule", "rrule": "FREQ=SOMETIMES"}, "UTC", "not valid"),
    ({"repeat": "weekly", "days": ["funday"], "time": "08:00"}, "UTC", "not a day"),
    ({"repeat": "daily", "time": "25:00"}, "UTC", "not a time of day"),
])
def test_schedules_that_cannot_be_kept_are_refused_with_the_reason(spec, zone, says) -> None:
    with pytest.raises(sch.ScheduleError, match=says):
        sch.build(spec, zone, NOW)


def test_every_five_minutes_is_allowed() -> None:
    rule = sch.build({"repeat": "rrule", "rrule": "FREQ=MINUTELY;INTERVAL=5"}, "UTC", NOW)
    first, second = sch.upcoming(rule, NOW, 2)
    assert (second - first).total_seconds() == 300


def test_quiet_hours_overnight_and_their_end() -> None:
    berlin = sch.zone("Europe/Berlin")
    late = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # 23:30 local
    assert sch.in_quiet_hours(late, berlin, "22:00", "07:00")
    assert not sch.in_quiet_hours(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), berlin, "22:00", "07:00")
    assert local(sch.quiet_hours_end(late, berlin, "07:00"), "Europe/Berlin") == "2026-03-02 07:00 CET"
