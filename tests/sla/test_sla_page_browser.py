"""What a person sees on the SLA and trends pages, in a real Chromium."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def last_month():
    first = datetime.now(UTC).replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    prev = (first - timedelta(days=1)).replace(day=1)
    return prev, f"{prev:%Y-%m}"


def signed_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def test_the_sla_page_draws_the_daily_attainment_chart(page, live_server, daily, support):
    start, period = last_month()
    for day in range(1, 11):
        f.make_run_at(daily, start.replace(day=day), "failed" if day == 3 else "succeeded", succeeded=10)
    signed_in(page, live_server, support)
    page.goto(f"{live_server.url}/t/contoso/sla/?period={period}")
    row = page.locator("tr.sla-row", has_text="Run success").filter(has_text="All integrations")
    assert "✘ Missed" in row.inner_text()
    assert "90.0000%" in row.inner_text()
    # Plotly drew the chart (an SVG inside the chart's div), with its target line.
    page.wait_for_selector("#chart-run_success .main-svg", timeout=30_000)
    assert "Target 99%" in page.locator("#chart-run_success").inner_text()
    page.get_by_role("link", name="Trends").click()
    page.wait_for_selector("#chart-backlog .main-svg", timeout=30_000)
    assert page.get_by_role("heading", name="Per day").is_visible()
