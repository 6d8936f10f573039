"""Managers and partner admins read every governance page in a real browser,
at desktop (1366 px) and phone (390 px) widths: nothing spills out of the
page, the heatmap and charts render, hostile names stay text. Screenshots go
to $TMPDIR/governance-shots for people to look at (never into the tree)."""

import os
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from integrations.keys import create_key
from integrations.models import ApiKey, System
from integrations.replays import request_replay
from opsconsole import audit
from tests import factories as f
from tests.browser.conftest import assert_no_horizontal_scroll
from tests.governance.conftest import portfolio_data, utc  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "governance-shots"
PAGES = {
    "portfolio": ("/governance/?period=2026-11&sort=worst", "Portfolio · 2026-11"),
    "aging": ("/governance/aging/", "Backlog aging"),
    "responses": ("/governance/responses/", "Response trends"),
    "health": ("/governance/health/", "Late and down now"),
    "approvals": ("/governance/approvals/", "Approvals waiting"),
    "keys": ("/governance/keys/", "API keys and tokens"),
    "changes": ("/governance/changes/", "Configuration changes"),
    "records": ("/governance/records/", "Systems of record"),
    "audit": ("/governance/audit/", "Audit log"),
}
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def governance_data(portfolio_data, northwind, contoso, fabrikam, support, manager):  # noqa: F811
    contoso.name = f"Contoso {HOSTILE}"
    contoso.system_of_record = {"project": "kantata", "time_entry": "kantata", "invoice": "netsuite"}
    contoso.save(update_fields=["name", "system_of_record"])
    kantata, netsuite = (
        System.objects.get(tenant=contoso, slug="kantata"),
        System.objects.get(tenant=contoso, slug="netsuite"),
    )
    f.make_integration(
        contoso, "master-data-sync", source=netsuite, target=kantata, entities=["project", "customer"], owner=support
    )
    sched = portfolio_data["contoso"][0]
    sched.approval_required = True
    sched.save(update_fields=["approval_required"])
    exception = f.make_exception_with_records(sched, priority="P1", title=f"Closed project {HOSTILE}")
    request_replay(support, exception, reason="Project reopened in NetSuite")
    f.make_exception(sched, priority="P2", title="Invoice total mismatch", open_amount=Decimal("8120.5"))
    for days in (0.2, 2, 5, 12):
        f.make_exception(
            portfolio_data["fabrikam"][0], priority="P2", opened_at=utc(2026, 12, 3, 10) - timedelta(days=days)
        )
    old, _ = create_key(name="legacy-poster", tenant=contoso, scopes=["ingest"])
    ApiKey.objects.filter(pk=old.pk).update(created=utc(2026, 6, 1))
    create_key(name="te-reader", tenant=fabrikam, scopes=["read"])
    create_key(name="max-laptop", user=manager)
    audit.record(
        "admin@northwind.example",
        "config.apply",
        partner=northwind,
        obj=northwind,
        summary="Applied northwind.yaml",
        data={
            "source": "northwind.yaml",
            "prune": False,
            "created": {"integration": ["contoso/master-data-sync"]},
            "updated": {"tenant": {"contoso": ["retention_days", "business_hours"]}},
            "deleted": {"alert": ["contoso#2 email"]},
            "values": {
                "tenant": {
                    "contoso": {
                        "retention_days": {"old": 395, "new": 90},
                        "business_hours": {"old": None, "new": {"days": ["mon", "fri"], "start": "08:00"}},
                    }
                }
            },
        },
    )


@pytest.mark.parametrize("persona", ["manager", "partner_admin"])
def test_every_governance_page_reads_well_on_desktop_and_phone(
    request, page, live_server, sign_in, governance_data, persona
):
    user = request.getfixturevalue(persona)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(utc(2026, 12, 3, 10), tick=True):
        sign_in(page, user.email)
        expect(page.get_by_role("link", name="Governance")).to_be_visible()
        for width, height in ((1366, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            for name, (url, heading) in PAGES.items():
                page.goto(live_server.url + url)
                expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
                if name == "responses":
                    expect(page.locator("#chart-ack .main-svg").first).to_be_visible()
                if name == "portfolio":
                    expect(page.locator("td.cell").first).to_be_visible()
                    expect(page.locator("tbody")).to_contain_text("8,120.50 USD")
                assert page.locator("img[src=x]").count() == 0
                page.screenshot(path=str(SHOTS / f"{name}-{persona}-{width}.png"), full_page=True)
                assert_no_horizontal_scroll(page)
