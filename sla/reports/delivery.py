"""Monthly delivery of the reports (the one writer of ``ReportDelivery``).

On the partner's report day (``reports.day``, in each tenant's calendar, or
any later day of the month if the schedule did not run then) last month's
report is issued and e-mailed to the tenant's ``report_recipients``: PDF
attached, a branded HTML and plain-text body, the partner's product name as
From name and its support address as Reply-To.

A delivery row is created once per tenant and month (a unique constraint),
and each send claims the row with a conditional update first, so running
the schedule twice, or two queue workers at once, mails once. A failed send
is retried after ``OPSCONSOLE_DELIVERY_BACKOFF`` seconds, then marked failed;
every attempt is logged, and the archive page shows each delivery."""

import logging
from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from opsconsole import audit
from opsconsole.branding import branding_for
from opsconsole.models import Tenant
from sla.models import DeliveryStatus, ReportDelivery
from sla.reports import issuing
from sla.reports.periods import Month
from sla.reports.renderer import RendererUnavailable
from sla.reports.text import present
from sla.rollups import local_day

log = logging.getLogger(__name__)

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
# How long a claimed send keeps others off the row (longer than one SMTP exchange).
CLAIM = timedelta(minutes=10)


def due_month(tenant, now):
    """The month whose report is due for ``tenant`` now, or None before the
    partner's report day (the month just closed, in the tenant's calendar)."""
    today = local_day(now, tenant.tzinfo)
    if today.day < tenant.partner.report_day:
        return None
    return Month.of(today).previous()


def plan_deliveries(now=None):
    """Issue and queue the month's delivery of every tenant that has
    recipients and whose report day has come; returns the new deliveries' ids."""
    now = now or timezone.now()
    created = []
    for tenant in Tenant.objects.select_related("partner").exclude(report_recipients=[]).order_by("pk"):
        month = due_month(tenant, now)
        if month is None or ReportDelivery.objects.filter(tenant=tenant, period=str(month)).exists():
            continue
        try:
            report = issuing.issued_or_issue(tenant, month, audit.SYSTEM, now)
        except issuing.PeriodOutOfRange:
            continue  # the tenant did not exist yet
        except RendererUnavailable as exc:
            log.error("report delivery %s %s: not issued (%s); the next run tries again", tenant.slug, month, exc)
            continue
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(
                    tenant=tenant,
                    period=str(month),
                    report=report,
                    recipients=list(tenant.report_recipients),
                    next_attempt_at=now,
                )
        except IntegrityError:
            continue  # another run queued it first
        log.info("report delivery %s %s queued for %s", tenant.slug, month, ", ".join(delivery.recipients))
        created.append(delivery.pk)
    return created


def due_ids(now=None):
    now = now or timezone.now()
    return list(
        ReportDelivery.objects.filter(status__in=WAITING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def _claim(delivery_id, now):
    """Take the row for one attempt; False when it is not due or someone else has it."""
    taken = ReportDelivery.objects.filter(pk=delivery_id, status__in=WAITING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + CLAIM
    )
    return taken == 1


def send(delivery_id, now=None):
    """One attempt at e-mailing a delivery; returns its status, or None when
    it was not due (already sent, or claimed by another run)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = ReportDelivery.objects.select_related("tenant__partner", "report").get(pk=delivery_id)
    try:
        build_message(delivery).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any mail failure is recorded and retried
        return _failed(delivery, now, f"{type(exc).__name__}: {exc}"[:2000])
    delivery.status, delivery.sent_at, delivery.error = DeliveryStatus.SENT, now, ""
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "sent_at", "error", "next_attempt_at"])
    log.info("report delivery %s %s sent to %s", delivery.tenant.slug, delivery.period, ", ".join(delivery.recipients))
    audit.record(
        audit.SYSTEM,
        "report.deliver",
        tenant=delivery.tenant,
        obj=delivery,
        summary=f"Mailed the {delivery.period} report to {', '.join(delivery.recipients)}",
        data={"period": delivery.period, "version": delivery.report.version, "attempt": delivery.attempts},
    )
    return delivery.status


def _failed(delivery, now, error):
    backoff = settings.OPSCONSOLE_DELIVERY_BACKOFF
    if delivery.attempts <= len(backoff):
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=backoff[delivery.attempts - 1])
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    delivery.error = error
    delivery.save(update_fields=["status", "next_attempt_at", "error"])
    log.error(
        "report delivery %s %s attempt %d failed (%s); %s",
        delivery.tenant.slug,
        delivery.period,
        delivery.attempts,
        error,
        "retrying" if delivery.status == DeliveryStatus.RETRYING else "giving up",
    )
    if delivery.status == DeliveryStatus.FAILED:
        audit.record(
            audit.SYSTEM,
            "report.deliver_failed",
            tenant=delivery.tenant,
            obj=delivery,
            summary=f"Could not mail the {delivery.period} report after {delivery.attempts} attempts: {error[:200]}",
            data={"period": delivery.period, "attempts": delivery.attempts},
        )
    return delivery.status


def build_message(delivery):
    """The e-mail of a delivery: branded HTML and plain text, the issued PDF attached."""
    tenant, report = delivery.tenant, delivery.report
    brand = branding_for(tenant.partner)
    month = Month.parse(delivery.period)
    context = {"f": present(report.figures), "brand": brand, "report": report, "tenant": tenant}
    from sla.reports.views import file_name

    message = EmailMultiAlternatives(
        subject=f"{tenant.name}: service report for {month.label}",
        body=render_to_string("sla/reports/email.txt", context),
        from_email=formataddr((brand.product_name, settings.DEFAULT_FROM_EMAIL)),
        to=delivery.recipients,
        reply_to=[brand.support_email] if brand.support_email else None,
    )
    message.attach_alternative(render_to_string("sla/reports/email.html", context), "text/html")
    message.attach(file_name(tenant, month, report, "pdf"), bytes(report.pdf), "application/pdf")
    return message


def deliver_monthly(now=None):
    """The schedule's entry (``reports.deliver_monthly``): queue what has come
    due, then send every delivery whose (re)try has come."""
    now = now or timezone.now()
    created = plan_deliveries(now)
    results = [send(pk, now) for pk in due_ids(now)]
    return {"queued": len(created), "sent": results.count(DeliveryStatus.SENT), "attempted": len(results)}
