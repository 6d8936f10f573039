"""What the customer portal shows of one tenant, gathered from the SLA engine,
the exceptions, the replays and the report archive (never recomputed differently: the objective
rows and the 90-day figures are ``sla.engine.sla_rows`` rows)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count

from integrations.inbox import urgency_order
from integrations.models import Priority, Replay, ReplayStatus, SyncException
from opsconsole.roles import Perm, can
from sla import charts
from sla.compute import RunAgg, run_success
from sla.engine import month_bounds, objectives_context, sla_rows
from sla.models import ObjectiveKind, RunDay
from sla.reports.archive import current_month, report_urls, reports_for_tenant
from sla.reports.issuing import first_month
from sla.rollups import day_start, days_between, local_day
from sla.verdict import day_status, verdict

STRIP_DAYS = 90
URGENT_SHOWN = 5
REPLAYS_SHOWN = 20
ARCHIVE_SHOWN = 6


def objective_label(row):
    """ "Run success", "Freshness (lag ≤ 60 min)", "Acknowledge P1 within 30 business min"."""
    label = charts.LABELS.get(row["objective"], row["objective"])
    if row["priority"]:
        label += f" {row['priority']}"
    if row["threshold_minutes"] is not None:
        label += f" (lag ≤ {row['threshold_minutes']} min)"
    if row["within_business_minutes"] is not None:
        label += f" within {row['within_business_minutes']} business min"
    return label


def objectives_at_a_glance(tenant, now):
    """This local month's pooled and tenant-wide rows, each with its verdict."""
    today = local_day(now, tenant.tzinfo)
    start, end = month_bounds(tenant, today.year, today.month)
    rows = [r for r in sla_rows(tenant, start, end, now=now) if r["integration"] is None]
    for r in rows:
        r["label"] = objective_label(r)
        r["verdict"] = verdict(r)
    return {"month": f"{today:%B %Y}", "rows": rows}


@dataclass
class Strip:
    integration: object
    days: list = field(default_factory=list)
    attained: float | None = None  # run success over the whole strip (the engine's row)
    target: float | None = None
    good: int = 0
    total: int = 0


def _day_title(day, status, good, total):
    when = f"{day:%a %-d %b %Y}"
    if not total:
        return f"{when}: no runs"
    return f"{when}: {status.label}. {good:,} of {total:,} runs succeeded ({100 * good / total:.2f} %)"


def status_strips(tenant, now, context=None):
    """One strip per integration: a bar per local day of the last 90, by the
    day's run success against the integration's run-success target.

    1. The engine's rows over the 90 days (this also rebuilds day rollups
       whose basis went stale) give each integration's run success overall.
    2. The day rollups give each bar.
    """
    tz = tenant.tzinfo
    integrations, resolved = context or objectives_context(tenant)
    today = local_day(now, tz)
    first = today - timedelta(days=STRIP_DAYS - 1)
    start, end = day_start(first, tz), day_start(today + timedelta(days=1), tz)
    rows = sla_rows(tenant, start, end, now=now, context=(integrations, resolved))
    overall = {r["integration"]: r for r in rows if r["objective"] == ObjectiveKind.RUN_SUCCESS and r["integration"]}
    daily = {}
    for pk, day, su, pa, fa in RunDay.objects.filter(
        integration__in=integrations, day__gte=first, day__lte=today
    ).values_list("integration_id", "day", "succeeded", "partial", "failed"):
        daily[(pk, day)] = run_success(RunAgg(succeeded=su, partial=pa, failed=fa))
    strips = []
    for integ in sorted(integrations, key=lambda i: i.name.lower()):
        row = overall.get(integ.slug)
        strip = Strip(integ, target=row["target"] if row else None)
        if row:
            strip.attained, strip.good, strip.total = row["attained"], row["good"], row["total"]
        for day in days_between(first, today):
            good, total = daily.get((integ.pk, day), (0, 0))
            status = day_status(good, total, strip.target)
            strip.days.append({"day": day, "status": status.status, "title": _day_title(day, status, good, total)})
        strips.append(strip)
    return strips


def open_exceptions(tenant):
    """Open and acknowledged exceptions: counts by priority, and the most urgent few."""
    qs = SyncException.objects.open().for_tenant(tenant)
    counts = dict(qs.order_by().values("priority").annotate(n=Count("id")).values_list("priority", "n"))
    urgent = list(urgency_order(qs, only_open=True).select_related("integration")[:URGENT_SHOWN])
    by_priority = [(p, counts.get(p, 0)) for p in Priority.values]
    return {"by_priority": by_priority, "total": sum(counts.values()), "urgent": urgent}


def replays_waiting(tenant, user):
    """Replays of ``tenant`` waiting for ``user``'s approval (None when the
    user may not approve): pending, and not requested by the user."""
    if not can(user, Perm.APPROVE):
        return None
    return list(
        Replay.objects.for_tenant(tenant)
        .filter(status=ReplayStatus.PENDING_APPROVAL)
        .exclude(requested_by=user)
        .select_related("integration", "requested_by")
        .annotate(n_records=Count("records"))
        .order_by("created_at")[:REPLAYS_SHOWN]
    )


def report_archive(tenant, now):
    """The reports a customer downloads: this month's (provisional), last
    month's when it has not been issued yet (it is at its first opening),
    and the newest issued ones (sla.reports.archive)."""
    current = current_month(tenant, now)
    issued = reports_for_tenant(tenant)
    last = current.previous()
    unissued = None
    if last >= first_month(tenant) and not any(e.report.period == str(last) for e in issued):
        unissued = {"label": last.label, "urls": report_urls(tenant.slug, str(last))}
    return {
        "current": {"label": current.label, "urls": report_urls(tenant.slug, str(current))},
        "unissued": unissued,
        "issued": issued[:ARCHIVE_SHOWN],
        "more": len(issued) > ARCHIVE_SHOWN,
    }


def tenant_summary(tenant, user, now):
    context = objectives_context(tenant)
    return {
        "tenant": tenant,
        "objectives": objectives_at_a_glance(tenant, now),
        "strips": status_strips(tenant, now, context),
        "exceptions": open_exceptions(tenant),
        "replays": replays_waiting(tenant, user),
        "reports": report_archive(tenant, now),
    }
