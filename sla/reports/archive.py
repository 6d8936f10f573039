"""A tenant's report archive, for the archive page and other pages that link
to it (the customer portal): issued reports newest first, with their URLs and
the latest monthly delivery of each period."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from sla.models import IssuedReport, ReportDelivery
from sla.reports.periods import Month
from sla.rollups import local_day


@dataclass
class ArchiveEntry:
    report: IssuedReport  # the newest version of its period
    label: str
    html_url: str
    pdf_url: str
    csv_url: str
    older: list = field(default_factory=list)  # earlier version numbers, newest first
    delivery: ReportDelivery | None = None


def report_urls(tenant_slug, period):
    return (
        reverse("reports-html", args=[tenant_slug, period]),
        reverse("reports-pdf", args=[tenant_slug, period]),
        reverse("reports-csv", args=[tenant_slug, period]),
    )


def reports_for_tenant(tenant):
    """[ArchiveEntry] of ``tenant``'s issued reports, one per period, newest
    period first (the caller has checked the tenant is within reach)."""
    reports = IssuedReport.objects.filter(tenant=tenant).defer("pdf", "csv", "figures").order_by("-period", "-version")
    deliveries = {d.period: d for d in ReportDelivery.objects.filter(tenant=tenant)}
    entries, by_period = [], {}
    for r in reports:
        if r.period in by_period:
            by_period[r.period].older.append(r.version)
            continue
        html_url, pdf_url, csv_url = report_urls(tenant.slug, r.period)
        entry = ArchiveEntry(
            r, Month.parse(r.period).label, html_url, pdf_url, csv_url, delivery=deliveries.get(r.period)
        )
        by_period[r.period] = entry
        entries.append(entry)
    return entries


def current_month(tenant, now=None):
    return Month.of(local_day(now or timezone.now(), tenant.tzinfo))
