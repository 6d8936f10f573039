"""The SLA page's daily charts read the month once (``sla.batch.DailyPrefetch``)
instead of once per day; every day's rows must be exactly those
``sla_rows`` gives for that day alone: past and current months, two time
zones, business hours with a holiday, a maintenance window, heartbeats
carried across days, openings, and a day whose rollups were built under
another basis."""

from datetime import timedelta

import pytest
import time_machine

from sla.batch import DailyPrefetch
from sla.engine import month_bounds, objectives_context, sla_rows
from sla.rollups import day_start, days_between, local_day
from sla.views import daily_attainment
from tests import factories as f
from tests.governance.conftest import utc

pytestmark = pytest.mark.django_db


def day_by_day(tenant, start, end, now):
    """Every day's rows, each read on its own (the engine without prefetch)."""
    tz = tenant.tzinfo
    context = objectives_context(tenant)
    last = min(local_day(end - timedelta(microseconds=1), tz), local_day(now, tz))
    return {
        d: sla_rows(tenant, day_start(d, tz), day_start(d + timedelta(days=1), tz), now=now, context=context)
        for d in days_between(local_day(start, tz), last)
    }


def prefetched(tenant, start, end, now):
    tz = tenant.tzinfo
    first = local_day(start, tz)
    last = min(local_day(end - timedelta(microseconds=1), tz), local_day(now, tz))
    pre = DailyPrefetch(tenant, first, last, start, end)
    context = pre.context(tenant)
    return {
        d: sla_rows(tenant, day_start(d, tz), day_start(d + timedelta(days=1), tz), now=now, context=context, pre=pre)
        for d in days_between(first, last)
    }


@pytest.mark.parametrize("month", [(2026, 11), (2026, 12)], ids=["closed month", "current month"])
def test_every_days_rows_equal_the_engine_reading_that_day_alone(portfolio_data, contoso, fabrikam, month):
    sched, _other = portfolio_data["contoso"]
    # Two hours of maintenance on the 12th, made after the rollups were built:
    # that day's rows now have a stale basis and are rebuilt when read.
    f.make_window(contoso, utc(2026, 11, 12, 15), utc(2026, 11, 12, 17), integrations=[sched])
    with time_machine.travel(utc(2026, 12, 3, 9, 30), tick=False):
        now = utc(2026, 12, 3, 9, 30)
        for tenant in (contoso, fabrikam):
            start, end = month_bounds(tenant, *month)
            expected = day_by_day(tenant, start, end, now)
            assert prefetched(tenant, start, end, now) == expected
            assert len(expected) == (30 if month == (2026, 11) else 3)
            assert any(row["total"] for rows in expected.values() for row in rows)


def test_the_page_series_reads_a_constant_number_of_queries_for_the_month(
    portfolio_data, contoso, django_assert_max_num_queries
):
    with time_machine.travel(utc(2026, 12, 3, 9, 30), tick=False):
        now = utc(2026, 12, 3, 9, 30)
        start, end = month_bounds(contoso, 2026, 11)
        daily_attainment(contoso, start, end, now)  # rows with a stale basis rebuilt once
        with django_assert_max_num_queries(12):
            series = daily_attainment(contoso, start, end, now)
    assert len(series["run_success"][0]) == 30
