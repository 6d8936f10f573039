"""The inbox and the exception page show money and the book close it blocks
(contract 4.1, 1.1), in a real browser, from runs reported through the
worker API."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import assert_no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def iso(instant):
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def money_data(contoso, integration, ingest_key, support, customer_viewer):
    contoso.close_business_day = 3
    contoso.business_hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    contoso.save()
    worker = f.client_with(ingest_key)
    now = dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(days=75)

    def post(run_id, failures, at):
        doc = f.run_doc(run_id, status="partial", started_at=iso(at), finished_at=iso(at), failures=failures)
        response = worker.post("/api/v1/runs", doc, format="json")
        assert response.status_code == 201, response.content

    post(
        "r1",
        [
            f.failure_doc(
                "INV-1", entity="invoice", error_code="ERP-7", message="Invoice total mismatch", amount=8120.5
            ),
            f.failure_doc("INV-2", entity="invoice", error_code="ERP-7", message="Invoice total mismatch", amount=100),
            f.failure_doc("TE-1", error_code="ERP-1", message="<b>Project</b> closed", amount=7.25),
            f.failure_doc("EX-1", entity="expense", error_code="MAP-1", message="Unknown cost centre"),
        ],
        now - dt.timedelta(minutes=5),
    )
    post(
        "r0",
        [f.failure_doc("REV-1", entity="revenue_schedule", error_code="REV-9", message="Period locked", amount=50000)],
        long_ago,
    )


def test_support_sees_money_orders_by_it_and_opens_the_blocking_close_view(
    page, live_server, sign_in, money_data, support, artifacts
):
    sign_in(page, support.email)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/inbox/")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(4)
    body = page.locator("tbody")
    expect(body).to_contain_text("8,220.50 USD")
    expect(body).to_contain_text("50,000.00 USD")
    expect(body).to_contain_text(re.compile(r"blocks the \w+ close · \d+ business days? left"))
    expect(body).to_contain_text(re.compile(r"\w+ close passed \d+ business days? ago"))
    expect(body).to_contain_text("<b>Project</b> closed")  # escaped, shown as text
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "money-inbox.png"), full_page=True)

    page.get_by_role("link", name="Open amount").click()
    page.wait_for_url(re.compile(r"order=amount"))
    first = rows.nth(0)
    expect(first).to_contain_text("50,000.00 USD")
    expect(rows.nth(1)).to_contain_text("8,220.50 USD")
    expect(rows.nth(3)).to_contain_text("—")  # no amount: last

    page.get_by_role("link", name="Blocking close").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("close passed")  # the oldest month's close first
    page.screenshot(path=str(artifacts / "money-blocking-close.png"), full_page=True)

    page.get_by_role("link", name="Invoice total mismatch").click()
    expect(page.locator(".open-amount")).to_contain_text("8,220.50 USD")
    expect(page.locator(".status-line")).to_contain_text(re.compile(r"blocks the \w+ close"))
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "money-exception.png"), full_page=True)


def test_a_customer_on_a_phone_sees_the_money_of_their_tenant(
    page, live_server, sign_in, money_data, customer_viewer, artifacts
):
    sign_in(page, customer_viewer.email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/inbox/?order=amount")
    expect(page.locator("tbody tr").first).to_contain_text("50,000.00 USD")
    page.screenshot(path=str(artifacts / "money-inbox-phone.png"), full_page=True)
