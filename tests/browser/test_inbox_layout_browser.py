"""The inbox as support and as a customer at 1366 px and on a 390 px phone:
no horizontal page scroll, no word broken inside itself (e-mail addresses,
relative times), cards instead of a table on the phone, every text readable
against the colour rendered behind it. Screenshots go to $SCREENSHOT_DIR
(default: the test's temporary directory)."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.models import Failure, SyncException
from integrations.sync_exceptions import money
from tests import factories as f
from tests.browser.conftest import (
    assert_no_horizontal_scroll,
    clipped_boxes,
    low_contrast_texts,
    words_broken_inside,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def busy_inbox(contoso, fabrikam, support):
    f.make_clock_objective(contoso, "acknowledge", "P1", 30)
    f.make_clock_objective(contoso, "acknowledge", "P2", 120)
    te = f.make_integration(contoso, "time-expense", name="Time and expense to NetSuite")
    billing = f.make_integration(contoso, "billing-milestones", name="Billing milestones <sync>")
    payroll = f.make_integration(fabrikam, "payroll-export", name="Payroll export")
    now = timezone.now()
    made = [
        f.make_exception(
            te,
            priority="P1",
            title="Credentials for <system> expired",
            error_code="AUTH-401",
            opened_at=now - timedelta(hours=3),
        ),
        f.make_exception(te, priority="P2", title="Project P-<n> is closed in the ERP", error_code="ERP-4001"),
        f.make_exception(billing, priority="P3", title="Unknown cost centre <n> on milestone <n> of contract <n>"),
        f.make_exception(payroll, priority="P2", title="Employee <n> has no bank account on file"),
    ]
    for i, e in enumerate(made):
        f.make_failure(
            e, record_id=f"TE-10{i}", message=f"Project P-{4711 + i} is closed in the ERP since 2026-11-0{i + 1}"
        )
    SyncException.objects.filter(pk__in=[e.pk for e in made]).update(
        assignee=support, last_seen=now - timedelta(hours=2, minutes=49)
    )
    # Money held up and the book close it blocks: the widest rows the inbox draws.
    contoso.close_business_day = 3
    contoso.save(update_fields=["close_business_day"])
    Failure.objects.filter(exception=made[0]).update(amount=Decimal("48500.0000"), currency="USD")
    Failure.objects.filter(exception=made[1]).update(amount=Decimal("9620.0000"), currency="USD")
    money.recompute([made[0].pk, made[1].pk])
    return made


@pytest.mark.parametrize("persona", ["support", "customer_viewer"])
def test_the_inbox_never_breaks_a_word_nor_scrolls_sideways(
    request, page, live_server, sign_in, busy_inbox, persona, shots
):
    user = request.getfixturevalue(persona)
    sign_in(page, user.email)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/inbox/")
        page.screenshot(path=str(shots / f"inbox-{persona}-{width}.png"), full_page=True)
        assert_no_horizontal_scroll(page)
        assert words_broken_inside(page) == []
        assert clipped_boxes(page) == []
        assert low_contrast_texts(page) == []
        rows = page.locator("table.inbox-table tbody tr")
        assert rows.count() == (4 if persona == "support" else 3)
        row = rows.first.bounding_box()
        if width == 390:
            # A card per exception: the row spans the card instead of a table line.
            assert page.locator("table.inbox-table thead").is_hidden()
            assert row["width"] > 300 and row["height"] > 100
        else:
            assert page.locator("table.inbox-table thead").is_visible()
        assert page.locator("time.nowrap").first.inner_text() == "2\xa0hours ago"


@pytest.mark.parametrize("persona", ["support", "customer_viewer"])
def test_the_pages_around_the_inbox_are_laid_out_and_readable(
    request, page, live_server, sign_in, busy_inbox, persona, shots, contoso
):
    """The exception, integration, run, replay-list, SLA, trends and password
    pages and the navigation with its tenant switcher and user menu."""
    exception = busy_inbox[1]
    run = exception.failures.first().run
    user = request.getfixturevalue(persona)
    sign_in(page, user.email)
    paths = [
        f"/exceptions/{exception.pk}/",
        f"/t/{contoso.slug}/sla/",
        f"/t/{contoso.slug}/trends/",
        f"/t/{contoso.slug}/replays/",
        "/account/password/",
    ]
    if persona == "support":
        paths += ["/", f"/t/{contoso.slug}/i/{exception.integration.slug}/", f"/runs/{run.pk}/"]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(shots / f"{name}-{persona}-{width}.png"), full_page=True)
            assert_no_horizontal_scroll(page)
            assert words_broken_inside(page) == [], path
            assert low_contrast_texts(page) == [], path
        # The user menu opens over the page, readable too.
        page.locator("details.usermenu summary").click()
        assert page.get_by_role("link", name="Change password").is_visible()
        assert low_contrast_texts(page) == []
