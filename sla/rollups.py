"""Per-day run rollups (``sla.models.RunDay``): how a month's SLA costs the
same whatever the number of runs.

A row holds one integration's runs over one day of the tenant's calendar,
runs inside maintenance windows left out. It is always rebuilt from the raw
runs of its day (never adjusted by deltas), so re-posting a run any number of
times leaves it unchanged, and a late backfill lands in the right day.

Who calls this:
1. the ingest transaction, through ``runs_changed`` registered in
   ``integrations.ingest.service.RUN_LISTENERS`` (see ``sla.apps``);
2. the SLA engine, through ``load_days``, which rebuilds rows whose basis
   (time zone, schedule, maintenance windows) changed since they were built;
3. ``python manage.py sla_rebuild`` and the benchmark, through ``rebuild``.

Rows older than the tenant's retention are never rebuilt: their raw runs may
have been purged, and the rows are what keeps closed months' figures.
"""

import bisect
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import Integration, Run, Trigger
from opsconsole.models import Tenant
from sla.compute import RunAgg, Skeleton, clip, inside, merge, ts
from sla.models import MaintenanceWindow, RunDay

# --- calendar helpers -------------------------------------------------------


def day_start(day, tz):
    """Local midnight of ``day`` in ``tz`` (an aware datetime)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def day_span(day, tz):
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def local_day(dt, tz):
    return dt.astimezone(tz).date()


def days_between(first, last):
    """Dates from ``first`` to ``last`` inclusive."""
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


# --- maintenance windows and basis -----------------------------------------


def windows_by_integration(tenant, integrations):
    """{integration_id: merged [(start, end)] epoch seconds} of the windows
    that apply to each integration (no integrations named: all)."""
    out = {i.pk: [] for i in integrations}
    for w in MaintenanceWindow.objects.filter(tenant=tenant).prefetch_related("integrations"):
        named = [i.pk for i in w.integrations.all()]
        for pk in named or out.keys():
            if pk in out:
                out[pk].append((ts(w.start), ts(w.end)))
    return {pk: merge(v) for pk, v in out.items()}


def eg_seconds(integration):
    if not integration.has_schedule:
        return None
    return 60.0 * (integration.every_minutes + (integration.grace_minutes or 0))


def basis_of(tzname, eg, windows, span):
    """What a row of the day ``span`` depends on besides its raw runs: the
    time zone, every + grace, and the windows cut to the day (kept readable:
    a row that can no longer be rebuilt still says which windows it left out)."""
    cut = clip(windows, ts(span[0]), ts(span[1]))
    return f"{tzname}|{eg}|" + ";".join(f"{a!r}~{b!r}" for a, b in cut)


def windows_of_basis(basis):
    """The windows a row was built with, from its basis."""
    text = basis.rsplit("|", 1)[-1] if basis else ""
    out = []
    for part in text.split(";") if text else []:
        a, _, b = part.partition("~")
        try:
            out.append((float(a), float(b)))
        except ValueError:
            continue
    return out


def retention_floor(tenant, now=None):
    """The first local day whose raw runs are still certainly kept."""
    now = now or timezone.now()
    return local_day(now, tenant.tzinfo) - timedelta(days=tenant.retention_days - 1)


# --- building rows from raw runs -------------------------------------------


def _aggregate(integration, tz, first_day, last_day, windows, eg):
    """{day: (RunAgg, Skeleton)} from the raw runs of ``integration`` that
    started in [first_day, last_day] (local days), runs in windows left out."""
    days = list(days_between(first_day, last_day))
    bounds = [ts(day_start(d, tz)) for d in days] + [ts(day_start(last_day + timedelta(days=1), tz))]
    out = {d: (RunAgg(), Skeleton()) for d in days}
    rows = (
        Run.objects.filter(integration=integration)
        .between(day_start(first_day, tz), day_start(last_day + timedelta(days=1), tz))
        .order_by("started_at")
        .values_list("status", "trigger", "started_at", "succeeded", "failed", "skipped", "lag_seconds")
    )
    for status, trigger, started_at, succeeded, failed, skipped, lag in rows.iterator(chunk_size=5000):
        t = started_at.timestamp()
        if windows and inside(t, windows):
            continue
        agg, sk = out[days[bisect.bisect_right(bounds, t) - 1]]
        agg.add_run(status, succeeded, failed, skipped, lag)
        if trigger != Trigger.REPLAY:
            sk.push(t, eg if eg is not None else float("inf"))
    return out


def _fill(row, agg, sk, basis):
    row.succeeded, row.partial, row.failed, row.running = agg.succeeded, agg.partial, agg.failed, agg.running
    row.rec_succeeded, row.rec_failed, row.rec_skipped = agg.rec_succeeded, agg.rec_failed, agg.rec_skipped
    row.lag_hist = {str(k): v for k, v in sorted(agg.lag_hist.items())}
    row.hb_first, row.hb_last, row.hb_late = sk.first, sk.last, sk.late
    row.basis = basis
    row.updated = timezone.now()


FIELDS = [
    "succeeded",
    "partial",
    "failed",
    "running",
    "rec_succeeded",
    "rec_failed",
    "rec_skipped",
    "lag_hist",
    "hb_first",
    "hb_last",
    "hb_late",
    "basis",
    "updated",
]


def build_days(tenant, integration, first_day, last_day, windows=None):
    """Rebuild the rows of ``integration`` for local days [first_day, last_day]
    from the raw runs, under a row lock so concurrent ingests converge.

    1. create missing rows (conflicts ignored), in day order;
    2. lock them (SELECT ... FOR UPDATE, day order: no deadlock between batches);
    3. read the raw runs of those days (committed ones included: the lock was
       taken first) and write the rows.
    Returns the rows."""
    tz = tenant.tzinfo
    if windows is None:
        windows = windows_by_integration(tenant, [integration])[integration.pk]
    eg = eg_seconds(integration)
    days = list(days_between(first_day, last_day))
    with transaction.atomic():
        RunDay.objects.bulk_create(
            [RunDay(tenant=tenant, integration=integration, day=d) for d in days], ignore_conflicts=True
        )
        rows = list(
            RunDay.objects.select_for_update()
            .filter(integration=integration, day__gte=first_day, day__lte=last_day)
            .order_by("day")
        )
        built = _aggregate(integration, tz, first_day, last_day, windows, eg)
        for row in rows:
            agg, sk = built[row.day]
            if eg is not None:
                sk = sk.compact(eg, windows)
            _fill(row, agg, sk, basis_of(tenant.timezone, eg, windows, day_span(row.day, tz)))
        RunDay.objects.bulk_update(rows, FIELDS, batch_size=500)
    return rows


def rebuild(tenant, first_day=None, last_day=None, now=None):
    """Rebuild every integration's rows of ``tenant`` over [first_day, last_day]
    (default: from its first run to today), within the retention."""
    tz = tenant.tzinfo
    floor = retention_floor(tenant, now)
    integrations = list(Integration.objects.filter(tenant=tenant))
    windows = windows_by_integration(tenant, integrations)
    count = 0
    for integ in integrations:
        lo, hi = first_day, last_day
        if lo is None or hi is None:
            first = Run.objects.filter(integration=integ).order_by("started_at").values_list("started_at", flat=True)
            last = Run.objects.filter(integration=integ).order_by("-started_at").values_list("started_at", flat=True)
            if not first:
                continue
            lo = lo or local_day(first[0], tz)
            hi = hi or local_day(last[0], tz)
        lo = max(lo, floor)
        if lo > hi:
            continue
        count += len(build_days(tenant, integ, lo, hi, windows[integ.pk]))
    return count


def runs_changed(tenant_id, run_pks):
    """RUN_LISTENERS hook: rebuild the days of the runs just written (inside
    the ingest transaction). Days before the retention are left alone."""
    if not run_pks:
        return
    tenant = Tenant.objects.get(pk=tenant_id)
    tz = tenant.tzinfo
    floor = retention_floor(tenant)
    affected = {}
    for integ_id, started_at in Run.objects.filter(pk__in=list(run_pks)).values_list("integration_id", "started_at"):
        d = local_day(started_at, tz)
        if d >= floor:
            affected.setdefault(integ_id, set()).add(d)
    if not affected:
        return
    integrations = {i.pk: i for i in Integration.objects.filter(pk__in=affected)}
    windows = windows_by_integration(tenant, list(integrations.values()))
    for integ_id in sorted(affected):
        days = sorted(affected[integ_id])
        # Contiguous stretches: one raw read per stretch.
        start = prev = days[0]
        for d in days[1:] + [None]:
            if d is not None and d == prev + timedelta(days=1):
                prev = d
                continue
            build_days(tenant, integrations[integ_id], start, prev, windows[integ_id])
            if d is not None:
                start = prev = d


# --- reading ------------------------------------------------------------------


DAY_FIELDS = (
    "integration_id",
    "day",
    "succeeded",
    "partial",
    "failed",
    "running",
    "rec_succeeded",
    "rec_failed",
    "rec_skipped",
    "lag_hist",
    "hb_first",
    "hb_last",
    "hb_late",
    "basis",
)


def _basis_checker(tenant, integrations, windows):
    """``expected(pk, day)``: the basis a row should have now. Cheap for the
    common case of a day no window touches (one string per integration)."""
    tz = tenant.tzinfo
    eg = {i.pk: eg_seconds(i) for i in integrations}
    plain = {
        i.pk: basis_of(tenant.timezone, eg[i.pk], [], (day_start(date(2000, 1, 1), tz),) * 2) for i in integrations
    }

    def expected(pk, day):
        if windows[pk]:
            span = day_span(day, tz)
            a, b = ts(span[0]), ts(span[1])
            if any(wa < b and wb > a for wa, wb in windows[pk]):
                return basis_of(tenant.timezone, eg[pk], windows[pk], span)
        return plain[pk]

    return expected


def load_days(tenant, integrations, first_day, last_day, windows, now=None):
    """({integration_id: (RunAgg, Skeleton)} summed over the rows of
    [first_day, last_day], {integration_id: [(day, windows it was built with)]}).

    Rows whose basis is stale are rebuilt first when their raw runs are still
    kept; older ones are used as they are (their runs may be gone) and listed
    as frozen, so that their seconds are measured with the windows they were
    built with. A day without a row had no runs."""
    out = {i.pk: (RunAgg(), Skeleton()) for i in integrations}
    frozen = {i.pk: [] for i in integrations}
    if first_day > last_day:
        return out, frozen
    floor = retention_floor(tenant, now)
    by_pk = {i.pk: i for i in integrations}
    expected = _basis_checker(tenant, integrations, windows)
    rows = list(
        RunDay.objects.filter(integration__in=integrations, day__gte=first_day, day__lte=last_day)
        .order_by("integration_id", "day")
        .values_list(*DAY_FIELDS)
    )
    stale = {}
    for row in rows:
        if row[-1] != expected(row[0], row[1]):
            if row[1] >= floor:
                stale.setdefault(row[0], []).append(row[1])
            else:
                frozen[row[0]].append((row[1], windows_of_basis(row[-1])))
    if stale:
        for pk, days in stale.items():
            build_days(tenant, by_pk[pk], min(days), max(days), windows[pk])
        rows = list(
            RunDay.objects.filter(integration__in=integrations, day__gte=first_day, day__lte=last_day)
            .order_by("integration_id", "day")
            .values_list(*DAY_FIELDS)
        )
    hists = {pk: {} for pk in out}
    for pk, _day, su, pa, fa, ru, rs, rf, rk, hist, first, last, late, _basis in rows:
        agg, sk = out[pk]
        agg.succeeded += su
        agg.partial += pa
        agg.failed += fa
        agg.running += ru
        agg.rec_succeeded += rs
        agg.rec_failed += rf
        agg.rec_skipped += rk
        h = hists[pk]
        for k, v in (hist or {}).items():
            h[k] = h.get(k, 0) + v
        eg = eg_seconds(by_pk[pk])
        out[pk] = (agg, sk.join(Skeleton(first, last, [], late or 0.0), eg if eg is not None else float("inf")))
    for pk, h in hists.items():
        out[pk][0].lag_hist = {int(k): v for k, v in h.items()}
    return out, frozen
