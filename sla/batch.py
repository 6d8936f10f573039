"""The SLA of many tenants at once (the governance portfolio), or of one
tenant day by day (the SLA page's daily charts): the same rows as
``sla.engine.sla_rows`` gives window by window, with what it reads fetched
once, in one query per kind, instead of once per tenant or per day.

``Prefetch`` is handed to ``sla_rows(..., pre=...)``; the engine asks it for
each piece it would otherwise query (integrations and objectives, windows,
heartbeats before the window, day rollups, exception openings) and computes
exactly as for one tenant. Pieces it does not hold (the raw runs and hour
buckets of a day not yet over) are read tenant by tenant as usual."""

from collections import defaultdict

from django.db.models import Max, Min

from integrations.models import ExceptionOpening, Integration
from sla.engine import OPENING_FIELDS
from sla.lag_months import add_hist
from sla.models import MaintenanceWindow, Objective, RunDay
from sla.objectives import resolve_objectives
from sla.raw import rows_with_instants
from sla.rollups import DAY_FIELDS, WINDOW_FIELDS, read_days_many, windows_by_integration


class Prefetch:
    """What the SLA of ``tenants`` over windows starting on local day
    ``first_day`` needs, read in a constant number of queries."""

    def __init__(self, tenants, first_day):
        self.tenants = {t.pk: t for t in tenants}
        self.first_day = first_day
        ids = list(self.tenants)
        self.integrations = defaultdict(list)
        for i in Integration.objects.filter(tenant_id__in=ids).order_by("slug"):
            self.integrations[i.tenant_id].append(i)
        plans = {t.plan_id for t in tenants if t.plan_id}
        self.objectives = list(
            Objective.objects.filter(plan_id__in=plans)
            | Objective.objects.filter(tenant_id__in=ids)
            | Objective.objects.filter(integration__tenant_id__in=ids)
        )
        self.window_rows = defaultdict(list)
        for tenant_id, *row in MaintenanceWindow.objects.filter(tenant_id__in=ids).values_list(
            "tenant_id", *WINDOW_FIELDS
        ):
            self.window_rows[tenant_id].append(tuple(row))
        runday = RunDay.objects.filter(tenant_id__in=ids)
        self.prev = dict(
            runday.filter(day__lt=first_day, hb_last__isnull=False)
            .values("integration_id")
            .annotate(last=Max("hb_last"))
            .values_list("integration_id", "last")
        )
        self.firsts = dict(
            runday.filter(hb_first__isnull=False)
            .values("integration_id")
            .annotate(first=Min("hb_first"))
            .values_list("integration_id", "first")
        )
        self._days = {}
        self._openings = {}

    def context(self, tenant):
        """(integrations, resolved objectives) as ``engine.objectives_context``."""
        integrations = self.integrations.get(tenant.pk, [])
        return integrations, resolve_objectives(tenant, integrations, self.objectives)

    def windows(self, tenant, integrations):
        return windows_by_integration(tenant, integrations, self.window_rows.get(tenant.pk, []))

    def heartbeats_before(self, tenant, first_day):
        """({integration_id: last heartbeat before first_day}, {integration_id:
        first heartbeat ever}), or None when this prefetch is for another day."""
        if first_day != self.first_day:
            return None
        return self.prev, self.firsts

    def days(self, lo, hi):
        """({integration_id: day rows}, histograms) of every tenant over [lo, hi], read once."""
        if (lo, hi) not in self._days:
            rows, hists = read_days_many(list(self.tenants), lo, hi)
            by_pk = defaultdict(list)
            for row in rows:
                by_pk[row[0]].append(row)
            self._days[(lo, hi)] = (by_pk, hists)
        return self._days[(lo, hi)]

    def days_of(self, integrations, lo, hi):
        """What ``rollups.load_days(read=...)`` takes for ``integrations``."""
        by_pk, hists = self.days(lo, hi)
        return [r for i in integrations for r in by_pk.get(i.pk, [])], {i.pk: hists.get(i.pk, {}) for i in integrations}

    def openings(self, tenant, w_start, w_end, priorities):
        """The tenant's openings as ``engine._openings`` reads them; one
        query for every tenant over the span of the first window asked."""
        key = (w_start, w_end)
        if key not in self._openings:
            self._openings[key] = _openings_of(list(self.tenants), w_start, w_end)
        return _in_window(self._openings[key].get(tenant.pk, []), w_start, w_end, priorities)


class DailyPrefetch(Prefetch):
    """What ``sla_rows`` of each local day of [first_day, last_day] of one
    tenant needs (W from ``w_start``, the first day's midnight, to ``w_end``):
    the day rollups with their histograms, the heartbeats before each day and
    the openings, read once for the whole span instead of once per day. Days
    are served from the rows as read; ``load_days`` still rebuilds (and then
    reads itself) any row whose basis is stale."""

    def __init__(self, tenant, first_day, last_day, w_start, w_end):
        super().__init__([tenant], first_day)
        self.last_day = last_day
        self.span = (w_start, w_end)
        self.rows = defaultdict(list)  # integration_id: [(day row as load_days reads it, lag_hist)]
        qs = RunDay.objects.filter(tenant_id=tenant.pk, day__gte=first_day, day__lte=last_day)
        for r in qs.order_by("integration_id", "day").values_list(*DAY_FIELDS):
            self.rows[r[0]].append(((*r[:9], None, *r[10:]), r[9]))
        self.month_openings = _openings_of([tenant.pk], w_start, w_end)

    def _inside(self, lo, hi):
        return self.first_day <= lo and hi <= self.last_day

    def heartbeats_before(self, tenant, first_day):
        """As ``Prefetch.heartbeats_before`` for any day of the span: the last
        heartbeat before the span, then the day rows before ``first_day``."""
        if not self.first_day <= first_day <= self.last_day:
            return None
        prev = dict(self.prev)
        for pk, rows in self.rows.items():
            for row, _hist in rows:
                last = row[-3]  # hb_last
                if row[1] < first_day and last is not None and (prev.get(pk) is None or last > prev[pk]):
                    prev[pk] = last
        return prev, self.firsts

    def days_of(self, integrations, lo, hi):
        """The day rows of [lo, hi] and their histograms summed as
        ``lag_months.hists_over`` sums the day rows at a span's edges."""
        if not self._inside(lo, hi):
            return super().days_of(integrations, lo, hi)
        rows, hists = [], {}
        for i in integrations:
            for row, hist in self.rows.get(i.pk, []):
                if lo <= row[1] <= hi:
                    rows.append(row)
                    add_hist(hists.setdefault(i.pk, {}), hist)
        return rows, {i.pk: hists.get(i.pk, {}) for i in integrations}

    def openings(self, tenant, w_start, w_end, priorities):
        if not (self.span[0] <= w_start and w_end <= self.span[1]):
            return super().openings(tenant, w_start, w_end, priorities)
        return _in_window(self.month_openings.get(tenant.pk, []), w_start, w_end, priorities)


def _in_window(rows, w_start, w_end, priorities):
    """Openings ``rows`` ((tenant_id, priority, opened_at, …)) of ``priorities``
    opened in [w_start, w_end), as ``engine._openings`` answers them."""
    return [row[1:] for row in rows if row[1] in priorities and w_start <= row[2] < w_end]


def _openings_of(tenant_ids, w_start, w_end):
    """{tenant_id: [(tenant_id, priority, *OPENING_FIELDS)]} opened in [w_start, w_end):
    one query per distinct window (tenants sharing a time zone share it)."""
    qs = ExceptionOpening.objects.filter(tenant_id__in=tenant_ids, opened_at__gte=w_start, opened_at__lt=w_end)
    out = defaultdict(list)
    for row in rows_with_instants(qs, ["tenant_id", "priority"], OPENING_FIELDS):
        out[row[0]].append(row)
    return out
