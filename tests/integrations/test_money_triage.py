"""Money in triage (contract 1, 4.1, 1.1): routing by amount, the exception
document's open_amount, currency and close_deadline, order=amount|close
in the API and the inbox, the "Blocking close" view and what the pages show."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from integrations.models import RoutingRule, SyncException
from tests import factories as f

pytestmark = pytest.mark.django_db


def fail(record_id, amount=None, code="ERP-4001", **kw):
    item = f.failure_doc(record_id, error_code=code, **kw)
    if amount is not None:
        item["amount"] = amount
    return item


# --- routing by amount ---------------------------------------------------------------------------


def test_min_amount_routes_by_the_first_failures_amount(post_run, contoso, support):
    RoutingRule.objects.create(
        tenant=contoso, position=1, match={"min_amount": 10000}, priority="P1", assign=support, runbook="Call finance."
    )
    RoutingRule.objects.create(tenant=contoso, position=2, match={"error_code": "ERP-2"}, priority="P2")

    post_run(
        f.run_doc(
            status="partial",
            failures=[
                fail("A", 10000, code="ERP-1"),  # exactly the minimum: matches
                fail("B", 9999.9999, code="ERP-2"),  # below: the next rule
                fail("C", code="ERP-3"),  # no amount: never matches min_amount
                fail("D", 50000.5, code="ERP-4"),
            ],
        )
    )

    by_code = {e.error_code: e for e in SyncException.objects.all()}
    assert (by_code["ERP-1"].priority, by_code["ERP-1"].assignee, by_code["ERP-1"].runbook) == (
        "P1",
        support,
        "Call finance.",
    )
    assert by_code["ERP-1"].routed_by == "rule 1: min_amount = 10000"
    assert by_code["ERP-2"].priority == "P2"
    assert by_code["ERP-3"].priority == "P3"
    assert by_code["ERP-4"].priority == "P1"


def test_min_amount_must_match_with_the_other_keys(post_run, contoso):
    RoutingRule.objects.create(
        tenant=contoso, position=1, match={"min_amount": "100.5", "entity": "invoice"}, priority="P1"
    )
    post_run(
        f.run_doc(
            status="partial",
            failures=[fail("A", 500, code="E-1"), fail("B", 500, code="E-2", entity="invoice")],
        )
    )
    by_code = {e.error_code: e.priority for e in SyncException.objects.all()}
    assert by_code == {"E-1": "P3", "E-2": "P1"}


def test_routing_is_weighed_once_at_creation(post_run, contoso):
    RoutingRule.objects.create(tenant=contoso, position=1, match={"min_amount": 1000}, priority="P1")
    post_run(f.run_doc("r1", status="partial", failures=[fail("A", 10)]))
    post_run(
        f.run_doc(
            "r2",
            status="partial",
            failures=[fail("B", 5000)],
            started_at="2026-11-26T10:05:00Z",
            finished_at="2026-11-26T10:06:00Z",
        )
    )
    exception = SyncException.objects.get()
    assert exception.priority == "P3"
    assert exception.open_amount == Decimal("5010")


# --- the exception document and order ------------------------------------------------------------


@pytest.fixture
def money_world(contoso, integration):
    """Four open exceptions: 500 (P3), 9000 (P3), none (P1), 500 (P2); and a
    resolved one holding 100,000. Contoso closes on the 3rd business day."""
    contoso.close_business_day = 3
    contoso.save(update_fields=["close_business_day"])
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)

    def make(title, amount, priority, close=None, **kw):
        return f.make_exception(
            integration,
            title=title,
            priority=priority,
            open_amount=None if amount is None else Decimal(amount),
            close_deadline=close,
            opened_at=now,
            **kw,
        )

    return {
        "small": make("small", "500", "P3", dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC)),
        "large": make("large", "9000", "P3", dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC)),
        "none": make("none", None, "P1"),
        "urgent-small": make("urgent-small", "500", "P2", dt.datetime(2026, 11, 4, 6, tzinfo=dt.UTC)),
        "resolved": make("resolved", "100000", "P4", status="resolved"),
    }


def titles(response):
    assert response.status_code == 200, response.content
    return [e["title"] for e in response.json()["results"]]


def test_the_document_carries_open_amount_currency_and_close_deadline(money_world, as_user, support):
    body = as_user(support).get(f"/api/v1/exceptions/{money_world['large'].pk}").json()
    assert body["open_amount"] == "9000.0000"
    assert body["currency"] == "USD"
    assert body["close_deadline"] == "2026-12-04T06:00:00.000000Z"
    empty = as_user(support).get(f"/api/v1/exceptions/{money_world['none'].pk}").json()
    assert (empty["open_amount"], empty["close_deadline"], empty["currency"]) == (None, None, "USD")


def test_order_amount_puts_the_largest_first_nulls_last_ties_by_urgency(money_world, as_user, support):
    client = as_user(support)
    assert titles(client.get("/api/v1/exceptions?status=open&order=amount")) == [
        "large",
        "urgent-small",
        "small",
        "none",
    ]
    # Across statuses the largest is first whatever its status; ties still in urgency order.
    assert titles(client.get("/api/v1/exceptions?order=amount")) == [
        "resolved",
        "large",
        "urgent-small",
        "small",
        "none",
    ]


def test_order_close_puts_the_earliest_first_nulls_last_ties_by_urgency(money_world, as_user, support):
    assert titles(as_user(support).get("/api/v1/exceptions?status=open&order=close")) == [
        "urgent-small",
        # small and large share a close: urgency decides (same priority and opening: the older id)
        "small",
        "large",
        "none",
    ]


def test_the_default_order_is_urgency(money_world, as_user, support):
    assert titles(as_user(support).get("/api/v1/exceptions?status=open")) == titles(
        as_user(support).get("/api/v1/exceptions?status=open&order=urgency")
    )


@pytest.mark.parametrize("order", ["money", "amount,close", "AMOUNT"])
def test_an_unknown_order_is_a_400(money_world, as_user, support, order):
    response = as_user(support).get(f"/api/v1/exceptions?order={order}")
    assert response.status_code == 400
    assert "order" in response.json()


def test_the_schema_documents_the_money_fields_and_order(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    exception = schema["components"]["schemas"]["Exception"]["properties"]
    assert {"open_amount", "currency", "close_deadline"} <= set(exception)
    parameters = schema["paths"]["/api/v1/exceptions"]["get"]["parameters"]
    order = next(p for p in parameters if p["name"] == "order")
    assert sorted(order["schema"]["enum"]) == ["amount", "close", "urgency"]


# --- the inbox and the exception page -------------------------------------------------------------


@time_machine.travel("2026-12-01T16:00:00Z", tick=False)
def test_the_inbox_shows_money_and_the_close_it_blocks(money_world, client, support):
    client.force_login(support)
    page = client.get("/inbox/?order=amount").content.decode()
    assert "9,000.00 USD" in page and "500.00 USD" in page
    # Tue 1 Dec, 10:00 CST; November's books close at the end of Thu 3 Dec (a 24x7 tenant).
    assert "blocks the November close · 3 business days left" in page
    assert "October close passed" in page
    assert page.index("9,000.00 USD") < page.index("500.00 USD")


@time_machine.travel("2026-12-01T16:00:00Z", tick=False)
def test_the_blocking_close_view_lists_open_money_by_nearest_close(money_world, client, support):
    client.force_login(support)
    page = client.get("/inbox/?view=blocking-close").content.decode()
    assert "Blocking close" in page
    assert 'aria-current="page">Blocking close' in page
    shown = [t for t in ("urgent-small", "large", "small", "none", "resolved") if f">{t}</a>" in page]
    assert shown == ["urgent-small", "large", "small"]  # as listed above, not yet in page order
    assert page.index(">urgent-small</a>") < page.index(">small</a>") < page.index(">large</a>")


@time_machine.travel("2026-12-01T16:00:00Z", tick=False)
def test_the_exception_page_shows_the_open_amount_and_close(money_world, client, customer_viewer):
    client.force_login(customer_viewer)
    page = client.get(f"/exceptions/{money_world['large'].pk}/").content.decode()
    assert "Open amount" in page and "9,000.00 USD" in page
    assert "blocks the November close · 3 business days left" in page


def test_amounts_with_more_than_cents_are_shown_whole(integration, client, support):
    f.make_exception(integration, title="odd", open_amount=Decimal("12.3456"))
    client.force_login(support)
    page = client.get("/inbox/").content.decode()
    assert "12.3456 USD" in page
