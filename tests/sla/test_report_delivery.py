"""Monthly delivery (contract 5, issue: the schedule mails the right report to
the right recipients once, even when run twice; failed sends are retried and
shown)."""

import socket
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_q.models import Schedule

from sla.models import DeliveryStatus, IssuedReport, ReportDelivery
from sla.reports.tasks import deliver_monthly
from tests.sla.conftest import utc


@pytest.fixture
def recipients(november, contoso, northwind, fabrikam):
    northwind.report_day = 2
    northwind.support_email = "support@northwind.example"
    northwind.save(update_fields=["report_day", "support_email"])
    contoso.report_recipients = ["cfo@contoso.example", "it@contoso.example"]
    contoso.save(update_fields=["report_recipients"])
    return contoso.report_recipients


def test_ensure_schedules_installs_the_monthly_delivery_once(db):
    call_command("ensure_schedules", stdout=StringIO())
    call_command("ensure_schedules", stdout=StringIO())
    schedule = Schedule.objects.get(name="reports.deliver_monthly")
    assert schedule.func == "sla.reports.tasks.deliver_monthly"


def test_the_schedule_mails_last_months_report_to_the_recipients_once_on_the_partner_day(recipients, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "reports@northwind.example"
    # Dec 2, 04:00Z is still Dec 1 in Chicago: the day has not come.
    with time_machine.travel(utc(2026, 12, 2, 4), tick=False):
        assert deliver_monthly()["queued"] == 0
    assert mail.outbox == []
    with time_machine.travel(utc(2026, 12, 2, 15), tick=False):
        deliver_monthly()
        deliver_monthly()
    with time_machine.travel(utc(2026, 12, 9, 15), tick=False):
        deliver_monthly()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == recipients
    assert message.subject == "Contoso Consulting: service report for November 2026"
    assert message.from_email == "Northwind Managed Integrations <reports@northwind.example>"
    assert message.reply_to == ["support@northwind.example"]
    report = IssuedReport.objects.get(tenant__slug="contoso", period="2026-11")
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("northwind-managed-integrations-contoso-2026-11-v1.pdf", "application/pdf")
    assert content == bytes(report.pdf)
    html, kind = message.alternatives[0]
    assert kind == "text/html" and "Contoso Consulting" in html and "93.7500\u00a0%" in html
    assert "93.7500\u00a0%" in message.body
    assert b"opsconsole" not in message.message().as_bytes().lower()
    delivery = ReportDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.period) == (DeliveryStatus.SENT, 1, "2026-11")
    # Fabrikam has no recipients: nothing issued or mailed for it.
    assert not IssuedReport.objects.filter(tenant__slug="fabrikam").exists()


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_send_is_retried_and_shown_on_the_archive(recipients, settings, client, customer_viewer):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [60, 600]
    with time_machine.travel(utc(2026, 12, 2, 15), tick=False):
        deliver_monthly()
    delivery = ReportDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.attempts == 1
    assert "Connection" in delivery.error
    client.force_login(customer_viewer)
    with time_machine.travel(utc(2026, 12, 2, 15, 0, 30), tick=False):
        page = client.get("/reports/contoso/").content.decode()
        deliver_monthly()  # before the back-off: no second attempt
    assert "Retrying" in page and "Connection" in page
    assert ReportDelivery.objects.get().attempts == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(utc(2026, 12, 2, 15, 2), tick=False):
        deliver_monthly()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (DeliveryStatus.SENT, 2, "")
    assert len(mail.outbox) == 1
    assert "Sent" in client.get("/reports/contoso/").content.decode()


def test_a_send_that_keeps_failing_ends_failed_and_audited(recipients, settings):
    from opsconsole.models import AuditEntry

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [60]
    for minute in (0, 2, 4):
        with time_machine.travel(utc(2026, 12, 2, 15, minute), tick=False):
            deliver_monthly()
    delivery = ReportDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert AuditEntry.objects.filter(action="report.deliver_failed").count() == 1
