"""A tenant with a month of runs, open exceptions and a replay waiting for
approval: what the customer portal shows. The clock stands at
2026-11-20 18:00 UTC (noon in Chicago)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from integrations import replays
from opsconsole.models import Hostname
from sla.rollups import runs_changed
from tests import factories as f

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")


@dataclass
class PortalData:
    integration: object
    other: object
    exception: object
    replay: object


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def portal_data(frozen, northwind, contoso, support):
    """Contoso on a 99 % run-success plan: its time and expense flow runs
    every two hours and met the target every day (in Chicago) but 3 November
    (1 of 12 runs failed) and 5 November (all failed); its billing flow has
    never run. Open exceptions P1 and P2,
    and a replay requested by support waiting for approval."""
    plan = f.make_plan(northwind, objectives=[{"objective": "run_success", "target": 99.0}])
    contoso.plan = plan
    contoso.save()
    Hostname.objects.create(partner=northwind, name="ops.northwind.example")
    te = f.make_integration(
        contoso, "time-expense-posting", name="Time and expense to NetSuite", approval_required=True
    )
    billing = f.make_integration(contoso, "billing-milestones", name="Billing milestones")
    runs = []
    for day in range(1, 21):
        for hour in range(0, 24, 2):
            status = "failed" if (day == 3 and hour == 14) or day == 5 else "succeeded"
            started = datetime(2026, 11, day, hour, tzinfo=CHICAGO)
            if started < NOW:
                runs.append(f.make_run_at(te, started, status, succeeded=10, rollup=False).pk)
    runs_changed(contoso.pk, runs)
    p1 = f.make_exception_with_records(te, title="Credentials for <system> expired", priority="P1")
    f.make_exception(te, title="Project P-<n> is closed in the ERP", priority="P2")
    f.make_exception(te, title="Resolved long ago", priority="P2", status="resolved")
    replay = replays.request_replay(support, p1, reason="Credentials renewed")
    return PortalData(te, billing, p1, replay)
