"""Closed months keep their SLA figures after the retention purge deletes
their raw runs (contract section 1, "Retention")."""

import time_machine

from integrations.models import Run
from tests import factories as f
from tests.sla.conftest import utc


def test_a_closed_months_figures_survive_the_purge_of_its_runs(november, contoso, daily, as_user, support):
    client = as_user(support)
    url = "/api/v1/sla?tenant=contoso&period=2026-11"
    with time_machine.travel(utc(2026, 12, 10), tick=False):
        before = client.get(url).json()
    contoso.retention_days = 30
    contoso.save(update_fields=["retention_days"])
    with time_machine.travel(utc(2027, 2, 1), tick=False):
        # The purge: runs older than the retention are gone.
        Run.objects.filter(started_at__lt=utc(2027, 1, 2)).delete()
        assert not Run.objects.filter(integration=daily).exists()
        # A window added afterwards cannot be applied to runs that are gone;
        # the kept figures stay as they were.
        f.make_window(contoso, utc(2026, 11, 20), utc(2026, 11, 21))
        after = client.get(url).json()
    diff = [(a, b) for a, b in zip(after["objectives"], before["objectives"], strict=True) if a != b]
    assert not diff
