"""Issued reports (contract 5): the one module that writes ``IssuedReport``.

A closed month's report is issued at its first request (or by the monthly
schedule) and kept: its PDF and CSV are served byte for byte afterwards and
its HTML shows the stored figures. Re-issuing adds version N + 1 from the
data as it is now. A month that has not closed in the tenant's time zone is
provisional: rendered from live data, never stored. Errors are domain
errors; the views and the API turn them into 404, 409 and 503."""

import hashlib

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from opsconsole import audit
from sla.engine import month_bounds
from sla.models import IssuedReport, RunDay
from sla.reports import csvfile
from sla.reports.figures import build
from sla.reports.periods import Month
from sla.rollups import local_day


class ReportError(Exception):
    """Base of the report domain errors."""


class PeriodOutOfRange(ReportError):
    """A month that has not begun, or ended before the tenant existed."""


class ProvisionalPeriod(ReportError):
    """The month has not closed yet: it has no issued report."""


class NoSuchVersion(ReportError):
    pass


def first_month(tenant):
    """The tenant's first month: when it was created, or of its first run
    if runs were loaded from before that."""
    first_day = RunDay.objects.filter(tenant=tenant).aggregate(first=Min("day"))["first"]
    created = local_day(tenant.created, tenant.tzinfo)
    return Month.of(min(created, first_day) if first_day else created)


def check_period(tenant, month, now=None):
    """True when ``month`` has closed, False when it is the current month;
    PeriodOutOfRange when it has not begun or precedes the tenant."""
    now = now or timezone.now()
    start, end = month_bounds(tenant, month.year, month.month)
    if start > now:
        raise PeriodOutOfRange(f"{month} has not begun yet in {tenant.timezone}; there is no report for it.")
    if month < first_month(tenant):
        raise PeriodOutOfRange(f"{month} is before {tenant.name} had any data; there is no report for it.")
    return end <= now


def issued_versions(tenant, month):
    return IssuedReport.objects.filter(tenant=tenant, period=str(month)).order_by("-version")


def get_issued(tenant, month, version=None):
    """The newest issued version (or ``version``), or None / NoSuchVersion."""
    qs = issued_versions(tenant, month)
    if version is None:
        return qs.first()
    report = qs.filter(version=version).first()
    if report is None:
        raise NoSuchVersion(f"There is no version {version} of the {month} report of {tenant.name}.")
    return report


def issued_or_issue(tenant, month, actor, now=None):
    """The newest issued report of a closed month, issuing version 1 if none."""
    now = now or timezone.now()
    if not check_period(tenant, month, now):
        raise ProvisionalPeriod(f"{month} has not closed yet; its report is provisional and not issued.")
    return get_issued(tenant, month) or _issue(tenant, month, actor, now, version=1)


def reissue(tenant, month, actor, now=None):
    """Version N + 1 of a closed month's report, from the data as it is now (audited)."""
    now = now or timezone.now()
    if not check_period(tenant, month, now):
        raise ProvisionalPeriod(f"{month} has not closed yet in {tenant.timezone}; it cannot be re-issued.")
    latest = get_issued(tenant, month)
    return _issue(tenant, month, actor, now, version=(latest.version + 1) if latest else 1)


def previous_rows(tenant, month):
    """Last month's rows as issued, when it was (the comparison then matches
    the report the customer already holds); None to compute them."""
    prev = get_issued(tenant, month.previous())
    return prev.figures["rows"] if prev else None


def live_figures(tenant, month, now=None):
    """The figures of the current (provisional) month, never stored."""
    now = now or timezone.now()
    return build(tenant, month, now, previous_rows(tenant, month))


def _issue(tenant, month, actor, now, version):
    """1. gather the figures; 2. render the PDF (may raise RendererUnavailable)
    and the CSV; 3. store them with their SHA-256 in one transaction and audit.
    A concurrent first request that stored the same version first wins."""
    from sla.reports.pdf import render_pdf

    figures = build(tenant, month, now, previous_rows(tenant, month))
    actor_label = audit.actor_label(actor)
    if actor_label.startswith("key:"):
        actor_label = audit.SYSTEM  # contract 5: issued_by is a user's e-mail or "system"
    report = IssuedReport(
        tenant=tenant, period=str(month), version=version, issued_at=now, issued_by=actor_label, figures=figures
    )
    report.pdf = render_pdf(tenant, figures, report)
    report.csv = csvfile.render(figures["rows"])
    report.pdf_sha256 = hashlib.sha256(report.pdf).hexdigest()
    report.csv_sha256 = hashlib.sha256(report.csv).hexdigest()
    try:
        with transaction.atomic():
            report.save()
            audit.record(
                actor,
                "report.reissue" if version > 1 else "report.issue",
                tenant=tenant,
                obj=report,
                summary=f"Issued the {month} report of {tenant.name}, version {version}",
                data={"period": str(month), "version": version, "pdf_sha256": report.pdf_sha256},
            )
    except IntegrityError:
        existing = get_issued(tenant, month)
        if existing is None:
            raise
        return existing
    return report
