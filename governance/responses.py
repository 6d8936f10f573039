"""Response trends: median and 95th percentile of the time to acknowledge
(MTTA) and to resolve (MTTR) per week, in business minutes, for the last
twelve weeks, per tenant and partner-wide.

Samples are what ``GET /api/v1/trends?bucket=week`` counts: every opening
in the week (its tenant's local Monday to Monday), its times from
``sla.trends.response_minutes``; partner-wide pools every tenant's samples
of the weeks starting on the same date."""

from dataclasses import dataclass, field
from datetime import timedelta

from integrations.models import ExceptionOpening
from sla import compute
from sla.business_time import business_hours_of
from sla.rollups import day_start, local_day
from sla.trends import response_minutes

WEEKS = 12


def week_starts(today, weeks=WEEKS):
    """The Mondays of the last ``weeks`` weeks, oldest first, this week last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


@dataclass
class Series:
    """Samples per week start (a date): acknowledge and resolve minutes."""

    weeks: list
    ack: dict = field(default_factory=dict)
    res: dict = field(default_factory=dict)
    openings: int = 0

    def add(self, week, ack, res):
        self.openings += 1
        if ack is not None:
            self.ack.setdefault(week, []).append(ack)
        if res is not None:
            self.res.setdefault(week, []).append(res)

    def overall(self):
        """The percentiles over every week's samples together."""
        ack = [v for w in self.weeks for v in self.ack.get(w, [])]
        res = [v for w in self.weeks for v in self.res.get(w, [])]
        return {
            "ack_median": compute.percentile(ack, 50),
            "ack_p95": compute.percentile(ack, 95),
            "res_median": compute.percentile(res, 50),
            "res_p95": compute.percentile(res, 95),
        }

    def points(self):
        """[{week, ack_median, ack_p95, res_median, res_p95, acknowledged, resolved}] per week."""
        return [
            {
                "week": w,
                "ack_median": compute.percentile(self.ack.get(w, []), 50),
                "ack_p95": compute.percentile(self.ack.get(w, []), 95),
                "res_median": compute.percentile(self.res.get(w, []), 50),
                "res_p95": compute.percentile(self.res.get(w, []), 95),
                "acknowledged": len(self.ack.get(w, [])),
                "resolved": len(self.res.get(w, [])),
            }
            for w in self.weeks
        ]


def response_trends(tenants, now):
    """({tenant: Series}, partner-wide Series) over the last twelve weeks.

    1. each tenant's weeks in its own calendar, ending with the current one;
    2. one query for every opening in the union of those spans;
    3. each opening's times, added to its tenant's week and the partner's."""
    tenants = list(tenants.order_by("name", "slug"))
    spans, per = {}, {}
    for t in tenants:
        weeks = week_starts(local_day(now, t.tzinfo))
        spans[t.pk] = (t, weeks, day_start(weeks[0], t.tzinfo), day_start(weeks[-1] + timedelta(days=7), t.tzinfo))
        per[t.pk] = Series(weeks)
    partner = Series(sorted({w for s in per.values() for w in s.weeks})[-WEEKS:])
    if not tenants:
        return {}, partner
    lo = min(s[2] for s in spans.values())
    hi = max(s[3] for s in spans.values())
    rows = ExceptionOpening.objects.filter(tenant_id__in=list(spans), opened_at__gte=lo, opened_at__lt=hi)
    hours = {t.pk: business_hours_of(t) for t in tenants}
    fields = ("tenant_id", "opened_at", "acknowledged_at", "resolved_at", "ignored_at")
    for tenant_id, opened_at, acked, resolved, ignored in rows.values_list(*fields).iterator(chunk_size=2000):
        tenant, weeks, start, end = spans[tenant_id]
        if not (start <= opened_at < end):
            continue
        day = local_day(opened_at, tenant.tzinfo)
        week = day - timedelta(days=day.weekday())
        ack, res = response_minutes(tenant, opened_at, acked, resolved, ignored, hours[tenant_id])
        per[tenant_id].add(week, ack, res)
        if week in partner.weeks:
            partner.add(week, ack, res)
    return {spans[pk][0]: s for pk, s in per.items()}, partner
