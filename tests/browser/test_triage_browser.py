"""A support user triages an exception in a real browser; a customer sees
only their tenant and no action controls."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import assert_no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def triage_data(northwind, contoso, fabrikam, integration, support, manager):
    contoso.business_hours = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    contoso.save()
    f.make_clock_objective(contoso, "acknowledge", "P1", 30)
    f.make_clock_objective(contoso, "resolve", "P1", 480)
    f.make_clock_objective(contoso, "acknowledge", "P2", 120)
    closed = f.make_exception(
        integration,
        priority="P1",
        title="Project P-<n> is closed in the ERP",
        error_code="ERP-4001",
        runbook="Check that the project is open in NetSuite, then replay.",
    )
    f.make_failure(closed, record_id="TE-1001", payload={"employee": "E-17", "ssn": "[redacted]", "hours": 7.5})
    f.make_failure(closed, record_id="TE-1002", message="<script>alert('x')</script>" + "Z" * 5000)
    other = f.make_exception(integration, priority="P2", title="Unknown cost centre <n>", error_code="MAP-12")
    f.make_failure(other, record_id="EX-9")
    payroll = f.make_integration(fabrikam, "payroll-export", name="Payroll export")
    f.make_exception(payroll, priority="P3", title="Fabrikam payroll rejected")
    return {"closed": closed, "other": other}


def test_support_filters_opens_acknowledges_assigns_comments_and_resolves(
    page, live_server, sign_in, triage_data, support, manager, artifacts
):
    sign_in(page, support.email)
    page.goto(f"{live_server.url}/inbox/")
    expect(page.get_by_role("heading", name=re.compile("Inbox"))).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "inbox.png"), full_page=True)

    # Filter by priority and search for a record id.
    page.select_option("select[name=priority]", "P1")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.fill("input[name=q]", "EX-9")
    page.select_option("select[name=priority]", "")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Unknown cost centre <n>")
    page.goto(f"{live_server.url}/inbox/?tenant=contoso")
    page.get_by_role("link", name="Project P-<n> is closed in the ERP").click()

    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    expect(page.locator(".runbook")).to_contain_text("Check that the project is open")
    page.locator("summary", has_text="holds scrubbed values").click()
    expect(page.locator("mark.redacted").first).to_be_visible()
    expect(page.locator(".message-cell").first).to_contain_text("<script>alert('x')</script>")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "exception.png"), full_page=True)

    # Keyboard: tab to the primary action and press Enter.
    page.locator("#assign-to").focus()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#acknowledge")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Acknowledged.")
    expect(page.locator(".status-line")).to_contain_text("acknowledged")

    page.select_option("#assign-to", manager.email)
    page.click("#assign")
    expect(page.locator("#assignee")).to_have_text(manager.email)

    page.fill("#comment-body", "Asked <b>Contoso</b> to reopen P-77.")
    page.click("#comment")
    expect(page.locator(".timeline")).to_contain_text("Asked <b>Contoso</b> to reopen P-77.")

    page.fill("#resolve-note", "Project reopened, replay posted.")
    page.click("#resolve")
    expect(page.locator(".status-line")).to_contain_text("resolved")
    expect(page.locator(".timeline")).to_contain_text("exception.resolve")
    expect(page.locator("#reopen")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "exception-resolved.png"), full_page=True)

    triage_data["closed"].refresh_from_db()
    assert triage_data["closed"].status == "resolved"
    assert triage_data["closed"].assignee == manager


def test_support_bulk_acknowledges_from_the_inbox(page, live_server, sign_in, triage_data, support):
    sign_in(page, support.email)
    page.goto(f"{live_server.url}/inbox/?tenant=contoso")
    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text("2 selected:")
    page.select_option("#bulk-action", "acknowledge")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator(".messages")).to_contain_text("Acknowledged 2 exceptions.")
    expect(page.locator("tbody .status-acknowledged")).to_have_count(2)


def test_a_customer_sees_only_their_tenant_and_no_action_buttons(
    page, live_server, sign_in, triage_data, customer_viewer, artifacts
):
    sign_in(page, customer_viewer.email)
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("Fabrikam payroll rejected")
    expect(page.locator("#bulk-form")).to_have_count(0)
    expect(page.locator("input[name=ids]")).to_have_count(0)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "inbox-customer.png"), full_page=True)
    page.get_by_role("link", name="Project P-<n> is closed in the ERP").click()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    for control in ("#acknowledge", "#assign", "#resolve", "#ignore", "#comment", "#reopen"):
        expect(page.locator(control)).to_have_count(0)
    expect(page.get_by_role("heading", name="Actions")).to_have_count(0)


def test_integration_and_run_pages_fit_the_window(page, live_server, sign_in, triage_data, support, artifacts):
    from django.utils import timezone

    from integrations.models import RunLog

    run = triage_data["closed"].failures.first().run
    RunLog.objects.create(run=run, at=timezone.now(), level="info", message="fetched 120 entries", digest="1")
    RunLog.objects.create(
        run=run,
        at=timezone.now(),
        level="error",
        message="<b>post failed</b> " + "x" * 3000,
        digest="2",
        context={"token": "[redacted]", "record": "TE-1002"},
    )
    sign_in(page, support.email)
    page.goto(f"{live_server.url}/t/contoso/i/time-expense-posting/")
    expect(page.locator("#health")).to_have_text("up")
    expect(page.locator("table.runs tbody tr")).to_have_count(3)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "integration.png"), full_page=True)
    page.locator("table.runs").get_by_role("link", name=run.run_id, exact=True).click()
    expect(page.get_by_role("heading", name="Logs")).to_be_visible()
    page.select_option("#level", "error")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.logs tbody tr")).to_have_count(1)
    expect(page.locator("table.logs")).to_contain_text("<b>post failed</b>")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "run.png"), full_page=True)
