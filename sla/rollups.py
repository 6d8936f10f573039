"""Per-day run rollups (``sla.models.RunDay``): how a month's SLA costs the
same whatever the number of runs.

A row holds one integration's runs over one day of the tenant's calendar,
runs inside maintenance windows left out. It is always rebuilt from the raw
runs of its day (never adjusted by deltas), so re-posting a run any number of
times leaves it unchanged, and a late backfill lands in the right day.

Who calls this:
1. the ingest transaction, which calls ``runs_written`` by name
   (``integrations.ingest.service``, step 5);
2. the SLA engine, through ``load_days``, which rebuilds rows whose basis
   (time zone, schedule, maintenance windows) changed since they were built;
3. ``python manage.py sla_rebuild`` and the benchmark, through ``rebuild``.

Rows older than the tenant's retention are never rebuilt: their raw runs may
have been purged, and the rows are what keeps closed months' figures.
"""

import hashlib
import math
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration, Run, Trigger
from opsconsole.models import Tenant
from sla import lag_months
from sla.compute import RunAgg, Skeleton, clip, inside, merge, ts
from sla.models import MaintenanceWindow, RunDay, RunHour
from sla.raw import rows_with_start_seconds

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


WINDOW_FIELDS = ("pk", "start", "end", "integrations")


def windows_by_integration(tenant, integrations, rows=None):
    """{integration_id: merged [(start, end)] epoch seconds} of the windows
    that apply to each integration (no integrations named: all). One query,
    none when ``rows`` (the tenant's windows as WINDOW_FIELDS) are given."""
    out = {i.pk: [] for i in integrations}
    if rows is None:
        rows = MaintenanceWindow.objects.filter(tenant=tenant).values_list(*WINDOW_FIELDS)
    named, spans = {}, {}
    for pk, start, end, integ in rows:
        spans[pk] = (ts(start), ts(end))
        if integ is not None:
            named.setdefault(pk, []).append(integ)
    for pk, span in spans.items():
        for integ in named.get(pk) or out.keys():
            if integ in out:
                out[integ].append(span)
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


# --- buckets -------------------------------------------------------------------

HOUR = 3600.0


def buckets_of_day(day, tz):
    """[(start, end)] epoch seconds of the buckets of local ``day``: UTC hours
    cut at its midnights (23 to 25 of them, more with odd offsets)."""
    ds, de = ts(day_start(day, tz)), ts(day_start(day + timedelta(days=1), tz))
    out = []
    h = math.floor(ds / HOUR) * HOUR
    while h < de:
        out.append((max(h, ds), min(h + HOUR, de)))
        h += HOUR
    return out


class _DayBounds:
    """Memo of local days' [start, end) in epoch seconds."""

    def __init__(self, tz):
        self.tz = tz
        self.memo = {}

    def day_of(self, t):
        d = datetime.fromtimestamp(t, UTC).astimezone(self.tz).date()
        if d not in self.memo:
            self.memo[d] = (ts(day_start(d, self.tz)), ts(day_start(d + timedelta(days=1), self.tz)))
        return d, self.memo[d]

    def bucket_of(self, t):
        """(start, end, day) of the bucket holding ``t``."""
        d, (ds, de) = self.day_of(t)
        h = math.floor(t / HOUR) * HOUR
        return max(h, ds), min(h + HOUR, de), d


def _dt(t):
    return datetime.fromtimestamp(t, UTC)


# --- building rows from raw runs -------------------------------------------

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
RAW = ("integration_id", "status", "trigger", "started_at", "succeeded", "failed", "skipped", "lag_seconds")


def _values(agg, sk, basis):
    return {
        "succeeded": agg.succeeded,
        "partial": agg.partial,
        "failed": agg.failed,
        "running": agg.running,
        "rec_succeeded": agg.rec_succeeded,
        "rec_failed": agg.rec_failed,
        "rec_skipped": agg.rec_skipped,
        "lag_hist": {str(k): v for k, v in sorted(agg.lag_hist.items())},
        "hb_first": sk.first,
        "hb_last": sk.last,
        "hb_late": sk.late,
        "basis": basis,
        "updated": timezone.now(),
    }


def _lock_key(*parts):
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock(keys, pairs):
    """Serialise rebuilds of the same buckets and days: one transaction-scoped
    advisory lock per bucket and per day, taken in one statement in a fixed
    (sorted) order, so concurrent ingests queue up rather than deadlock. The
    raw runs are read after the locks are granted, so the last writer of a
    bucket sees every committed run. SQLite runs one writer at a time."""
    if connection.vendor != "postgresql":
        return
    ids = sorted(
        {_lock_key("h", pk, s) for pk, ks in keys.items() for s, _e, _d in ks}
        | {_lock_key("d", pk, d.isoformat()) for pk, days in pairs.items() for d in days}
        | {_lock_key("m", pk, lag_months.month_of(d).isoformat()) for pk, days in pairs.items() for d in days}
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [ids])


HOUR_FIELDS = ("integration_id", "day", "start", "end", *FIELDS[:-1])


def _refresh(tenant, keys, integrations, windows):
    """Rebuild the bucket rows ``keys`` ({integration_id: {(start, end, day)}})
    from their raw runs, then the rows of their days from their buckets, in
    a constant number of statements (the ingest path calls this).

    1. lock the buckets and days (``_lock``);
    2. read the raw runs of the buckets and upsert the bucket rows;
    3. read every bucket row of those days and upsert the day rows. A day
       with a bucket built under another basis (windows or schedule changed
       since) gets an empty basis, so that the next read rebuilds it whole."""
    tz = tenant.tzinfo
    pairs = {}
    for pk, ks in keys.items():
        pairs[pk] = {d for _s, _e, d in ks}
    _lock(keys, pairs)

    built = {}
    bounds = _DayBounds(tz)
    reach = Q()
    for pk, ks in keys.items():
        for a, b in merge([(s, e) for s, e, _d in ks]):
            reach |= Q(integration_id=pk, started_at__gte=_dt(a), started_at__lt=_dt(b))
    runs, seconds = rows_with_start_seconds(Run.objects.filter(reach).order_by("integration_id", "started_at"), RAW)
    for pk, status, trigger, started, succeeded, failed, skipped, lag in runs.iterator(chunk_size=5000):
        t = seconds(started)
        if windows[pk] and inside(t, windows[pk]):
            continue
        start, _end, _day = bounds.bucket_of(t)
        agg, sk = built.setdefault((pk, start), (RunAgg(), Skeleton()))
        agg.add_run(status, succeeded, failed, skipped, lag)
        if trigger != Trigger.REPLAY:
            eg = eg_seconds(integrations[pk])
            sk.push(t, eg if eg is not None else float("inf"))
    hours = []
    for pk, s, e, d in sorted((pk, s, e, d) for pk, ks in keys.items() for s, e, d in ks):
        agg, sk = built.get((pk, s), (RunAgg(), Skeleton()))
        eg = eg_seconds(integrations[pk])
        if eg is not None:
            sk = sk.compact(eg, windows[pk])
        basis = basis_of(tenant.timezone, eg, windows[pk], (_dt(s), _dt(e)))
        hours.append(
            RunHour(tenant=tenant, integration_id=pk, start=_dt(s), end=_dt(e), day=d, **_values(agg, sk, basis))
        )
    RunHour.objects.bulk_create(
        hours,
        update_conflicts=True,
        unique_fields=["integration", "start"],
        update_fields=["end", "day", *FIELDS],
        batch_size=1000,
    )

    q = Q()
    for pk, days in pairs.items():
        q |= Q(integration_id=pk, day__in=sorted(days))
    sums, fresh = {}, {}
    rows = RunHour.objects.filter(q).order_by("integration_id", "start").values_list(*HOUR_FIELDS)
    for pk, day, start, end, su, pa, fa, ru, rs, rf, rk, hist, first, last, late, basis in rows:
        eg = eg_seconds(integrations[pk])
        agg, sk = sums.setdefault((pk, day), (RunAgg(), Skeleton()))
        agg.add(RunAgg(su, pa, fa, ru, rs, rf, rk, {int(k): v for k, v in (hist or {}).items()}))
        sums[(pk, day)] = (agg, sk.join(Skeleton(first, last, [], late or 0.0), eg if eg is not None else float("inf")))
        if basis != basis_of(tenant.timezone, eg, windows[pk], (start, end)):
            fresh[(pk, day)] = False
    days = []
    for pk, d in sorted((pk, d) for pk, ds in pairs.items() for d in ds):
        agg, sk = sums.get((pk, d), (RunAgg(), Skeleton()))
        eg = eg_seconds(integrations[pk])
        if eg is not None:
            sk = sk.compact(eg, windows[pk])
        basis = basis_of(tenant.timezone, eg, windows[pk], day_span(d, tz)) if fresh.get((pk, d), True) else ""
        days.append(RunDay(tenant=tenant, integration_id=pk, day=d, **_values(agg, sk, basis)))
    RunDay.objects.bulk_create(
        days, update_conflicts=True, unique_fields=["integration", "day"], update_fields=FIELDS, batch_size=1000
    )
    lag_months.write(tenant.pk, {pk: {lag_months.month_of(d) for d in ds} for pk, ds in pairs.items()})
    return days


def build_days(tenant, integration, first_day, last_day, windows=None):
    """Rebuild every bucket and day row of ``integration`` for local days
    [first_day, last_day] from the raw runs. Returns the day rows."""
    tz = tenant.tzinfo
    if windows is None:
        windows = windows_by_integration(tenant, [integration])[integration.pk]
    integrations = {integration.pk: integration}
    wins = {integration.pk: windows}
    out = []
    days = list(days_between(first_day, last_day))
    # A month at a time: bounded memory and lock sets.
    for i in range(0, len(days), 31):
        chunk = days[i : i + 31]
        with transaction.atomic():
            keys = {integration.pk: {(s, e, d) for d in chunk for s, e in buckets_of_day(d, tz)}}
            out += _refresh(tenant, keys, integrations, wins)
    return out


def rebuild(tenant, first_day=None, last_day=None, now=None):
    """Rebuild every integration's rows of ``tenant`` over [first_day, last_day]
    (default: from its first run to its last), within the retention."""
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


def runs_changed(tenant_id, run_pks, previous=()):
    """Rebuild the buckets the runs ``run_pks`` (stored) fall in, then their
    days; a constant number of statements whatever the number of runs. Days
    before the retention are left alone (their raw runs may be gone).

    ``previous``: (integration_id, started_at) of re-posted runs as they were
    before the write, when the caller knows them: a re-post that moves a
    run's started_at to another bucket rebuilds the bucket it left too.
    Without it such a bucket keeps the run until ``sla_rebuild`` runs."""
    if not run_pks:
        return
    rows = list(
        Run.objects.filter(pk__in=list(run_pks)).values_list(
            "integration_id",
            "started_at",
            "integration__every_minutes",
            "integration__grace_minutes",
            "tenant__timezone",
            "tenant__retention_days",
        )
    )
    if not rows:
        return
    # Plain stand-ins for the tenant and integrations, with all this needs of
    # them: no model instances for hundreds of runs on the ingest path.
    tenant = Tenant(pk=tenant_id, timezone=rows[0][4], retention_days=rows[0][5])
    integrations = {}
    for pk, _at, every, grace, _tz, _keep in rows:
        if pk not in integrations:
            integrations[pk] = Integration(pk=pk, tenant_id=tenant_id, every_minutes=every, grace_minutes=grace)
    _rebuild_around(tenant, integrations, [(pk, at) for pk, at, *_rest in rows], previous)


def runs_written(tenant, instants, previous=()):
    """``runs_changed`` for a caller that has just written the runs and knows
    them: ``instants``, (integration_id, started_at) of each. Called by
    ingest by name, inside its transaction; reads only the integrations'
    schedules, not the runs again."""
    if not instants:
        return
    ids = sorted({pk for pk, _at in instants})
    integrations = {
        pk: Integration(pk=pk, tenant_id=tenant.pk, every_minutes=every, grace_minutes=grace)
        for pk, every, grace in Integration.objects.filter(pk__in=ids).values_list(
            "pk", "every_minutes", "grace_minutes"
        )
    }
    stand_in = Tenant(pk=tenant.pk, timezone=tenant.timezone, retention_days=tenant.retention_days)
    _rebuild_around(stand_in, integrations, instants, previous)


def _rebuild_around(tenant, integrations, instants, previous):
    """Rebuild the buckets of ``instants`` and ``previous`` ((integration_id,
    started_at) pairs) within the retention, then their days."""
    bounds = _DayBounds(tenant.tzinfo)
    floor = retention_floor(tenant)
    keys = {}
    instants = list(instants) + [(pk, at) for pk, at in previous if pk in integrations]
    for pk, at in instants:
        s, e, d = bounds.bucket_of(at.timestamp())
        if d >= floor:
            keys.setdefault(pk, set()).add((s, e, d))
    if not keys:
        return
    integrations = {pk: integrations[pk] for pk in keys}
    windows = windows_by_integration(tenant, list(integrations.values()))
    with transaction.atomic():
        _refresh(tenant, keys, integrations, windows)


# --- reading ------------------------------------------------------------------


# A day row as read: its key and the rollup fields (FIELDS) but the stamp.
DAY_FIELDS = ("integration_id", "day", *(f for f in FIELDS if f != "updated"))


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


def load_days(tenant, integrations, first_day, last_day, windows, now=None, read=None):
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
    rows, hists = read if read is not None else _read_days(integrations, first_day, last_day)
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
        rows, hists = _read_days(integrations, first_day, last_day)
    hists = {pk: hists.get(pk, {}) for pk in out}
    for pk, _day, su, pa, fa, ru, rs, rf, rk, _hist, first, last, late, _basis in rows:
        agg, sk = out[pk]
        agg.succeeded += su
        agg.partial += pa
        agg.failed += fa
        agg.running += ru
        agg.rec_succeeded += rs
        agg.rec_failed += rf
        agg.rec_skipped += rk
        eg = eg_seconds(by_pk[pk])
        out[pk] = (agg, sk.join(Skeleton(first, last, [], late or 0.0), eg if eg is not None else float("inf")))
    for pk, h in hists.items():
        out[pk][0].lag_hist = {int(k): v for k, v in h.items()}
    return out, frozen


def _read_days(integrations, first_day, last_day):
    """(day rows with ``lag_hist`` None, their histograms summed by integration)."""
    fields = [f for f in DAY_FIELDS if f != "lag_hist"]
    qs = RunDay.objects.filter(integration__in=integrations, day__gte=first_day, day__lte=last_day)
    rows = [(*r[:9], None, *r[9:]) for r in qs.order_by("integration_id", "day").values_list(*fields)]
    return rows, lag_months.hists_over(first_day, last_day, integration_ids=[i.pk for i in integrations])


def read_days_many(tenant_ids, first_day, last_day):
    """(day rows as ``load_days`` reads them but with ``lag_hist`` None,
    {integration_id: {minutes: runs}} summed over the rows) of every
    integration of ``tenant_ids`` over [first_day, last_day]: what
    ``load_days(read=...)`` takes. The histograms of whole months come from
    the month rows (``sla.lag_months``), so a month of a thousand
    integrations decodes a thousand small documents, not thirty thousand."""
    fields = [f for f in DAY_FIELDS if f != "lag_hist"]
    qs = RunDay.objects.filter(tenant_id__in=tenant_ids, day__gte=first_day, day__lte=last_day)
    rows = [(*r[:9], None, *r[9:]) for r in qs.order_by("integration_id", "day").values_list(*fields)]
    return rows, lag_months.hists_over(first_day, last_day, tenant_ids=tenant_ids)


def bucket_span(tenant, lo, hi):
    """(a, b): the stretch of whole buckets inside [lo, hi) (aware datetimes);
    a >= b when there is none."""
    bounds = _DayBounds(tenant.tzinfo)
    s, e, _d = bounds.bucket_of(ts(lo))
    a = s if s == ts(lo) else e
    s, _e, _d = bounds.bucket_of(ts(hi))
    return _dt(a), _dt(s)


def load_hours(tenant, integrations, lo, hi, windows):
    """{integration_id: (RunAgg, Skeleton)} over the bucket rows in [lo, hi)
    (bucket boundaries), stale ones rebuilt from the raw runs first."""
    out = {i.pk: (RunAgg(), Skeleton()) for i in integrations}
    by_pk = {i.pk: i for i in integrations}

    def read():
        return list(
            RunHour.objects.filter(integration__in=integrations, start__gte=lo, start__lt=hi)
            .order_by("integration_id", "start")
            .values_list(*HOUR_FIELDS)
        )

    rows = read()
    stale = {}
    for pk, day, start, end, *rest in rows:
        if rest[-1] != basis_of(tenant.timezone, eg_seconds(by_pk[pk]), windows[pk], (start, end)):
            stale.setdefault(pk, set()).add((ts(start), ts(end), day))
    if stale:
        with transaction.atomic():
            _refresh(tenant, stale, by_pk, windows)
        rows = read()
    for pk, _day, _s, _e, su, pa, fa, ru, rs, rf, rk, hist, first, last, late, _basis in rows:
        agg, sk = out[pk]
        agg.add(RunAgg(su, pa, fa, ru, rs, rf, rk, {int(k): v for k, v in (hist or {}).items()}))
        eg = eg_seconds(by_pk[pk])
        out[pk] = (agg, sk.join(Skeleton(first, last, [], late or 0.0), eg if eg is not None else float("inf")))
    return out
