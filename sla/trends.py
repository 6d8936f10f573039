"""Trends per bucket of the tenant's calendar (contract 4.5).

Runs and records come from the per-day rollups (runs inside maintenance
windows are left out, as in the SLA); failures, openings and response times
from their own tables, grouped by local day.
"""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from integrations.models import ExceptionOpening, Failure
from sla import compute
from sla.business_time import business_hours_of
from sla.engine import business_minutes_between
from sla.models import RunDay
from sla.rollups import day_start, local_day


def buckets_of(first, after_last, bucket):
    """[(start_day, end_day)) pairs covering [first, after_last): single days,
    weeks starting on Monday clipped to the range, or (``period``, for the
    reports) the whole range as one bucket."""
    out = []
    d = first
    while d < after_last:
        if bucket == "period":
            nxt = after_last
        elif bucket == "week":
            nxt = d + timedelta(days=7 - d.weekday())
        else:
            nxt = d + timedelta(days=1)
        nxt = min(nxt, after_last)
        out.append((d, nxt))
        d = nxt
    return out


def _empty():
    return {
        "runs": {"running": 0, "succeeded": 0, "partial": 0, "failed": 0},
        "records": {"succeeded": 0, "failed": 0, "skipped": 0},
        "failures": {"total": 0, "by_error_class": {}},
        "exceptions": {"opened": 0, "resolved": 0, "open_at_end": 0},
        "acknowledge_minutes": {"median": None, "p95": None},
        "resolve_minutes": {"median": None, "p95": None},
    }


def response_minutes(tenant, opened_at, acked, resolved, ignored, hours=None):
    """(acknowledge, resolve) business minutes of one opening, each None
    while it has not happened: the samples of MTTA and MTTR here and on the
    governance response-trends page. Resolving or ignoring also acknowledges."""
    hours = hours if hours is not None else business_hours_of(tenant)
    first_ack = min([t for t in (acked, resolved, ignored) if t is not None], default=None)
    ack = business_minutes_between(tenant, opened_at, first_ack, hours) if first_ack is not None else None
    res = business_minutes_between(tenant, opened_at, resolved, hours) if resolved is not None else None
    return ack, res


def trends(tenant, first, after_last, bucket, now=None):
    """The buckets of [first, after_last) (local dates) that begin by ``now``.

    1. cut the range into buckets and drop those beginning after now;
    2. add up the rollup rows, failures and openings of each bucket's days;
    3. work out each bucket's backlog and response-time percentiles."""
    now = now or timezone.now()
    tz = tenant.tzinfo
    spans = [(a, b) for a, b in buckets_of(first, after_last, bucket) if day_start(a, tz) <= now]
    if not spans:
        return []
    out = [_empty() | {"start": day_start(a, tz), "end": day_start(b, tz)} for a, b in spans]
    day_index = _day_index(spans)
    _add_runs(out, day_index, tenant, spans[0][0], spans[-1][1])
    _add_failures(out, day_index, tenant, out[0]["start"], out[-1]["end"])
    ack_times, res_times = _add_openings(out, day_index, tenant, out[0]["start"], out[-1]["end"])
    for i, b in enumerate(out):
        b["acknowledge_minutes"] = {
            "median": compute.percentile(ack_times[i], 50),
            "p95": compute.percentile(ack_times[i], 95),
        }
        b["resolve_minutes"] = {
            "median": compute.percentile(res_times[i], 50),
            "p95": compute.percentile(res_times[i], 95),
        }
    return out


def _day_index(spans):
    """{local day: index of the bucket holding it} over the spans' days."""
    day_index = {}
    i = 0
    d, hi_day = spans[0][0], spans[-1][1]
    while d < hi_day:
        while i + 1 < len(spans) and spans[i + 1][0] <= d:
            i += 1
        day_index[d] = i
        d += timedelta(days=1)
    return day_index


def _add_runs(out, day_index, tenant, lo_day, hi_day):
    """Runs and records per bucket, from the per-day rollups."""
    rows = (
        RunDay.objects.filter(tenant=tenant, day__gte=lo_day, day__lt=hi_day)
        .values("day")
        .annotate(
            succeeded=Sum("succeeded"),
            partial=Sum("partial"),
            failed=Sum("failed"),
            running=Sum("running"),
            rec_succeeded=Sum("rec_succeeded"),
            rec_failed=Sum("rec_failed"),
            rec_skipped=Sum("rec_skipped"),
        )
    )
    for r in rows:
        b = out[day_index[r["day"]]]
        for s in ("succeeded", "partial", "failed", "running"):
            b["runs"][s] += r[s] or 0
        for s in ("succeeded", "failed", "skipped"):
            b["records"][s] += r[f"rec_{s}"] or 0


def _add_failures(out, day_index, tenant, lo, hi):
    """Failures per bucket and error class, by the local day they occurred."""
    failures = (
        Failure.objects.filter(tenant=tenant, occurred_at__gte=lo, occurred_at__lt=hi)
        .annotate(day=TruncDate("occurred_at", tzinfo=tenant.tzinfo))
        .values("day", "error_class")
        .annotate(n=Count("id"))
    )
    for r in failures:
        b = out[day_index[r["day"]]]["failures"]
        b["total"] += r["n"]
        cls = r["error_class"] or "unknown"
        b["by_error_class"][cls] = b["by_error_class"].get(cls, 0) + r["n"]


def _add_openings(out, day_index, tenant, lo, hi):
    """Exceptions opened, resolved and open at each bucket's end; returns the
    acknowledge and resolve times (business minutes) of each bucket's openings."""
    tz = tenant.tzinfo
    alive = Q(resolved_at__isnull=True) | Q(resolved_at__gte=lo)
    alive &= Q(ignored_at__isnull=True) | Q(ignored_at__gte=lo)
    alive &= Q(closed_at__isnull=True) | Q(closed_at__gte=lo)
    openings = ExceptionOpening.objects.filter(alive, tenant=tenant, opened_at__lt=hi).values_list(
        "opened_at", "acknowledged_at", "resolved_at", "ignored_at", "closed_at"
    )
    hours = business_hours_of(tenant)
    ack_times = [[] for _ in out]
    res_times = [[] for _ in out]
    ends = [b["end"] for b in out]
    for opened_at, acked, resolved, ignored, closed in openings.iterator(chunk_size=2000):
        over = [t for t in (resolved, ignored, closed) if t is not None]
        ended = min(over) if over else None
        if ended is not None and ended < lo:
            continue
        if lo <= opened_at:
            i = day_index[local_day(opened_at, tz)]
            out[i]["exceptions"]["opened"] += 1
            ack, res = response_minutes(tenant, opened_at, acked, resolved, ignored, hours)
            if ack is not None:
                ack_times[i].append(ack)
            if res is not None:
                res_times[i].append(res)
        if resolved is not None and lo <= resolved < hi:
            out[day_index[local_day(resolved, tz)]]["exceptions"]["resolved"] += 1
        for i, end in enumerate(ends):
            if opened_at < end and (ended is None or ended >= end):
                out[i]["exceptions"]["open_at_end"] += 1
    return ack_times, res_times
