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
    assert "Too early to judge" in row.inner_text()  # 10 runs at 99 %: budget of 0.1 run
    assert "90.00%" in row.inner_text()
    # Plotly drew the chart (an SVG inside the chart's div), with its target line.
    page.wait_for_selector("#chart-run_success .main-svg", timeout=30_000)
    assert "Target 99%" in page.locator("#chart-run_success").inner_text()
    page.get_by_role("link", name="Trends").click()
    page.wait_for_selector("#chart-backlog .main-svg", timeout=30_000)
    assert page.get_by_role("heading", name="Per day").is_visible()


def test_a_worker_error_class_with_a_link_is_plain_text_in_the_trends_legend(page, live_server, daily, support):
    from integrations.models import Failure

    link = '<a href="https://evil.example/x">click me</a>'
    when = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    run = f.make_run_at(daily, when, "failed", failed=1)
    opening = f.make_opening(daily, when)
    Failure.objects.create(
        run=run,
        tenant=run.tenant,
        integration=daily,
        exception=opening.exception,
        entity="time_entry",
        record_id="TE-1",
        error_class=link,
        message="boom",
        occurred_at=when,
    )
    signed_in(page, live_server, support)
    page.goto(f"{live_server.url}/t/contoso/trends/")
    legend = page.locator("#chart-failures .legend")
    legend.wait_for(timeout=30_000)
    assert legend.locator("a").count() == 0
    assert page.locator("#chart-failures a[href*='evil']").count() == 0
    assert link in legend.text_content()


BROKEN_WORDS_JS = """(sel) => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector(sel), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const re = /\\S+/g; let m;
    while ((m = re.exec(node.textContent))) {
      const range = document.createRange();
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_no_word_of_the_sla_table_is_broken_inside_a_word(page, live_server, daily, support, width):
    start, period = last_month()
    f.make_run_at(daily, start.replace(day=2), "succeeded", succeeded=10)
    signed_in(page, live_server, support)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/t/contoso/sla/?period={period}")
    assert page.evaluate(BROKEN_WORDS_JS, "table.sla-table") == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
