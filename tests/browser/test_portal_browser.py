"""The customer portal, the login page on a partner's host name and the
error pages, as a customer viewer and approver would see them in Chromium at
1366 px and 390 px: laid out without horizontal scroll, text on the brand
colour readable (contrast measured from the rendered colours), every bar of
the status strip explained. Screenshots go to $SCREENSHOT_DIR (default: the
test's temporary directory)."""

import base64
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from integrations import replays
from opsconsole import errors
from opsconsole.lib.contrast import AA, contrast
from opsconsole.models import Hostname
from opsconsole.roles import Role
from sla.rollups import runs_changed
from tests import factories as f
from tests.browser.conftest import assert_no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)
RGB_OF = "c => { const [r, g, b] = getComputedStyle(c).%s.match(/\\d+/g).map(Number); return [r, g, b]; }"


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def customer_month(northwind, contoso, support, live_server):
    """Thirty days of runs every three hours, two bad days, exceptions of each
    priority and a replay waiting for approval; the live server's host name
    (localhost) is one of the partner's."""
    northwind.primary_color = "#0B5FFF"
    logo = Path(__file__).resolve().parents[2] / "examples/logos/northwind.svg"
    northwind.logo = "data:image/svg+xml;base64," + base64.b64encode(logo.read_bytes()).decode()
    northwind.support_email = "support@northwind.example"
    northwind.save()
    Hostname.objects.create(partner=northwind, name="localhost")
    cache.clear()  # earlier tests may have cached localhost as nobody's
    plan = f.make_plan(
        northwind,
        objectives=[
            {"objective": "run_success", "target": 99.0},
            {"objective": "record_success", "target": 95.0},
            {"objective": "acknowledge", "priority": "P1", "target": 95.0, "within_business_minutes": 30},
        ],
    )
    contoso.plan = plan
    contoso.save()
    te = f.make_integration(contoso, name="Time and expense to NetSuite", approval_required=True)
    f.make_integration(contoso, "billing-milestones", name="Billing milestones <sync>")
    now = timezone.now()
    pks = []
    for hours_ago in range(3, 30 * 24, 3):
        started = now - timedelta(hours=hours_ago)
        bad = hours_ago // 24 in (4, 11) and hours_ago % 6 == 0
        pks.append(f.make_run_at(te, started, "failed" if bad else "succeeded", succeeded=20, rollup=False).pk)
    runs_changed(contoso.pk, pks)
    p1 = f.make_exception_with_records(te, title="Credentials for <system> expired", priority="P1")
    f.make_exception(te, title="Project P-<n> is closed in the ERP " + "x" * 120, priority="P2")
    f.make_exception(te, title="Unknown cost centre <n>", priority="P3")
    replays.request_replay(support, p1, reason="Credentials renewed")
    return te


def look(page, path, name, shots, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)


def assert_topbar_readable(page):
    bar = page.locator("header.topbar")
    background = bar.evaluate(RGB_OF % "backgroundColor")
    text = page.locator("header.topbar .mainnav a, header.topbar .brand-name").first.evaluate(RGB_OF % "color")
    hexes = ["#{:02X}{:02X}{:02X}".format(*c) for c in (background, text)]
    assert contrast(*hexes) >= AA, hexes


@pytest.mark.parametrize("role", [Role.CUSTOMER_VIEWER, Role.CUSTOMER_APPROVER])
def test_a_customer_sees_their_portal_laid_out_at_both_widths(
    page, live_server, sign_in, customer_month, northwind, contoso, role, shots
):
    user = f.make_user(northwind, role, tenants=[contoso])
    sign_in(page, user.email)
    for width in WIDTHS:
        look(page, f"{live_server.url}/portal/", f"portal-{role}", shots, width)
        assert_topbar_readable(page)
        bars = page.locator("ol.strip").last.locator("li.bar")
        assert bars.count() == 90
        assert "runs succeeded" in bars.nth(85).get_attribute("title")
        assert page.get_by_role("heading", name="This month's objectives").is_visible()
        waiting = page.get_by_role("heading", name="Replays waiting for your approval")
        assert waiting.count() == (1 if role == Role.CUSTOMER_APPROVER else 0)
    assert page.title() == "Contoso Consulting · Northwind Managed Integrations"


def test_the_login_and_error_pages_on_the_partners_host_carry_its_brand(
    page, live_server, sign_in, customer_month, customer_viewer, northwind, shots
):
    for width in WIDTHS:
        look(page, f"{live_server.url}/login/", "login", shots, width)
        assert page.title() == "Sign in · Northwind Managed Integrations"
        assert_topbar_readable(page)
        look(page, f"{live_server.url}/no/such/page/", "404-signed-out", shots, width)
        assert page.get_by_role("heading", name="Page not found").is_visible()
    request = RequestFactory().get("/")
    request.partner = northwind
    broken = errors.handler500(request).content.decode()
    page.route(
        f"{live_server.url}/broken/", lambda route: route.fulfill(status=500, body=broken, content_type="text/html")
    )
    sign_in(page, customer_viewer.email)
    for width in WIDTHS:
        look(page, f"{live_server.url}/approvals/", "403", shots, width)
        assert page.get_by_role("heading", name="Not allowed").is_visible()
        look(page, f"{live_server.url}/t/nowhere/", "404", shots, width)
        look(page, f"{live_server.url}/broken/", "500", shots, width)
        assert page.get_by_role("heading", name="Something went wrong").is_visible()
        assert_topbar_readable(page)
