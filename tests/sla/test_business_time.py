"""Business time without a database: weekends, holidays, DST days, 24x7."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla.business_time import BusinessHours, add_business_minutes, business_seconds_between

CHI = ZoneInfo("America/Chicago")
BER = ZoneInfo("Europe/Berlin")
UTC = dt.UTC

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def chicago(holidays=()):
    return BusinessHours.from_config(
        "America/Chicago", {"days": WEEKDAYS, "start": "08:00", "end": "18:00", "holidays": list(holidays)}
    )


def local(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


def hours_between(a, b, hours):
    return business_seconds_between(a, b, hours) / 3600


# --- from_config ---------------------------------------------------------------


def test_absent_business_hours_mean_24x7():
    assert BusinessHours.from_config("America/Chicago", None) is None


def test_it_reads_days_times_and_holidays():
    hours = chicago(["2026-12-25", "2027-01-01"])
    assert hours.tz == "America/Chicago"
    assert hours.days == frozenset({0, 1, 2, 3, 4})
    assert hours.start == dt.time(8) and hours.end == dt.time(18)
    assert hours.holidays == frozenset({dt.date(2026, 12, 25), dt.date(2027, 1, 1)})


@pytest.mark.parametrize(
    "config",
    [
        {"days": ["mon"], "start": "18:00", "end": "08:00"},
        {"days": ["mon"], "start": "08:00", "end": "08:00"},
        {"days": ["funday"], "start": "08:00", "end": "18:00"},
        {"days": [], "start": "08:00", "end": "18:00"},
        {"days": ["mon"], "start": "8 o'clock", "end": "18:00"},
        {"days": ["mon"], "start": "08:00", "end": "18:00", "holidays": ["Christmas"]},
    ],
)
def test_it_refuses_a_bad_configuration(config):
    with pytest.raises(ValueError):
        BusinessHours.from_config("America/Chicago", config)


def test_it_refuses_an_unknown_zone():
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError or ValueError
        BusinessHours.from_config("Mars/Olympus", {"days": ["mon"], "start": "08:00", "end": "18:00"})


def test_end_24_00_reaches_midnight():
    hours = BusinessHours.from_config("Europe/Berlin", {"days": ["mon"], "start": "20:00", "end": "24:00"})
    monday = local(BER, 2026, 11, 23, 0)
    assert hours_between(monday, monday + dt.timedelta(days=1), hours) == 4


# --- business_seconds_between ----------------------------------------------------


def test_24x7_counts_every_second():
    a = dt.datetime(2026, 3, 7, 12, tzinfo=UTC)
    assert business_seconds_between(a, a + dt.timedelta(days=2, seconds=5), None) == 2 * 86400 + 5


def test_end_before_start_is_zero():
    a = local(CHI, 2026, 11, 24, 10)
    assert business_seconds_between(a, a - dt.timedelta(hours=1), chicago()) == 0
    assert business_seconds_between(a, a, chicago()) == 0
    assert business_seconds_between(a, a - dt.timedelta(hours=1), None) == 0


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        business_seconds_between(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2), chicago())  # noqa: DTZ001


def test_a_weekday_counts_only_its_business_hours():
    day = local(CHI, 2026, 11, 24, 0)  # Tuesday
    assert hours_between(day, day + dt.timedelta(days=1), chicago()) == 10
    assert hours_between(local(CHI, 2026, 11, 24, 17, 30), local(CHI, 2026, 11, 25, 8, 30), chicago()) == 1


def test_weekends_do_not_count():
    friday_5pm = local(CHI, 2026, 11, 20, 17)
    monday_9am = local(CHI, 2026, 11, 23, 9)
    assert hours_between(friday_5pm, monday_9am, chicago()) == 2


def test_holidays_do_not_count():
    christmas = local(CHI, 2026, 12, 25, 0)  # a Friday
    assert hours_between(christmas, christmas + dt.timedelta(days=1), chicago(["2026-12-25"])) == 0
    assert hours_between(christmas, christmas + dt.timedelta(days=1), chicago()) == 10


def test_a_whole_week_is_fifty_hours():
    monday = local(CHI, 2026, 11, 23, 0)
    assert hours_between(monday, monday + dt.timedelta(days=7), chicago()) == 50


def test_spring_forward_day_with_business_hours_after_the_gap_is_a_full_day():
    # 2026-03-08 (Sunday): Chicago jumps from 02:00 CST to 03:00 CDT.
    hours = BusinessHours.from_config("America/Chicago", {"days": ["sun"], "start": "08:00", "end": "18:00"})
    day = local(CHI, 2026, 3, 8, 0)
    assert hours_between(day, local(CHI, 2026, 3, 9, 0), hours) == 10
    # 08:00 CDT is 13:00 UTC that day (it was 14:00 UTC the Sunday before).
    assert add_business_minutes(day, 1, hours) == dt.datetime(2026, 3, 8, 13, 1, tzinfo=UTC)


def test_spring_forward_day_loses_the_skipped_hour_of_a_24_hour_calendar():
    hours = BusinessHours.from_config("America/Chicago", {"days": ["sun"], "start": "00:00", "end": "24:00"})
    day = local(CHI, 2026, 3, 8, 0)
    assert hours_between(day, local(CHI, 2026, 3, 9, 0), hours) == 23


def test_spring_forward_gap_inside_business_hours_is_not_business_time():
    hours = BusinessHours.from_config("America/Chicago", {"days": ["sun"], "start": "01:00", "end": "04:00"})
    # Wall clock shows 01:00-02:00 CST and 03:00-04:00 CDT: two hours.
    assert hours_between(local(CHI, 2026, 3, 8, 0), local(CHI, 2026, 3, 8, 12), hours) == 2


def test_fall_back_day_counts_the_repeated_hour():
    # 2026-11-01 (Sunday): Chicago falls back from 02:00 CDT to 01:00 CST.
    hours = BusinessHours.from_config("America/Chicago", {"days": ["sun"], "start": "00:00", "end": "24:00"})
    day = local(CHI, 2026, 11, 1, 0)
    assert hours_between(day, local(CHI, 2026, 11, 2, 0), hours) == 25
    repeated = BusinessHours.from_config("America/Chicago", {"days": ["sun"], "start": "01:00", "end": "02:00"})
    assert hours_between(day, local(CHI, 2026, 11, 2, 0), repeated) == 2


def test_fall_back_day_keeps_business_hours_in_wall_time():
    hours = BusinessHours.from_config("America/Chicago", {"days": ["sun"], "start": "08:00", "end": "18:00"})
    day = local(CHI, 2026, 11, 1, 0)
    assert hours_between(day, local(CHI, 2026, 11, 2, 0), hours) == 10
    # 08:00 CST is 14:00 UTC (it was 13:00 UTC the Sunday before, under CDT).
    assert add_business_minutes(day, 0.5, hours) == dt.datetime(2026, 11, 1, 14, 0, 30, tzinfo=UTC)


def test_a_week_across_the_chicago_change_still_has_fifty_business_hours():
    monday_before = local(CHI, 2026, 3, 2, 0)
    monday_after = local(CHI, 2026, 3, 9, 0)
    week_after = local(CHI, 2026, 3, 16, 0)
    assert hours_between(monday_before, monday_after, chicago()) == 50
    assert hours_between(monday_after, week_after, chicago()) == 50
    # Friday 17:00 CST to Monday 09:00 CDT: two business hours, 63 real hours.
    a, b = local(CHI, 2026, 3, 6, 17), local(CHI, 2026, 3, 9, 9)
    assert hours_between(a, b, chicago()) == 2
    assert b.astimezone(UTC) - a.astimezone(UTC) == dt.timedelta(hours=63)


def test_berlin_spring_forward_and_fall_back():
    # Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00 (both Sundays).
    all_day = BusinessHours.from_config("Europe/Berlin", {"days": ["sun"], "start": "00:00", "end": "24:00"})
    assert hours_between(local(BER, 2026, 3, 29, 0), local(BER, 2026, 3, 30, 0), all_day) == 23
    assert hours_between(local(BER, 2026, 10, 25, 0), local(BER, 2026, 10, 26, 0), all_day) == 25
    office = BusinessHours.from_config(
        "Europe/Berlin", {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    )
    # Friday 16:00 CET before the change to Monday 10:00 CEST: 2 hours.
    assert hours_between(local(BER, 2026, 3, 27, 16), local(BER, 2026, 3, 30, 10), office) == 2
    # Monday after the change opens at 09:00 CEST = 07:00 UTC.
    assert add_business_minutes(local(BER, 2026, 3, 27, 16, 30), 60, office) == dt.datetime(
        2026, 3, 30, 7, 30, tzinfo=UTC
    )
    # Monday after the autumn change opens at 09:00 CET = 08:00 UTC.
    assert add_business_minutes(local(BER, 2026, 10, 23, 16, 30), 60, office) == dt.datetime(
        2026, 10, 26, 8, 30, tzinfo=UTC
    )


# --- add_business_minutes ----------------------------------------------------------


def test_24x7_adds_plain_minutes():
    a = dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert add_business_minutes(a, 90, None) == dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def test_24x7_result_is_utc_even_from_a_local_start():
    result = add_business_minutes(local(CHI, 2026, 11, 24, 10), 30, None)
    assert result.utcoffset() == dt.timedelta(0)
    assert result == dt.datetime(2026, 11, 24, 16, 30, tzinfo=UTC)


def test_adding_inside_business_hours():
    start = local(CHI, 2026, 11, 24, 9)  # Tuesday
    assert add_business_minutes(start, 30, chicago()) == local(CHI, 2026, 11, 24, 9, 30)


def test_adding_carries_over_to_the_next_business_day():
    start = local(CHI, 2026, 11, 24, 17, 30)  # Tuesday
    assert add_business_minutes(start, 60, chicago()) == local(CHI, 2026, 11, 25, 8, 30)


def test_a_deadline_at_closing_time_stays_there():
    start = local(CHI, 2026, 11, 24, 17, 30)
    assert add_business_minutes(start, 30, chicago()) == local(CHI, 2026, 11, 24, 18, 0)


def test_opening_friday_evening_before_a_holiday_monday_waits_for_tuesday():
    friday_evening = local(CHI, 2027, 1, 1, 20)  # Friday 2027-01-01, 20:00
    hours = chicago(["2027-01-04"])  # Monday holiday
    assert add_business_minutes(friday_evening, 30, hours) == local(CHI, 2027, 1, 5, 8, 30)
    assert hours_between(friday_evening, local(CHI, 2027, 1, 5, 8, 30), hours) == 0.5


def test_opening_before_business_hours_starts_counting_at_the_opening():
    early = local(CHI, 2026, 11, 24, 6, 15)
    assert add_business_minutes(early, 480, chicago()) == local(CHI, 2026, 11, 24, 16, 0)


def test_long_objectives_span_several_days():
    start = local(CHI, 2026, 11, 20, 16)  # Friday 16:00
    # 2 h Friday + 10 h Monday + 3 h Tuesday = 15 h.
    assert add_business_minutes(start, 15 * 60, chicago()) == local(CHI, 2026, 11, 24, 11, 0)


def test_zero_minutes_is_the_start_itself():
    start = local(CHI, 2026, 11, 21, 12)  # Saturday
    assert add_business_minutes(start, 0, chicago()) == start


def test_add_and_between_agree():
    hours = chicago(["2026-11-26"])
    start = local(CHI, 2026, 11, 25, 13, 7)
    for minutes in (1, 59.5, 300, 601, 1440, 6000):
        end = add_business_minutes(start, minutes, hours)
        assert business_seconds_between(start, end, hours) == pytest.approx(minutes * 60)


def test_a_calendar_without_any_business_day_in_reach_gives_up():
    hours = BusinessHours(
        tz="UTC",
        days=frozenset({0}),
        start=dt.time(8),
        end=dt.time(9),
        holidays=frozenset(dt.date(2026, 1, 5) + dt.timedelta(weeks=w) for w in range(2000)),
    )
    with pytest.raises(ValueError):
        add_business_minutes(dt.datetime(2026, 1, 1, tzinfo=UTC), 1, hours)
