"""Support staff find "Connect a worker" on the tenant page and read the
snippets on a laptop and on a phone."""

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import assert_no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_opens_connect_a_worker_from_the_tenant_page(page, live_server, sign_in, contoso, support, artifacts):
    f.make_integration(contoso, "time-expense-posting", name="Time and expense to NetSuite")
    f.make_integration(
        contoso, "billing-milestone-sync", name="Billing milestones", replay_webhook_url="https://w.example/r"
    )
    sign_in(page, support.email)
    page.goto(f"{live_server.url}/t/contoso/")
    page.get_by_role("link", name="Connect a worker").click()
    expect(page.get_by_role("heading", name="Connect a worker to Contoso Consulting")).to_be_visible()
    expect(page.get_by_text('with client.run("billing-milestone-sync") as run:')).to_be_visible()
    expect(page.get_by_text(f"export OPSCONSOLE_URL={live_server.url}")).to_be_visible()
    page.screenshot(path=artifacts / "connect-1366.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "connect-390.png", full_page=True)
