"""Month-level lag histograms (``sla.models.LagMonth``): the sum of the lag
histograms of one integration's day rows over one month of the tenant's
calendar.

The freshness objective needs, per integration, how many finished runs
reported a lag of at most N minutes for any N, so the day rows keep a
histogram by minute. Summing a month of them costs as many entries as there
are distinct lag minutes per day, which grows with the number of runs; the
month row caps that at the distinct minutes of the month. It is never
adjusted by deltas: ``write`` rewrites a month from its day rows, and the
rollup writer (``sla.rollups._refresh``) calls it for every month whose day
rows it just wrote, in the same transaction and under the same locks. So a
month row is always exactly the sum of its day rows, including rows kept
past the retention, and the figures read through it are the ones the day
rows give.

Readers ask ``hists_over`` for a span of days: whole months come from the
month rows, the days at either edge from the day rows.
"""

from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone

from sla.models import LagMonth, RunDay


def month_of(day):
    return day.replace(day=1)


def next_month(month):
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def add_hist(into, hist):
    """Add the histogram ``hist`` ({minutes: runs}, keys as stored) into ``into``."""
    for k, v in (hist or {}).items():
        k = int(k)
        into[k] = into.get(k, 0) + v


def write(tenant_id, months):
    """Rewrite the month rows ``months`` ({integration_id: {first day of
    month}}) from their day rows, in one read and one upsert."""
    q = Q()
    for pk, ms in months.items():
        for m in ms:
            q |= Q(integration_id=pk, day__gte=m, day__lt=next_month(m))
    if not q:
        return
    sums = {(pk, m): {} for pk, ms in months.items() for m in ms}
    for pk, day, hist in RunDay.objects.filter(q).values_list("integration_id", "day", "lag_hist").iterator(2000):
        add_hist(sums[(pk, month_of(day))], hist)
    now = timezone.now()
    LagMonth.objects.bulk_create(
        [
            LagMonth(
                tenant_id=tenant_id,
                integration_id=pk,
                month=m,
                lag_hist={str(k): v for k, v in sorted(h.items())},
                updated=now,
            )
            for (pk, m), h in sorted(sums.items())
        ],
        update_conflicts=True,
        unique_fields=["integration", "month"],
        update_fields=["lag_hist", "updated"],
        batch_size=1000,
    )


def rebuild(tenant_ids=None):
    """Rewrite every month row of ``tenant_ids`` (default: all tenants) from
    the day rows: for rollups written without the writer (a migration, a bulk
    load). Returns the number of month rows written."""
    days = RunDay.objects.all() if tenant_ids is None else RunDay.objects.filter(tenant_id__in=tenant_ids)
    by_tenant = {}
    for tenant_id, pk, day in days.values_list("tenant_id", "integration_id", "day").distinct().iterator(5000):
        by_tenant.setdefault(tenant_id, {}).setdefault(pk, set()).add(month_of(day))
    count = 0
    for tenant_id, months in by_tenant.items():
        for pk, ms in months.items():
            write(tenant_id, {pk: ms})
            count += len(ms)
    return count


def split(first_day, last_day):
    """(whole months inside [first_day, last_day], [(lo, hi)] day spans left
    at its edges), the spans inclusive."""
    m = month_of(first_day)
    if m < first_day:
        m = next_month(m)
    months = []
    while next_month(m) - timedelta(days=1) <= last_day:
        months.append(m)
        m = next_month(m)
    if not months:
        return [], [(first_day, last_day)]
    edges = []
    if first_day < months[0]:
        edges.append((first_day, months[0] - timedelta(days=1)))
    end = next_month(months[-1])
    if end <= last_day:
        edges.append((end, last_day))
    return months, edges


def hists_over(first_day, last_day, integration_ids=None, tenant_ids=None):
    """{integration_id: {minutes: runs}} summed over the day rows of
    [first_day, last_day] of ``integration_ids`` (or of every integration of
    ``tenant_ids``): month rows for the whole months, day rows at the edges."""
    months, edges = split(first_day, last_day)
    scope = Q(integration_id__in=integration_ids) if tenant_ids is None else Q(tenant_id__in=tenant_ids)
    out = {}
    if months:
        rows = LagMonth.objects.filter(scope, month__in=months).values_list("integration_id", "lag_hist")
        for pk, hist in rows:
            add_hist(out.setdefault(pk, {}), hist)
    if edges:
        span = Q()
        for lo, hi in edges:
            span |= Q(day__gte=lo, day__lte=hi)
        for pk, hist in RunDay.objects.filter(scope, span).values_list("integration_id", "lag_hist"):
            add_hist(out.setdefault(pk, {}), hist)
    return out
