"""What a customer sees of the reports, in a real Chromium: the archive, the
report page with its charts (desktop and phone), and the PDF's pages."""

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from sla.reports.periods import Month
from tests import factories as f
from tests.browser.conftest import assert_no_horizontal_scroll

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


@pytest.fixture
def artifacts(tmp_path_factory):
    """Where the screenshots go to be looked at: $OPSCONSOLE_SCREENSHOTS, else a temporary folder."""
    folder = os.environ.get("OPSCONSOLE_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def month_of_runs(daily, contoso):
    start, period = last_month()
    contoso.created = start - timedelta(days=40)
    contoso.save(update_fields=["created"])
    for day in range(1, 21):
        status = "failed" if day in (3, 4) else "partial" if day == 9 else "succeeded"
        f.make_run_at(daily, start.replace(day=day), status, succeeded=100 - day, failed=day % 4, lag_seconds=600)
    exc = f.make_exception(daily, title="Project P-<n> is closed in the ERP " + "x" * 150)
    f.make_opening(daily, start.replace(day=5), exception=exc, priority=exc.priority)
    return period


def test_a_customer_opens_the_report_from_the_archive_with_its_charts(
    page, live_server, month_of_runs, customer_viewer, artifacts
):
    # The first opening issues the report: on a busy machine, starting the
    # chart renderer's Chromium can take a while.
    page.set_default_timeout(120_000)
    signed_in(page, live_server, customer_viewer)
    page.goto(f"{live_server.url}/reports/contoso/")
    page.get_by_role("link", name=Month.parse(month_of_runs).label).first.click()
    page.wait_for_selector("#chart-run-success .main-svg", timeout=60_000)
    page.wait_for_selector("#chart-records .main-svg", timeout=30_000)
    assert "Target 99%" in page.locator("#chart-run-success").inner_text()
    assert page.get_by_role("heading", name="Service level objectives").is_visible()
    assert "Northwind Managed Integrations" in page.title()
    page.screenshot(path=str(artifacts / "report-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#chart-run-success .main-svg", timeout=60_000)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "report-390.png"), full_page=True)

    page.goto(f"{live_server.url}/reports/contoso/")
    assert "v1" in page.locator(".archive-table").inner_text()
    page.screenshot(path=str(artifacts / "report-archive-390.png"), full_page=True)


def test_the_pdf_pages_are_drawn_with_charts(live_server, month_of_runs, support, artifacts, tmp_path):
    client = Client()
    client.force_login(support)
    pdf = client.get(f"/reports/contoso/{month_of_runs}.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(path), str(artifacts / "report-pdf")], check=True)
    pages = sorted(artifacts.glob("report-pdf-*.png"))
    assert len(pages) >= 3
    # The charts are vector drawings in the PDF: pdftotext finds their axis labels.
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()
    assert "Daily run success" in text and "Records succeeded" in text
