"""The SLA clock of an exception (sla/clock.py)."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from sla.business_time import BusinessHours, add_business_minutes
from sla.clock import clock_for, latest_start_due_by

CHI = ZoneInfo("America/Chicago")
OFFICE = BusinessHours.from_config(
    "America/Chicago", {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
)
OBJECTIVES = {("acknowledge", "P1"): 30, ("resolve", "P1"): 480}


def exception(status="open", opened=None, acked=None, resolved=None, priority="P1"):
    return SimpleNamespace(
        status=status,
        priority=priority,
        opened_at=opened or dt.datetime(2026, 11, 24, 9, 0, tzinfo=CHI),
        acknowledged_at=acked,
        resolved_at=resolved,
    )


def test_a_running_clock_counts_business_time_left():
    now = dt.datetime(2026, 11, 24, 9, 10, tzinfo=CHI)
    clock = clock_for(exception(), OBJECTIVES, OFFICE, now)
    assert clock.acknowledge.left_seconds == 20 * 60 and clock.acknowledge.met is None
    assert clock.next is clock.acknowledge
    assert clock.resolve.due == dt.datetime(2026, 11, 24, 17, 0, tzinfo=CHI)


def test_overdue_time_is_negative_business_time():
    now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=CHI)  # the next morning
    clock = clock_for(exception(), OBJECTIVES, OFFICE, now)
    # Due 09:30 Tuesday; overdue 8.5 h on Tuesday and 1 h on Wednesday.
    assert clock.acknowledge.left_seconds == -9.5 * 3600
    assert clock.acknowledge.breached


def test_acknowledged_in_time_is_met_and_stops_that_clock():
    opened = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CHI)
    clock = clock_for(
        exception("acknowledged", opened, acked=opened + dt.timedelta(minutes=10)), OBJECTIVES, OFFICE, opened
    )
    assert clock.acknowledge.met is True and clock.acknowledge.left_seconds is None
    assert clock.next is clock.resolve


def test_resolving_late_misses_resolve_but_also_acknowledges():
    opened = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CHI)
    resolved = opened + dt.timedelta(days=1)
    clock = clock_for(exception("resolved", opened, resolved=resolved), OBJECTIVES, OFFICE, resolved)
    assert clock.resolve.met is False and clock.acknowledge.met is False
    assert clock.next is None


def test_ignored_exceptions_have_no_resolve_clock():
    clock = clock_for(exception("ignored", acked=dt.datetime(2026, 11, 24, 9, 5, tzinfo=CHI)), OBJECTIVES, OFFICE)
    assert clock.resolve is None and clock.acknowledge.met is True


def test_no_objective_for_the_priority_means_no_clock():
    clock = clock_for(exception(priority="P4"), OBJECTIVES, OFFICE)
    assert clock.acknowledge is None and clock.resolve is None and clock.next is None


@pytest.mark.parametrize("hours", [None, OFFICE])
@pytest.mark.parametrize("minutes", [30, 480, 1500])
def test_latest_start_due_by_inverts_add_business_minutes(hours, minutes):
    limit = dt.datetime(2026, 11, 30, 10, 15, tzinfo=CHI)  # a Monday
    latest = latest_start_due_by(limit, minutes, hours)
    assert add_business_minutes(latest, minutes, hours) <= limit
    assert add_business_minutes(latest + dt.timedelta(seconds=1), minutes, hours) > limit


@pytest.mark.django_db
@pytest.mark.parametrize("calendar", [{}, {"days": ["mon"], "start": "25:99"}, {"days": 5}])
def test_the_inbox_deadline_and_the_sla_report_read_one_calendar(northwind, calendar):
    """An empty or unreadable calendar counts every minute in both, so the
    stored deadline and the report's business minutes cannot disagree."""
    from integrations.sync_exceptions.deadlines import refresh_due
    from sla.engine import business_minutes_between
    from tests import factories as f

    tenant = f.make_tenant(northwind, "weekend", business_hours=calendar)
    f.make_objective(tenant, objective="acknowledge", priority="P3", target=95, within_business_minutes=60)
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=CHI)
    exception = f.make_exception(f.make_integration(tenant, "sync"), priority="P3", opened_at=saturday)

    refresh_due([exception.pk])

    exception.refresh_from_db()
    assert exception.due_at == saturday + dt.timedelta(hours=1)
    assert business_minutes_between(tenant, saturday, saturday + dt.timedelta(hours=1)) == 60
