"""What a report shows, gathered from the SLA engine and the trends (never
recomputed another way) into one JSON-able dict: the HTML page, the PDF, the
CSV and the e-mail are all rendered from it, and an issued report stores it.

Times are written in the tenant's time zone."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Min, Q

from integrations.models import ExceptionOpening, Replay, ReplayRecord, Run, Trigger
from opsconsole.lib.localtime import local_text
from sla import compute
from sla.charts import figure_dict
from sla.engine import month_bounds, objectives_context, sla_rows
from sla.models import RunDay
from sla.raw import EpochMicros
from sla.reports import charts, text
from sla.rollups import days_between, eg_seconds, local_day, windows_by_integration
from sla.trends import trends

# Longest lists a report prints; the rest is counted ("and N more").
MAX_DOWNTIME = 30
MAX_OPEN = 25


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
        "daily": _daily(tenant, month, now, rows),
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
    # The charts as plotly JSON, so that an issued report's page embeds them
    # as issued without building them again.
    color = tenant.partner.primary_color or "#0B5FFF"
    figures["charts"] = [
        {"id": cid, "title": title, "figure": figure_dict(fig)}
        for cid, title, fig in charts.report_figures(figures, color)
    ]
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


def _daily(tenant, month, now, rows):
    """Per local day up to today: run success of all integrations, records
    and failures by class, from the trends' day buckets (the same day rollups
    the SLA reads). The pooled run_success row adds up every integration's
    runs, so each day's attained is ``compute.figures`` of the day's
    succeeded over its finished runs: the SLA page's daily figure."""
    tz = tenant.tzinfo
    last = min(month.next_first_day - timedelta(days=1), local_day(now, tz))
    days = list(days_between(month.first_day, last))
    target = next((r["target"] for r in rows if r["objective"] == "run_success" and r["integration"] is None), None)
    buckets = trends(tenant, month.first_day, month.next_first_day, "day", now=now)[: len(days)] if days else []
    success = []
    for b in buckets:
        good, total = compute.run_success(
            compute.RunAgg(**{k: b["runs"][k] for k in ("succeeded", "partial", "failed")})
        )
        success.append(compute.figures(good, total, target or 0)["attained"])
    classes = sorted({c for b in buckets for c in b["failures"]["by_error_class"]})
    return {
        "days": [d.isoformat() for d in days],
        "run_success": success,
        "run_success_target": target,
        "records": {k: [b["records"][k] for b in buckets] for k in ("succeeded", "failed", "skipped")},
        "failures_by_class": {c: [b["failures"]["by_error_class"].get(c, 0) for b in buckets] for c in classes},
    }


def _heartbeats(tenant, integrations, lo, hi):
    """{integration_id: [epoch seconds]} of the heartbeats in [lo, hi): every
    run except replays (contract 4.4), in time order."""
    qs = (
        Run.objects.filter(integration__in=integrations, started_at__gte=lo, started_at__lt=hi)
        .exclude(trigger=Trigger.REPLAY)
        .order_by("integration_id", "started_at")
    )
    out = {i.pk: [] for i in integrations}
    if connection.vendor == "postgresql":
        rows = qs.annotate(us=EpochMicros("started_at")).values_list("integration_id", "us")
        for pk, us in rows.iterator(chunk_size=20000):
            out[pk].append(us / 1e6)
    else:
        for pk, started_at in qs.values_list("integration_id", "started_at").iterator(chunk_size=20000):
            out[pk].append(started_at.timestamp())
    return out


def _downtime(tenant, integrations, start, end, now):
    """Timeliness: the late intervals of each scheduled integration inside the
    window, exactly the seconds the engine counts as not good: its skeleton
    of heartbeats (``compute.Skeleton``, starting from the last heartbeat
    before the month, maintenance runs left out), ``compute.late_intervals``,
    cut to the counted time (from the first heartbeat ever, maintenance
    windows out)."""
    scheduled = [i for i in integrations if i.has_schedule]
    w_end = max(start, min(end, now))
    if not scheduled or w_end <= start:
        return {"intervals": [], "more": 0, "minutes": 0.0}
    ws, we = compute.ts(start), compute.ts(w_end)
    first_day = local_day(start, tenant.tzinfo)
    days = RunDay.objects.filter(integration__in=scheduled)
    prev = dict(
        days.filter(day__lt=first_day, hb_last__isnull=False)
        .values("integration_id")
        .annotate(v=Max("hb_last"))
        .values_list("integration_id", "v")
    )
    firsts = dict(
        days.filter(hb_first__isnull=False)
        .values("integration_id")
        .annotate(v=Min("hb_first"))
        .values_list("integration_id", "v")
    )
    windows = windows_by_integration(tenant, scheduled)
    beats = _heartbeats(tenant, scheduled, start, w_end)
    out = []
    for integ in scheduled:
        first_ever = firsts.get(integ.pk)
        if first_ever is None or first_ever >= we:
            continue
        eg = eg_seconds(integ)
        sk = compute.Skeleton(prev[integ.pk], prev[integ.pk], []) if integ.pk in prev else compute.Skeleton()
        for t in beats[integ.pk]:
            if not (windows[integ.pk] and compute.inside(t, windows[integ.pk])):
                sk.push(t, eg)
        counted = compute.subtract([(max(ws, first_ever), we)], windows[integ.pk])
        late = compute.clip(compute.late_intervals(sk, eg, we), ws, we)
        for a, b in compute.subtract(compute.merge(late), compute.subtract([(ws, we)], counted)):
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
    # The longest first when they do not all fit.
    if len(intervals) > MAX_DOWNTIME:
        keep = sorted(range(len(intervals)), key=lambda i: -intervals[i]["minutes"])[:MAX_DOWNTIME]
        intervals = [intervals[i] for i in sorted(keep)]
    total = sum((b - a) for a, b, _ in out) / 60.0
    return {"intervals": intervals, "more": max(0, len(out) - MAX_DOWNTIME), "minutes": total}


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
