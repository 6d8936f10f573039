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
    assert "From 2026-11-01 00:00 -0500 to 2026-12-01 00:00 -0600" in html
    assert "✘ Missed" in html  # run success 93.3333% against 99%
    assert "93.3333%" in html
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
    assert "must be a month as YYYY-MM" in response.content.decode()
    assert 'value="2026-12"' in response.content.decode()


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
