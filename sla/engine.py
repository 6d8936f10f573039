"""The SLA of a tenant over a window (contract 4.4): gathers the runs (from
the per-day rollups, plus the raw runs of a partial day), the heartbeats, the
maintenance windows and the exception openings, and hands them to the pure
functions of ``sla.compute``.

Callers: ``sla.api`` (GET /api/v1/sla), ``sla.views`` (the SLA page),
``sla.burn`` (burn rates for the alerts) and the reports.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, Min
from django.utils import timezone

from integrations.models import ExceptionOpening, Integration, Run, Trigger
from sla import compute
from sla.business_time import add_business_minutes, business_hours_of, business_seconds_between
from sla.compute import RunAgg, Skeleton, inside, merge, subtract, ts
from sla.models import ObjectiveKind, RunDay
from sla.objectives import resolve_objectives
from sla.raw import rows_with_instants, rows_with_start_seconds
from sla.rollups import (
    bucket_span,
    day_span,
    day_start,
    eg_seconds,
    load_days,
    load_hours,
    local_day,
    windows_by_integration,
)

# --- business time ----------------------------------------------------------


def deadline_function(tenant, minutes, hours=None):
    """opened_at -> opened_at plus ``minutes`` business minutes of ``tenant``."""
    hours = hours if hours is not None else business_hours_of(tenant)
    return lambda t: add_business_minutes(t, minutes, hours)


def business_minutes_between(tenant, start, end, hours=None):
    hours = hours if hours is not None else business_hours_of(tenant)
    return business_seconds_between(start, end, hours) / 60.0


# --- gathering ----------------------------------------------------------------


RAW_FIELDS = ("integration_id", "status", "trigger", "started_at", "succeeded", "failed", "skipped", "lag_seconds")


@dataclass
class IntegrationData:
    agg: RunAgg
    skeleton: Skeleton
    first_ever: float | None
    windows: list


def _raw_segment(tenant, integrations, lo, hi, windows, eg_by_pk):
    """{integration_id: (RunAgg, Skeleton)} from raw runs started in [lo, hi)."""
    out = {i.pk: (RunAgg(), Skeleton()) for i in integrations}
    if hi <= lo:
        return out
    runs = Run.objects.filter(integration__in=integrations).between(lo, hi).order_by("started_at")
    rows, seconds = rows_with_start_seconds(runs, RAW_FIELDS)
    for pk, status, trigger, started, succeeded, failed, skipped, lag in rows.iterator(chunk_size=5000):
        t = seconds(started)
        if windows[pk] and inside(t, windows[pk]):
            continue
        agg, sk = out[pk]
        agg.add_run(status, succeeded, failed, skipped, lag)
        if trigger != Trigger.REPLAY:
            eg = eg_by_pk[pk]
            sk.push(t, eg if eg is not None else float("inf"))
    return out


def _last_raw_heartbeat(integration, lo, hi, windows):
    """The last heartbeat of ``integration`` in [lo, hi) from the raw runs."""
    qs = (
        Run.objects.filter(integration=integration, started_at__gte=lo, started_at__lt=hi)
        .exclude(trigger=Trigger.REPLAY)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
    )
    for started_at in qs.iterator(chunk_size=200):
        if not inside(started_at.timestamp(), windows):
            return started_at.timestamp()
    return None


def gather(tenant, integrations, w_start, w_end, now=None, raw=False, pre=None):
    """{integration_id: IntegrationData} over W = [w_start, w_end).

    1. Whole local days inside W come from the rollups (``raw``: from the
       raw runs, for short spans such as the burn-rate windows).
    2. The partial days at either end come from the raw runs.
    3. The heartbeats are joined in time order, starting with the last one
       before W, so that lateness carries into W.
    ``pre`` (an ``sla.batch.Prefetch``) supplies what it holds instead of
    reading it here.
    """
    tz = tenant.tzinfo
    windows = pre.windows(tenant, integrations) if pre else windows_by_integration(tenant, integrations)
    eg_by_pk = {i.pk: eg_seconds(i) for i in integrations}
    data = {i.pk: IntegrationData(RunAgg(), Skeleton(), None, windows[i.pk]) for i in integrations}
    if w_end <= w_start:
        return data

    sd = local_day(w_start, tz)
    first_full = sd if day_start(sd, tz) >= w_start else sd + timedelta(days=1)
    ed = local_day(w_end, tz)
    last_full = ed - timedelta(days=1)  # w_end inside day ed (or at its midnight)
    if raw:
        segments = [("raw", w_start, w_end)]
    else:
        segments = []
        tail = w_start
        if first_full <= last_full:
            if day_start(first_full, tz) > w_start:
                segments.append(("raw", w_start, day_start(first_full, tz)))
            segments.append(("days", first_full, last_full))
            tail = day_span(last_full, tz)[1]
        if tail < w_end:
            # Today so far: whole buckets from their rows, the rest raw.
            a, b = bucket_span(tenant, tail, w_end)
            if a < b:
                segments += [("raw", tail, a), ("hours", a, b), ("raw", b, w_end)]
            else:
                segments.append(("raw", tail, w_end))

    # The last heartbeat before W: the rollups of earlier days, then the raw
    # runs between sd's midnight and w_start.
    held = pre.heartbeats_before(tenant, sd) if pre else None
    prev, firsts = _heartbeats_before(integrations, sd) if held is None else (dict(held[0]), held[1])
    midnight = day_start(sd, tz)
    for integ in integrations:
        if midnight < w_start:
            t = _last_raw_heartbeat(integ, midnight, w_start, windows[integ.pk])
            if t is not None:
                prev[integ.pk] = t
        if prev.get(integ.pk) is not None:
            data[integ.pk].skeleton = Skeleton(prev[integ.pk], prev[integ.pk], [])
        data[integ.pk].first_ever = firsts.get(integ.pk)

    for kind, lo, hi in segments:
        if kind == "hours":
            for pk, (agg, sk) in load_hours(tenant, integrations, lo, hi, windows).items():
                _absorb(data[pk], agg, sk, eg_by_pk[pk])
        elif kind == "raw":
            parts = _raw_segment(tenant, integrations, lo, hi, windows, eg_by_pk)
            for pk, (agg, sk) in parts.items():
                _absorb(data[pk], agg, sk, eg_by_pk[pk])
        else:
            read = pre.days_of(integrations, lo, hi) if pre else None
            sums, frozen = load_days(tenant, integrations, lo, hi, windows, now, read=read)
            for pk, (agg, sk) in sums.items():
                _absorb(data[pk], agg, sk, eg_by_pk[pk])
                if frozen[pk]:
                    # Days kept past the retention keep the windows they were built with.
                    spans = [(ts(a), ts(b)) for a, b in (day_span(d, tz) for d, _ in frozen[pk])]
                    kept = [w for _, ws in frozen[pk] for w in ws]
                    data[pk].windows = merge(subtract(data[pk].windows, spans) + kept)
    return data


def _heartbeats_before(integrations, sd):
    """({integration_id: last heartbeat before local day sd}, {integration_id:
    first heartbeat ever}) from the day rollups."""
    prev = dict(
        RunDay.objects.filter(integration__in=integrations, day__lt=sd, hb_last__isnull=False)
        .values("integration_id")
        .annotate(last=Max("hb_last"))
        .values_list("integration_id", "last")
    )
    firsts = dict(
        RunDay.objects.filter(integration__in=integrations, hb_first__isnull=False)
        .values("integration_id")
        .annotate(first=Min("hb_first"))
        .values_list("integration_id", "first")
    )
    return prev, firsts


def _absorb(d, agg, sk, eg):
    d.agg.add(agg)
    d.skeleton = d.skeleton.join(sk, eg if eg is not None else float("inf"))
    if sk.first is not None and (d.first_ever is None or sk.first < d.first_ever):
        d.first_ever = sk.first


# --- the SLA rows -------------------------------------------------------------


def _good_total(r, d, integ, w_start, w_end):
    kind = r.objective
    if kind == ObjectiveKind.RUN_SUCCESS:
        return compute.run_success(d.agg)
    if kind == ObjectiveKind.RECORD_SUCCESS:
        return compute.record_success(d.agg)
    if kind == ObjectiveKind.FRESHNESS:
        return compute.freshness(d.agg, r.threshold_minutes or 0)
    if kind == ObjectiveKind.TIMELINESS:
        eg = eg_seconds(integ)
        return compute.timeliness(d.skeleton, eg, d.first_ever, ts(w_start), ts(w_end), d.windows)
    raise ValueError(kind)


def _row(r, integration_slug, good, total):
    row = {
        "objective": r.objective,
        "integration": integration_slug,
        "priority": r.priority,
        "target": r.target,
        "threshold_minutes": r.threshold_minutes,
        "within_business_minutes": r.within_business_minutes,
        "good": good,
        "total": total,
    }
    row.update(compute.figures(good, total, r.target))
    return row


def objectives_context(tenant, pre=None):
    """(integrations, resolved objectives) of ``tenant``: pass it to several
    ``sla_rows`` calls (daily charts, burn spans) to read them once."""
    if pre is not None:
        return pre.context(tenant)
    integrations = list(Integration.objects.filter(tenant=tenant).order_by("slug"))
    return integrations, resolve_objectives(tenant, integrations)


def sla_rows(tenant, start, end, now=None, raw=False, with_sources=False, context=None, pre=None):
    """The rows of contract 4.4 for W = [start, min(end, now)). ``pre``: an
    ``sla.batch.Prefetch`` holding what many tenants' rows read."""
    now = now or timezone.now()
    w_start, w_end = start, max(start, min(end, now))
    integrations, resolved = context or objectives_context(tenant, pre)
    data = gather(tenant, integrations, w_start, w_end, now, raw=raw, pre=pre)

    rows = []
    pooled = {r.identity: [0, 0] for r in resolved.poolable}
    for r0 in resolved.poolable + _integration_only(resolved):
        for integ in integrations:
            r = next((x for x in resolved.per_integration[integ] if x.identity == r0.identity), None)
            if r is None:
                continue
            good, total = _good_total(r, data[integ.pk], integ, w_start, w_end)
            rows.append(_with_source(_row(r, integ.slug, good, total), r, with_sources))
            if r0.identity in pooled and r0.source != "integration":
                pooled[r0.identity][0] += good
                pooled[r0.identity][1] += total
        if r0.source != "integration":
            good, total = pooled[r0.identity]
            rows.append(_with_source(_row(r0, None, good, total), r0, with_sources))

    if resolved.tenant_wide:
        priorities = {r.priority for r in resolved.tenant_wide}
        if pre is not None:
            openings = pre.openings(tenant, w_start, w_end, priorities)
        else:
            openings = _openings(tenant, w_start, w_end, priorities)
        hours = business_hours_of(tenant)
        for r in resolved.tenant_wide:
            mine = [compute.Opening(*o[1:]) for o in openings if o[0] == r.priority]
            deadline = deadline_function(tenant, r.within_business_minutes or 0, hours)
            good, total = compute.response_objective(r.objective, mine, deadline, w_start, w_end, now)
            rows.append(_with_source(_row(r, None, good, total), r, with_sources))
    return rows


OPENING_FIELDS = ("opened_at", "acknowledged_at", "resolved_at", "ignored_at")


def _openings(tenant, w_start, w_end, priorities):
    """(priority, opened_at, acknowledged_at, resolved_at, ignored_at) of the
    openings of ``priorities`` whose opened_at is in W."""
    qs = ExceptionOpening.objects.filter(
        tenant=tenant, priority__in=priorities, opened_at__gte=w_start, opened_at__lt=w_end
    )
    return rows_with_instants(qs, ["priority"], OPENING_FIELDS)


def _integration_only(resolved):
    """Integration entries whose identity the tenant does not have: rows
    without a pooled row, one per such entry."""
    tenant_ids = {r.identity for r in resolved.tenant_level}
    seen, out = set(), []
    for rs in resolved.per_integration.values():
        for r in rs:
            if r.identity not in tenant_ids and r.identity not in seen:
                seen.add(r.identity)
                out.append(r)
    return out


def _with_source(row, r, with_sources):
    if with_sources:
        row["source"] = r.source
    return row


# --- periods ------------------------------------------------------------------


def month_bounds(tenant, year, month):
    """Local midnight of the first of the month and of the first of the next."""
    tz = tenant.tzinfo
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return day_start(first, tz), day_start(nxt, tz)


def days_bounds(tenant, first, after_last):
    tz = tenant.tzinfo
    return day_start(first, tz), day_start(after_last, tz)
