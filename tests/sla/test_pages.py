"""The SLA and trends pages of a tenant."""

import json
import re

import time_machine

from integrations.models import Failure
from tests import factories as f
from tests.sla.conftest import utc


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_the_sla_page_shows_each_row_with_words_not_only_colour(november, client, support):
    client.force_login(support)
    response = client.get("/t/contoso/sla/?period=2026-11")
    assert response.status_code == 200
    html = response.content.decode()
    assert "From 2026-11-01 00:00 CDT to 2026-12-01 00:00 CST" in html
    assert "✘ Missed" in html  # run success 93.3333% against 99%
    assert "93.33%" in html and "93.3333%" not in html
    assert "✔ Met" in html  # billing-sync: 2 of 2 runs succeeded
    assert "Tenant-wide" in html and "All integrations" in html
    # Charts: plotly served locally, one daily attainment chart per pooled objective.
    assert "/static/vendor/plotly.min.js" in html
    assert "cdn.plot.ly" not in html
    assert 'id="chart-run_success-data"' in html
    assert 'id="chart-timeliness-data"' in html
    # Nav links to both pages.
    assert 'href="/t/contoso/sla/"' in html and 'href="/t/contoso/trends/"' in html


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_a_bad_period_falls_back_to_the_current_month_with_a_message(daily, client, support):
    client.force_login(support)
    response = client.get("/t/contoso/sla/?period=2026-13")
    assert response.status_code == 200
    assert "must be a month as YYYY-MM; showing the last closed month" in response.content.decode()
    assert 'value="2026-11"' in response.content.decode()


@time_machine.travel(utc(2026, 11, 12, 18), tick=False)
def test_the_trends_page_escapes_what_workers_send(daily, client, support):
    run = f.make_run_at(daily, utc(2026, 11, 10, 12), "failed", failed=1)
    opening = f.make_opening(daily, utc(2026, 11, 10, 12))
    Failure.objects.create(
        run=run,
        tenant=run.tenant,
        integration=daily,
        exception=opening.exception,
        entity="time_entry",
        record_id="TE-1",
        error_class="<script>alert(1)</script>",
        message="boom",
        occurred_at=utc(2026, 11, 10, 12),
    )
    client.force_login(support)
    response = client.get("/t/contoso/trends/?from=2026-11-09&to=2026-11-13&bucket=day")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert 'id="chart-failures-data"' in html and 'id="chart-mttx-data"' in html
    # The legend entry is text plotly shows literally, never markup it draws.
    data = re.search(r'<script id="chart-failures-data" type="application/json">(.*?)</script>', html).group(1)
    names = [trace["name"] for trace in json.loads(data)["data"]]
    assert names == ["&lt;script&gt;alert(1)&lt;/script&gt;"]


def test_pages_are_404_outside_reach_and_ask_anonymous_users_to_sign_in(daily, fabrikam, outsider, northwind, client):
    client.force_login(outsider)
    assert client.get("/t/contoso/sla/").status_code == 404
    assert client.get("/t/contoso/trends/").status_code == 404
    customer = f.make_user(northwind, "customer_viewer", tenants=[fabrikam])
    client.force_login(customer)
    assert client.get("/t/contoso/sla/").status_code == 404
    assert client.get("/t/fabrikam/sla/").status_code == 200
    client.logout()
    response = client.get("/t/contoso/sla/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def _chart(html, kind):
    data = re.search(rf'<script id="chart-{kind}-data" type="application/json">(.*?)</script>', html).group(1)
    return json.loads(data)


@time_machine.travel(utc(2026, 12, 1, 12), tick=False)
def test_the_first_day_of_a_month_opens_on_the_closed_month_and_the_new_one_is_too_early_to_judge(
    november, client, support
):
    f.make_run_at(november[0].integration, utc(2026, 12, 1, 6), "failed", run_id="d-1201", failed=5)
    client.force_login(support)
    html = client.get("/t/contoso/sla/").content.decode()
    assert 'value="2026-11"' in html and "This month is closed" in html
    assert 'href="?period=2026-12"' in html and "Show the current month so far" in html

    html = client.get("/t/contoso/sla/?period=2026-12").content.decode()
    assert "current month, still open" in html and 'href="?period=2026-11"' in html
    rows = re.findall(r'<tr class="sla-row.*?</tr>', html, re.S)
    run_success = next(r for r in rows if "Run success" in r and "All integrations" in r)
    assert "Too early to judge" in run_success
    assert "Missed" not in run_success and "overspent" not in run_success and "0.00%" in run_success
    # One day of data: a date axis over the whole month, the target drawn across it.
    layout = _chart(html, "run_success")["layout"]
    assert layout["xaxis"]["type"] == "date"
    assert layout["xaxis"]["range"] == ["2026-11-30 12:00", "2026-12-31 12:00"]
    target = _chart(html, "run_success")["data"][1]
    assert target["name"] == "Target 99%" and target["x"] == ["2026-12-01", "2026-12-31"]


@time_machine.travel(utc(2026, 12, 10), tick=False)
def test_the_sla_table_names_integrations_with_two_decimals_and_burn_rates_only_on_the_open_month(
    november, client, support
):
    client.force_login(support)
    html = client.get("/t/contoso/sla/?period=2026-11").content.decode()
    assert "Time expense posting" in html and "Billing sync" in html
    assert ">time-expense-posting<" not in html and ">billing-sync<" not in html
    assert "Burn 1 h / 6 h" not in html
    assert not re.search(r"\d+\.\d{4}%", html)
    html = client.get("/t/contoso/sla/?period=2026-12").content.decode()
    assert "Burn 1 h / 6 h" in html


@time_machine.travel(utc(2026, 12, 10, 12), tick=False)
def test_a_burning_objective_is_marked_with_an_icon_that_ships_with_the_page(daily, client, support):
    for minute in (1, 3, 30):
        f.make_run_at(daily, utc(2026, 12, 10, 11, 60 - minute), "failed", failed=5)
    client.force_login(support)
    html = client.get("/t/contoso/sla/?period=2026-12").content.decode()
    burning = re.search(r'<span class="badge met-false burning">(.*?)</span>', html, re.S).group(1)
    assert "<svg" in burning and "Burning" in burning
    assert not any(ord(c) > 0xFFFF for c in html)  # no emoji needing an emoji font


# 00:30 on 1 December in Chicago (CST, UTC-6) is 06:30 UTC.
@time_machine.travel(utc(2026, 12, 1, 6, 30), tick=False)
def test_half_an_hour_into_the_month_no_objective_is_missed_or_overspent(november, client, support, customer_viewer):
    daily = november[0].integration
    # Half an hour of bad data: a failed, late run and an exception acknowledged late.
    f.make_run_at(daily, utc(2026, 12, 1, 6, 5), "failed", run_id="d-1201", failed=5, lag_seconds=7200)
    f.make_opening(daily, utc(2026, 12, 1, 6, 6), priority="P1")
    for user in (support, customer_viewer):
        client.force_login(user)
        html = client.get("/t/contoso/sla/?period=2026-12").content.decode()
        assert "current month, still open" in html
        rows = re.findall(r'<tr class="sla-row.*?</tr>', html, re.S)
        assert rows
        timeliness = next(r for r in rows if "Timeliness" in r and "All integrations" in r)
        assert "Too early to judge" in timeliness, timeliness
        for row in rows:
            if "Acknowledge" in row or "Resolve" in row:
                continue  # no opening has reached its deadline: nothing to judge
            assert "Missed" not in row and "overspent" not in row, row
        report = client.get("/reports/contoso/2026-12/").content.decode()
        assert "Provisional" in report and "Too early to judge" in report
        assert "Missed" not in report and "overspent" not in report
        portal = client.get("/portal/").content.decode()
        assert "Missed" not in portal
