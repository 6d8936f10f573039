"""Integration rows for overview pages: health, last run, open exceptions.

Health (contract 4.2): ``new`` before the first run; with a schedule, ``late``
from every + grace after the last heartbeat and ``down`` from every + twice the
grace; else ``up``. Replay runs are not heartbeats."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
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


def last_heartbeats(integration_ids):
    """{integration_id: started_at of its latest run that is not a replay}
    (``integration_ids``: a list, or a queryset of ids).
    One index probe per integration (run_integration_started, newest first),
    however many runs each has: the portfolio asks this of every integration
    of a partner."""
    latest = (
        Run.objects.filter(integration=OuterRef("pk"))
        .exclude(trigger=Trigger.REPLAY)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    if not isinstance(integration_ids, QuerySet):
        integration_ids = list(integration_ids)
    rows = Integration.objects.filter(pk__in=integration_ids).annotate(last=Subquery(latest))
    return {pk: last for pk, last in rows.values_list("pk", "last") if last is not None}


def health_counts(integrations, now=None):
    """{tenant_id: {"new": n, "up": n, "late": n, "down": n}} of ``integrations`` (a queryset)."""
    heartbeats = last_heartbeats(integrations.values("pk"))
    out = {}
    for i in integrations:
        counts = out.setdefault(i.tenant_id, {Health.NEW: 0, Health.UP: 0, Health.LATE: 0, Health.DOWN: 0})
        counts[health_of(i, heartbeats.get(i.pk), now)] += 1
    return out


@dataclass
class IntegrationRow:
    integration: Integration
    health: str
    last_run: Run | None
    open_exceptions: int
    last_heartbeat: object = None


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
    heartbeats = last_heartbeats([i.pk for i in integrations])
    runs = Run.objects.in_bulk([i.last_run_pk for i in integrations if i.last_run_pk])
    last_runs = {i.pk: runs.get(i.last_run_pk) for i in integrations}
    return [
        IntegrationRow(
            integration=i,
            health=health_of(i, heartbeats.get(i.pk), now),
            last_run=last_runs.get(i.pk),
            open_exceptions=i.open_exceptions,
            last_heartbeat=heartbeats.get(i.pk),
        )
        for i in integrations
    ]
