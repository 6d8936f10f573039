"""The "Connect a worker" page: staff see the SDK snippets with this
tenant's integration slugs and the console's address; customers get 403,
other partners 404."""

import html

import pytest
from django.test import Client

from tests import factories as f


def browser(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def integrations(contoso):
    return [
        f.make_integration(contoso, "time-expense-posting", name="Time <b>and</b> expense"),
        f.make_integration(
            contoso, "billing-sync", name="Billing", replay_webhook_url="https://worker.example/replays"
        ),
    ]


def test_staff_see_the_snippets_filled_with_the_tenants_integrations(support, integrations):
    page = browser(support).get("/t/contoso/connect/")
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert 'with client.run("billing-sync") as run:' in text
    assert "opsconsole-worker wrap --integration time-expense-posting -- /opt/sync/time-expense-posting.sh" in text
    assert 'client.replays("time-expense-posting", handle, lease_seconds=300)' in text  # pulled, not pushed
    assert "Pushed replays (billing-sync)" in text and "verify_signature(" in text
    assert "import json\n\nfrom opsconsole_worker import verify_signature" in text
    assert "export OPSCONSOLE_URL=http://testserver" in text
    assert "create_api_key --tenant contoso --name sync-worker --scope ingest" in text
    assert "Time &lt;b&gt;and&lt;/b&gt; expense" in page.content.decode()  # names are escaped


def test_the_tenant_page_links_staff_to_it_and_not_customers(support, customer_viewer, integrations):
    assert b"/t/contoso/connect/" in browser(support).get("/t/contoso/").content
    assert b"/t/contoso/connect/" not in browser(customer_viewer).get("/t/contoso/").content


def test_a_tenant_without_integrations_gets_a_placeholder_slug(manager, contoso):
    page = browser(manager).get("/t/contoso/connect/")
    assert page.status_code == 200
    assert b"INTEGRATION-SLUG" in page.content and b"No integrations yet" in page.content


def test_customers_get_403_outsiders_404_and_visitors_the_login(customer_approver, outsider, integrations):
    assert browser(customer_approver).get("/t/contoso/connect/").status_code == 403
    assert browser(outsider).get("/t/contoso/connect/").status_code == 404
    assert browser(outsider).get("/t/no-such-tenant/connect/").status_code == 404
    anonymous = browser().get("/t/contoso/connect/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
