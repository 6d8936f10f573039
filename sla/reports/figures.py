"""What a report shows, gathered from the SLA engine and the trends (never
recomputed another way) into one JSON-able dict: the HTML page, the PDF, the
CSV and the e-mail are all rendered from it, and an issued report stores it.

Times are written in the tenant's time zone."""

from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q

from integrations.models import ExceptionOpening, Replay, ReplayRecord
from sla import compute
from sla.engine import gather, month_bounds, objectives_context, sla_rows
from sla.reports import text
from sla.rollups import day_start, days_between, eg_seconds, local_day
from sla.trends import trends

# Longest lists a report prints; the rest is counted ("and N more").
MAX_DOWNTIME = 100
MAX_OPEN = 50


def local_text(dt, tenant):
    return dt.astimezone(tenant.tzinfo).strftime("%Y-%m-%d %H:%M")


def build(tenant, month, now, previous_rows=None):
    """The figures of ``tenant``'s report for ``month`` as of ``now``.

    1. the SLA rows of the month (contract 4.4), pooled and tenant-wide first;
    2. the daily series: pooled run success, records, failures by class;
    3. timeliness downtime, response times, replays, exceptions open at the end;
    4. last month's rows for the comparison (``previous_rows`` when issued);
    5. the summary and the glossary in words."""
    start, end = month_bounds(tenant, month.year, month.month)
    as_of = min(end, now)
    context = objectives_context(tenant)
    rows = text.pooled_first(sla_rows(tenant, start, end, now=now, context=context))
    whole = trends(tenant, month.first_day, month.next_first_day, "period", now=now)
    whole = whole[0] if whole else None
    open_list, open_count = _open_at(tenant, as_of)
    if previous_rows is None:
        p = month.previous()
        p_start, p_end = month_bounds(tenant, p.year, p.month)
        previous_rows = sla_rows(tenant, p_start, p_end, now=now, context=context)
    runs_total = sum(whole["runs"].values()) if whole else 0
    figures = {
        "tenant": {"slug": tenant.slug, "name": tenant.name, "timezone": tenant.timezone},
        "period": str(month),
        "period_label": month.label,
        "start": start.astimezone(tenant.tzinfo).isoformat(),
        "end": end.astimezone(tenant.tzinfo).isoformat(),
        "as_of": local_text(as_of, tenant),
        "provisional": now < end,
        "has_runs": runs_total > 0,
        "rows": rows,
        "totals": _totals(whole),
        "daily": _daily(tenant, month, now, context, rows),
        "downtime": _downtime(tenant, context[0], start, end, now),
        "response": _response(rows, whole),
        "replays": _replays(tenant, start, as_of),
        "open_exceptions": open_list,
        "open_count": open_count,
        "previous": {
            "period": str(month.previous()),
            "label": month.previous().label,
            "comparison": text.comparison(rows, previous_rows),
        },
    }
    figures["summary"] = text.summary(rows, open_count, figures["provisional"])
    figures["glossary"] = text.glossary(rows)
    return figures


def _totals(whole):
    if whole is None:
        return {"runs": {}, "records": {}, "failures": 0, "opened": 0, "resolved": 0}
    return {
        "runs": whole["runs"],
        "records": whole["records"],
        "failures": whole["failures"]["total"],
        "by_error_class": whole["failures"]["by_error_class"],
        "opened": whole["exceptions"]["opened"],
        "resolved": whole["exceptions"]["resolved"],
    }


def _daily(tenant, month, now, context, rows):
    """Per local day up to today: pooled run success (the engine's rows of
    that day), records and failures by class (the trends' day buckets)."""
    tz = tenant.tzinfo
    last = min(month.next_first_day - timedelta(days=1), local_day(now, tz))
    days = list(days_between(month.first_day, last))
    target = next((r["target"] for r in rows if r["objective"] == "run_success" and r["integration"] is None), None)
    success = []
    for d in days:
        day_rows = sla_rows(tenant, day_start(d, tz), day_start(d + timedelta(days=1), tz), now=now, context=context)
        pooled = next((r for r in day_rows if r["objective"] == "run_success" and r["integration"] is None), None)
        success.append(pooled["attained"] if pooled else None)
    buckets = trends(tenant, month.first_day, month.next_first_day, "day", now=now) if days else []
    buckets = buckets[: len(days)]
    classes = sorted({c for b in buckets for c in b["failures"]["by_error_class"]})
    return {
        "days": [d.isoformat() for d in days],
        "run_success": success,
        "run_success_target": target,
        "records": {k: [b["records"][k] for b in buckets] for k in ("succeeded", "failed", "skipped")},
        "failures_by_class": {c: [b["failures"]["by_error_class"].get(c, 0) for b in buckets] for c in classes},
    }


def _downtime(tenant, integrations, start, end, now):
    """Timeliness: the late intervals of each scheduled integration inside the
    window, exactly the seconds the engine counts as not good (from the
    first heartbeat ever, maintenance cut out), newest last."""
    scheduled = [i for i in integrations if i.has_schedule]
    w_end = max(start, min(end, now))
    if not scheduled or w_end <= start:
        return {"intervals": [], "more": 0, "minutes": 0.0}
    data = gather(tenant, scheduled, start, w_end, now, raw=True)
    ws, we = compute.ts(start), compute.ts(w_end)
    out = []
    for integ in scheduled:
        d = data[integ.pk]
        if d.first_ever is None or d.first_ever >= we:
            continue
        counted = compute.subtract([(max(ws, d.first_ever), we)], d.windows)
        late = compute.clip(compute.late_intervals(d.skeleton, eg_seconds(integ), we), ws, we)
        late = compute.subtract(compute.merge(late), compute.subtract([(ws, we)], counted))
        for a, b in late:
            out.append((a, b, integ))
    out.sort(key=lambda x: (x[0], x[2].slug))
    intervals = [
        {
            "integration": integ.slug,
            "name": integ.name,
            "from": local_text(datetime.fromtimestamp(a, UTC), tenant),
            "to": local_text(datetime.fromtimestamp(b, UTC), tenant),
            "minutes": round((b - a) / 60.0, 1),
            "ongoing": b >= we and now < end,
        }
        for a, b, integ in out
    ]
    total = sum((b - a) for a, b, _ in out) / 60.0
    return {"intervals": intervals[:MAX_DOWNTIME], "more": max(0, len(intervals) - MAX_DOWNTIME), "minutes": total}


def _response(rows, whole):
    """Acknowledge and resolve: the engine's rows (target, good, total,
    misses) with the period's median and p95 business minutes (trends)."""
    out = []
    for r in rows:
        if r["objective"] not in ("acknowledge", "resolve"):
            continue
        key = "acknowledge_minutes" if r["objective"] == "acknowledge" else "resolve_minutes"
        times = whole[key] if whole else {"median": None, "p95": None}
        out.append(
            {
                "name": text.objective_label(r),
                "objective": r["objective"],
                "priority": r["priority"],
                "within": r["within_business_minutes"],
                "target": r["target"],
                "good": r["good"],
                "total": r["total"],
                "misses": r["total"] - r["good"],
                "attained": r["attained"],
                "median": times["median"],
                "p95": times["p95"],
            }
        )
    return out


def _replays(tenant, start, as_of):
    """Replays requested in the period by status, records replayed and records recovered."""
    replays = Replay.objects.for_tenant(tenant).filter(created_at__gte=start, created_at__lt=as_of)
    by_status = dict(replays.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    records = ReplayRecord.objects.filter(replay__in=replays).aggregate(
        total=Count("id"), recovered=Count("id", filter=Q(state=ReplayRecord.State.SUCCEEDED))
    )
    return {
        "total": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
        "records": records["total"] or 0,
        "recovered": records["recovered"] or 0,
    }


def _open_at(tenant, at):
    """Exceptions whose opening was still open at ``at`` (not resolved,
    ignored or closed by then), most urgent first, as the trends count them."""
    alive = Q(opened_at__lt=at)
    alive &= Q(resolved_at__isnull=True) | Q(resolved_at__gte=at)
    alive &= Q(ignored_at__isnull=True) | Q(ignored_at__gte=at)
    alive &= Q(closed_at__isnull=True) | Q(closed_at__gte=at)
    qs = (
        ExceptionOpening.objects.filter(alive, tenant=tenant)
        .select_related("exception", "exception__integration")
        .order_by("priority", "opened_at")
    )
    count = qs.count()
    listed = [
        {
            "id": o.exception_id,
            "priority": o.priority,
            "title": o.exception.title[:300],
            "integration": o.exception.integration.slug,
            "opened_at": local_text(o.opened_at, tenant),
            "occurrences": o.exception.occurrences,
        }
        for o in qs[:MAX_OPEN]
    ]
    return listed, count
