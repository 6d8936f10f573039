"""A portfolio of two northwind tenants with runs and exception openings in
November and December 2026; southwind (another partner) has its own."""

from datetime import UTC, datetime, timedelta

import pytest

from sla.rollups import rebuild
from tests import factories as f

GOLD = [
    {"objective": "run_success", "target": 99.0},
    {"objective": "record_success", "target": 99.5},
    {"objective": "freshness", "target": 95.0, "threshold_minutes": 30},
    {"objective": "timeliness", "target": 99.5},
    {"objective": "acknowledge", "priority": "P1", "target": 95.0, "within_business_minutes": 30},
    {"objective": "resolve", "priority": "P2", "target": 90.0, "within_business_minutes": 480},
]
BUSINESS_HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def runs_every(integration, start, end, hours, **kw):
    """A run every ``hours`` hours in [start, end), every fifth one partial."""
    t, n = start, 0
    while t < end:
        status = "partial" if n % 5 == 4 else "succeeded"
        f.make_run_at(
            integration,
            t,
            status=status,
            rollup=False,
            succeeded=90,
            failed=10 if status == "partial" else 0,
            lag_seconds=300 * n,
        )
        t += timedelta(hours=hours)
        n += 1


@pytest.fixture
def portfolio_data(northwind, contoso, fabrikam):
    """Contoso (Chicago, business hours) and Fabrikam (Berlin, 24x7) on the gold
    plan, each with a scheduled and an unscheduled integration (one with its own
    freshness threshold), runs through November into December 3, openings."""
    gold = f.make_plan(northwind, "gold", GOLD)
    contoso.business_hours = {**BUSINESS_HOURS, "holidays": ["2026-11-26"]}
    for tenant in (contoso, fabrikam):
        tenant.plan = gold
        tenant.save(update_fields=["plan", "business_hours"])
    out = {}
    for tenant in (contoso, fabrikam):
        sched = f.make_integration(tenant, "time-expense-posting", every_minutes=360, grace_minutes=60)
        other = f.make_integration(tenant, "billing-sync", pattern="billing_milestone_sync")
        f.make_objective(other, objective="freshness", target=99.0, threshold_minutes=60)
        runs_every(sched, utc(2026, 10, 30), utc(2026, 12, 3, 9), 5)
        runs_every(other, utc(2026, 11, 2), utc(2026, 12, 2), 23)
        for k in range(6):
            opened = utc(2026, 11, 3 + 4 * k, 14)
            f.make_opening(sched, opened, "P1", acknowledged_at=opened + timedelta(minutes=10 * k))
            f.make_opening(other, opened, "P2", resolved_at=opened + timedelta(hours=3 * k) if k % 2 else None)
        f.make_opening(sched, utc(2026, 12, 2, 15), "P1")
        # The rollups the ingest path would have built, in one pass.
        rebuild(tenant)
        out[tenant.slug] = (sched, other)
    return out
