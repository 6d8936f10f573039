"""The portfolio (contract 4.6): for each tenant of a partner, the SLA rows
without an integration (pooled and tenant-wide) for a month, exactly as
``GET /api/v1/sla`` gives them, with open exceptions by priority and the
integrations' health now.

Figures come from ``sla.engine.sla_rows`` and health from
``integrations.overview``: never computed a second way."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from integrations.models import OPEN_STATUSES, Integration, Priority, SyncException
from integrations.overview import Health, health_counts
from sla.batch import Prefetch
from sla.engine import month_bounds, sla_rows

# The keys of a 4.4 row that a portfolio row carries (all but "integration").
ROW_KEYS = (
    "objective",
    "priority",
    "target",
    "threshold_minutes",
    "within_business_minutes",
    "good",
    "total",
    "attained",
    "met",
    "error_budget",
)


def tenant_rows(tenant, year, month, now, pre=None):
    """The rows of 4.4 with ``"integration": null`` for ``tenant`` and the month."""
    start, end = month_bounds(tenant, year, month)
    rows = sla_rows(tenant, start, end, now=now, pre=pre)
    return [{k: row[k] for k in ROW_KEYS} for row in rows if row["integration"] is None]


def open_by_priority(tenant_ids):
    """{tenant_id: {"P1": n, …, "P4": n}} of exceptions open or acknowledged now."""
    out = {pk: {p: 0 for p in Priority.values} for pk in tenant_ids}
    rows = (
        SyncException.objects.filter(tenant_id__in=tenant_ids, status__in=OPEN_STATUSES)
        .values_list("tenant_id", "priority")
        .annotate(n=Count("id"))
    )
    for tenant_id, priority, n in rows:
        out[tenant_id][priority] = n
    return out


def open_amounts(tenant_ids):
    """{tenant_id: the sum of the ``open_amount`` of its exceptions open or
    acknowledged now, as a decimal string of four places}; a tenant whose
    every such exception has none is left out (null in the answer)."""
    rows = (
        SyncException.objects.filter(tenant_id__in=tenant_ids, status__in=OPEN_STATUSES, open_amount__isnull=False)
        .values_list("tenant_id")
        .annotate(total=Sum("open_amount"))
    )
    return {tenant_id: str(Decimal(total).quantize(Decimal("0.0001"))) for tenant_id, total in rows}


def portfolio(tenants, year, month, now=None):
    """The tenants' entries of 4.6, by tenant name.

    1. the SLA rows of each tenant's month (its own calendar), what they
       read fetched for every tenant at once (``sla.batch``);
    2. open exceptions by priority, and the money they hold, in one query each;
    3. integration health, in two queries for every integration."""
    now = now or timezone.now()
    tenants = list(tenants.select_related("partner").order_by("name", "slug"))
    ids = [t.pk for t in tenants]
    open_counts = open_by_priority(ids)
    amounts = open_amounts(ids)
    health = health_counts(Integration.objects.filter(tenant_id__in=ids), now)
    pre = Prefetch(tenants, date(year, month, 1))
    empty = {Health.NEW: 0, Health.UP: 0, Health.LATE: 0, Health.DOWN: 0}
    return [
        {
            "tenant": t.slug,
            "name": t.name,
            "objectives": tenant_rows(t, year, month, now, pre),
            "open_exceptions": open_counts[t.pk],
            "open_amount": amounts.get(t.pk),
            "currency": t.currency,
            "health": health.get(t.pk, dict(empty)),
        }
        for t in tenants
    ]
