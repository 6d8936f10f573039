"""Integration rows for overview pages: health, last run, open exceptions.

Health (contract 4.2): ``new`` before the first run; with a schedule, ``late``
from every + grace after the last heartbeat and ``down`` from every + twice the
grace; else ``up``. Replay runs are not heartbeats."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.utils import timezone

from integrations.models import OPEN_STATUSES, Integration, Run, Trigger


class Health:
    NEW = "new"
    UP = "up"
    LATE = "late"
    DOWN = "down"


def health_of(integration, last_heartbeat, now=None):
    if last_heartbeat is None:
        return Health.NEW
    if not integration.has_schedule:
        return Health.UP
    now = now or timezone.now()
    every = timedelta(minutes=integration.every_minutes)
    grace = timedelta(minutes=integration.grace_minutes or 0)
    if now >= last_heartbeat + every + 2 * grace:
        return Health.DOWN
    if now >= last_heartbeat + every + grace:
        return Health.LATE
    return Health.UP


@dataclass
class IntegrationRow:
    integration: Integration
    health: str
    last_run: Run | None
    open_exceptions: int


def integration_rows(tenants, now=None):
    """One row per integration of ``tenants``, in a constant number of queries."""
    integrations = list(
        Integration.objects.filter(tenant__in=tenants)
        .select_related("tenant", "source", "target", "owner")
        .annotate(
            open_exceptions=Count("exceptions", filter=Q(exceptions__status__in=OPEN_STATUSES), distinct=True),
            last_run_pk=Subquery(
                Run.objects.filter(integration=OuterRef("pk")).order_by("-started_at", "-id").values("pk")[:1]
            ),
        )
        .order_by("tenant__name", "name")
    )
    ids = [i.pk for i in integrations]
    heartbeats = dict(
        Run.objects.filter(integration_id__in=ids)
        .exclude(trigger=Trigger.REPLAY)
        .values("integration_id")
        .annotate(last=Max("started_at"))
        .values_list("integration_id", "last")
    )
    runs = Run.objects.in_bulk([i.last_run_pk for i in integrations if i.last_run_pk])
    last_runs = {i.pk: runs.get(i.last_run_pk) for i in integrations}
    return [
        IntegrationRow(
            integration=i,
            health=health_of(i, heartbeats.get(i.pk), now),
            last_run=last_runs.get(i.pk),
            open_exceptions=i.open_exceptions,
        )
        for i in integrations
    ]
