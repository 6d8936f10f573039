"""Book close (contract section 1, 1.1): the books of a month close at the
end of the N-th business day of the following month, in the tenant's
calendar. Pure computation: no database."""

import datetime as dt

import pytest

from sla.business_time import BusinessHours, business_days_to, close_deadline, closing_month

UTC = dt.UTC
CHICAGO = "America/Chicago"
WEEKDAYS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}


def office(tz=CHICAGO, **changes):
    return BusinessHours.from_config(tz, {**WEEKDAYS, **changes})


def z(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_weekends_are_not_business_days():
    # September 2026 begins on a Tuesday: business days 1-4 are Tue-Fri, the
    # 5th is Monday 7 (the weekend skipped), ending 18:00 CDT = 23:00Z.
    assert close_deadline(2026, 8, 5, office(), CHICAGO) == z(2026, 9, 7, 23)
    assert close_deadline(2026, 8, 4, office(), CHICAGO) == z(2026, 9, 4, 23)


def test_holidays_are_not_business_days():
    hours = office(holidays=["2026-09-07"])
    assert close_deadline(2026, 8, 5, hours, CHICAGO) == z(2026, 9, 8, 23)


def test_a_business_day_ends_in_the_offset_of_its_own_date_across_the_dst_change():
    # US daylight saving ends on Sunday 1 November 2026: Monday the 2nd,
    # October's first business day of close, ends at 18:00 CST = 00:00Z.
    assert close_deadline(2026, 10, 1, office(), CHICAGO) == z(2026, 11, 3, 0)
    # September's 1st business day of close (Thu 1 October) is still CDT.
    assert close_deadline(2026, 9, 1, office(), CHICAGO) == z(2026, 10, 1, 23)


def test_a_24x7_tenant_counts_every_day_and_its_days_end_at_midnight():
    # Every day counts: the 3rd of December ends at local midnight (CST) = 06:00Z on the 4th.
    assert close_deadline(2026, 11, 3, None, CHICAGO) == z(2026, 12, 4, 6)
    # 1 November 2026 lasts 25 hours in Chicago; it ends at midnight CST.
    assert close_deadline(2026, 10, 1, None, CHICAGO) == z(2026, 11, 2, 6)
    # Across a year end.
    assert close_deadline(2026, 12, 2, None, "Europe/Berlin") == z(2027, 1, 2, 23)


def test_business_hours_until_midnight_end_the_day_at_midnight():
    hours = office(tz="Europe/Berlin", end="24:00")
    # Tue 1 December 2026 ends at midnight in Berlin (CET) = 23:00Z.
    assert close_deadline(2026, 11, 1, hours, "Europe/Berlin") == z(2026, 12, 1, 23)


def test_the_tenth_business_day_is_the_largest_allowed_and_works():
    # December 2026 from Tue 1: 1,2,3,4, 7,8,9,10,11, 14 → Mon 14 December 18:00 CST.
    assert close_deadline(2026, 11, 10, office(), CHICAGO) == z(2026, 12, 15, 0)


def test_the_closing_month_is_found_from_its_deadline():
    hours = office()
    deadline = close_deadline(2026, 10, 3, hours, CHICAGO)
    assert closing_month(deadline, 3, hours, CHICAGO) == dt.date(2026, 10, 1)
    assert closing_month(close_deadline(2026, 12, 2, None, CHICAGO), 2, None, CHICAGO) == dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (z(2026, 12, 1, 16), 3),  # Tue 1 Dec 10:00 CST: today, Wed and Thu
        (z(2026, 12, 2, 1), 2),  # Tue 19:00 CST: today's business day is over
        (z(2026, 12, 3, 23, 59), 1),  # Thu 17:59 CST: the last one
        (z(2026, 12, 4, 16), -1),  # Fri 10:00 CST: passed 1 business day ago
        (z(2026, 12, 5, 16), -1),  # Saturday: still 1
        (z(2026, 12, 7, 16), -2),  # Monday: 2
    ],
)
def test_business_days_left_and_since_the_close(now, left):
    hours = office()
    deadline = close_deadline(2026, 11, 3, hours, CHICAGO)
    assert deadline == z(2026, 12, 4, 0)
    assert business_days_to(now, deadline, hours, CHICAGO) == left


def test_a_weekend_before_the_close_is_not_counted_as_days_left():
    hours = office()
    deadline = close_deadline(2026, 11, 3, hours, CHICAGO)  # Thu 3 December
    # From Saturday 28 November: Mon 30 November, Tue 1, Wed 2 and Thu 3 December.
    assert business_days_to(z(2026, 11, 28, 16), deadline, hours, CHICAGO) == 4
