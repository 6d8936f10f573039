"""SLA and trends pages of a tenant, in the tenant's time zone."""

import re
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from integrations.models import Integration
from opsconsole.access import get_tenant_for_user
from opsconsole.lib.localtime import local_text
from sla import charts
from sla.batch import DailyPrefetch
from sla.burn import burn_rates
from sla.engine import month_bounds, sla_rows
from sla.rollups import day_start, days_between, local_day
from sla.trends import trends
from sla.verdict import verdict

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
POOLED_KINDS = ("run_success", "record_success", "freshness", "timeliness")


def _last_closed(today):
    """(year, month) of the month before ``today``'s: the last one with a final figure."""
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def _period(request, tenant, now):
    """(year, month, error) from ?period=YYYY-MM. Default: the last closed
    month (a month a day old has too little to judge); ``?period=`` of the
    current month switches to it."""
    year, month = _last_closed(local_day(now, tenant.tzinfo))
    value = request.GET.get("period") or ""
    m = PERIOD_RE.match(value)
    if not value:
        return year, month, None
    if not m or not (1 <= int(m.group(2)) <= 12) or not (1971 <= int(m.group(1)) <= 9998):
        return year, month, "The period must be a month as YYYY-MM; showing the last closed month."
    return int(m.group(1)), int(m.group(2)), None


def _local(dt, tenant):
    """A time as the tenant reads it (pages show the tenant's clock, not the server's)."""
    return local_text(dt, tenant)


def _counts(row):
    """Good / total as a person reads them: timeliness in hours."""
    if row["objective"] == "timeliness":
        return f"{row['good'] / 3600:,.1f} h of {row['total'] / 3600:,.1f} h on time"
    return f"{row['good']:,} / {row['total']:,}"


def _figure(fig):
    return charts.figure_dict(fig)


def daily_attainment(tenant, start, end, now):
    """{objective: (days, attained list, target)} of the pooled rows, one point per local day."""
    tz = tenant.tzinfo
    series = {}
    first = local_day(start, tz)
    last = min(local_day(end - timedelta(microseconds=1), tz), local_day(now, tz))
    if last < first:
        return series
    # What every day's rows read, read once for the month.
    pre = DailyPrefetch(tenant, first, last, start, end)
    context = pre.context(tenant)
    for d in days_between(first, last):
        window = (day_start(d, tz), day_start(d + timedelta(days=1), tz))
        for row in sla_rows(tenant, *window, now=now, context=context, pre=pre):
            if row["integration"] is None and row["objective"] in POOLED_KINDS:
                days, values, _ = series.setdefault(row["objective"], ([], [], row["target"]))
                days.append(d.isoformat())
                values.append(row["attained"])
    return series


def _decorate(rows, tenant, now, is_open):
    """Adds what the page shows of each row: the integration's name, the
    verdict (too early to judge until the allowed budget reaches one event)
    and, for the open month only, the burn rates of now."""
    names = dict(Integration.objects.filter(tenant=tenant).values_list("slug", "name"))
    burns = {b.key: b for b in burn_rates(tenant, now)} if is_open else {}
    for row in rows:
        row["integration_name"] = names.get(row["integration"], row["integration"])
        row["verdict"] = verdict(row)
        row["target_label"] = f"{row['target']:g}%"
        row["counts_label"] = _counts(row)
        burn = burns.get((row["objective"], row["integration"], row["priority"]))
        row["burn_1h"] = burn.rates.get("1h") if burn else None
        row["burn_6h"] = burn.rates.get("6h") if burn else None
        row["burning"] = bool(burn and burn.firing)
    return rows


def _switch(tenant, now, year, month):
    """(label, period) of the other month the page offers: the current one
    from a closed month, the last closed one from the current month."""
    today = local_day(now, tenant.tzinfo)
    if (year, month) == (today.year, today.month):
        y, m = _last_closed(today)
        return "Show the last closed month", f"{y:04d}-{m:02d}"
    return "Show the current month so far", f"{today.year:04d}-{today.month:02d}"


@login_required
def sla_page(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    now = timezone.now()
    year, month, error = _period(request, tenant, now)
    start, end = month_bounds(tenant, year, month)
    is_open = start <= now < end
    rows = _decorate(sla_rows(tenant, start, end, now=now), tenant, now, is_open)
    figures = []
    tz = tenant.tzinfo
    period = (local_day(start, tz).isoformat(), local_day(end - timedelta(microseconds=1), tz).isoformat())
    for kind, (days, values, target) in daily_attainment(tenant, start, end, now).items():
        title = f"{charts.LABELS[kind]}: daily attainment (all integrations)"
        figure = _figure(charts.attainment_figure(days, values, target, title, period=period))
        figures.append({"id": f"chart-{kind}", "title": title, "figure": figure})
    context = {
        "tenant": tenant,
        "rows": rows,
        "period": f"{year:04d}-{month:02d}",
        "start": _local(start, tenant),
        "end": _local(end, tenant),
        "now": _local(now, tenant),
        "error": error,
        "figures": figures,
        "labels": charts.LABELS,
        "is_open": is_open,
        "switch": _switch(tenant, now, year, month),
    }
    return render(request, "sla/sla.html", context)


def _date(value):
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


@login_required
def trends_page(request, tenant):
    tenant = get_tenant_for_user(request.user, tenant)
    now = timezone.now()
    today = local_day(now, tenant.tzinfo)
    first = _date(request.GET.get("from")) or today - timedelta(days=29)
    after_last = _date(request.GET.get("to")) or today + timedelta(days=1)
    bucket = request.GET.get("bucket") if request.GET.get("bucket") in ("day", "week") else "day"
    error = None
    if after_last <= first or (after_last - first).days > 3700 or first.year < 1971 or after_last.year > 9998:
        error = "The range is not valid; showing the last 30 days."
        first, after_last = today - timedelta(days=29), today + timedelta(days=1)
    buckets = trends(tenant, first, after_last, bucket, now=now)
    starts = [b["start"].astimezone(tenant.tzinfo).strftime("%Y-%m-%d") for b in buckets]
    classes = sorted({c for b in buckets for c in b["failures"]["by_error_class"]})
    by_class = {c: [b["failures"]["by_error_class"].get(c, 0) for b in buckets] for c in classes}
    figures = [
        ("chart-failures", charts.failures_by_class_figure(starts, by_class)),
        (
            "chart-opened",
            charts.opened_resolved_figure(
                starts,
                [b["exceptions"]["opened"] for b in buckets],
                [b["exceptions"]["resolved"] for b in buckets],
            ),
        ),
        ("chart-backlog", charts.backlog_figure(starts, [b["exceptions"]["open_at_end"] for b in buckets])),
        (
            "chart-mttx",
            charts.response_times_figure(
                starts,
                [b["acknowledge_minutes"]["median"] for b in buckets],
                [b["resolve_minutes"]["median"] for b in buckets],
            ),
        ),
    ]
    context = {
        "tenant": tenant,
        "buckets": [dict(b, label=s) for b, s in zip(buckets, starts, strict=True)],
        "first": first.isoformat(),
        "to": after_last.isoformat(),
        "bucket": bucket,
        "error": error,
        "figures": [{"id": i, "title": fig.layout.title.text, "figure": _figure(fig)} for i, fig in figures],
    }
    return render(request, "sla/trends.html", context)
