"""A month of contoso's runs and exceptions, hand-computed in the tests.

Contoso is in America/Chicago: November 2026 runs from 2026-11-01T05:00Z
(CDT) to 2026-12-01T06:00Z (CST), 2,595,600 seconds. The scheduled
integration runs once a day (every 1,440 + grace 60 minutes) at 06:00Z."""

from datetime import UTC, datetime, timedelta

import pytest

from tests import factories as f

GOLD = [
    {"objective": "run_success", "target": 99.0},
    {"objective": "record_success", "target": 99.5},
    {"objective": "freshness", "target": 95.0, "threshold_minutes": 30},
    {"objective": "timeliness", "target": 99.5},
    {"objective": "acknowledge", "priority": "P1", "target": 95.0, "within_business_minutes": 30},
    {"objective": "resolve", "priority": "P1", "target": 90.0, "within_business_minutes": 480},
]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def gold(northwind):
    return f.make_plan(northwind, "gold", GOLD)


@pytest.fixture
def daily(contoso, gold):
    """The scheduled integration, on the gold plan."""
    contoso.plan = gold
    contoso.save(update_fields=["plan"])
    return f.make_integration(contoso, "time-expense-posting", every_minutes=1440, grace_minutes=60)


@pytest.fixture
def billing(contoso, daily):
    """An integration without a schedule, with its own freshness objective."""
    integ = f.make_integration(contoso, "billing-sync", pattern="billing_milestone_sync")
    f.make_objective(integ, objective="freshness", target=99.0, threshold_minutes=60)
    return integ


def november_runs(integ):
    """Daily heartbeats at 06:00Z from Oct 31 to Nov 30, none on Nov 10;
    Nov 5 partial, Nov 6 failed, Nov 7 lag one hour; a replay run on Nov 10."""
    runs = []
    day = utc(2026, 10, 31, 6)
    while day <= utc(2026, 11, 30, 6):
        if day.day != 10:
            status, rec, lag = "succeeded", (100, 0), 600
            if day == utc(2026, 11, 5, 6):
                status, rec, lag = "partial", (90, 10), None
            elif day == utc(2026, 11, 6, 6):
                status, rec, lag = "failed", (0, 50), 600
            elif day == utc(2026, 11, 7, 6):
                lag = 3600
            runs.append(
                f.make_run_at(
                    integ, day, status, run_id=f"d-{day:%m%d}", succeeded=rec[0], failed=rec[1], lag_seconds=lag
                )
            )
        day += timedelta(days=1)
    runs.append(
        f.make_run_at(integ, utc(2026, 11, 10, 12), "succeeded", run_id="replay-1", trigger="replay", succeeded=5)
    )
    return runs


@pytest.fixture
def november(daily, billing):
    runs = november_runs(daily)
    for n in (1, 2):
        runs.append(f.make_run_at(billing, utc(2026, 11, 15, 14), run_id=f"b-{n}", succeeded=10, lag_seconds=3000))
    # Acknowledge / resolve within 30 / 480 minutes (24x7: no business hours).
    f.make_opening(
        daily, utc(2026, 11, 3, 10), acknowledged_at=utc(2026, 11, 3, 10, 20), resolved_at=utc(2026, 11, 3, 12)
    )
    f.make_opening(daily, utc(2026, 11, 4, 10), acknowledged_at=utc(2026, 11, 4, 11))
    f.make_opening(daily, utc(2026, 11, 5, 10), ignored_at=utc(2026, 11, 5, 10, 5))
    f.make_opening(daily, utc(2026, 11, 5, 10), priority="P2")
    f.make_opening(daily, utc(2026, 10, 31, 10))
    return runs
