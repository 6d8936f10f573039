"""The alert pages through a real Chromium, as support staff and as a
customer, at 1366 px and on a 390 px phone (screenshots under $TMPDIR)."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alerts import heartbeats, tasks
from alerts.models import Alert, IntegrationWatch
from opsconsole.models import AuditEntry
from tests import factories as f
from tests.alerts.conftest import SECRET, make_channel
from tests.browser.conftest import assert_no_horizontal_scroll
from tests.integrations.webhook_receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "alert-screens"


def sign_in(page, base, email):
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)  # customers land on their portal


def shoot(page, name, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.fixture
def scene(contoso, fabrikam, settings):
    """A down integration (late then down), a hostile exception alert, a
    working and a failing channel, and an alert of another tenant."""
    settings.OPSCONSOLE_DELIVERY_BACKOFF = [0, 0]  # retries due at once
    with Receiver(SECRET, [200]) as ok, Receiver(SECRET, [500]) as broken:
        make_channel(contoso, url=ok.url)
        failing = make_channel(contoso, url=broken.url, events=["integration.late", "integration.down"])
        make_channel(contoso, "email", to=["oncall@northwind.example"], events=["exception.opened"])
        now = timezone.now()
        flow = f.make_integration(
            contoso, "time-expense-posting", name="Time and expense to NetSuite", every_minutes=15, grace_minutes=10
        )
        f.make_run_at(flow, now - timedelta(minutes=50))
        heartbeats.evaluate(now - timedelta(minutes=24))
        heartbeats.evaluate(now - timedelta(minutes=14))
        exception = f.make_exception(
            flow, title="Project <script>alert('x')</script> " + "very-long-token-" * 20, priority="P1"
        )
        tasks.exception_alerts([exception.pk])
        tasks.deliver_due()
        tasks.deliver_due()  # the failing channel's deliveries are out of retries
        other = f.make_integration(fabrikam, "payroll", every_minutes=60, grace_minutes=10)
        f.make_run_at(other, now - timedelta(hours=3))
        heartbeats.evaluate(now)
        yield {"flow": flow, "failing": failing, "ok": ok}


def test_support_sees_alerts_channels_and_an_episode_then_tests_a_channel_and_pauses(live_server, page, scene, support):
    base = live_server.url
    sign_in(page, base, support.email)
    page.goto(f"{base}/alerts/")
    rows = page.locator(".alerts-table tbody tr")
    assert rows.count() == 3  # both tenants
    assert "Failing channels" in page.locator("main").inner_text()
    assert page.locator("script:has-text(\"alert('x')\")").count() == 0
    shoot(page, "partner-support", 1366)
    shoot(page, "partner-support", 390)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/t/contoso/alerts/")
    failing_row = page.locator(f"#channel-{scene['failing'].pk}")
    assert "failing" in failing_row.inner_text() and "HTTP 500" in failing_row.inner_text()
    shoot(page, "tenant-support", 1366)
    shoot(page, "tenant-support", 390)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator(".channels-table tbody tr").first.get_by_role("button", name="Send test alert").click()
    assert "Test alert sent" in page.locator(".messages").inner_text()
    assert AuditEntry.objects.filter(action="alert.test", actor=support.email).count() == 1

    down = Alert.objects.get(event="integration.down", integration=scene["flow"])
    page.goto(f"{base}/alerts/{down.pk}/")
    assert page.locator("#alert-state").inner_text() == "firing"
    timeline = page.locator(".timeline").inner_text()
    assert "fired" in timeline and "escalated" in timeline and "late → down" in timeline
    assert "HTTP 500" in page.locator(".deliveries-table").inner_text()
    shoot(page, "alert-support", 1366)
    shoot(page, "alert-support", 390)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/t/contoso/i/time-expense-posting/")
    page.get_by_role("button", name="Pause alerts").click()
    assert page.locator("#alerts-paused").inner_text() == "paused"
    assert IntegrationWatch.objects.get(integration=scene["flow"]).paused_at is not None
    shoot(page, "integration-support", 1366)
    shoot(page, "integration-support", 390)


def test_a_customer_sees_their_tenants_alerts_read_only(live_server, page, scene, customer_viewer):
    base = live_server.url
    sign_in(page, base, customer_viewer.email)
    page.goto(f"{base}/alerts/")
    assert page.locator(".alerts-table tbody tr").count() == 2  # contoso only
    assert "Fabrikam" not in page.locator("main").inner_text()
    shoot(page, "partner-customer", 1366)
    shoot(page, "partner-customer", 390)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/t/contoso/alerts/")
    assert page.get_by_role("button", name="Send test alert").count() == 0
    assert scene["ok"].url.split("/")[-1] not in page.locator(".channels-table").inner_text()  # hosts only
    shoot(page, "tenant-customer", 1366)
    shoot(page, "tenant-customer", 390)
    page.goto(f"{base}/t/contoso/i/time-expense-posting/")
    assert page.get_by_role("button", name="Pause alerts").count() == 0
    exception_alert = Alert.objects.get(event="exception.opened")
    page.goto(f"{base}/alerts/{exception_alert.pk}/")
    shoot(page, "alert-customer", 1366)
    shoot(page, "alert-customer", 390)
