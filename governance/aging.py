"""Backlog aging: exceptions open or acknowledged now, by priority, in
buckets of their age in business days (< 1, 1–3, 3–7, > 7), per tenant.

Age is the business time since the exception's current opening, in the
tenant's calendar (``sla.business_time``: its zone, days, hours and
holidays), divided by the length of its business day (24 hours for 24x7).
Each bucket is a range of opening instants, cut where the age reaches 1, 3
and 7 business days, so that the inbox filtered by ``opened_after`` and
``opened_before`` lists exactly the exceptions a cell counts."""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse

from integrations.models import OPEN_STATUSES, Priority, SyncException
from opsconsole.lib.timestamps import utc_z
from sla.business_time import business_day_seconds, business_hours_of, latest_start_with


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    younger: int | None  # the age (business days) this bucket starts at
    older: int | None  # the age it ends before


BUCKETS = (
    Bucket("lt1", "< 1 day", None, 1),
    Bucket("1-3", "1–3 days", 1, 3),
    Bucket("3-7", "3–7 days", 3, 7),
    Bucket("gt7", "> 7 days", 7, None),
)
AGES = (1, 3, 7)
TICK = timedelta(microseconds=1)


def edges(tenant, now):
    """{k: the first opening instant younger than k business days at ``now``}
    for k in 1, 3, 7: what opened at or after edge k is under k days old."""
    hours = business_hours_of(tenant)
    day = business_day_seconds(hours)
    return {k: latest_start_with(now, k * day, hours) + TICK for k in AGES}


def bucket_of(opened_at, cut):
    for b in BUCKETS:
        if b.older is None or opened_at >= cut[b.older]:
            return b.key
    raise AssertionError("unreachable")  # pragma: no cover


def inbox_url(tenant_slug, priority, bucket, cut):
    """The inbox filtered to one cell (tenant may be None: every tenant)."""
    query = {"priority": priority} if priority else {}
    if tenant_slug:
        query["tenant"] = tenant_slug
    if bucket.older is not None:
        query["opened_after"] = utc_z(cut[bucket.older])
    if bucket.younger is not None:
        query["opened_before"] = utc_z(cut[bucket.younger])
    return reverse("integrations-inbox") + "?" + urlencode(query)


@dataclass
class TenantAging:
    tenant: object
    cut: dict
    counts: dict = field(default_factory=dict)  # {(priority, bucket key): n}

    def cells(self, priority):
        return [
            (self.counts.get((priority, b.key), 0), inbox_url(self.tenant.slug, priority, b, self.cut)) for b in BUCKETS
        ]

    def total(self, bucket_key):
        return sum(n for (_p, b), n in self.counts.items() if b == bucket_key)


def aging(tenants, now):
    """(per-tenant TenantAging by name, totals {(priority, bucket key): n},
    shared cuts or None when the tenants' calendars cut differently)."""
    tenants = list(tenants.order_by("name", "slug"))
    rows = {t.pk: TenantAging(t, edges(t, now)) for t in tenants}
    opened = SyncException.objects.filter(tenant__in=[t.pk for t in tenants], status__in=OPEN_STATUSES)
    totals = {}
    for tenant_id, priority, opened_at in opened.values_list("tenant_id", "priority", "opened_at").iterator(
        chunk_size=5000
    ):
        row = rows[tenant_id]
        key = (priority, bucket_of(opened_at, row.cut))
        row.counts[key] = row.counts.get(key, 0) + 1
        totals[key] = totals.get(key, 0) + 1
    cuts = {tuple(sorted(r.cut.items())) for r in rows.values()}
    shared = rows[tenants[0].pk].cut if len(cuts) == 1 else None
    return [rows[t.pk] for t in tenants], totals, shared


PRIORITIES = Priority.values
